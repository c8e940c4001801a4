import numpy as np
import pandas as pd
import pytest

from valuechain.dataset import views
from valuechain import load_dataset


def _wide(values, start="2023Q1"):
    index = pd.period_range(start, periods=len(values), freq="Q", name="calendar_quarter")
    return pd.DataFrame({"a": values}, index=index)


def test_annual_sums_complete_years_only():
    wide = _wide([1, 2, 3, 4, 5, 6])
    out = views.annual(wide)
    assert out.loc[2023, "a"] == 10
    assert np.isnan(out.loc[2024, "a"])


def test_quarterly_view_is_calendar_indexed_and_matches_rows():
    ds = load_dataset()
    wide = views.quarterly(ds, "revenue", ["nvidia"])
    # NVIDIA FY2025 Q4 (Nov 2024 - Jan 2025) sits in calendar 2024Q4.
    assert wide.loc[pd.Period("2024Q4", freq="Q"), "nvidia"] == pytest.approx(39.331)
    assert views.annual(wide).loc[2024, "nvidia"] == pytest.approx(26.044 + 30.040 + 35.082 + 39.331)


def test_points_are_sorted_by_date():
    ds = load_dataset()
    pts = views.points(ds, "revenue_run_rate", ["anthropic"])
    assert pts["period_end"].is_monotonic_increasing
    assert pts["value_usd_bn"].iloc[0] == 1.0


# ----------------------------------------------------------------------------- the summary's views, on a tiny dataset

SUMMARY_DATA = __import__("pathlib").Path(__file__).parent / "fixtures" / "summary_data"


@pytest.fixture(scope="module")
def small():
    return load_dataset(SUMMARY_DATA)


def test_newest_filed_quarter_is_the_latest_calendar_quarter_of_a_filed_quarter(small):
    # Chip Co's fiscal 2027 Q3 (Aug-Oct 2026) has its midpoint in calendar 2026Q3.
    assert str(views.newest_filed_quarter(small)) == "2026Q3"


def test_latest_quarter_per_company_and_series(small):
    latest = views.latest_quarters(small).set_index(["company_id", "metric", "period_type"])
    row = latest.loc[("chipco", "revenue", "quarter")]
    assert (row["first_quarter"], row["last_quarter"], row["last_period"], row["last_value_usd_bn"]) == \
        ("2026Q1", "2026Q3", "FY2027Q3", 14.0)
    assert row["quarters_behind"] == 0 and not row["stale"]
    # a fiscal year ending in January closes in calendar Q4, like its fiscal Q4
    assert latest.loc[("chipco", "revenue", "fiscal_year"), "last_quarter"] == "2025Q4"
    assert latest.loc[("cloudco", "remaining_performance_obligations", "point"), "last_quarter"] == "2026Q1"
    assert len(latest) == 5


def test_series_more_than_two_quarters_behind_are_flagged(small):
    latest = views.latest_quarters(small).set_index(["company_id", "metric", "period_type"])
    # three quarters behind 2026Q3: flagged; two behind: not
    assert latest.loc[("chipco", "operating_income", "quarter"), "quarters_behind"] == 3
    assert latest.loc[("chipco", "operating_income", "quarter"), "stale"]
    assert latest.loc[("cloudco", "revenue", "quarter"), "quarters_behind"] == 2
    assert not latest.loc[("cloudco", "revenue", "quarter"), "stale"]
    # a fiscal year three quarters behind is not overdue: its next year has not ended
    assert not latest.loc[("chipco", "revenue", "fiscal_year"), "stale"]
    assert latest["stale"].sum() == 1


def test_aggregator_rows_name_the_filing_transcribed(small):
    from valuechain.dataset import disclosures

    rows = views.aggregated_rows(small, disclosures.load(small))
    assert rows["file"].value_counts().to_dict() == {"financials.csv": 3, "facts.csv": 1, "ai_revenue.csv": 1}  # one fact cites the filing itself
    by_source = rows.groupby("source_id")["transcribes"].first()
    assert by_source["cloud_agg"] == "accession 0000000002-26-000002 (Cloud Co's Form 10-Q for Q2 2026)"
    assert by_source["cloud_news"] == "Cloud Co's Q1 2026 earnings release"
    assert "chip_10q" not in set(rows["source_id"])  # read from the filing itself


def test_summary_text_lists_latest_quarters_stale_series_and_aggregated_rows(tmp_path):
    from valuechain.dataset import coverage

    text = coverage.write_data_summary(SUMMARY_DATA, tmp_path / "coverage.csv")
    assert "newest filed quarter in the data: 2026Q3" in text
    assert "1 series more than two quarters behind 2026Q3:" in text
    assert "  Chip Co operating_income (quarter): latest 2025Q4 (FY2026Q4), 3 quarters behind" in text
    assert "Rows read through an aggregator: 5 rows from 2 sources" in text
    assert "  cloud_news -> Cloud Co's Q1 2026 earnings release" in text
    assert "      financials.csv: cloudco revenue FY2025Q4, cloudco revenue FY2026Q1" in text


def test_bundled_summary_flags_only_series_behind_the_newest_quarter():
    ds = load_dataset()
    latest = views.latest_quarters(ds)
    newest = views.newest_filed_quarter(ds)
    quarterly = latest[latest["period_type"] == "quarter"]
    behind = quarterly["last_quarter"].map(lambda q: (newest - pd.Period(q, freq="Q")).n)
    assert (quarterly["stale"] == (behind > 2)).all()


def test_lab_backlog_sets_a_stated_share_or_amount_beside_the_backlog(small):
    table = views.lab_backlog(small).set_index("fact_id")
    share = table.loc["cloudco_share_openai"]
    assert share["contracted_with_lab_usd_bn"] == pytest.approx(0.4 * 50.0) and share["backlog_date"] == "2026-03-31"
    # a contract stated mid-quarter is set against the first backlog at or after it
    amount = table.loc["cloudco_from_openai"]
    assert amount["share_of_backlog"] == pytest.approx(10.0 / 50.0) and amount["backlog_date"] == "2026-03-31"
    assert amount["lab"] == "openai" and amount["sources"] == ("chip_10q", "cloud_news")


def test_bundled_lab_backlog_uses_the_filed_backlog():
    table = views.lab_backlog(load_dataset()).set_index("fact_id")
    msft = table.loc["msft_backlog_share_openai_2025q4"]
    assert msft["backlog_usd_bn"] == 625.0 and msft["contracted_with_lab_usd_bn"] == pytest.approx(0.45 * 625.0)
    assert table.loc["crwv_backlog_from_openai_2025", "share_of_backlog"] == pytest.approx(22.4 / 55.6)
