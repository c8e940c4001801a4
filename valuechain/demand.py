"""The demand gap: is downstream revenue keeping up with upstream capex?

Series (all built from the dataset, in USD billions, on a calendar-quarter index):

- **upstream capex**: the calendar-quarter sum of the capex spenders' capex, only for quarters in
  which every spender has a filed figure; its trailing four-quarter sum is annual capex.
- **AI revenue**: the labs' annualized revenue run-rates, interpolated linearly in time between
  dated observations to each quarter end and summed, only where every lab has observations on
  both sides (no extrapolation). Application spend is published only as annual estimates, so it
  is not in the quarterly series.
- **cloud revenue proxy**: cloud segment revenue of the proxy companies (four times the quarter
  for an annual rate), paired with the same companies' capex.

Required-revenue methods come from :mod:`valuechain.required`; the tests from
:mod:`valuechain.regression`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain import regression, required, views
from valuechain.dataset import Dataset, load_dataset
from valuechain.params import Scenario
from valuechain.profit import ProfitPool, profit_pool
from valuechain.results import rounded
from valuechain.yearly import company_year, interpolate_run_rate


def summed_quarters(ds: Dataset, metric: str, companies) -> pd.Series:
    """Calendar-quarter sum of ``metric`` over ``companies``, only where all of them report."""
    wide = views.quarterly(ds, metric, companies)
    missing = set(companies) - set(wide.columns)
    if missing or wide.empty:
        return pd.Series(dtype=float, name=metric)
    complete = wide[list(companies)].dropna()
    out = complete.sum(axis=1).rename(metric)
    return out.reindex(pd.period_range(out.index.min(), out.index.max(), freq="Q")) if len(out) else out


def ai_revenue_quarterly(ds: Dataset, labs) -> pd.Series:
    """Sum of the labs' run-rates interpolated to quarter ends (annualized USD bn); NaN-free span only."""
    points = views.points(ds, "revenue_run_rate", labs)
    if points.empty:
        return pd.Series(dtype=float, name="ai_revenue_run_rate")
    quarters = pd.period_range(points["period_end"].min(), points["period_end"].max(), freq="Q")
    ends = quarters.to_timestamp(how="end").normalize()
    parts = {lab: interpolate_run_rate(points[points["company_id"] == lab], ends).to_numpy() for lab in labs}
    frame = pd.DataFrame(parts, index=quarters)
    return frame.dropna().sum(axis=1).rename("ai_revenue_run_rate")


def capital_base(ds: Dataset, companies, year: int, life_years: float) -> tuple[float, list[str]]:
    """Capex of ``companies`` over the ``life_years`` calendar years to ``year`` (the installed base).

    A company missing any of those years is left out and named in the second return value.
    """
    years = range(year - int(round(life_years)) + 1, year + 1)
    total, left_out = 0.0, []
    for company in companies:
        values = [company_year(ds, company, "capex", y, annualize_partial=True) for y in years]
        if any(v is None for v in values):
            left_out.append(company)
            continue
        total += sum(v.value for v in values)
    return total, left_out


@dataclass(frozen=True)
class DemandGapResult:
    """Everything notebook 02 shows: required vs actual revenue, the series and the tests."""

    scenario: Scenario
    year: int
    requirements: pd.DataFrame  # method x (required, actual, gap, inputs)
    required_by_year: pd.DataFrame  # year x method: required revenue against actual AI revenue
    capital_left_out: tuple[str, ...]
    capex: pd.Series  # upstream capex, quarterly
    capex_ttm: pd.Series  # upstream capex, trailing four quarters
    ai_revenue: pd.Series  # AI revenue run-rate, quarterly
    proxy_revenue: pd.Series  # cloud revenue of the proxy companies, quarterly
    proxy_capex: pd.Series  # capex of the proxy companies, quarterly
    beta_star: float
    tests: dict  # name -> regression.Fit or YieldTest or DataFrame

    def summary(self) -> dict:
        """Key figures for the batch comparison table, rounded for presentation."""
        req = self.requirements.set_index("method")
        out = {"scenario": self.scenario.name, "year": self.year, "beta_star": round(self.beta_star, 4)}
        for method, row in req.iterrows():
            out[f"{method}_required_usd_bn"] = rounded(row["required_usd_bn"])
            out[f"{method}_actual_usd_bn"] = rounded(row["actual_usd_bn"])
            out[f"{method}_gap_usd_bn"] = rounded(row["gap_usd_bn"])
        for name in ("proxy_yield", "ai_yield"):
            test = self.tests.get(name)
            if isinstance(test, regression.YieldTest):
                out[f"{name}_beta"] = rounded(test.beta, 4)
                out[f"{name}_p_one_sided"] = rounded(test.p_one_sided, 4)
                out[f"{name}_n"] = test.n
                out[f"{name}_below_break_even"] = bool(test.reject)
        return out


def demand_gap(scenario: Scenario, ds: Dataset | None = None, pool: ProfitPool | None = None,
               year: int | None = None) -> DemandGapResult:
    """Run the required-revenue methods and the regressions for ``scenario``."""
    ds = ds or load_dataset()
    pool = pool or profit_pool(scenario, ds)
    year = year or pool.historical_years[-1]
    dg = scenario.demand_gap
    reg = dg.regression
    be = dg.break_even

    bases = {y: capital_base(ds, reg.capex_companies, y, be.depreciation_life_years)
             for y in dict.fromkeys([*pool.historical_years, year])}
    installed, left_out = bases[year]
    data_center = _nvidia_data_center(ds)
    requirements = _requirements(scenario, pool, year, installed, data_center)
    capex = summed_quarters(ds, "capex", reg.capex_companies)
    capex_ttm = views.trailing_four_quarters(capex.to_frame())["capex"].dropna()
    ai = ai_revenue_quarterly(ds, reg.ai_labs)
    proxy_rev = summed_quarters(ds, "cloud_revenue", reg.proxy_companies)
    proxy_capex = summed_quarters(ds, "capex", reg.proxy_companies)
    beta_star = required.break_even_yield(be.depreciation_life_years, be.target_return, be.margin_before_depreciation)

    proxy_capex_ttm = views.trailing_four_quarters(proxy_capex.to_frame())["capex"]
    tests = {
        "distributed_lag": regression.distributed_lag(proxy_rev, proxy_capex, reg.lags, reg.hac_maxlags, alpha=reg.alpha),
        "growth": regression.distributed_lag(proxy_rev, proxy_capex, reg.lags, reg.hac_maxlags, diff=True, alpha=reg.alpha),
        "unit_roots": regression.unit_roots({"cloud revenue (proxy)": proxy_rev, "capex (proxy)": proxy_capex,
                                             "upstream capex": capex, "AI revenue run-rate": ai}),
        "cointegration": regression.cointegration(proxy_rev, proxy_capex),
        "panel": regression.panel(_panel_frame(ds, reg.panel_companies), reg.panel_lag, reg.alpha),
        "structural_break": regression.structural_break(proxy_rev, proxy_capex, reg.break_quarter, reg.panel_lag,
                                                        reg.hac_maxlags, reg.alpha),
        "proxy_yield": regression.yield_test(4 * proxy_rev, proxy_capex_ttm, beta_star, reg.hac_maxlags, reg.alpha),
        "rolling_yield": regression.rolling_yield(4 * proxy_rev, proxy_capex_ttm, reg.rolling_window),
    }
    paired = pd.concat({"ai": ai, "capex": capex_ttm}, axis=1).dropna()
    if len(paired) >= 3:
        tests["ai_yield"] = regression.yield_test(paired["ai"], paired["capex"], beta_star, min(reg.hac_maxlags, 1), reg.alpha)
    return DemandGapResult(
        scenario=scenario, year=year, requirements=requirements,
        required_by_year=_required_by_year(scenario, pool, bases, data_center),
        capital_left_out=tuple(left_out),
        capex=capex, capex_ttm=capex_ttm, ai_revenue=ai, proxy_revenue=proxy_rev, proxy_capex=proxy_capex,
        beta_star=beta_star, tests=tests,
    )


def _panel_frame(ds: Dataset, companies) -> pd.DataFrame:
    revenue = views.quarterly(ds, "cloud_revenue", companies)
    capex = views.quarterly(ds, "capex", companies)
    rows = []
    for company in companies:
        both = pd.concat({"revenue": revenue.get(company), "capex": capex.get(company)}, axis=1).dropna()
        rows.append(both.reset_index().assign(company_id=company))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _ai_revenue_in(pool: ProfitPool, year: int) -> float:
    lay = pool.layers[(pool.layers["year"] == year) & (pool.layers["kind"] == "historical")].set_index("layer")
    return float(lay.loc[["cloud", "labs", "apps"], "ai_revenue_usd_bn"].sum(min_count=1))


def _nvidia_data_center(ds: Dataset) -> pd.Series:
    """NVIDIA's quarterly data-center revenue by calendar quarter."""
    return views.quarterly(ds, "data_center_revenue", ["nvidia"])["nvidia"].dropna()


def _nvidia_run_rate(dc: pd.Series, year: int | None = None) -> float:
    """Four times the latest quarter of ``dc`` (from :func:`_nvidia_data_center`), up to ``year`` if given."""
    if year is not None:
        dc = dc[dc.index.year <= year]
    return float(dc.iloc[-1] * 4)


def _spender_capex(pool: ProfitPool, year: int) -> float:
    """The capex spenders' calendar-year capex, as the profit model summed it (NaN if one is missing)."""
    hist = pool.layers[(pool.layers["year"] == year) & (pool.layers["kind"] == "historical")]
    return float(hist["capex_usd_bn"].iloc[0])


def _requirements(scenario: Scenario, pool: ProfitPool, year: int, installed_base: float,
                  data_center: pd.Series) -> pd.DataFrame:
    dg = scenario.demand_gap
    seq, bain, be = dg.sequoia, dg.bain, dg.break_even
    actual = _ai_revenue_in(pool, year)
    run_rate = seq.run_rate_usd_bn if seq.run_rate_usd_bn is not None else _nvidia_run_rate(data_center)
    identified = seq.identified_ai_revenue_usd_bn if seq.identified_ai_revenue_usd_bn is not None else actual
    capex = bain.capex_usd_bn if bain.capex_usd_bn is not None else _spender_capex(pool, year)
    given = dg.capital_recovery.capital_base_usd_bn
    base = given if given is not None else installed_base
    results = [
        required.sequoia(run_rate, seq.gpu_share_of_tco, seq.end_user_gross_margin, identified),
        required.capex_to_revenue(capex, bain.capex_to_revenue,
                                  bain.fundable_revenue_usd_bn if bain.fundable_revenue_usd_bn is not None else actual),
        required.capital_recovery(base, be.depreciation_life_years, be.target_return, be.margin_before_depreciation, actual),
    ]
    return pd.DataFrame([{"method": r.method, "required_usd_bn": r.required_usd_bn, "actual_usd_bn": r.actual_usd_bn,
                          "gap_usd_bn": r.gap_usd_bn, "inputs": r.inputs} for r in results])


def _required_by_year(scenario: Scenario, pool: ProfitPool, bases: dict, data_center: pd.Series) -> pd.DataFrame:
    """Required revenue by each method on the data, year by year, against actual AI revenue.

    ``bases`` maps each historical year to its :func:`capital_base` result (total, companies left out);
    ``data_center`` is :func:`_nvidia_data_center`.
    """
    dg = scenario.demand_gap
    be = dg.break_even
    rows = []
    for year in pool.historical_years:
        capex = _spender_capex(pool, year)
        base, left_out = bases[year]
        rows.append({
            "year": year,
            "actual_ai_revenue_usd_bn": _ai_revenue_in(pool, year),
            "sequoia_usd_bn": required.sequoia(_nvidia_run_rate(data_center, year), dg.sequoia.gpu_share_of_tco,
                                               dg.sequoia.end_user_gross_margin).required_usd_bn,
            "capex_to_revenue_usd_bn": required.capex_to_revenue(capex, dg.bain.capex_to_revenue).required_usd_bn
            if pd.notna(capex) else np.nan,
            "capital_recovery_usd_bn": required.capital_recovery(base, be.depreciation_life_years, be.target_return,
                                                                 be.margin_before_depreciation).required_usd_bn
            if base > 0 else np.nan,
            "capital_base_left_out": ", ".join(left_out),
        })
    return pd.DataFrame(rows)
