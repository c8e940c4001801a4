import datetime as dt

import pytest

from valuechain.dataset import fiscal
from valuechain.exceptions import FiscalCalendarError


@pytest.mark.parametrize(
    "label, fye, end, cq",
    [
        # NVIDIA / Dell: fiscal year ends in January; FY2025 runs Feb 2024 - Jan 2025.
        ("FY2025Q1", 1, dt.date(2024, 4, 30), "2024Q1"),
        ("FY2025Q2", 1, dt.date(2024, 7, 31), "2024Q2"),
        ("FY2025Q3", 1, dt.date(2024, 10, 31), "2024Q3"),
        ("FY2025Q4", 1, dt.date(2025, 1, 31), "2024Q4"),
        # Oracle: fiscal year ends in May; Q1 is Jun-Aug.
        ("FY2025Q1", 5, dt.date(2024, 8, 31), "2024Q3"),
        ("FY2025Q4", 5, dt.date(2025, 5, 31), "2025Q2"),
        # Microsoft / Supermicro: fiscal year ends in June; Q1 is Jul-Sep.
        ("FY2025Q1", 6, dt.date(2024, 9, 30), "2024Q3"),
        ("FY2025Q2", 6, dt.date(2024, 12, 31), "2024Q4"),
        ("FY2025Q3", 6, dt.date(2025, 3, 31), "2025Q1"),
        ("FY2025Q4", 6, dt.date(2025, 6, 30), "2025Q2"),
        # Broadcom: fiscal year ends around 31 October; Q1 is Nov-Jan.
        ("FY2026Q1", 10, dt.date(2026, 1, 31), "2025Q4"),
        ("FY2025Q4", 10, dt.date(2025, 10, 31), "2025Q3"),
        # Micron: fiscal year ends late August or early September; Q1 is Sep-Nov.
        ("FY2026Q1", 8, dt.date(2025, 11, 30), "2025Q4"),
        ("FY2026Q3", 8, dt.date(2026, 5, 31), "2026Q2"),
        ("FY2026Q4", 8, dt.date(2026, 8, 31), "2026Q3"),
        # Calendar-year companies map to themselves.
        ("FY2024Q1", 12, dt.date(2024, 3, 31), "2024Q1"),
        ("FY2024Q4", 12, dt.date(2024, 12, 31), "2024Q4"),
    ],
)
def test_fiscal_quarter_maps_to_calendar_quarter(label, fye, end, cq):
    assert fiscal.map_fiscal_quarter(label, fye) == (end, cq)


def test_four_fiscal_quarters_cover_four_distinct_calendar_quarters():
    for fye in range(1, 13):
        quarters = [fiscal.map_fiscal_quarter(f"FY2024Q{q}", fye)[1] for q in range(1, 5)]
        assert len(set(quarters)) == 4
        assert fiscal.fiscal_quarter_end(2024, 4, fye) == fiscal.month_end(2024, fye)


def test_micron_53_week_year_ends_map_like_month_ends():
    # Micron's fiscal 2026 Q1 ended on 27 November 2025 and its 14-week Q4 on 3 September 2026.
    assert fiscal.calendar_quarter_of(dt.date(2025, 11, 27)) == "2025Q4"
    assert fiscal.calendar_quarter_of(dt.date(2026, 9, 3)) == "2026Q3"


def test_52_week_period_ends_map_like_month_ends():
    # NVIDIA's Q1 FY2025 actually ended on 28 April 2024 and Q4 on 26 January 2025.
    assert fiscal.calendar_quarter_of(dt.date(2024, 4, 28)) == "2024Q1"
    assert fiscal.calendar_quarter_of(dt.date(2025, 1, 26)) == "2024Q4"


@pytest.mark.parametrize("label", ["FY2025Q5", "2025Q1", "FY25Q1", "Q1 2025"])
def test_unmappable_label_is_refused(label):
    with pytest.raises(FiscalCalendarError, match="FY2025Q3"):
        fiscal.map_fiscal_quarter(label, 12)
