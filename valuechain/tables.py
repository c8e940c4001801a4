"""Formatted tables for notebooks and the HTML site (pandas Stylers; the numbers are untouched)."""
from __future__ import annotations

import pandas as pd

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
