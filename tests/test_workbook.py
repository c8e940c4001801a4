"""The workbook (publish/workbook.py) read back with openpyxl: sheet names in whole phrases, numbers
stored as numbers, years as integers, probabilities never shown as 0 or 1, print setup, Contents."""
import io

import pytest

from valuechain.publish import workbook
from valuechain.publish.outputs import Notebook
from valuechain.report import labels
from valuechain.report.notebook import HEADLINES_KEY, SOURCES_KEY
from valuechain.report.tables import Column, present

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture(scope="module")
def book():
    import pandas as pd

    frame = pd.DataFrame({"layer": ["chips", "labs"], "share": [0.9998, 0.0002], "p": [0.5, 0.9999],
                          "year": [2026.5, 2027.39], "revenue": [259.6, 17.9]})
    table = present(frame, [Column("layer", "Layer", "layer"), Column("share", "Share of chain operating profit", "share"),
                            Column("p", "P(D reaches R*)", "probability"), Column("year", "Gap closes", "year"),
                            Column("revenue", "AI revenue", "usd_bn")],
                    "AI revenue and operating profit by layer, 2023-2025", "Source: test.").data()
    figures = {HEADLINES_KEY: [{"key": "p", "label": "P(D >= R*'s path)", "unit": "probability", "period": "2030"},
                               {"key": "closes", "label": "Gap closes", "unit": "year", "period": "2026Q2"}],
               "p": 0.9998, "closes": 2026.5, SOURCES_KEY: []}
    books = [Notebook("01_profit_capture", "Profit capture", tables=[table, table], figures=figures)]
    return openpyxl.load_workbook(io.BytesIO(workbook.build("base", {"title": "Base case"}, books)))


def test_sheet_names_are_whole_phrases_and_the_contents_sheet_links_every_sheet(book):
    assert book.sheetnames == ["Contents", "Key figures", "01 AI revenue", "01 AI revenue (2)", "Parameters", "Sources"]
    contents = book["Contents"]
    links = [c.value for c in contents["A"][2:]]
    assert links == book.sheetnames[1:]
    assert [c.hyperlink.location for c in contents["A"][2:]] == [f"'{n}'!A1" for n in book.sheetnames[1:]]


@pytest.mark.parametrize("title, name", [
    ("01 AI revenue and operating profit by layer, 2023-2025", "01 AI revenue"),
    ("02 The scope ladder of D in 2026Q2: level, D / R* and what each level rests on", "02 The scope ladder of D"),
    ("03 Loss per dollar of revenue", "03 Loss per dollar of revenue"),
    ("02 D against Menlo Ventures' survey of enterprise spending", "02 D against Menlo Ventures"),
])
def test_a_long_title_is_cut_at_a_phrase_boundary(title, name):
    assert workbook.sheet_name(title, set()) == name and len(name) <= 31


def test_numbers_are_numbers_years_integers_probabilities_never_0_or_1(book):
    sheet = book["01 AI revenue"]
    header = [c.value for c in sheet[2]]
    rows = [dict(zip(header, (c for c in row))) for row in sheet.iter_rows(min_row=3, max_row=4)]
    share = rows[0]["Share of chain operating profit (%)"]
    assert share.value == pytest.approx(0.9998) and share.number_format == "0%"
    p = rows[1]["P(D reaches R*)"]
    assert p.value == pytest.approx(0.9999) and p.number_format == '[>=0.995]"> 0.99";[<0.005]"< 0.01";0.00'
    assert labels.UNITS["probability"].excel == p.number_format
    years = [r["Gap closes"] for r in rows]
    assert [y.value for y in years] == [2026, 2027] and all(isinstance(y.value, int) for y in years)  # as the page shows
    assert rows[0]["AI revenue (USD bn)"].value == pytest.approx(259.6)
    assert rows[0]["Layer"].value == "Chips" and rows[0]["Layer"].data_type == "s"
    key = book["Key figures"]
    assert key["C2"].value == 2030 and key["C3"].value == "2026Q2"  # a year as an integer, a quarter as text
    assert key["D2"].value == pytest.approx(0.9998) and key["D2"].number_format == p.number_format
    assert key["D3"].value == 2026


def test_every_sheet_prints_landscape_one_page_wide_with_its_headers_repeated(book):
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth in (None, 1)
        assert sheet.page_setup.fitToHeight == 0, sheet.title
    assert book["01 AI revenue"].print_title_rows == "$1:$2"
    assert book["Key figures"].print_title_rows == "$1:$1"
