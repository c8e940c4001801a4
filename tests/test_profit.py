import numpy as np
import pandas as pd
import pytest

from valuechain.layers import CHAIN_ORDER
from valuechain.scenario.load import load_scenario
from valuechain.model.profit import (dollar_flow, layer_table, profit_pool, required_end_user_spend,
                               value_added)

LAYERS = list(CHAIN_ORDER)


def test_shares_sum_to_one():
    table = layer_table(pd.Series([10.0, 20, 30, 5, 1], index=LAYERS), pd.Series([1.0, -4, 6, 0.5, 0.2], index=LAYERS))
    assert table["revenue_share"].sum() == pytest.approx(1.0)
    assert table["profit_share"].sum() == pytest.approx(1.0)


def test_symmetric_chain_gives_equal_shares():
    table = layer_table(pd.Series(7.0, index=LAYERS), pd.Series(7.0 * 0.2, index=LAYERS))
    assert table["revenue_share"].tolist() == pytest.approx([0.2] * 5)
    assert table["profit_share"].tolist() == pytest.approx([0.2] * 5)
    assert table["operating_margin"].tolist() == pytest.approx([0.2] * 5)


def test_zero_margin_layer_has_zero_profit():
    flow = dollar_flow(dict.fromkeys(LAYERS, 0.5) | {"chips": 0.0}, dict.fromkeys(LAYERS, 0.0))
    assert (flow["profit_cents"] == 0).all() and (flow["loss_cents"] == 0).all()


def test_doubling_every_revenue_leaves_shares_unchanged():
    revenue = pd.Series([3.0, 5, 11, 2, 40], index=LAYERS)
    profit = revenue * pd.Series([0.1, -1.2, 0.3, 0.05, 0.6], index=LAYERS)
    one, two = layer_table(revenue, profit), layer_table(2 * revenue, 2 * profit)
    pd.testing.assert_series_equal(one["revenue_share"], two["revenue_share"])
    pd.testing.assert_series_equal(one["profit_share"], two["profit_share"])


def test_value_added_sums_to_end_user_spend_in_a_closed_chain():
    p = {"apps": 0.3, "labs": 0.8, "cloud": 0.45, "servers": 0.7, "chips": 0.0}
    # a closed chain: each layer's revenue is end-user spend times the pass-throughs downstream of it
    revenue = pd.Series(100.0 * np.cumprod([1.0, *(p[layer] for layer in CHAIN_ORDER[:-1])]), index=list(CHAIN_ORDER))
    assert revenue["labs"] == pytest.approx(30.0)
    assert revenue["chips"] == pytest.approx(100 * 0.3 * 0.8 * 0.45 * 0.7)
    va = value_added(revenue, p)
    assert va["value_added_usd_bn"].sum() == pytest.approx(100.0)
    # purchases of each layer equal the revenue of the layer above it
    assert va.loc["servers", "purchases_from_upstream_usd_bn"] == pytest.approx(revenue["chips"])


def test_dollar_flow_accounts_for_the_whole_dollar():
    p = {"apps": 0.3, "labs": 0.8, "cloud": 0.45, "servers": 0.7, "chips": 0.0}
    m = {"apps": 0.1, "labs": -1.5, "cloud": 0.3, "servers": 0.05, "chips": 0.6}
    flow = dollar_flow(p, m)
    kept = flow["profit_cents"] - flow["loss_cents"]
    assert (kept + flow["outside_costs_cents"]).sum() == pytest.approx(100.0)
    assert flow.loc["labs", "cents_in"] == pytest.approx(30.0)
    assert flow.loc["labs", "loss_cents"] == pytest.approx(45.0)
    assert flow.loc["chips", "profit_cents"] == pytest.approx(100 * 0.3 * 0.8 * 0.45 * 0.7 * 0.6)


def test_required_end_user_spend_inverts_the_chain():
    p = {"apps": 0.5, "labs": 0.5, "cloud": 0.5, "servers": 0.5, "chips": 0.0}
    assert required_end_user_spend(10.0, p) == pytest.approx(160.0)
    assert np.isinf(required_end_user_spend(10.0, p | {"labs": 0.0}))


def test_nvidia_2025_revenue_is_the_sum_of_its_filed_quarters(base_pool):
    row = base_pool.companies.set_index(["year", "company_id"]).loc[(2025, "nvidia")]
    assert row["ai_revenue_usd_bn"] == pytest.approx(39.112 + 41.096 + 51.215 + 62.31)
    assert row["revenue_method"] == "sum of calendar quarters 2025Q1-Q4"
    # NVIDIA's company-wide operating margin, from its filed quarters
    assert row["operating_margin"] == pytest.approx((21.638 + 28.440 + 36.010 + 44.30) / (44.062 + 46.743 + 57.006 + 68.127))


def test_layer_totals_are_sums_of_company_rows(base_pool):
    for (year, layer), group in base_pool.companies.groupby(["year", "layer"]):
        row = base_pool.layers.set_index(["year", "layer"]).loc[(year, layer)]
        assert row["ai_revenue_usd_bn"] == pytest.approx(group["ai_revenue_usd_bn"].sum())
        assert row["operating_profit_usd_bn"] == pytest.approx(group["operating_profit_usd_bn"].sum())


def test_attribution_share_of_zero_removes_a_company(ds, base_pool):
    zero = load_scenario("base", {"attribution.amazon.ai_share.2024": 0.0})
    pool = profit_pool(zero, ds)
    before = base_pool.layers.set_index(["year", "layer"]).loc[(2024, "cloud")]
    after = pool.layers.set_index(["year", "layer"]).loc[(2024, "cloud")]
    amazon = base_pool.companies.set_index(["year", "company_id"]).loc[(2024, "amazon")]
    assert after["ai_revenue_usd_bn"] == pytest.approx(before["ai_revenue_usd_bn"] - amazon["ai_revenue_usd_bn"])
    assert after["operating_profit_usd_bn"] == pytest.approx(before["operating_profit_usd_bn"] - amazon["operating_profit_usd_bn"])


def test_missing_data_is_excluded_and_said_not_filled(base_pool):
    gone = base_pool.excluded.set_index(["year", "company_id"])
    # Dell's AI-server shipments are in the dataset from its fiscal 2026 only; 2024 is left out, not filled in.
    assert gone.loc[(2024, "dell"), "reason"] == "no ai_server_shipments for 2024 in the dataset"
    assert not ((base_pool.companies["year"] == 2024) & (base_pool.companies["company_id"] == "dell")).any()


def test_amd_2025_margin_is_its_segment_income_over_segment_revenue(base_pool):
    row = base_pool.companies.set_index(["year", "company_id"]).loc[(2025, "amd")]
    revenue = 3.674 + 3.24 + 4.3 + 5.4
    income = 0.932 - 0.155 + 1.1 + 1.8
    assert row["revenue_usd_bn"] == pytest.approx(revenue)
    assert row["operating_margin"] == pytest.approx(income / revenue)
    assert row["operating_profit_usd_bn"] == pytest.approx(income)
    assert row["margin_basis"] == "reported"


def test_supermicro_margin_is_its_filed_operating_margin(base_pool):
    rows = base_pool.companies.set_index(["year", "company_id"])
    row = rows.loc[(2024, "supermicro")]
    # Calendar 2024 = fiscal 2025 (July 2024 - June 2025): 70% of 21.97 at 1.253 / 21.97.
    assert row["revenue_usd_bn"] == pytest.approx(21.97)
    assert row["operating_margin"] == pytest.approx(1.253 / 21.97)
    assert row["operating_profit_usd_bn"] == pytest.approx(0.7 * 1.253)
    assert (row["margin_basis"], row["margin_method"]) == ("reported", "operating_income / revenue, fiscal year FY2025 (ends 2025-06) for calendar 2024")
    assert rows.loc[(2023, "supermicro"), "operating_margin"] == pytest.approx(1.211 / 14.989)


def test_coreweave_margin_is_filed_where_the_data_have_it_and_assumed_only_before(base_pool):
    rows = base_pool.companies.set_index(["year", "company_id"])
    income_2025 = -0.02747 + 0.019209 + 0.05185 - 0.089
    row = rows.loc[(2025, "coreweave")]
    assert row["revenue_usd_bn"] == pytest.approx(0.982 + 1.213 + 1.365 + 1.57)
    assert row["operating_margin"] == pytest.approx(income_2025 / 5.13)
    assert row["operating_profit_usd_bn"] == pytest.approx(income_2025)  # all of its revenue is AI
    assert row["margin_method"] == "operating_income / revenue, sum of calendar quarters 2025Q1-Q4"
    assert rows.loc[(2024, "coreweave"), "operating_margin"] == pytest.approx(0.3245 / 1.915)
    # 2023 has no filed operating income in the dataset: the scenario's stated assumption stands in.
    assert (rows.loc[(2023, "coreweave"), "operating_margin"], rows.loc[(2023, "coreweave"), "margin_basis"]) == (0.15, "assumption")


def test_projection_adds_allocated_capex_to_chips(ds, base_pool):
    sc = load_scenario("base")
    base_year = base_pool.layers[(base_pool.layers["year"] == 2025)].set_index("layer")
    first = base_pool.layers[(base_pool.layers["year"] == 2026)].set_index("layer")
    k_base = base_year.loc["chips", "capex_usd_bn"]
    k_2026 = k_base * (1 + sc.projection.capex_growth[2026])
    assert first.loc["chips", "capex_usd_bn"] == pytest.approx(k_2026)
    expected = base_year.loc["chips", "ai_revenue_usd_bn"] + sc.projection.capex_allocation["chips"] * (k_2026 - k_base)
    assert first.loc["chips", "ai_revenue_usd_bn"] == pytest.approx(expected)
    assert first.loc["labs", "ai_revenue_usd_bn"] == pytest.approx(
        base_year.loc["labs", "ai_revenue_usd_bn"] * (1 + sc.projection.end_user_growth[2026]))
    last = base_pool.layers[(base_pool.layers["year"] == 2030)].set_index("layer")
    assert last.loc["labs", "operating_margin"] == pytest.approx(sc.projection.final_margins["labs"])


def test_summary_is_rounded_and_matches_tables(base_pool):
    summary = base_pool.summary()
    row = base_pool.layers.set_index(["year", "layer", "kind"]).loc[(2025, "chips", "historical")]
    assert summary["year"] == 2025
    assert summary["chips_profit_share"] == round(row["profit_share"], 4)
    assert summary["chips_revenue_usd_bn"] == round(row["ai_revenue_usd_bn"], 2)


# ----------------------------------------------------------------------------- the latest twelve months


@pytest.fixture(scope="module")
def ttm_pool(ds):
    return profit_pool(load_scenario("base", {"years": {"latest": "ttm", "ttm_end": "2026Q2"}}), ds)


def test_ttm_is_kept_apart_and_leaves_the_calendar_years_unchanged(ds, ttm_pool):
    calendar = profit_pool(load_scenario("base", {"years": {"latest": "calendar_year"}}), ds)
    assert calendar.ttm is None
    pd.testing.assert_frame_equal(ttm_pool.companies, calendar.companies)
    pd.testing.assert_frame_equal(ttm_pool.layers, calendar.layers)
    assert ttm_pool.ttm.period == "2025Q3-2026Q2" and ttm_pool.ttm.end == "2026Q2"
    assert set(ttm_pool.ttm.layers["kind"]) == {"ttm"} and set(ttm_pool.ttm.companies["year"]) == {2026}
    assert set(ttm_pool.ttm.companies.columns) == set(calendar.companies.columns) | {"period", "ai_share_method"}


def test_ttm_company_rows_sum_four_filed_quarters(ds, ttm_pool):
    row = ttm_pool.ttm.companies.set_index("company_id").loc["nvidia"]
    fin = ds.financials
    dc = fin[(fin["company_id"] == "nvidia") & (fin["metric"] == "data_center_revenue") & (fin["period_type"] == "quarter")]
    expected = dc[dc["calendar_quarter"].isin(["2025Q3", "2025Q4", "2026Q1", "2026Q2"])]["value_usd_bn"].sum()
    assert row["revenue_usd_bn"] == pytest.approx(expected)
    assert row["revenue_method"] == "sum of calendar quarters 2025Q3-2026Q2"


def test_ttm_layer_totals_are_sums_of_its_company_rows(ttm_pool):
    lay = ttm_pool.ttm.layers.set_index("layer")
    for layer, group in ttm_pool.ttm.companies.groupby("layer"):
        assert lay.loc[layer, "ai_revenue_usd_bn"] == pytest.approx(group["ai_revenue_usd_bn"].sum())
        assert lay.loc[layer, "operating_profit_usd_bn"] == pytest.approx(group["operating_profit_usd_bn"].sum())
    shares = lay["profit_share"].dropna()
    assert shares.sum() == pytest.approx(1.0)


def test_ttm_ai_share_averages_the_years_its_quarters_lie_in(ds):
    sc = load_scenario("base", {"years": {"latest": "ttm", "ttm_end": "2026Q2"},
                                "attribution": {"amazon": {"ai_share": {2023: 0.015, 2024: 0.04, 2025: 0.06, 2026: 0.10}}}})
    row = profit_pool(sc, ds).ttm.companies.set_index("company_id").loc["amazon"]
    assert row["ai_share"] == pytest.approx((0.06 * 2 + 0.10 * 2) / 4)  # 2025Q3-Q4 and 2026Q1-Q2
    sc = load_scenario("base", {"years": {"latest": "ttm", "ttm_end": "2026Q2"},
                                "attribution": {"amazon": {"ai_share": {2023: 0.015, 2024: 0.04, 2025: 0.06}}}})
    row = profit_pool(sc, ds).ttm.companies.set_index("company_id").loc["amazon"]
    assert row["ai_share"] == pytest.approx(0.06) and "carries 2025" in row["ai_share_method"]


def test_default_ttm_end_is_the_latest_quarter_most_companies_have_filed(ds):
    from valuechain.model.profit import default_ttm_end

    assert default_ttm_end(load_scenario("base"), ds) == "2026Q2"


def test_ttm_key_figures_are_recorded_beside_the_calendar_year(ttm_pool):
    figures = ttm_pool.summary()
    assert figures["ttm_period"] == "2025Q3-2026Q2"
    lay = ttm_pool.ttm.layers.set_index("layer")
    assert figures["ttm_chips_profit_share"] == round(lay.loc["chips", "profit_share"], 4)
    assert figures["chips_profit_share"] == ttm_pool.summary(2025)["chips_profit_share"]
