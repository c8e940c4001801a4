"""The protocol every model result follows, and the typed pieces results are built from: a declared
headline figure, a distribution of an estimate with the values marked beside it, and the rounding
of a key figure."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


def rounded(value, digits: int = 2):
    """``value`` rounded for a key-figure table; None when it is missing (None or NaN)."""
    import pandas as pd

    return None if value is None or pd.isna(value) else round(float(value), digits)


@dataclass(frozen=True)
class Headline:
    """One headline figure a result declares: key, label, unit, the period it describes, and its value.

    Units: ``usd_bn``, ``ratio``, ``rate`` (log points a year), ``probability``, ``p``,
    ``elasticity``, ``share``, ``year``, ``multiple``, ``growth`` (see :mod:`valuechain.report.labels`).
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


@runtime_checkable
class Result(Protocol):
    """What every model result is and offers: one protocol, read the same way by every notebook and page.

    A result (:class:`~valuechain.model.profit.ProfitPool`, :class:`~valuechain.model.profit.LatestTwelveMonths`,
    :class:`~valuechain.model.demand.DemandGapResult`, :class:`~valuechain.model.labs.LabEconomicsResult`,
    :class:`~valuechain.model.valuation.ValuationResult`, :class:`~valuechain.model.backlog.Backlog`,
    :class:`~valuechain.model.uncertainty.UncertaintyResult`) is a **frozen dataclass** whose numbers
    are typed fields (tables as data frames, figures as floats with their unit in the name), read
    as attributes, never by item (``result.draw``, not ``result["draw"]``). It offers:

    - ``sources``: the ``sources.csv`` ids of every figure it rests on, in first-use order;
    - ``headlines()``: the :class:`Headline` figures it declares (key, label, unit, period, value),
      which the comparison table, the summaries and the exports read;
    - ``summary()``: its key figures as a plain dict, rounded for presentation, holding the key of
      every headline; this is what the notebook records in ``metrics.json``.

    A test of statistical inference inside a result has a shape of its own,
    :class:`valuechain.stats.inference.TestResult`.
    """

    @property
    def sources(self) -> tuple[str, ...]: ...

    def headlines(self) -> list[Headline]: ...

    def summary(self) -> dict: ...


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
