"""The earnings calendar: last filed period, usual lag and expected date derived from the data; what is overdue."""
import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.conftest import edit_csv, set_cell
from valuechain import load_dataset
from valuechain.dataset import calendar, coverage
from valuechain.exceptions import DataValidationError

SUMMARY_DATA = Path(__file__).parent / "fixtures" / "summary_data"
SOURCES = """source_id,title,publisher,date_published,url,covers,accession,document_url,accessed,licence,via_aggregator
chip_10q,Chip Co Form 10-Q,Chip Co (SEC EDGAR),2026-08-27,,Quarterly revenue,,https://www.sec.gov/a.htm,2026-11-21,public domain,false
chip_q1,Chip Co Q1 release,Chip Co (SEC EDGAR),2026-05-21,,Quarterly revenue,,https://www.sec.gov/b.htm,2026-11-21,public domain,false
chip_fy,Chip Co Form 10-K,Chip Co (SEC EDGAR),2026-03-02,,Annual revenue,,https://www.sec.gov/c.htm,2026-11-21,public domain,false
cloud_news,Cloud Co backlog report,Some Newswire,2026-05-01,,Backlog,,https://news.example/cloudco,2026-11-21,terms,false
cloud_filings,Cloud Co filings,Cloud Co (SEC EDGAR),2026-07,,Quarterly revenue and backlog,,https://www.sec.gov/d.json,2026-11-21,public domain,false
"""
KINDS = """source_id,kind,accession,why
chip_10q,filing,,The filing
chip_q1,filing,,The filing
chip_fy,filing,,The filing
cloud_news,narrative_aggregator,,A newswire
cloud_filings,filing,,The filings
"""
# Chip Co (fiscal year ends in January): filed lags 30 (FY2026, the 10-K), 21 (FY2027Q1; its later 10-Q
# column, 119 days on, is not its first filing) and 27 (FY2027Q2): median 27; next FY2027Q3 ends 2026-10-31,
# expected 2026-11-27. Cloud Co: its backlog on 2026-06-30 makes FY2026Q2 its last filed quarter; no source
# is dated to the day, so the 10-Q deadline (40 days) stands in: FY2026Q3 ends 2026-09-30, expected 2026-11-09.
FINANCIALS = """company_id,period_type,fiscal_period,period_end,calendar_quarter,metric,value_usd_bn,basis,source_id,note
chipco,fiscal_year,FY2026,2026-01-31,,revenue,30.0,reported,chip_fy,
chipco,quarter,FY2027Q1,2026-04-30,2026Q1,revenue,10.0,reported,chip_q1,
chipco,quarter,FY2027Q1,2026-04-30,2026Q1,operating_income,4.0,reported,chip_10q,
chipco,quarter,FY2027Q2,2026-07-31,2026Q2,revenue,12.0,reported,chip_10q,
cloudco,quarter,FY2026Q1,2026-03-31,2026Q1,revenue,4.0,reported,cloud_filings,
cloudco,point,2026-06-30,2026-06-30,2026Q2,remaining_performance_obligations,50.0,reported,cloud_filings,
"""


@pytest.fixture
def small(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(SUMMARY_DATA, folder)
    (folder / "sources.csv").write_text(SOURCES)
    (folder / "source_kinds.csv").write_text(KINDS)
    (folder / "financials.csv").write_text(FINANCIALS)
    edit_csv(folder, "ai_revenue.csv", lambda f: f.assign(source_id="chip_10q"))
    edit_csv(folder, "facts.csv", lambda f: f.assign(source_id="chip_10q"))
    return folder


def test_the_calendar_is_derived_from_the_data(small):
    cal = calendar.derive(load_dataset(small)).set_index("company_id")
    assert cal.loc["chipco", ["last_filed_period", "last_period_end", "next_period", "next_period_end",
                              "usual_lag_days", "expected_date", "basis"]].tolist() == [
        "FY2027Q2", "2026-07-31", "FY2027Q3", "2026-10-31", "27", "2026-11-27", "estimate"]
    assert cal.loc["chipco", "derivation"] == ("next period end + 27 days, the median lag from period end to filing "
                                               "over 3 of its filed periods in the data")
    assert cal.loc["cloudco", ["last_filed_period", "next_period", "usual_lag_days", "expected_date"]].tolist() == [
        "FY2026Q2", "FY2026Q3", "40", "2026-11-09"]
    assert "10-Q deadline" in cal.loc["cloudco", "derivation"]


@pytest.mark.parametrize("as_of, expected", [
    (dt.date(2026, 11, 9), []),  # due that day: not yet overdue
    (dt.date(2026, 11, 10), [("cloudco", "FY2026Q3", 1)]),
    (dt.date(2026, 11, 27), [("cloudco", "FY2026Q3", 18)]),
    (dt.date(2026, 11, 28), [("cloudco", "FY2026Q3", 19), ("chipco", "FY2027Q3", 1)]),
])
def test_overdue_lists_the_reports_expected_before_the_date(small, as_of, expected):
    late = calendar.overdue(load_dataset(small), as_of)
    assert list(zip(late["company_id"], late["next_period"], late["days_overdue"])) == expected


def test_the_overdue_sentence_names_company_period_and_date(small):
    ds = load_dataset(small)
    as_of = dt.date(2026, 11, 28)
    assert calendar.overdue_sentence(calendar.overdue(ds, as_of), as_of) == (
        "Overdue as of 2026-11-28 (2 expected reports not yet in the data): Cloud Co fiscal 2026 Q3 "
        "(expected 2026-11-09, estimated); Chip Co fiscal 2027 Q3 (expected 2026-11-27, estimated).")
    assert coverage.overdue_line(ds, dt.date(2026, 11, 1)) == (
        "No report is overdue as of 2026-11-01 (earnings calendar: earnings_calendar.csv).")


def test_a_published_date_replaces_the_estimate_while_it_applies(small):
    ds = load_dataset(small)
    calendar.write(ds)
    edit_csv(small, calendar.FILE, lambda f: f.assign(
        expected_date=f["expected_date"].where(f["company_id"] != "chipco", "2026-11-19"),
        basis=f["basis"].where(f["company_id"] != "chipco", "published"),
        source_id=f["source_id"].where(f["company_id"] != "chipco", "chip_10q"),
        derivation=f["derivation"].where(f["company_id"] != "chipco", "Date the company announced")))
    assert calendar.load(ds)["basis"].tolist() == ["published", "estimate"]
    as_of = dt.date(2026, 11, 20)
    late = calendar.overdue(ds, as_of)
    assert late["company_id"].tolist() == ["cloudco", "chipco"]
    assert calendar.overdue_sentence(late, as_of).endswith("Chip Co fiscal 2027 Q3 (expected 2026-11-19).")
    calendar.write(ds)  # rewriting keeps the announcement while FY2027Q3 is still the next period
    assert calendar.load(ds).set_index("company_id").loc["chipco", "expected_date"] == "2026-11-19"


def test_a_calendar_that_disagrees_with_the_data_is_refused_with_the_fix(small):
    ds = load_dataset(small)
    calendar.write(ds)
    edit_csv(small, calendar.FILE, set_cell("company_id", "chipco", "last_filed_period", "FY2027Q1"))
    with pytest.raises(DataValidationError) as err:
        calendar.load(ds)
    assert str(err.value) == ("earnings_calendar.csv row 2, column last_filed_period: rule 'agrees_with_data' failed "
                              "for 'FY2027Q1'; the data give 'FY2027Q2'; run 'valuechain data calendar' to rewrite "
                              "the derived columns from the data")
    edit_csv(small, calendar.FILE, lambda f: f[f["company_id"] != "chipco"])
    with pytest.raises(DataValidationError, match="rule 'every_filer_listed' failed for 'chipco'"):
        calendar.load(ds)


def test_a_published_date_needs_its_source(small):
    ds = load_dataset(small)
    calendar.write(ds)
    edit_csv(small, calendar.FILE, set_cell("company_id", "cloudco", "basis", "published"))
    with pytest.raises(DataValidationError, match="row 3, column source_id: rule 'published_date_sourced'"):
        calendar.load(ds)


def test_the_bundled_calendar_covers_every_company_with_filed_data_and_agrees_with_it():
    ds = load_dataset()
    cal = calendar.load(ds)  # refuses a file whose derived columns disagree with the data
    fin = ds.financials
    filers = set(fin.loc[fin["basis"].isin(["reported", "derived"]), "company_id"])
    assert set(cal["company_id"]) == filers
    assert ((cal["basis"] == "estimate") | (cal["source_id"] != "")).all()


def test_nvidia_fiscal_2027_q3_is_overdue_on_2_december_2026():
    late = calendar.overdue(load_dataset(), dt.date(2026, 12, 2)).set_index("company_id")
    assert late.loc["nvidia", "next_period"] == "FY2027Q3"
    assert late.loc["nvidia", "expected_date"] < "2026-12-02"
    assert "NVIDIA Corporation fiscal 2027 Q3" in calendar.overdue_sentence(late.reset_index(), dt.date(2026, 12, 2))
