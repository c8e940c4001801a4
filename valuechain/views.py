"""The tables an analyst reaches for, built as new frames from a validated :class:`Dataset`."""
from __future__ import annotations

import pandas as pd

from valuechain.dataset import Dataset


def quarterly(ds: Dataset, metric: str, companies=None) -> pd.DataFrame:
    """Wide calendar-quarter table of ``metric``: rows are calendar quarters, columns companies.

    Only quarter rows are used; a company with no row for a quarter shows NaN there.
    """
    rows = ds.financials[(ds.financials["metric"] == metric) & (ds.financials["period_type"] == "quarter")]
    if companies is not None:
        rows = rows[rows["company_id"].isin(list(companies))]
    wide = rows.pivot(index="calendar_quarter", columns="company_id", values="value_usd_bn")
    wide.index = pd.PeriodIndex(wide.index, freq="Q", name="calendar_quarter")
    wide.columns.name = "company_id"
    wide = wide.sort_index()
    if len(wide):
        wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="Q", name="calendar_quarter"))
    return wide


def annual(wide: pd.DataFrame) -> pd.DataFrame:
    """Calendar-year sums of a wide quarterly table; a year with fewer than four quarters is NaN."""
    years = wide.index.year
    sums = wide.groupby(years).sum(min_count=4)
    counts = wide.groupby(years).count()
    sums = sums.where(counts == 4)
    sums.index.name = "calendar_year"
    return sums


def trailing_four_quarters(wide: pd.DataFrame) -> pd.DataFrame:
    """Trailing-four-quarter sum; NaN until four consecutive quarters are present."""
    return wide.rolling(4, min_periods=4).sum()


def fiscal_years(ds: Dataset, metric: str, companies=None) -> pd.DataFrame:
    """Wide table of reported fiscal-year totals (rows: fiscal year label, columns: companies)."""
    rows = ds.financials[(ds.financials["metric"] == metric) & (ds.financials["period_type"] == "fiscal_year")]
    if companies is not None:
        rows = rows[rows["company_id"].isin(list(companies))]
    wide = rows.pivot(index="fiscal_period", columns="company_id", values="value_usd_bn").sort_index()
    wide.columns.name = "company_id"
    return wide


def points(ds: Dataset, metric: str, companies=None) -> pd.DataFrame:
    """Long table of dated point observations (e.g. revenue run-rates), oldest first."""
    rows = ds.financials[(ds.financials["metric"] == metric) & (ds.financials["period_type"] == "point")]
    if companies is not None:
        rows = rows[rows["company_id"].isin(list(companies))]
    return rows[["company_id", "period_end", "value_usd_bn", "basis", "source_id", "note"]].sort_values(
        ["company_id", "period_end"]).reset_index(drop=True)


def coverage(ds: Dataset) -> pd.DataFrame:
    """One row per company x metric x period type: first and last period, row count, bases used."""
    fin = ds.financials
    grouped = fin.groupby(["layer", "company_id", "metric", "period_type"], sort=True)
    table = grouped.agg(
        first=("period_end", "min"),
        last=("period_end", "max"),
        rows=("value_usd_bn", "size"),
        bases=("basis", lambda s: ",".join(sorted(set(s)))),
    ).reset_index()
    table["first"] = table["first"].dt.date
    table["last"] = table["last"].dt.date
    return table
