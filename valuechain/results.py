"""Key figures recorded by a notebook, for the batch runner to collect.

A notebook calls :func:`record` once at the end. The figures are displayed as an output with
their own MIME type (so they travel inside the executed notebook) and, when a path is given,
written to a JSON file beside it, with sorted keys so reruns are byte-identical.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from valuechain import mime
from valuechain.exceptions import HeadlineError
from valuechain.iorw import atomic_write_text

MIME_TYPE = mime.METRICS


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


def rounded(value, digits: int = 2):
    """``value`` rounded for a key-figure table; None when it is missing (None or NaN)."""
    import pandas as pd

    return None if value is None or pd.isna(value) else round(float(value), digits)


def to_json(figures: dict) -> str:
    """Stable JSON text of ``figures``: sorted keys, NaN as null, trailing newline."""
    return json.dumps(_clean(figures), sort_keys=True, indent=2, allow_nan=False) + "\n"


HEADLINES_KEY = "headlines"  # in the recorded figures: the declarations of the headline figures
SOURCES_KEY = "sources"  # in the recorded figures: the source rows (sources.csv ids) the figures rest on


def record(figures: dict, path: str | Path | None = None, headlines=None, sources=None) -> None:
    """Display ``figures`` under :data:`MIME_TYPE` and write them to ``path`` if one is given.

    ``headlines`` (:class:`Headline` list) are recorded as declarations (key, label, unit, period,
    note) under :data:`HEADLINES_KEY`, so the site and the exports read the labels and units from
    the results; each must name a recorded figure, so a renamed figure fails the notebook instead
    of silently dropping its column. ``sources`` (source ids) are recorded under :data:`SOURCES_KEY`.

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
    return {k: v for k, v in recorded.items() if k not in (HEADLINES_KEY, SOURCES_KEY)}


def collect(notebook_path: str | Path) -> dict | None:
    """Figures recorded in an executed notebook, or None if it recorded none."""
    import nbformat  # imported here: it takes about a second, and notebooks only record

    nb = nbformat.read(str(notebook_path), as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME_TYPE in data:
                return data[MIME_TYPE]
    return None


@dataclass(frozen=True)
class Headline:
    """One headline figure a result declares: key, label, unit, the period it describes, and its value.

    Units: ``usd_bn``, ``ratio``, ``rate`` (log points a year), ``probability``, ``p``,
    ``elasticity``, ``share``, ``year``, ``multiple``, ``growth`` (see :mod:`valuechain.labels`).
    ``note`` is a one-line explanation a reader needs to read the value (say, why a share
    exceeds 100%); ``detail`` marks a figure that qualifies another (an interval bound) and stays
    out of the comparison table. The comparison table, the summaries and the exports read these;
    none keeps its own list of keys.
    """

    key: str
    label: str
    unit: str
    period: str
    value: object
    note: str = ""
    detail: bool = False

    def declaration(self) -> dict:
        """The headline without its value, as recorded beside the figures."""
        return {"key": self.key, "label": self.label, "unit": self.unit, "period": str(self.period),
                "note": self.note, "detail": self.detail}

    def __repr__(self) -> str:
        return f"Headline({self.key}={self.value!r} {self.unit}, {self.period})"


class Reference:
    """A value marked on a distribution's axis: what it is (``kind``), its label and its position."""

    __slots__ = ("kind", "label", "value")

    def __init__(self, kind: str, label: str, value: float):
        self.kind, self.label, self.value = kind, label, float(value)

    def __repr__(self) -> str:
        return f"Reference({self.kind}={self.value:.4g})"


class Distribution:
    """The sampling (bootstrap) or posterior distribution of one estimate, with what is marked beside it.

    Either ``draws`` (bootstrap draws, shown as a density histogram) or ``normal`` (mean and s.d.
    of a normal posterior, shown as its density) is given. ``interval`` is at ``level``;
    ``references`` are the values marked on the same axis; ``note`` says what is not marked and why.
    """

    __slots__ = ("key", "title", "axis_label", "estimate", "interval", "level", "method", "draws", "normal",
                 "references", "note")

    def __init__(self, key: str, title: str, axis_label: str, estimate: float, interval: tuple[float, float],
                 level: float, method: str, references: tuple = (), draws=None, normal: tuple | None = None,
                 note: str = ""):
        import numpy as np  # here, not at the top: the batch runner's parent imports this module and stays light

        if (draws is None) == (normal is None):
            raise ValueError("give either draws or a normal (mean, sd), not both or neither")
        self.key, self.title, self.axis_label, self.method, self.note = key, title, axis_label, method, note
        self.estimate, self.level = float(estimate), float(level)
        self.interval = (float(interval[0]), float(interval[1]))
        self.draws = None if draws is None else np.asarray(draws, float)
        self.normal = None if normal is None else (float(normal[0]), float(normal[1]))
        self.references = tuple(references)

    def reference(self, kind: str) -> Reference:
        """The marked value of ``kind`` (KeyError if it is not marked)."""
        for ref in self.references:
            if ref.kind == kind:
                return ref
        raise KeyError(f"{self.key}: no reference of kind {kind!r}")

    def __repr__(self) -> str:
        return f"Distribution({self.key}: {self.estimate:.4g}, {self.level:.0%} {self.interval[0]:.4g} to {self.interval[1]:.4g})"
