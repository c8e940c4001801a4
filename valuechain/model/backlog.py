r"""Contracted backlog against the spenders' capex.

The clouds report **remaining performance obligations** (RPO, "revenue backlog"): revenue
under signed contracts that has not yet been recognised. Set against the capex that builds the
capacity to deliver it, backlog is the demand side's forward commitment:

.. math::

    m_q = \frac{\sum_i RPO_{i,q}}{\sum_i C_{i,q-3..q}},

the backlog at the end of quarter :math:`q` over the capex of the four quarters to :math:`q`,
summed over the companies with both figures (:func:`valuechain.dataset.capex.spender_capex`, the one
owner of capex, with ``frequency='trailing_year'``).

What backlog is not:

- **not revenue**: it is contracted, not recognised, and it is recognised over years (the
  filings give the share due within twelve months);
- **not all external demand**: part of it is with the labs (OpenAI's and Anthropic's compute
  contracts with the clouds), a flow inside the chain, which net external revenue :math:`D`
  leaves out; the labs each company's filing names are read from its notes;
- **not AI alone**: both backlog and capex are company-wide (Microsoft's is its commercial RPO).

The headline quarter is the latest one in which the most companies have both a backlog figure
and four quarters of capex; companies with a backlog but no such capex are named, not filled in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.dataset.capex import spender_capex
from valuechain.dataset.load import Dataset
from valuechain.model.results import Headline, rounded

METRIC = "remaining_performance_obligations"


@dataclass(frozen=True)
class Backlog:
    """Backlog and trailing capex by company and quarter, the headline multiple and the sources."""

    table: pd.DataFrame  # company_id, name, quarter, period_end, rpo_usd_bn, capex_ttm_usd_bn (NaN: not in the data), multiple, capex_method, labs_named, note
    quarter: pd.Period | None  # headline quarter (None when no company has both figures)
    companies: tuple[str, ...]  # in the headline sums
    left_out: tuple[str, ...]  # with a backlog in the headline quarter but no capex for the four quarters to it
    rpo_usd_bn: float
    capex_usd_bn: float
    labs_named: dict[str, tuple[str, ...]]  # company -> labs its backlog notes name (up to the headline quarter)
    sources: tuple[str, ...]

    @property
    def multiple(self) -> float:
        """Backlog over trailing capex in the headline quarter, summed over :attr:`companies`."""
        return self.rpo_usd_bn / self.capex_usd_bn if self.capex_usd_bn > 0 else np.nan

    @property
    def headline_rows(self) -> pd.DataFrame:
        """The rows of the headline quarter, the companies summed first."""
        rows = self.table[self.table["quarter"] == self.quarter]
        return rows.sort_values(["capex_ttm_usd_bn", "rpo_usd_bn"], ascending=False, na_position="last")

    def headlines(self) -> list[Headline]:
        """The spenders' backlog, their trailing capex and the multiple, in the headline quarter."""
        q = str(self.quarter)
        return [Headline("backlog_usd_bn", "Contracted backlog (RPO) of the spenders", "usd_bn", q, self.rpo_usd_bn),
                Headline("backlog_capex_usd_bn", "Their capex over the four quarters to then", "usd_bn", q,
                         self.capex_usd_bn),
                Headline("backlog_to_capex", "Backlog as a multiple of trailing capex", "ratio", q, self.multiple)]

    def summary(self) -> dict:
        """Key figures, rounded for presentation: the headline quarter, its backlog, capex and multiple."""
        out = {"backlog_quarter": None if self.quarter is None else str(self.quarter)}
        out.update({h.key: rounded(h.value, 4 if h.unit == "ratio" else 2) for h in self.headlines()})
        return out


def _labs(note: str, names: dict[str, str]) -> tuple[str, ...]:
    """Lab names a note mentions (as whole words)."""
    return tuple(name for name in names.values() if re.search(rf"\b{re.escape(name)}\b", note))


def backlog(ds: Dataset, companies) -> Backlog:
    """Backlog against trailing capex for ``companies`` (see the module docstring)."""
    fin = ds.financials
    rows = fin[(fin["metric"] == METRIC) & fin["company_id"].isin(list(companies))].copy()
    rows["quarter"] = rows["calendar_quarter"].map(lambda q: pd.Period(q, freq="Q"))
    capex = spender_capex(ds, companies, "trailing_year")
    capex = capex.rename(columns={"period": "quarter", "capex_usd_bn": "capex_ttm_usd_bn", "method": "capex_method",
                                  "sources": "capex_sources"})
    table = rows.merge(capex[["quarter", "company_id", "capex_ttm_usd_bn", "capex_method", "capex_sources"]],
                       on=["quarter", "company_id"], how="left")
    names = ds.company_names
    lab_ids = set(ds.companies.loc[ds.companies["layer"] == "labs", "company_id"])
    labs = {c: n for c, n in names.items() if c in lab_ids}
    table = table.assign(name=table["company_id"].map(names), rpo_usd_bn=table["value_usd_bn"],
                         multiple=table["value_usd_bn"] / table["capex_ttm_usd_bn"],
                         labs_named=table["note"].map(lambda n: _labs(n, labs)))
    table = table[["company_id", "name", "quarter", "period_end", "rpo_usd_bn", "capex_ttm_usd_bn", "multiple",
                   "capex_method", "labs_named", "note", "source_id", "capex_sources"]]
    table = table.sort_values(["quarter", "company_id"]).reset_index(drop=True)
    both = table.dropna(subset=["capex_ttm_usd_bn"])
    if both.empty:
        return Backlog(table, None, (), (), np.nan, np.nan, {}, tuple(dict.fromkeys(table["source_id"])))
    counts = both.groupby("quarter")["company_id"].nunique()
    quarter = counts[counts == counts.max()].index.max()
    now = table[table["quarter"] == quarter]
    inside = now.dropna(subset=["capex_ttm_usd_bn"])
    named = {}
    for company, group in table[table["quarter"] <= quarter].groupby("company_id"):
        found = tuple(dict.fromkeys(lab for labs_ in group["labs_named"] for lab in labs_))
        if found:
            named[company] = found
    sources = [*now["source_id"], *(s for row in inside["capex_sources"] for s in row),
               *table.loc[table["company_id"].isin(list(named)) & (table["quarter"] <= quarter), "source_id"]]
    return Backlog(table=table, quarter=quarter, companies=tuple(inside["company_id"]),
                   left_out=tuple(now.loc[now["capex_ttm_usd_bn"].isna(), "company_id"]),
                   rpo_usd_bn=float(inside["rpo_usd_bn"].sum()), capex_usd_bn=float(inside["capex_ttm_usd_bn"].sum()),
                   labs_named=named, sources=tuple(dict.fromkeys(sources)))
