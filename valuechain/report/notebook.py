"""What a notebook does around its story: starting from its parameters, and recording its key
figures for the batch runner.

A notebook calls :func:`start` once in its setup cell, for the dataset and the scenario its
parameters ask for, and :func:`record` once at the end. The figures are displayed as an output
with their own MIME type (so they travel inside the executed notebook) and, when a path is given,
written to a JSON file beside it, with sorted keys so reruns are byte-identical.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from valuechain import mime
from valuechain.exceptions import HeadlineError
from valuechain.files import atomic_write_text

if TYPE_CHECKING:
    from valuechain.dataset.load import Dataset
    from valuechain.scenario.schema import Scenario

MIME_TYPE = mime.METRICS


class Start(NamedTuple):
    """What every notebook starts from; unpacks as ``ds, sc = notebook.start(...)``."""

    dataset: Dataset  # the bundled dataset, validated
    scenario: Scenario  # the scenario the notebook's parameters name, with their overrides applied


def start(namespace: dict, *declared: str) -> Start:
    """The dataset and the scenario a notebook's parameters ask for, with the scenario block shown.

    ``namespace`` is the notebook's ``globals()``; ``declared`` names the parameters its
    ``parameters`` cell declares. The scenario's companies and metrics are checked against the
    loaded dataset, and a parameter papermill injected that the notebook does not declare fails
    before anything is shown (:func:`~valuechain.scenario.load.notebook_scenario`). The scenario block
    (:func:`~valuechain.report.narrative.show_scenario`) is the setup cell's one output.
    """
    # Imported here, not above: the batch runner and the publish layer import this module for its
    # recording keys, and need neither the scenario schema nor the model that narrative imports.
    from valuechain.dataset.load import load_dataset
    from valuechain.report.narrative import show_scenario
    from valuechain.scenario.load import notebook_scenario

    ds = load_dataset()
    scenario = notebook_scenario(namespace, *declared, dataset=ds)  # its companies and metrics checked against ds
    show_scenario(scenario, ds)
    return Start(ds, scenario)


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def to_json(figures: dict) -> str:
    """Stable JSON text of ``figures``: sorted keys, NaN as null, trailing newline."""
    return json.dumps(_clean(figures), sort_keys=True, indent=2, allow_nan=False) + "\n"


HEADLINES_KEY = "headlines"  # in the recorded figures: the declarations of the headline figures
SOURCES_KEY = "sources"  # in the recorded figures: the source rows (sources.csv ids) the figures rest on
CALCULATIONS_KEY = "calculations"  # in the recorded figures: the auditable arithmetic (model.calculations), for the workbook


def record(figures: dict, path: str | Path | None = None, headlines=None, sources=None, calculations=None) -> None:
    """Display ``figures`` under :data:`MIME_TYPE` and write them to ``path`` if one is given.

    ``headlines`` (:class:`Headline` list) are recorded as declarations (key, label, unit, period,
    note) under :data:`HEADLINES_KEY`, so the site and the exports read the labels and units from
    the results; each must name a recorded figure, so a renamed figure fails the notebook instead
    of silently dropping its column. ``sources`` (source ids) are recorded under :data:`SOURCES_KEY`, and
    ``calculations`` (a :class:`valuechain.model.calculations.Calculations`), whose formulas the workbook
    writes live, under :data:`CALCULATIONS_KEY`.

    A relative ``path`` is relative to the process's working directory: in a notebook, the
    kernel's (``notebooks/`` under ``papermill --cwd notebooks`` and in JupyterLab), not the folder
    papermill was started from. Give an absolute path to write elsewhere.
    """
    figures = dict(figures)
    if headlines is not None:
        unknown = [h.key for h in headlines if h.key not in figures]
        if unknown:
            raise HeadlineError(f"headline figure(s) {', '.join(unknown)} not among the recorded figures; "
                           f"the result's headlines() and summary() must use the same keys")
        figures[HEADLINES_KEY] = [h.declaration() for h in headlines]
    if sources is not None:
        figures[SOURCES_KEY] = list(dict.fromkeys(str(s) for s in sources))
    if calculations is not None:
        figures[CALCULATIONS_KEY] = calculations.record()
    text = to_json(figures)
    clean = json.loads(text)
    if path:
        atomic_write_text(Path(path), text)
    try:
        from IPython.display import display

        shown = len(figures_only(clean))
        # Pages leave this output out (it is data for the runner); in JupyterLab it confirms the recording.
        display({MIME_TYPE: clean, "text/plain": f"{shown} key figures recorded"}, raw=True,
                metadata={"valuechain": {"page": False}})
    except ImportError:  # outside IPython there is nothing to display
        pass


def figures_only(recorded: dict) -> dict:
    """Recorded figures without the headline declarations and the sources."""
    return {k: v for k, v in recorded.items() if k not in (HEADLINES_KEY, SOURCES_KEY, CALCULATIONS_KEY)}
