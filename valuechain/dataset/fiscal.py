"""Fiscal periods and their calendar quarters.

Companies close their fiscal years in different months: Microsoft in June, Oracle in May,
NVIDIA and Dell at the end of January, Broadcom around 31 October. A fiscal year is named
by the calendar year in which it ends (NVIDIA's FY2025 ends in January 2025).

A fiscal quarter is assigned to the calendar quarter that holds its midpoint, which for a
three-month quarter is the calendar quarter holding ``period_end - 45 days``. NVIDIA's
quarter ending in late April therefore maps to calendar Q1 (February to April lies mostly
in Q1), and its quarter ending in January maps to Q4 of the previous calendar year.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re

from valuechain.exceptions import FiscalCalendarError

QUARTER_LABEL = re.compile(r"^FY(?P<fy>\d{4})Q(?P<q>[1-4])$")
MIDPOINT_OFFSET = dt.timedelta(days=45)


def month_end(year: int, month: int) -> dt.date:
    """Last day of ``month`` in ``year``."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def fiscal_quarter_end(fiscal_year: int, quarter: int, fiscal_year_end_month: int) -> dt.date:
    """Nominal last day of fiscal quarter ``quarter`` of ``fiscal_year``.

    The quarter ends ``3 * (4 - quarter)`` months before the fiscal year's closing month.
    """
    if quarter not in (1, 2, 3, 4):
        raise FiscalCalendarError(f"fiscal quarter {quarter!r} is not 1-4")
    if not 1 <= fiscal_year_end_month <= 12:
        raise FiscalCalendarError(f"fiscal year-end month {fiscal_year_end_month!r} is not 1-12")
    months = fiscal_year * 12 + (fiscal_year_end_month - 1) - 3 * (4 - quarter)
    return month_end(months // 12, months % 12 + 1)


def calendar_quarter_of(period_end: dt.date) -> str:
    """Calendar quarter (``'2024Q1'``) holding the midpoint of the quarter ending ``period_end``."""
    mid = period_end - MIDPOINT_OFFSET
    return f"{mid.year}Q{(mid.month - 1) // 3 + 1}"


def quarter_of_date(day: dt.date) -> str:
    """Calendar quarter holding ``day`` itself (for point-in-time observations)."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_quarter_label(label: str) -> tuple[int, int]:
    """Split ``'FY2025Q3'`` into ``(2025, 3)``."""
    match = QUARTER_LABEL.match(label)
    if not match:
        raise FiscalCalendarError(f"fiscal period {label!r} is not of the form FY2025Q3")
    return int(match["fy"]), int(match["q"])


def map_fiscal_quarter(label: str, fiscal_year_end_month: int) -> tuple[dt.date, str]:
    """Nominal period end and calendar quarter of fiscal quarter ``label``.

    >>> map_fiscal_quarter("FY2025Q1", 1)   # NVIDIA: Feb-Apr 2024
    (datetime.date(2024, 4, 30), '2024Q1')
    >>> map_fiscal_quarter("FY2025Q1", 6)   # Microsoft: Jul-Sep 2024
    (datetime.date(2024, 9, 30), '2024Q3')
    """
    fiscal_year, quarter = parse_quarter_label(label)
    end = fiscal_quarter_end(fiscal_year, quarter, fiscal_year_end_month)
    return end, calendar_quarter_of(end)
