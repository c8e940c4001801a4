r"""Capex and the AI capital in service: the one owner of the spenders' capex.

:func:`spender_capex` returns the capex spenders' capex by calendar year, by calendar quarter or
over the four quarters to each quarter; the profit model, the demand gap and the backlog
comparison all call it.

Required revenue on capital in service
--------------------------------------
AI-relevant capex in quarter :math:`s` is the spenders' filed capex times the scenario's AI share
of that year, :math:`A_s = a_{y(s)} C_s` (zero before the first year with a share: that capex
serves the businesses the spenders had before the generative-AI build-out). A dollar spent in
quarter :math:`s` enters service :math:`L` quarters later and is split into servers and networking
(share :math:`\phi`, life :math:`n_1` years) and buildings and power (life :math:`n_2` years). The
capital in service in quarter :math:`t` is

.. math::

    K_{c,t} = w_c \sum_{j=L}^{L + 4 n_c - 1} A_{t-j}, \qquad w_1 = \phi,\ w_2 = 1 - \phi,

and the revenue that recovers every vintage in service with return :math:`r`, given a margin
before depreciation :math:`m`, is (annualized)

.. math::

    R^*_t = \frac{1}{m} \sum_c K_{c,t}\, CRF(r, n_c).

With capex constant at :math:`C` a year this is :math:`C \sum_c w_c n_c CRF(r, n_c) / m`, the
**steady-state** revenue per dollar of annual capex :math:`\beta^*_{ss}`. While capex grows the
base in service is smaller than :math:`n_c` years of today's capex, and the **growth-adjusted**
:math:`\beta^*_t = R^*_t / (\text{AI capex over the last four quarters})` is lower: the bar a
boom year actually has to clear.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.dataset import Dataset
from valuechain.required import capital_recovery_factor
from valuechain.yearly import company_year

CAPEX_COLUMNS = ["period", "company_id", "capex_usd_bn", "method", "basis", "sources"]


def spender_capex(ds: Dataset, companies, frequency: str, years: range | None = None,
                  annualize_partial: bool = False) -> pd.DataFrame:
    """Capex of ``companies``: one row per period x company with its method, basis and sources.

    ``frequency='year'``: calendar years in ``years`` via :func:`~valuechain.yearly.company_year`
    (calendar-year rows, four quarters, or the fiscal year centred on the year). ``'quarter'``:
    filed calendar quarters (``period`` is a quarterly Period). ``'trailing_year'``: capex over
    the four quarters to each calendar quarter (``period``): four consecutive filed quarters
    summed, else a fiscal or calendar year ending in that quarter (Oracle's fiscal year to May
    stands for the four quarters to calendar Q2). A company-period without a figure has no row.
    """
    rows = []
    if frequency == "year":
        for year in years:
            for company in companies:
                value = company_year(ds, company, "capex", year, annualize_partial)
                if value is not None:
                    rows.append({"period": year, "company_id": company, "capex_usd_bn": value.value,
                                 "method": value.method, "basis": value.basis, "sources": value.sources})
    elif frequency == "quarter":
        fin = ds.financials
        filed = fin[(fin["metric"] == "capex") & (fin["period_type"] == "quarter") & fin["company_id"].isin(list(companies))]
        for _, row in filed.iterrows():
            rows.append({"period": pd.Period(row["calendar_quarter"], freq="Q"), "company_id": row["company_id"],
                         "capex_usd_bn": float(row["value_usd_bn"]), "method": f"filed quarter {row['fiscal_period']}",
                         "basis": row["basis"], "sources": (row["source_id"],)})
    elif frequency == "trailing_year":
        fin = ds.financials
        filed = fin[(fin["metric"] == "capex") & fin["company_id"].isin(list(companies))]
        for company, own in filed.groupby("company_id", sort=False):
            rows += _trailing_year(own, company)
    else:
        raise ValueError(f"frequency must be 'year', 'quarter' or 'trailing_year', not {frequency!r}")
    out = pd.DataFrame(rows, columns=CAPEX_COLUMNS)
    return out.sort_values(["period", "company_id"], kind="stable").reset_index(drop=True)


_BASIS_RANK = {"reported": 0, "derived": 1, "run_rate": 2, "estimate": 3, "claim": 4}


def _trailing_year(own: pd.DataFrame, company: str) -> list[dict]:
    """Rows of capex over the four quarters to each calendar quarter, from ``company``'s capex rows ``own``."""
    quarters = own[own["period_type"] == "quarter"]
    filed = {pd.Period(q, freq="Q"): (float(v), b, src) for q, v, b, src in
             zip(quarters["calendar_quarter"], quarters["value_usd_bn"], quarters["basis"], quarters["source_id"])}
    out = {}
    for end in sorted(filed):
        window = [end - k for k in (3, 2, 1, 0)]
        if all(q in filed for q in window):
            used = [filed[q] for q in window]
            out[end] = {"capex_usd_bn": sum(u[0] for u in used), "method": f"sum of filed quarters {window[0]}-{end}",
                        "basis": max((u[1] for u in used), key=_BASIS_RANK.__getitem__),
                        "sources": tuple(dict.fromkeys(u[2] for u in used))}
    years = own[own["period_type"].isin(["fiscal_year", "calendar_year"])]
    for kind, label, period_end, value, basis, source in zip(years["period_type"], years["fiscal_period"],
                                                            years["period_end"], years["value_usd_bn"],
                                                            years["basis"], years["source_id"]):
        end = pd.Period(period_end, freq="Q")
        if end not in out:
            out[end] = {"capex_usd_bn": float(value),
                        "method": f"{kind.replace('_', ' ')} {label} (ends {period_end:%Y-%m-%d})",
                        "basis": basis, "sources": (source,)}
    return [{"period": end, "company_id": company, **values} for end, values in sorted(out.items())]


def quarterly_wide(capex: pd.DataFrame) -> pd.DataFrame:
    """Quarter x company table of :func:`spender_capex` rows (``frequency='quarter'``), contiguous index."""
    wide = capex.pivot(index="period", columns="company_id", values="capex_usd_bn").sort_index()
    if len(wide):
        wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="Q"))
    wide.index.name = "calendar_quarter"
    return wide


def ai_capex(wide: pd.DataFrame, ai_share: dict[int, float]) -> pd.Series:
    """AI-relevant capex by quarter: the filed spenders' sum times the AI share of its year.

    Quarters before the first year of ``ai_share`` count as zero; years after the last one carry
    its share forward. A quarter in which no spender filed is NaN.
    """
    first, last = min(ai_share), max(ai_share)
    share = [0.0 if q.year < first else ai_share.get(q.year, ai_share[last]) for q in wide.index]
    total = wide.sum(axis=1, min_count=1)
    return (total * np.array(share)).rename("ai_capex_usd_bn")


def in_service(quarterly: pd.Series, lag_quarters: int, life_years: float) -> pd.Series:
    r"""Capital in service: :math:`\sum_{j=L}^{L+4n-1} A_{t-j}` (see the module docstring).

    Quarters before the series starts count as zero, so ``quarterly`` must start at or before
    the first quarter with AI capex.
    """
    from valuechain.core import in_service as vectorized  # one implementation: the model core's

    values = quarterly.fillna(0.0).to_numpy()[None, :]
    out = vectorized(values, lag_quarters, np.array([round(4 * life_years)]))[0]
    return pd.Series(out, index=quarterly.index, name="in_service_usd_bn")


@dataclass(frozen=True)
class AssetClass:
    """One class of AI capital: its share of capex and its life."""

    name: str
    share: float
    life_years: float


def required_revenue(ai_quarterly: pd.Series, classes: tuple[AssetClass, ...], lag_quarters: int,
                     target_return: float, margin_before_depreciation: float) -> pd.DataFrame:
    """Capital in service by class and the annualized required revenue :math:`R^*_t`, by quarter."""
    out = {}
    required = 0.0
    for c in classes:
        base = c.share * in_service(ai_quarterly, lag_quarters, c.life_years)
        out[f"in_service_{c.name}_usd_bn"] = base
        required = required + base * capital_recovery_factor(target_return, c.life_years) / margin_before_depreciation
    frame = pd.DataFrame(out)
    frame["in_service_usd_bn"] = frame.sum(axis=1)
    frame["required_usd_bn"] = required
    frame["ai_capex_ttm_usd_bn"] = ai_quarterly.rolling(4, min_periods=4).sum()
    frame["beta_star_growth_adjusted"] = frame["required_usd_bn"] / frame["ai_capex_ttm_usd_bn"]
    return frame


def steady_state_beta(classes: tuple[AssetClass, ...], target_return: float, margin_before_depreciation: float) -> float:
    r""":math:`\beta^*_{ss} = \sum_c w_c n_c CRF(r, n_c) / m`: revenue per dollar of annual capex when capex is flat."""
    return sum(c.share * c.life_years * capital_recovery_factor(target_return, c.life_years) for c in classes) \
        / margin_before_depreciation
