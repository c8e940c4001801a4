import dataclasses

import pandas as pd
import pytest

from valuechain.dataset.yearly import company_ttm, company_year, margin_ttm, margin_year


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
    # Micron revenue: fiscal 2026 Q2-Q4 (quarters ending February, May and early September) are
    # 2026Q1-Q3; no 2026Q4 yet, and no fiscal year stands for 2026.
    assert company_year(ds, "micron", "revenue", 2026) is None
    value = company_year(ds, "micron", "revenue", 2026, annualize_partial=True)
    assert value.value == pytest.approx((23.86 + 41.456 + 54.23) * 4 / 3)
    assert value.basis == "estimate"
    full = company_year(ds, "amazon", "capex", 2025)  # four quarters, one of them derived
    assert full.value == pytest.approx(25.019 + 32.183 + 35.095 + 39.522)  # Q4 = the 10-K year minus Q1-Q3
    assert full.basis == "derived"


def test_run_rate_year_needs_bracketing_points(ds):
    # Straight lines through $1B (2024-12-31), $5B (2025-08-31, 243 days on) and $14B (2026-02-12, 165 days
    # after that), read daily over 2025: days 1-243 sum to 243 * 1 + 4 / 243 * (243 * 244 / 2), and the
    # 122 days from September to December to 122 * 5 + 9 / 165 * (122 * 123 / 2).
    value = company_year(ds, "anthropic", "revenue_run_rate", 2025)
    assert value.value == pytest.approx((243 * 1 + 4 * 244 / 2 + 122 * 5 + 9 / 165 * 122 * 123 / 2) / 365)
    assert value.method == "mean of run-rate interpolated daily over 2025"
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


def test_margin_divides_income_and_revenue_of_the_same_periods(ds):
    # Supermicro, fiscal years to June: calendar 2023 stands on FY2024, 2024 on FY2025, for both
    # income from operations and net sales.
    m2023 = margin_year(ds, "supermicro", ["operating_income"], "revenue", 2023)
    assert m2023.value == pytest.approx(1.211 / 14.989)
    assert m2023.method == "operating_income / revenue, fiscal year FY2024 (ends 2024-06) for calendar 2023"
    m2024 = margin_year(ds, "supermicro", ["operating_income"], "revenue", 2024)
    assert m2024.value == pytest.approx(1.253 / 21.97)
    # 2025 revenue is four calendar quarters, but income is filed only to June 2025: no whole-year
    # pair, so the latest period with both is used, and the fiscal year wins over the quarter
    # (FY2025Q4, 0.228 / 5.8) that ends on the same day.
    m2025 = margin_year(ds, "supermicro", ["operating_income"], "revenue", 2025)
    assert m2025.value == pytest.approx(1.253 / 21.97)
    assert m2025.method == "operating_income / revenue in FY2025"
    assert isinstance(m2025.value, float)


def test_margin_never_mixes_quarter_income_with_fiscal_year_revenue(ds):
    # Give Supermicro two more income quarters so 2024 income is a sum of four calendar quarters
    # while 2024 revenue is still the FY2025 total: the whole-year ratio would mix periods, so the
    # latest quarter filed for both (fiscal 2025 Q2, October-December 2024) is used instead.
    fin = ds.financials
    extra = fin[(fin["company_id"] == "supermicro") & (fin["metric"] == "operating_income")
                & fin["fiscal_period"].isin(["FY2025Q1", "FY2025Q2"])].copy()
    extra["fiscal_period"] = ["FY2024Q3", "FY2024Q4"]
    extra["period_end"] = pd.to_datetime(["2024-03-31", "2024-06-30"])
    extra["calendar_quarter"] = ["2024Q1", "2024Q2"]
    extra["value_usd_bn"] = [0.1, 0.2]
    edited = dataclasses.replace(ds, financials=pd.concat([fin, extra], ignore_index=True))
    income = company_year(edited, "supermicro", "operating_income", 2024)
    assert income.value == pytest.approx(0.1 + 0.2 + 0.509 + 0.369)
    assert company_year(edited, "supermicro", "revenue", 2024).method.startswith("fiscal year FY2025")
    margin = margin_year(edited, "supermicro", ["operating_income"], "revenue", 2024)
    assert margin.value == pytest.approx(0.369 / 5.68)
    assert margin.method == "operating_income / revenue in FY2025Q2"


# ----------------------------------------------------------------------------- the trailing twelve months

def _tiny(rows):
    """A dataset of hand-made rows: (company, period_type, label, end, calendar_quarter, metric, value)."""
    from pathlib import Path

    from valuechain.dataset.load import Dataset

    fin = pd.DataFrame(rows, columns=["company_id", "period_type", "fiscal_period", "period_end", "calendar_quarter",
                                      "metric", "value_usd_bn"])
    fin = fin.assign(period_end=pd.to_datetime(fin["period_end"]), basis="reported", source_id="s", note="", layer="chips")
    metrics = {"revenue": {"unit": "usd_bn", "definition": "r"},
               "operating_income": {"unit": "usd_bn", "definition": "o", "signed": True},
               "revenue_run_rate": {"unit": "usd_bn", "definition": "rr"}}
    return Dataset(companies=pd.DataFrame(), financials=fin, facts=pd.DataFrame(), sources=pd.DataFrame(),
                   metrics=metrics, data_dir=Path("."))


def test_ttm_is_the_sum_of_the_four_calendar_quarters_on_a_closed_case():
    # A January fiscal year: FY2026Q3 (Aug-Oct 2025) is calendar 2025Q3 ... FY2027Q2 (May-Jul 2026) is 2026Q2.
    rows = [("c", "quarter", f"FY{fy}Q{q}", end, cq, "revenue", v) for fy, q, end, cq, v in [
        (2026, 2, "2025-07-31", "2025Q2", 100.0), (2026, 3, "2025-10-31", "2025Q3", 1.0),
        (2026, 4, "2026-01-31", "2025Q4", 2.0), (2027, 1, "2026-04-30", "2026Q1", 3.0), (2027, 2, "2026-07-31", "2026Q2", 4.0)]]
    value = company_ttm(_tiny(rows), "c", "revenue", "2026Q2")
    assert value.value == 1.0 + 2.0 + 3.0 + 4.0
    assert value.method == "sum of calendar quarters 2025Q3-2026Q2"
    assert company_ttm(_tiny(rows), "c", "revenue", "2026Q1").value == 100.0 + 1.0 + 2.0 + 3.0


def test_ttm_respects_the_fiscal_to_calendar_mapping(ds):
    # NVIDIA's twelve months to calendar 2026Q2 are fiscal 2026 Q3 to fiscal 2027 Q2 (August 2025 - July 2026).
    fin = ds.financials
    nvda = fin[(fin["company_id"] == "nvidia") & (fin["metric"] == "revenue") & (fin["period_type"] == "quarter")]
    by_label = nvda.set_index("fiscal_period")["value_usd_bn"]
    value = company_ttm(ds, "nvidia", "revenue", "2026Q2")
    assert value.value == pytest.approx(by_label[["FY2026Q3", "FY2026Q4", "FY2027Q1", "FY2027Q2"]].sum())
    # Micron's year ends in late August: fiscal 2025 Q4 (Jun-Aug 2025) is calendar 2025Q3, fiscal 2026 Q3 is 2026Q2.
    value = company_ttm(ds, "micron", "revenue", "2026Q2")
    assert value.value == pytest.approx(11.315 + 13.643 + 23.86 + 41.456)
    assert company_ttm(ds, "micron", "revenue", "2026Q3").value == pytest.approx(13.643 + 23.86 + 41.456 + 54.23)


def test_ttm_falls_back_to_a_fiscal_year_closing_in_its_last_quarter_then_halves_then_run_rates():
    rows = [("june", "fiscal_year", "FY2026", "2026-06-30", "", "revenue", 39.0),
            ("june", "quarter", "FY2026Q4", "2026-06-30", "2026Q2", "revenue", 11.0),
            ("lab", "half", "H2-2025", "2025-12-31", "", "revenue", 8.0),
            ("lab", "half", "H1-2026", "2026-06-30", "", "revenue", 12.0),
            ("rr", "point", "2025-06-30", "2025-06-30", "2025Q2", "revenue_run_rate", 0.0),
            ("rr", "point", "2026-07-01", "2026-07-01", "2026Q3", "revenue_run_rate", 10.0)]
    ds = _tiny(rows)
    june = company_ttm(ds, "june", "revenue", "2026Q2")
    assert june.value == 39.0 and june.method.startswith("fiscal year FY2026 (ends 2026-06)")
    assert company_ttm(ds, "june", "revenue", "2026Q1") is None  # the fiscal year does not close in 2026Q1
    assert company_ttm(ds, "lab", "revenue", "2026Q2").value == 20.0
    assert company_ttm(ds, "lab", "revenue", "2026Q1") is None
    # a run-rate rising in a straight line from 0 to 10 over 366 days is 10 d / 366 on day d = 1..365 of the
    # twelve months inside them, whose mean is 10 / 366 * (366 / 2) = 5
    rr = company_ttm(ds, "rr", "revenue_run_rate", "2026Q2")
    assert rr.value == pytest.approx(5.0) and rr.basis == "estimate"


def test_ttm_margin_divides_income_and_revenue_of_the_same_periods():
    q = [("FY2025Q3", "2025-09-30", "2025Q3"), ("FY2025Q4", "2025-12-31", "2025Q4"),
         ("FY2026Q1", "2026-03-31", "2026Q1"), ("FY2026Q2", "2026-06-30", "2026Q2")]
    rows = [("c", "quarter", lab, end, cq, "revenue", 10.0) for lab, end, cq in q]
    rows += [("c", "quarter", lab, end, cq, "operating_income", v) for (lab, end, cq), v in zip(q, [1.0, 2.0, 3.0, 4.0])]
    margin = margin_ttm(_tiny(rows), "c", ["operating_income"], "revenue", "2026Q2")
    assert margin.value == pytest.approx(10.0 / 40.0)
    # with income for only the last quarter, the margin is that quarter's, not its income over a year's revenue
    only_last = [r for r in rows if r[5] == "revenue" or r[2] == "FY2026Q2"]
    margin = margin_ttm(_tiny(only_last), "c", ["operating_income"], "revenue", "2026Q2")
    assert margin.value == pytest.approx(0.4) and "FY2026Q2" in margin.method
