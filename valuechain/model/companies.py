"""The profit model's company rows: each company's revenue, AI share and margin for a calendar year
or for the twelve months to a quarter, with how each was taken and the companies left out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.dataset.load import Dataset
from valuechain.scenario.schema import Scenario
from valuechain.dataset.yearly import company_ttm, company_year, margin_ttm, margin_year, ttm_label, ttm_quarters


def company_rows(scenario: Scenario, ds: Dataset, annualize_partial: bool, ttm_end: str | None = None):
    """One row per company and calendar year analysed (or, with ``ttm_end``, per company for the
    twelve months to that quarter), and the companies left out with the reason."""
    if ttm_end is None:
        periods = [_Period(year, str(year), lambda c, m, y=year: company_year(ds, c, m, y, annualize_partial),
                           lambda c, ms, d, y=year: margin_year(ds, c, ms, d, y, annualize_partial),
                           lambda value, y=year: _in_year(value, y))
                   for year in range(scenario.years.start, scenario.years.end + 1)]
    else:
        quarters = ttm_quarters(ttm_end)
        periods = [_Period(int(quarters[-1].year), ttm_label(ttm_end),
                           lambda c, m: company_ttm(ds, c, m, ttm_end, annualize_partial),
                           lambda c, ms, d: margin_ttm(ds, c, ms, d, ttm_end, annualize_partial),
                           lambda value: _over_quarters(value, quarters))]
    rows, excluded = [], []
    for period in periods:
        for layer, spec in scenario.layers.items():
            for company in spec.companies:
                attr = scenario.attribution[company]
                revenue = period.value(company, attr.revenue_metric)
                share, share_method = period.per_year(attr.ai_share)
                if revenue is None:
                    excluded.append((period.year, layer, company, f"no {attr.revenue_metric} for {period.label} in the dataset"))
                    continue
                if share is None:
                    excluded.append((period.year, layer, company, f"attribution.{company}.ai_share has no value for {period.label}"))
                    continue
                margin = None
                if attr.margin_metrics:
                    margin = period.margin(company, attr.margin_metrics, attr.margin_denominator or attr.revenue_metric)
                assumed, _ = period.per_year(attr.margin)
                if margin is not None:
                    m, m_method, m_basis, m_sources = margin.value, margin.method, margin.basis, margin.sources
                elif assumed is not None:
                    m, m_method, m_basis, m_sources = assumed, "scenario assumption (attribution)", "assumption", ()
                elif spec.margin is not None:
                    m, m_method, m_basis, m_sources = spec.margin, f"scenario assumption (layers.{layer}.margin)", "assumption", ()
                else:
                    excluded.append((period.year, layer, company, f"no margin for {period.label}: add margin_metrics or a margin to the scenario"))
                    continue
                ai_revenue = share * revenue.value
                row = {
                    "year": period.year, "layer": layer, "company_id": company,
                    "revenue_metric": attr.revenue_metric, "revenue_usd_bn": revenue.value,
                    "revenue_method": revenue.method, "revenue_basis": revenue.basis,
                    "ai_share": share, "ai_revenue_usd_bn": ai_revenue,
                    "operating_margin": m, "margin_method": m_method, "margin_basis": m_basis,
                    "operating_profit_usd_bn": ai_revenue * m,
                    "sources": tuple(dict.fromkeys(revenue.sources + tuple(m_sources))),
                }
                if ttm_end is not None:
                    row.update(period=period.label, ai_share_method=share_method)
                rows.append(row)
    companies = pd.DataFrame(rows)
    excluded = pd.DataFrame(excluded, columns=["year", "layer", "company_id", "reason"])
    return companies, excluded


@dataclass(frozen=True)
class _Period:
    """A period the company rows are built for: how to read a value, a margin and a per-year parameter."""

    year: int  # the calendar year (for the twelve months: the year they end in)
    label: str
    value: object  # (company, metric) -> YearValue | None
    margin: object  # (company, income metrics, denominator) -> YearValue | None
    per_year: object  # scenario value (a number or {year: number}) -> (number or None, how it was taken)


def _in_year(value, year: int):
    if isinstance(value, dict):
        return value.get(year), f"{year}"
    return value, "all years"


def _over_quarters(value, quarters: pd.PeriodIndex):
    """Mean over the quarters of a per-year scenario value; a mapping carries its latest earlier year forward."""
    if not isinstance(value, dict):
        return value, "all years"
    parts, values = {}, []
    for q in quarters:
        known = [y for y in value if y <= q.year]
        if not known:
            return None, f"no value for {q.year} or earlier"
        used = max(known)
        values.append(value[used])
        parts.setdefault(q.year, (used, 0))
        parts[q.year] = (used, parts[q.year][1] + 1)
    words = [f"{year} {value[used]:g}" + (f" (carries {used}'s)" if used != year else "") + f" x {n} quarters"
             for year, (used, n) in parts.items()]
    return float(np.mean(values)), "mean over the quarters: " + ", ".join(words)
