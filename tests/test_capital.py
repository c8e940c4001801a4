"""AI capital in service and required revenue: closed forms."""
import numpy as np
import pandas as pd
import pytest

from tests.conftest import edit_csv

from valuechain.dataset import capex
from valuechain.dataset.capex import spender_capex
from valuechain.model import capital
from valuechain import load_dataset
from valuechain.model.required import capital_recovery_factor


def test_in_service_counts_vintages_after_the_lag_until_retirement():
    q = pd.period_range("2020Q1", periods=12, freq="Q")
    spend = pd.Series(1.0, index=q)
    base = capital.in_service(spend, lag_quarters=2, life_years=1)
    assert list(base) == [0, 0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4]


def test_flat_capex_gives_the_steady_state_beta():
    q = pd.period_range("2000Q1", periods=120, freq="Q")
    spend = pd.Series(25.0, index=q)  # 100 a year
    classes = (capital.AssetClass("servers", 0.6, 5.0), capital.AssetClass("buildings", 0.4, 15.0))
    frame = capital.required_revenue(spend, classes, 3, 0.10, 0.6)
    beta = capital.steady_state_beta(classes, 0.10, 0.6)
    assert beta == pytest.approx((0.6 * 5 * capital_recovery_factor(0.1, 5) + 0.4 * 15 * capital_recovery_factor(0.1, 15)) / 0.6)
    assert frame["beta_star_growth_adjusted"].iloc[-1] == pytest.approx(beta)


def test_ai_share_is_linear_between_year_centres_and_flat_outside():
    """Knots at 2022.5 (the share before, 0.2), 2023.5 (0.5) and 2024.5 (0.6); a quarter's centre is
    year + (k - 1/2)/4, so 2023Q1 (2023.125) is 0.2 + 0.3 x 0.625 and 2023Q3 (2023.625) 0.5 + 0.1 x 0.125."""
    quarters = pd.period_range("2022Q1", "2025Q4", freq="Q")
    share = capital.ai_share_by_quarter(quarters, {2023: 0.5, 2024: 0.6}, 0.2)
    got = share.set_axis([str(q) for q in quarters])
    assert got["2022Q1"] == pytest.approx(0.2) and got["2022Q2"] == pytest.approx(0.2)
    assert got["2022Q3"] == pytest.approx(0.2 + 0.3 * 0.125)
    assert got["2023Q1"] == pytest.approx(0.2 + 0.3 * 0.625)
    assert got["2023Q3"] == pytest.approx(0.5 + 0.1 * 0.125)
    assert got["2025Q1"] == pytest.approx(0.6) and got["2025Q4"] == pytest.approx(0.6)
    assert np.abs(np.diff(share.to_numpy())).max() <= 0.3 / 4 + 1e-12  # no yearly step


def test_ai_capex_is_the_sum_times_the_quarters_share():
    wide = pd.DataFrame({"a": [6.0] * 8, "b": [4.0] * 8}, index=pd.period_range("2022Q1", periods=8, freq="Q"))
    ai = capital.ai_capex(wide, {2023: 0.5}, 0.2)
    np.testing.assert_allclose(ai.to_numpy(), 10 * np.array([0.2, 0.2, 0.2 + 0.3 * 0.125, 0.2 + 0.3 * 0.375,
                                                              0.2 + 0.3 * 0.625, 0.2 + 0.3 * 0.875, 0.5, 0.5]))


def test_one_owner_of_capex_serves_years_and_quarters():
    ds = load_dataset()
    years = spender_capex(ds, ["alphabet"], "year", range(2024, 2025))
    quarters = spender_capex(ds, ["alphabet"], "quarter")
    q2024 = quarters[quarters["period"].map(lambda p: p.year) == 2024]["capex_usd_bn"].sum()
    assert years["capex_usd_bn"].iloc[0] == pytest.approx(q2024)


def test_trailing_year_capex_is_four_filed_quarters_or_a_year_ending_in_the_quarter():
    ds = load_dataset()
    trailing = spender_capex(ds, ["alphabet", "oracle"], "trailing_year").set_index(["company_id", "period"])
    quarters = spender_capex(ds, ["alphabet"], "quarter").set_index("period")["capex_usd_bn"]
    end = quarters.index[-1]
    four = quarters.loc[end - 3:end]
    row = trailing.loc[("alphabet", end)]
    assert len(four) == 4 and row["capex_usd_bn"] == pytest.approx(four.sum())
    assert row["method"] == f"sum of filed quarters {end - 3}-{end}"
    # Oracle's four filed fiscal 2026 quarters give back its 10-K year; before its quarters start, its
    # fiscal year to May stands for the four calendar quarters to Q2.
    fin = ds.financials
    oracle_capex = fin[(fin["company_id"] == "oracle") & (fin["metric"] == "capex")].set_index("fiscal_period")
    oracle = trailing.loc[("oracle", pd.Period("2026Q2", freq="Q"))]
    assert oracle["capex_usd_bn"] == pytest.approx(oracle_capex.loc["FY2026", "value_usd_bn"], abs=1e-9)
    assert oracle["method"] == "sum of filed quarters 2025Q3-2026Q2"
    oracle = trailing.loc[("oracle", pd.Period("2024Q2", freq="Q"))]
    assert oracle["capex_usd_bn"] == pytest.approx(oracle_capex.loc["FY2024", "value_usd_bn"])
    assert oracle["method"].startswith("fiscal year FY2024") and oracle["sources"] == ("orcl_10k_fy2024",)
    with pytest.raises(ValueError, match="trailing_year"):
        spender_capex(ds, ["oracle"], "month")


def test_projected_capex_grows_the_same_quarter_a_year_earlier_and_takes_its_own_quarters_ai_share():
    """2025 filed at 1, 2, 3, 4; 2026 grows 10%. Shares: 0 before (knot 2024.5), 0.5 at 2025.5, 1.0
    at 2026.5, linear by quarter centre: the share of the quarter itself, not of the quarter it grew from."""
    quarters = pd.period_range("2024Q4", "2025Q4", freq="Q", name="calendar_quarter")
    wide = pd.DataFrame({"a": [9.0, 1.0, 2.0, 3.0, 4.0]}, index=quarters)
    got = capital.projected_ai_capex(wide, {2025: 0.5, 2026: 1.0}, 2026, lambda year: 0.1)
    assert got.index.name == "calendar_quarter" and str(got.index[-1]) == "2026Q4"
    share = [0.1875, 0.3125, 0.4375, 0.5625, 0.6875, 0.8125, 0.9375, 1.0, 1.0]
    spend = [9.0, 1.0, 2.0, 3.0, 4.0, 1.1, 2.2, 3.3, 4.4]
    np.testing.assert_allclose(got.to_numpy(), np.array(share) * np.array(spend))


def test_guidance_fills_the_rest_of_its_year_then_the_scenarios_growth_applies():
    """a guided 100 for 2026 with 20 + 30 filed: 25 in each of 2026Q3-Q4, then 10% a year; b gave
    no guidance and grows 10% on the same quarter a year earlier from 2026Q3."""
    quarters = pd.period_range("2025Q1", "2026Q2", freq="Q")
    wide = pd.DataFrame({"a": [5.0, 5.0, 5.0, 5.0, 20.0, 30.0], "b": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}, index=quarters)
    guidance = pd.DataFrame({"company_id": ["a"], "capex_usd_bn": [100.0]})
    guided = capital.guided_quarters(wide, guidance, 2026)
    assert list(guided.columns) == ["a"] and guided["a"].tolist() == [25.0, 25.0]
    spend = capital.projected_spend(wide, guided, 2027, lambda year: 0.1)
    np.testing.assert_allclose(spend["a"].loc[pd.Period("2026Q3"):].to_numpy(), [25, 25, 22, 33, 27.5, 27.5])
    np.testing.assert_allclose(spend["b"].loc[pd.Period("2026Q3"):].to_numpy(), [3.3, 4.4, 5.5, 6.6, 3.63, 4.84])


CLASSES = (capital.AssetClass("servers", 0.6, 5.0), capital.AssetClass("buildings", 0.4, 15.0))


def test_rungs_are_equal_on_a_flat_path():
    """Flat at 25 a quarter long past the lag and the lives: in service = committed = steady state = 100 beta*."""
    path = pd.Series(25.0, index=pd.period_range("2000Q1", "2035Q4", freq="Q"))
    r = capital.rungs(path, CLASSES, 3, 0.10, 0.6, pd.Period("2030Q2", freq="Q"), 2030)
    beta = capital.steady_state_beta(CLASSES, 0.10, 0.6)
    assert str(r.committed_quarter) == "2031Q3"
    for value in (r.in_service_usd_bn, r.committed_usd_bn, r.steady_state_usd_bn):
        assert value == pytest.approx(100 * beta)


def test_a_step_up_orders_the_rungs_in_service_committed_steady_state():
    """25 a quarter to 2029Q4, 50 from 2030Q1; T = 2030Q2, lag 3, guidance to 2030Q4. In service at T
    holds no 50 vintage; committed (2031Q3) holds the four of 2030 (servers 16 x 25 + 4 x 50,
    buildings 56 x 25 + 4 x 50); the steady state is beta* x (25 + 25 + 50 + 50)."""
    q = pd.period_range("2000Q1", "2035Q4", freq="Q")
    path = pd.Series(np.where(q >= pd.Period("2030Q1", freq="Q"), 50.0, 25.0), index=q)
    r = capital.rungs(path, CLASSES, 3, 0.10, 0.6, pd.Period("2030Q2", freq="Q"), 2030)
    crf5, crf15 = capital_recovery_factor(0.1, 5), capital_recovery_factor(0.1, 15)
    assert r.in_service_usd_bn == pytest.approx((0.6 * 20 * 25 * crf5 + 0.4 * 60 * 25 * crf15) / 0.6)
    assert r.committed_usd_bn == pytest.approx((0.6 * (16 * 25 + 4 * 50) * crf5 + 0.4 * (56 * 25 + 4 * 50) * crf15) / 0.6)
    assert r.steady_state_usd_bn == pytest.approx(150 * capital.steady_state_beta(CLASSES, 0.10, 0.6))
    assert r.in_service_usd_bn < r.committed_usd_bn < r.steady_state_usd_bn
    assert [h.key for h in r.headlines()] == ["required_in_service_usd_bn", "required_committed_usd_bn",
                                              "required_steady_state_usd_bn"]


def test_a_missing_quarter_is_filled_from_its_fiscal_year_total(data_copy):
    """Without Oracle's fiscal 2026 Q3-Q4: FY2026 (June 2025-May 2026) 55.663 less its filed 8.502 and
    12.033, over 2026Q1-Q2; FY2024 6.866 over 2023Q3-2024Q2, none of which is filed."""
    edit_csv(data_copy, "financials.csv", lambda f: f[~((f["company_id"] == "oracle") & (f["metric"] == "capex")
                                                          & f["fiscal_period"].isin(["FY2026Q3", "FY2026Q4"]))])
    ds = load_dataset(data_copy)
    got = capex.consistent_quarters(ds, ["oracle", "microsoft"], pd.Period("2023Q3", freq="Q"))
    assert got.left_out == {} and str(got.last) == "2026Q2"
    oracle = got.rows[got.rows["company_id"] == "oracle"].set_index("period")
    assert len(oracle) == len(pd.period_range("2023Q3", "2026Q2", freq="Q"))
    for q in ("2026Q1", "2026Q2"):
        row = oracle.loc[pd.Period(q, freq="Q")]
        assert row["capex_usd_bn"] == pytest.approx((55.663 - 8.502 - 12.033) / 2)
        assert row["method"].startswith("filled from fiscal year FY2026") and row["sources"] == ("orcl_10k_fy2026",)
    assert oracle.loc[pd.Period("2023Q3", freq="Q"), "capex_usd_bn"] == pytest.approx(6.866 / 4)
    assert oracle.loc[pd.Period("2025Q3", freq="Q"), "capex_usd_bn"] == pytest.approx(8.502)


def test_oracle_fills_the_r_star_span_from_its_fiscal_years_and_then_its_filed_quarters():
    """Oracle's 10-K years from fiscal 2018 (June 2017-May 2018) fill every quarter to 2024Q2, each year
    spread evenly over its four calendar quarters; its filed quarters follow from 2024Q3."""
    ds = load_dataset()
    got = capex.consistent_quarters(ds, ["oracle"], pd.Period("2018Q1", freq="Q"))
    assert got.left_out == {} and str(got.last) == "2026Q2"
    oracle = got.rows.set_index("period")
    for q, fy, total in [("2018Q1", "FY2018", 1.736), ("2018Q3", "FY2019", 1.66), ("2021Q2", "FY2021", 2.135),
                         ("2023Q2", "FY2023", 8.695), ("2024Q2", "FY2024", 6.866)]:
        row = oracle.loc[pd.Period(q, freq="Q")]
        assert row["capex_usd_bn"] == pytest.approx(total / 4) and row["basis"] == "derived"
        assert row["method"].startswith(f"filled from fiscal year {fy}")
    assert oracle.loc[pd.Period("2026Q1", freq="Q"), "capex_usd_bn"] == pytest.approx(18.635)
    assert oracle.loc[pd.Period("2026Q2", freq="Q"), "capex_usd_bn"] == pytest.approx(16.493)


def test_a_spender_without_a_figure_for_some_quarter_is_left_out_of_every_quarter():
    ds = load_dataset()
    got = capex.consistent_quarters(ds, ["microsoft", "alphabet", "amazon", "oracle", "coreweave"],
                                    pd.Period("2018Q1", freq="Q"))
    assert set(got.left_out) == {"coreweave"} and got.left_out["coreweave"].startswith("no filed quarter or filed year total for 2018Q1-")
    wide = got.wide()
    assert list(wide.columns) == ["alphabet", "amazon", "microsoft", "oracle"] and not wide.isna().any().any()
    assert str(wide.index[0]) == "2018Q1" and str(wide.index[-1]) == "2026Q2"


def test_guidance_is_read_from_the_facts_at_its_midpoint():
    ds = load_dataset()
    got = capex.guided_capex(ds, ["alphabet", "amazon", "microsoft"], 2026).set_index("company_id")
    assert got.loc["alphabet", "capex_usd_bn"] == pytest.approx((175 + 185) / 2)
    assert got.loc["amazon", "capex_usd_bn"] == pytest.approx(200) and "microsoft" not in got.index


def test_the_demand_gap_records_the_rungs_on_its_own_r_star(base_gap, ds):
    from valuechain.report import narrative, tables

    r = base_gap.rungs
    q = base_gap.closing.last_quarter
    assert r.quarter == q and r.in_service_usd_bn == pytest.approx(float(base_gap.required.loc[q, "required_usd_bn"]))
    assert r.in_service_usd_bn < r.committed_usd_bn < r.steady_state_usd_bn  # capex is still stepping up
    heads = {h.key: h for h in base_gap.headlines()}
    assert heads["required_committed_usd_bn"].value == r.committed_usd_bn and heads["required_committed_usd_bn"].unit == "usd_bn"
    assert set(base_gap.left_out) == {"coreweave"}
    text = narrative.rstar_scope(base_gap, ds.company_names)
    assert "CoreWeave (no filed quarter" in text and "Oracle (" not in text and "USD 175-185bn, taken at USD 180bn" in text
    table = tables.rstar_rungs(base_gap)
    assert [row[1] for row in table.rows] == [str(q), str(r.committed_quarter), str(q)]


def test_bear_counts_more_capital_built_before_2023_and_bull_less():
    from valuechain.scenario.load import load_scenario

    before = {name: load_scenario(name).demand_gap.capital.ai_share_before for name in ("bull", "base", "bear")}
    assert before["bull"] < before["base"] < before["bear"] and 0.2 <= before["base"] <= 0.3
