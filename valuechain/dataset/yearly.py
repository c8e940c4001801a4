"""Company-year values from the dataset, each with the method that produced it.

Filings come as calendar quarters, fiscal years, calendar years, halves and dated run-rates.
:func:`company_year` turns them into one calendar-year value, trying in order:

1. a calendar-year row (``CY2025``);
2. the sum of the four calendar quarters of the year;
3. the fiscal year whose midpoint falls in the year (e.g. NVIDIA's FY2025, Feb 2024 - Jan 2025,
   stands for 2024);
4. three of four calendar quarters scaled by 4/3 (only when ``annualize_partial``), basis ``estimate``;
5. both halves of the year;
6. for ``revenue_run_rate``: the mean of the linearly interpolated run-rate over the year, which is
   revenue earned in the year if the run-rate moved in straight lines between observations.
   No extrapolation: observations must bracket the whole year.

Nothing else is filled in; a year with none of these is reported as missing.

:func:`company_ttm` does the same for the **trailing twelve months** to a calendar quarter (the
latest four filed quarters), trying in order: the sum of those four calendar quarters; the fiscal
year whose last quarter is that quarter (Supermicro's fiscal 2026, July 2025 - June 2026, is the
twelve months to 2026Q2); two halves covering the four quarters; three of the four quarters
scaled by 4/3 (only when ``annualize_partial``); for ``revenue_run_rate``, the mean of the
interpolated run-rate over the twelve months. Fiscal quarters count in the calendar quarter that
holds their midpoint (:mod:`valuechain.dataset.fiscal`), so NVIDIA's twelve months to 2026Q2 are its
fiscal 2026 Q3 to fiscal 2027 Q2 (August 2025 - July 2026).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.dataset import fiscal
from valuechain.dataset.load import Dataset

RUN_RATE = "revenue_run_rate"


@dataclass(frozen=True)
class YearValue:
    """One company-year figure, how it was obtained, and from what."""

    value: float
    method: str
    basis: str  # the weakest basis among the rows used, or 'estimate' when scaled
    sources: tuple[str, ...]


# months a period covers, to prefer the longest of several periods ending on the same day
_PERIOD_LENGTH = {"quarter": 3, "half": 6, "fiscal_year": 12, "calendar_year": 12}

_BASIS_RANK = {"reported": 0, "derived": 1, "run_rate": 2, "estimate": 3, "claim": 4}


def weakest_basis(bases) -> str:
    """The weakest of ``bases`` (reported, derived, run_rate, estimate, claim, from strongest)."""
    return max(bases, key=_BASIS_RANK.__getitem__)


def _rows(ds: Dataset, company: str, metric: str) -> tuple:
    """The company's rows of one metric, in file order (see :meth:`Dataset.series`)."""
    return ds.series(company, metric)


def _result(rows, value: float, method: str, basis: str | None = None) -> YearValue:
    return YearValue(float(value), method, basis or weakest_basis(row.basis for row in rows),
                     tuple(dict.fromkeys(row.source_id for row in rows)))


def _total(rows) -> float:
    return sum(row.value_usd_bn for row in rows)


_HALF_YEAR = pd.Timedelta(days=182)


def company_year(ds: Dataset, company: str, metric: str, year: int, annualize_partial: bool = False) -> YearValue | None:
    """Calendar-year value of ``metric`` for ``company`` (see the module docstring for the order)."""
    rows = _rows(ds, company, metric)
    if not rows:
        return None
    cal = [row for row in rows if row.period_type == "calendar_year" and row.fiscal_period == f"CY{year}"]
    if cal:
        return _result(cal, cal[0].value_usd_bn, f"calendar year {year}")
    quarters = [row for row in rows if row.period_type == "quarter" and row.calendar_quarter.startswith(str(year))]
    if len(quarters) == 4:
        return _result(quarters, _total(quarters), f"sum of calendar quarters {year}Q1-Q4")
    fiscal_years = [row for row in rows if row.period_type == "fiscal_year" and (row.period_end - _HALF_YEAR).year == year]
    if fiscal_years:
        first = fiscal_years[0]
        return _result(fiscal_years, first.value_usd_bn,
                       f"fiscal year {first.fiscal_period} (ends {first.period_end.date():%Y-%m}) for calendar {year}")
    if annualize_partial and len(quarters) == 3:
        return _result(quarters, _total(quarters) * 4 / 3,
                       f"annualized: 3 of 4 calendar quarters of {year} x 4/3", basis="estimate")
    halves = [row for row in rows if row.period_type == "half" and row.fiscal_period in (f"H1-{year}", f"H2-{year}")]
    if len(halves) == 2:
        return _result(halves, _total(halves), f"sum of H1 and H2 {year}")
    if metric == RUN_RATE:
        return _run_rate_year(rows, year)
    return None


def _interpolate(ends, values, dates) -> pd.Series:
    x = np.array([end.toordinal() for end in ends], dtype=float)
    y = np.asarray(values, dtype=float)
    when = pd.DatetimeIndex(dates)
    t = np.array([d.toordinal() for d in when], dtype=float)
    return pd.Series(np.interp(t, x, y, left=np.nan, right=np.nan), index=when)


def _run_rate_year(rows, year: int) -> YearValue | None:
    start, end = pd.Timestamp(dt.date(year, 1, 1)), pd.Timestamp(dt.date(year, 12, 31))
    return _run_rate_mean(rows, start, end, str(year))


def _run_rate_mean(rows, start: pd.Timestamp, end: pd.Timestamp, label: str) -> YearValue | None:
    points = [row for row in rows if row.period_type == "point"]
    if not points or min(p.period_end for p in points) > start or max(p.period_end for p in points) < end:
        return None
    ordered = sorted(points, key=lambda p: p.period_end)
    days = pd.date_range(start, end, freq="D")
    mean = _interpolate([p.period_end for p in ordered], [p.value_usd_bn for p in ordered], days).mean()
    first = max(p.period_end for p in points if p.period_end <= start)
    last = min(p.period_end for p in points if p.period_end >= end)
    used = [p for p in points if first <= p.period_end <= last]
    return _result(used, mean, f"mean of run-rate interpolated daily over {label}", basis="estimate")


# ----------------------------------------------------------------------------- the trailing twelve months


def ttm_quarters(end: str | pd.Period) -> pd.PeriodIndex:
    """The four calendar quarters of the twelve months to ``end`` (e.g. 2025Q3-2026Q2 for 2026Q2)."""
    end = pd.Period(end, freq="Q")
    return pd.period_range(end - 3, end, freq="Q")


def ttm_label(end: str | pd.Period) -> str:
    """'2025Q3-2026Q2': the calendar quarters a trailing-twelve-month figure covers."""
    quarters = ttm_quarters(end)
    return f"{quarters[0]}-{quarters[-1]}"


def _closing(row) -> str:
    """Calendar quarter of a period row's closing three months (by their midpoint, as quarters map)."""
    return fiscal.calendar_quarter_of(row.period_end.date())


def company_ttm(ds: Dataset, company: str, metric: str, end: str | pd.Period,
                annualize_partial: bool = False) -> YearValue | None:
    """Value of ``metric`` for ``company`` over the twelve months to calendar quarter ``end``.

    See the module docstring for the order tried. A sum of quarters is
    :math:`x_{TTM} = \\sum_{q=end-3}^{end} x_q`, over calendar quarters as mapped from fiscal ones.
    """
    rows = _rows(ds, company, metric)
    if not rows:
        return None
    quarters = ttm_quarters(end)
    label = ttm_label(end)
    wanted = [str(q) for q in quarters]
    qrows = [row for row in rows if row.period_type == "quarter" and row.calendar_quarter in wanted]
    if len(qrows) == 4:
        return _result(qrows, _total(qrows), f"sum of calendar quarters {label}")
    longer = [row for row in rows if row.period_type in ("fiscal_year", "calendar_year") and _closing(row) == wanted[-1]]
    if longer:
        row = longer[0]
        return _result([row], row.value_usd_bn,
                       f"{row.period_type.replace('_', ' ')} {row.fiscal_period} "
                       f"(ends {row.period_end:%Y-%m}) = the twelve months {label}")
    halves = [row for row in rows if row.period_type == "half" and _closing(row) in (wanted[-1], wanted[1])]
    if len(halves) == 2 and {_closing(row) for row in halves} == {wanted[-1], wanted[1]}:
        halves = sorted(halves, key=lambda row: row.period_end)
        return _result(halves, _total(halves),
                       f"sum of {' and '.join(row.fiscal_period for row in halves)} = the twelve months {label}")
    if annualize_partial and len(qrows) == 3:
        return _result(qrows, _total(qrows) * 4 / 3,
                       f"annualized: 3 of 4 calendar quarters of {label} x 4/3", basis="estimate")
    if metric == RUN_RATE:
        return _run_rate_mean(rows, quarters[0].start_time.normalize(), quarters[-1].end_time.normalize(),
                              f"the twelve months {label}")
    return None


def margin_ttm(ds: Dataset, company: str, income_metrics, denominator: str, end: str | pd.Period,
               annualize_partial: bool = False) -> YearValue | None:
    """Operating margin of ``company`` over the twelve months to ``end``, as :func:`margin_year` does for a year.

    Income and revenue of the same twelve months where both are filed the same way; otherwise the
    latest period closing inside the twelve months with both filed (e.g. one quarter's income over
    that quarter's revenue).
    """
    wanted = {str(q) for q in ttm_quarters(end)}
    return _margin(ds, company, income_metrics, denominator,
                   lambda metric: company_ttm(ds, company, metric, end, annualize_partial),
                   lambda row: _closing(row) in wanted)


def margin_year(ds: Dataset, company: str, income_metrics, denominator: str, year: int,
                annualize_partial: bool = False) -> YearValue | None:
    """Operating margin of ``company`` in ``year``: the first income metric with a matching revenue.

    Tries whole-year values first, taken only when income and revenue cover the same periods (the
    same method, e.g. both the sum of the four calendar quarters), so a margin never divides one
    period's income by another period's revenue. Otherwise it takes the latest period ending in
    the year for which both the income metric and the denominator are reported (e.g. H1 operating
    loss over H1 revenue), the longest one where several end on the same day. Metrics flagged
    ``loss: true`` in metrics.yaml are negated.
    """
    return _margin(ds, company, income_metrics, denominator,
                   lambda metric: company_year(ds, company, metric, year, annualize_partial),
                   lambda row: row.period_end.year == year)


def _margin(ds: Dataset, company: str, income_metrics, denominator: str, whole, within) -> YearValue | None:
    """The margin rule of :func:`margin_year`: ``whole(metric)`` gives the period's value, ``within(row)``
    says whether a shorter period's row counts as inside it."""
    revenue = whole(denominator)
    den = {(row.period_type, row.fiscal_period): row for row in _rows(ds, company, denominator)}
    for metric in income_metrics:
        sign = -1.0 if ds.metrics[metric].get("loss") else 1.0
        income = whole(metric)
        if income and revenue and revenue.value > 0 and income.method == revenue.method:
            return YearValue(sign * income.value / revenue.value, f"{metric} / {denominator}, {income.method}",
                             weakest_basis([income.basis, revenue.basis]), income.sources + revenue.sources)
        pairs = [(row, den[key]) for row in _rows(ds, company, metric)
                 if (key := (row.period_type, row.fiscal_period)) in den and den[key].value_usd_bn > 0 and within(row)]
        if pairs:
            # the latest period, the longest of several ending the same day (the last of equals, as filed)
            num, dnm = sorted(pairs, key=lambda pair: (pair[0].period_end, _PERIOD_LENGTH.get(pair[0].period_type, 0)))[-1]
            return YearValue(float(sign * num.value_usd_bn / dnm.value_usd_bn), f"{metric} / {denominator} in {num.fiscal_period}",
                             weakest_basis([num.basis, dnm.basis]), (num.source_id, dnm.source_id))
    return None
