"""Key figures recorded by a notebook, for the batch runner to collect.

A notebook calls :func:`record` once at the end. The figures are displayed as an output with
their own MIME type (so they travel inside the executed notebook) and, when a path is given,
written to a JSON file beside it, with sorted keys so reruns are byte-identical.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from valuechain.iorw import atomic_write_text

MIME_TYPE = "application/vnd.valuechain.metrics+json"


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


def record(figures: dict, path: str | Path | None = None) -> None:
    """Display ``figures`` under :data:`MIME_TYPE` and write them to ``path`` if one is given.

    A relative ``path`` is relative to the process's working directory: in a notebook, the
    kernel's (``notebooks/`` under ``papermill --cwd notebooks`` and in JupyterLab), not the folder
    papermill was started from. Give an absolute path to write elsewhere.
    """
    clean = json.loads(to_json(figures))
    if path:
        atomic_write_text(Path(path), to_json(clean))
    try:
        from IPython.display import display

        display({MIME_TYPE: clean, "text/plain": f"{len(clean)} key figures recorded"}, raw=True)
    except ImportError:  # outside IPython there is nothing to display
        pass


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


class Headline:
    """One headline figure a result declares: key, label, unit, the period it describes, and its value.

    Units: ``usd_bn``, ``ratio``, ``rate`` (log points a year), ``probability``, ``p``,
    ``elasticity``, ``share``, ``year``. The comparison table and the summaries read these; none
    keeps its own list of keys.
    """

    __slots__ = ("key", "label", "unit", "period", "value")

    def __init__(self, key: str, label: str, unit: str, period: str, value):
        self.key, self.label, self.unit, self.period, self.value = key, label, unit, period, value

    def __repr__(self) -> str:
        return f"Headline({self.key}={self.value!r} {self.unit}, {self.period})"
