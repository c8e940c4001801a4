"""Formatted tables for notebooks and the HTML site (pandas Stylers; the numbers are untouched)."""
from __future__ import annotations

import pandas as pd

from valuechain.inference import format_p
from valuechain.params import CHAIN_ORDER
from valuechain.profit import ProfitPool

_UPSTREAM_FIRST = list(reversed(CHAIN_ORDER))


def layers(pool: ProfitPool, kind: str = "historical"):
    """Layer x year table of AI revenue, operating profit, margin and shares."""
    data = pool.layers[pool.layers["kind"] == kind].copy()
    data["layer"] = pd.Categorical(data["layer"], _UPSTREAM_FIRST, ordered=True)
    data = data.sort_values(["year", "layer"]).set_index(["year", "layer"])
    cols = ["ai_revenue_usd_bn", "operating_profit_usd_bn", "operating_margin", "revenue_share", "profit_share"]
    return data[cols].style.format({
        "ai_revenue_usd_bn": "{:,.1f}", "operating_profit_usd_bn": "{:,.1f}",
        "operating_margin": "{:.0%}", "revenue_share": "{:.0%}", "profit_share": "{:.0%}",
    }, na_rep="n/a")


def dollar_flow(pool: ProfitPool, year: int):
    """The $1 flow for one year, in cents."""
    data = pool.dollar_flow[pool.dollar_flow["year"] == year].set_index("layer").drop(columns="year")
    return data.style.format("{:.1f}")


def value_added(pool: ProfitPool, year: int):
    """Revenue, purchases from upstream and value added per layer for one year (USD bn)."""
    data = pool.value_added[pool.value_added["year"] == year].set_index("layer").drop(columns="year")
    return data.style.format("{:,.1f}", na_rep="n/a")


def companies(pool: ProfitPool, year: int):
    """Company rows used in ``year``: the reported figure, the AI share and margin, and how each was obtained."""
    cols = ["layer", "company_id", "revenue_metric", "revenue_usd_bn", "revenue_method", "revenue_basis",
            "ai_share", "operating_margin", "margin_method"]
    data = pool.companies[pool.companies["year"] == year][cols].set_index(["layer", "company_id"])
    return data.style.format({"revenue_usd_bn": "{:,.2f}", "ai_share": "{:.0%}", "operating_margin": "{:.0%}"})


def ttm_layers(pool: ProfitPool):
    """The latest twelve months by layer: AI revenue, operating profit, margin and shares."""
    if pool.ttm is None:
        return None
    data = pool.ttm.layers.copy()
    data["layer"] = pd.Categorical(data["layer"], _UPSTREAM_FIRST, ordered=True)
    data = data.sort_values("layer").astype({"layer": str})
    return _present(data, {
        "layer": ("Layer", ""),
        "ai_revenue_usd_bn": (f"AI revenue, {pool.ttm.period} (USD bn)", "{:,.1f}"),
        "operating_profit_usd_bn": ("Operating profit (USD bn)", "{:,.1f}"),
        "operating_margin": ("Operating margin", "{:.0%}"),
        "revenue_share": ("Share of revenue", "{:.0%}"),
        "profit_share": ("Share of operating profit", "{:.0%}"),
    })


def lab_backlog(ds):
    """Backlog contracted with the labs, where a filing or release says so, beside each company's backlog."""
    from valuechain import views

    data = views.lab_backlog(ds)
    return _present(data, {
        "company": ("Company", ""), "lab": ("Lab", ""), "stated": ("Stated", ""),
        "contracted_with_lab_usd_bn": ("Contracted with the lab (USD bn)", "{:,.0f}"),
        "backlog_usd_bn": ("Company backlog (USD bn)", "{:,.0f}"),
        "backlog_date": ("Backlog at", ""), "share_of_backlog": ("Share of backlog", "{:.0%}"),
        "basis": ("Basis", ""), "note": ("What the source says", ""),
    })


# ----------------------------------------------------------------------------- demand gap (notebook 02)

MISSING = "not disclosed"


def _present(frame: pd.DataFrame, columns: dict[str, tuple[str, str]]):
    """Styler with human headers (``columns``: name -> (header with unit, format)), no positional index."""
    data = frame[list(columns)].rename(columns={k: v[0] for k, v in columns.items()})
    formats = {v[0]: v[1] for v in columns.values() if v[1]}
    return data.style.format(formats, na_rep=MISSING).hide(axis="index")


def company_names(ds) -> dict[str, str]:
    """Company id -> name, for labels."""
    return dict(zip(ds.companies["company_id"], ds.companies["name"]))


def downstream(result):
    """Net external AI revenue by quarter: D with its band, the disclosed sum, the real-time value and the netting."""
    d = result.downstream.d.join(result.downstream.netting).join(result.required[["required_usd_bn"]])
    d = d.reset_index(names="quarter").assign(quarter=lambda f: f["quarter"].astype(str))
    band = f"{result.downstream.level:.0%}"
    return _present(d, {
        "quarter": ("Quarter", ""),
        "d_usd_bn": ("D, net external AI revenue (USD bn a year)", "{:,.1f}"),
        "low_usd_bn": (f"D, {band} low", "{:,.1f}"),
        "high_usd_bn": (f"D, {band} high", "{:,.1f}"),
        "final_demand_usd_bn": ("Final demand disclosed (USD bn)", "{:,.1f}"),
        "intra_chain_netted_usd_bn": ("Intra-chain flows netted (USD bn)", "{:,.1f}"),
        "realtime_usd_bn": ("Known at the time (USD bn)", "{:,.1f}"),
        "series_present": ("Final-demand series", "{:.0f}"),
        "required_usd_bn": ("R*, required (USD bn a year)", "{:,.1f}"),
    })


def closing(result):
    """The primary test's figures: gap, trend, time to close and probabilities, each with its interval."""
    c = result.closing
    band = f"{c.level:.0%}"
    rows = [
        ("D / R* in " + str(c.last_quarter), f"{c.ratio:.0%}", f"{c.ratio_interval[0]:.0%} to {c.ratio_interval[1]:.0%}"),
        ("Closing rate (log points a year)", f"{4 * c.trend:+.2f}",
         f"{4 * c.trend_interval[0]:+.2f} to {4 * c.trend_interval[1]:+.2f}"),
        ("Rate needed to close within the asset life", f"{4 * c.required_trend:+.2f}", ""),
        ("Quarterly changes used (n) and EWC degrees of freedom", f"{c.n} and {c.dof}", ""),
        ("Primary test p-value", format_p(c.p_value), "parametric bootstrap of the pipeline"),
    ] + [(f"P(gap closed by the end of {y})", f"{p:.2f}", "") for y, p in c.prob_closed_by.items() if y <= 2035]
    frame = pd.DataFrame(rows, columns=["Figure", "Estimate", f"{band} interval or note"])
    return frame.style.hide(axis="index")


def required_by_year(result):
    """Each method's required revenue by year on that year's data, against net external AI revenue."""
    return _present(result.required_by_year, {
        "year": ("Year", "{:.0f}"),
        "net_external_ai_revenue_usd_bn": ("Net external AI revenue earned (USD bn)", "{:,.1f}"),
        "nvidia_run_rate_usd_bn": ("NVIDIA data-center run-rate, last quarter of the year (USD bn)", "{:,.1f}"),
        "sequoia_usd_bn": ("Required, Sequoia (USD bn)", "{:,.0f}"),
        "spenders_capex_usd_bn": ("Spenders' capex (USD bn)", "{:,.0f}"),
        "capex_to_revenue_usd_bn": ("Required, Bain (USD bn)", "{:,.0f}"),
        "capital_recovery_usd_bn": ("Required, capital recovery R* (USD bn)", "{:,.1f}"),
    })


def secondary(result):
    """Secondary tests with n, degrees of freedom, the method, and Holm-adjusted p-values."""
    table = result.secondary.table()
    table["p_value"] = table["p_value"].map(format_p)
    table["p_holm"] = table["p_holm"].map(format_p)
    return _present(table, {
        "test": ("Test", ""), "estimate": ("Estimate or statistic", "{:.3f}"),
        "ci_low": (f"{result.closing.level:.0%} interval, low", "{:.3f}"),
        "ci_high": (f"{result.closing.level:.0%} interval, high", "{:.3f}"),
        "p_value": ("p", ""), "p_holm": ("p, Holm-adjusted", ""), "n": ("n", "{:.0f}"),
        "dof": ("Degrees of freedom", "{:.0f}"), "method": ("Method", ""),
    }).format(na_rep="not applicable", subset=[f"{result.closing.level:.0%} interval, low",
                                                 f"{result.closing.level:.0%} interval, high", "Degrees of freedom"])


def ai_elasticity(result):
    """Posterior of the elasticity of D to lagged AI capex under the stated prior and the alternatives."""
    return _present(result.secondary.ai_sensitivity, {
        "prior": ("Prior", ""), "posterior_mean": ("Posterior mean", "{:.2f}"), "posterior_sd": ("Posterior s.d.", "{:.2f}"),
        "low": ("Interval, low", "{:.2f}"), "high": ("Interval, high", "{:.2f}"),
        "p_positive": ("P(elasticity > 0)", "{:.2f}"), "n": ("n", "{:.0f}"), "dof": ("Degrees of freedom", "{:.0f}"),
    })


def realtime_forecasts(result):
    """D's out-of-sample check, one row per origin: the vintage used, the outcome and both forecast errors."""
    f = result.secondary.d_forecasts.assign(
        origin=lambda t: t["origin"].astype(str), base=lambda t: t["base"].astype(str),
        target=lambda t: t["target"].astype(str), capex_through=lambda t: t["capex_through"].astype(str),
        last_published=lambda t: t["last_published"].dt.strftime("%Y-%m-%d"))
    return _present(f, {
        "origin": ("Origin (quarter)", ""), "last_published": ("Latest disclosure used, published", ""),
        "capex_through": ("Capex filed through", ""), "base": ("Last quarter of D in the vintage", ""),
        "target": ("Target quarter", ""), "n": ("Quarterly changes fitted (n)", "{:.0f}"),
        "actual": ("Growth of D to the target, all disclosures (log points)", "{:+.3f}"),
        "model_error": ("Capex-growth model error (log points)", "{:+.3f}"),
        "random_walk_error": ("Random walk with drift error (log points)", "{:+.3f}"),
    })


def market_check(result):
    """Annual D against the market totals in the data (Menlo Ventures' enterprise survey), with the ratio."""
    check = result.market_check().assign(published=lambda t: t["published"].dt.strftime("%Y-%m-%d"))
    return _present(check, {
        "year": ("Year", "{:.0f}"), "d_usd_bn": ("D, net external AI revenue (USD bn)", "{:,.1f}"),
        "total_usd_bn": ("Menlo Ventures, enterprise generative-AI spend (USD bn)", "{:,.1f}"),
        "ratio": ("D / Menlo total", "{:.2f}"), "d_growth": ("D, multiple of the year before", "{:.2f}"),
        "total_growth": ("Menlo total, multiple of the year before", "{:.2f}"),
        "fewest_series": ("Fewest series in D in a quarter of the year", "{:.0f}"),
        "published": ("Menlo total published", ""),
    }).format("{:.2f}", na_rep="not applicable", subset=["D, multiple of the year before",
                                                         "Menlo total, multiple of the year before"])
