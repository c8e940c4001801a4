import pandas as pd
import pytest

from valuechain import load_dataset
from valuechain.yearly import company_year, interpolate_run_rate, margin_year


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


def test_fiscal_year_stands_for_the_calendar_year_of_its_midpoint(ds):
    # Supermicro FY2025 runs July 2024 - June 2025; its midpoint is end-December 2024.
    value = company_year(ds, "supermicro", "revenue", 2024)
    assert value.value == pytest.approx(21.97)
    assert value.method.startswith("fiscal year FY2025")
    # 2024 has only two calendar quarters (fiscal 2025 Q1-Q2), so the fiscal year stands in;
    # 2025 has all four (fiscal 2025 Q3 to fiscal 2026 Q2), and their sum comes first.
    value = company_year(ds, "supermicro", "revenue", 2025)
    assert value.value == pytest.approx(4.6 + 5.8 + 5.0 + 12.7)
    assert value.method == "sum of calendar quarters 2025Q1-Q4"
    assert company_year(ds, "supermicro", "revenue", 2023).method.startswith("fiscal year FY2024")


def test_partial_year_is_annualized_only_when_asked(ds):
    # Microsoft Cloud revenue: fiscal 2025 Q3-Q4 and fiscal 2026 Q1 are 2025Q1-Q3; no 2025Q4 yet.
    assert company_year(ds, "microsoft", "cloud_revenue", 2025) is None
    value = company_year(ds, "microsoft", "cloud_revenue", 2025, annualize_partial=True)
    assert value.value == pytest.approx((42.4 + 46.7 + 49.1) * 4 / 3)
    assert value.basis == "estimate"
    full = company_year(ds, "amazon", "capex", 2025)  # four quarters, one of them derived
    assert full.value == pytest.approx(25.019 + 32.183 + 35.095 + 39.52)
    assert full.basis == "derived"


def test_run_rate_interpolation_closed_form():
    points = pd.DataFrame({"period_end": pd.to_datetime(["2025-01-01", "2025-12-31"]), "value_usd_bn": [0.0, 10.0]})
    out = interpolate_run_rate(points, pd.date_range("2025-01-01", "2025-12-31", freq="D"))
    assert out.mean() == pytest.approx(5.0)
    assert pd.isna(interpolate_run_rate(points, [pd.Timestamp("2026-03-31")])).all()


def test_run_rate_year_needs_bracketing_points(ds):
    value = company_year(ds, "anthropic", "revenue_run_rate", 2025)
    assert 1.0 < value.value < 14.0
    assert value.basis == "estimate"
    assert company_year(ds, "anthropic", "revenue_run_rate", 2024) is None  # no point before 2024


def test_loss_metrics_give_negative_margins(ds):
    margin = margin_year(ds, "openai", ["operating_loss", "net_loss"], "revenue", 2024)
    assert margin.value == pytest.approx(-5.0 / 3.7)
    margin = margin_year(ds, "openai", ["operating_loss", "net_loss"], "revenue", 2025)
    assert margin.value == pytest.approx(-7.8 / 4.3)
    assert "H1-2025" in margin.method


def test_xai_segment_margin_and_the_standalone_quarter_kept_apart(ds):
    # SpaceX's S-1 AI segment (xAI with the X platform): $6.4B operating loss on $3.2B revenue in 2025.
    margin = margin_year(ds, "xai", ["operating_loss"], "revenue", 2025)
    assert margin.value == pytest.approx(-6.4 / 3.2)
    assert margin.method.startswith("operating_loss / revenue, fiscal year FY2025")
    # Bloomberg's standalone xAI quarter is a claim in facts.csv, not a quarter of the segment series.
    fin = ds.financials
    assert fin[(fin["company_id"] == "xai") & (fin["period_type"] == "quarter")].empty
    fact = ds.facts.set_index("fact_id").loc["xai_revenue_q3_2025"]
    assert (fact["value"], fact["basis"]) == (pytest.approx(0.107), "claim")
