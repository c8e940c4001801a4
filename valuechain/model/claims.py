r"""The seed documents' claims judged against the data: a verdict per claim, computed, never typed.

:func:`verdict` is the rule; :func:`judge` applies it to every row of ``seed_claims.csv``
(:mod:`valuechain.dataset.seed_claims`) and returns a :class:`ClaimsResult`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from valuechain.dataset import seed_claims
from valuechain.dataset.load import Dataset

VERDICTS = ("matches", "stale", "differs", "unsupported", "untestable")
VERDICT_WORDS = {"matches": "match the data", "stale": "are stale", "differs": "differ from the data",
                 "unsupported": "are not supported", "untestable": "cannot be tested on the data"}


@dataclass(frozen=True)
class Verdict:
    """One claim's verdict and the figure it rests on."""

    verdict: str  # one of VERDICTS
    best_low: float | None = None  # the best (latest) figure, or the low end of its range; None when untestable
    best_high: float | None = None  # the high end of the best figure's range (equal to best_low for one figure)
    best_date: pd.Timestamp | None = None  # the date of the best figure
    matched_date: pd.Timestamp | None = None  # for a stale claim, the date of the earlier figure it matches


def within(seed: float, low: float, high: float, tolerance: float) -> bool:
    r"""Whether ``seed`` lies within the relative ``tolerance`` of the range :math:`[L, H]` of figures:

    .. math::

        L (1 - \tau) \le s \le H (1 + \tau) ,

    for one figure :math:`v` (:math:`L = H = v`) the same as :math:`|s - v| \le \tau |v|` when :math:`v > 0`.
    """
    lo, hi = sorted((low * (1 - tolerance), high * (1 + tolerance)))
    return lo <= seed <= hi


def verdict(seed: float, form: str, tolerance: float, figures) -> Verdict:
    r"""The verdict on a claim of value ``seed`` against ``figures``, ``(value, date)`` pairs of one quantity.

    The best figure is the latest: :math:`[L, H]`, the range of the figures of the latest date.

    1. ``untestable``: no figure to compare;
    2. ``matches``: :func:`within` the tolerance of the best figure, or, for a bound (``at_least``:
       :math:`H \ge s (1 - \tau)`; ``at_most``: :math:`L \le s (1 + \tau)`), the best figure keeps the bound
       and no earlier figure is the claim's own;
    3. ``stale``: not within the tolerance of the best figure, but within that of an earlier one, which
       the best supersedes;
    4. ``unsupported``: a bound the best figure does not reach;
    5. ``differs``: a figure outside the tolerance of every figure.
    """
    figures = sorted((float(v), pd.Timestamp(d)) for v, d in figures)
    if not figures:
        return Verdict("untestable")
    latest = max(d for _, d in figures)
    best = [v for v, d in figures if d == latest]
    low, high = min(best), max(best)
    found = dict(best_low=low, best_high=high, best_date=latest)
    if within(seed, low, high, tolerance):
        return Verdict("matches", **found)
    earlier = [(v, d) for v, d in figures if d < latest and within(seed, v, v, tolerance)]
    if earlier:
        return Verdict("stale", **found, matched_date=max(d for _, d in earlier))
    if form == "at_least":
        return Verdict("matches" if high >= seed * (1 - tolerance) else "unsupported", **found)
    if form == "at_most":
        return Verdict("matches" if low <= seed * (1 + tolerance) else "unsupported", **found)
    return Verdict("differs", **found)


@dataclass(frozen=True)
class ClaimsResult:
    """Every seed claim with its verdict, the figure it was judged against, and the sources."""

    VERDICTS = VERDICTS  # the verdicts, in the order tables show them
    table: pd.DataFrame  # one row per claim: the claim, the seed's value, the best figure, the verdict
    figures: pd.DataFrame  # every comparison figure (fact_id, ref, value, unit, date, basis, source_id, label)
    sources: tuple[str, ...] = ()
    names: dict = field(default_factory=dict)  # company id -> name

    def counts(self) -> dict[str, int]:
        """Claims by verdict, in the order of :data:`VERDICTS`."""
        counted = self.table["verdict"].value_counts()
        return {v: int(counted.get(v, 0)) for v in VERDICTS}

    def summary(self) -> dict:
        return {"seed_claims": len(self.table), **{f"seed_claims_{v}": n for v, n in self.counts().items()}}


def judge(ds: Dataset) -> ClaimsResult:
    """Judge every claim of ``seed_claims.csv`` with :func:`verdict` on the data's figures."""
    claims = seed_claims.load(ds)
    figures = seed_claims.figures(ds, claims)
    facts = ds.facts.set_index("fact_id")
    rows = []
    for claim in claims.itertuples():
        seed = facts.loc[claim.fact_id]
        own = figures[figures["fact_id"] == claim.fact_id]
        result = verdict(float(seed["value"]), claim.form, claim.tolerance, zip(own["value"], own["date"]))
        best = own[own["date"] == result.best_date] if result.best_date is not None else own.iloc[0:0]
        rows.append({
            "fact_id": claim.fact_id, "document": seed_claims.DOCUMENTS[seed["source_id"]], "where": claim.where,
            "claim": claim.claim, "entity": seed["entity"], "seed_value": float(seed["value"]), "unit": seed["unit"],
            "form": claim.form, "tolerance": claim.tolerance, "compared_with": " / ".join(own["label"]) or None,
            "best_low": result.best_low, "best_high": result.best_high if result.best_high != result.best_low else None,
            "best_date": result.best_date, "best_basis": ", ".join(dict.fromkeys(best["basis"])),
            "best_source": ", ".join(dict.fromkeys(best["source_id"])),
            "matched_date": result.matched_date, "verdict": result.verdict,
            "definition": claim.definition, "reason": claim.reason,
        })
    table = pd.DataFrame(rows)
    sources = tuple(dict.fromkeys([*seed_claims.SEED_SOURCES, *figures["source_id"]]))
    return ClaimsResult(table=table, figures=figures, sources=sources, names=ds.company_names)
