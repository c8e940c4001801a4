"""AI capital in service and required revenue: closed forms."""
import numpy as np
import pandas as pd
import pytest

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


def test_ai_capex_is_zero_before_the_first_share_year_and_carries_the_last():
    wide = pd.DataFrame({"a": [10.0] * 12}, index=pd.period_range("2022Q1", periods=12, freq="Q"))
    ai = capital.ai_capex(wide, {2023: 0.5, 2024: 0.6})
    assert list(ai.iloc[[0, 4, 8]]) == [0.0, 5.0, 6.0]


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
    # Oracle's fiscal year to May stands for the four calendar quarters to Q2 where its quarters stop
    fin = ds.financials
    fy = fin[(fin["company_id"] == "oracle") & (fin["metric"] == "capex") & (fin["fiscal_period"] == "FY2026")]
    oracle = trailing.loc[("oracle", pd.Period("2026Q2", freq="Q"))]
    assert oracle["capex_usd_bn"] == pytest.approx(fy["value_usd_bn"].iloc[0])
    assert oracle["method"].startswith("fiscal year FY2026") and oracle["sources"] == tuple(fy["source_id"])
    with pytest.raises(ValueError, match="trailing_year"):
        spender_capex(ds, ["oracle"], "month")


def test_projected_capex_grows_the_same_quarter_a_year_earlier_and_takes_its_own_years_ai_share():
    """2025 filed at 1, 2, 3, 4 with AI share 0.5; 2026 grows 10% with AI share 1.0 (the share of the
    quarter's own year, not the share of the quarter it grew from); 2024 has no share and counts zero."""
    quarters = pd.period_range("2024Q4", "2025Q4", freq="Q", name="calendar_quarter")
    wide = pd.DataFrame({"a": [9.0, 1.0, 2.0, 3.0, 4.0]}, index=quarters)
    got = capital.projected_ai_capex(wide, {2025: 0.5, 2026: 1.0}, 2026, lambda year: 0.1)
    assert got.index.name == "calendar_quarter" and str(got.index[-1]) == "2026Q4"
    np.testing.assert_allclose(got.to_numpy(), [0.0, 0.5, 1.0, 1.5, 2.0, 1.1, 2.2, 3.3, 4.4])
