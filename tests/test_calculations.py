"""The auditable arithmetic (valuechain.model.calculations) and the workbook's live formulas."""
from __future__ import annotations

import io

import pytest

from valuechain.model.calculations import Calculations, Quantity
from valuechain.publish import workbook
from valuechain.publish.outputs import Notebook
from valuechain.report.notebook import CALCULATIONS_KEY


def test_formulas_evaluate_in_order_with_spreadsheet_powers():
    calc = Calculations((Quantity("r", "return", "share", 0.1), Quantity("n", "life", "years", 5.0),
                         Quantity("crf", "CRF", "ratio", 0.1 / (1 - 1.1 ** -5), "{r} / (1 - (1 + {r}) ^ -{n})")))
    assert calc.evaluate()["crf"] == pytest.approx(0.263797, abs=1e-6)
    assert calc.check() == []
    wrong = Calculations((Quantity("a", "a", "usd_bn", 2.0), Quantity("b", "b", "usd_bn", 5.0, "{a} * 2")))
    assert wrong.check() == ["b: formula gives 4.0, the library 5.0"]


def test_a_formula_naming_a_later_or_unknown_quantity_is_refused():
    with pytest.raises(ValueError, match="'b' uses a before it is defined"):
        Calculations((Quantity("b", "b", "usd_bn", 1.0, "{a} + 1"), Quantity("a", "a", "usd_bn", 0.0)))


def test_the_library_s_demand_gap_and_profit_pool_arithmetic_is_reproduced_by_its_formulas(base_gap, base_pool):
    # every published method, bridge step, CRF, the steady state, D over each rung, shares and cents: to the cent
    assert base_gap.calculations().check(0.005) == []
    assert base_pool.calculations().check(0.005) == []
    keys = {q.key for q in base_gap.calculations().quantities if q.formula}
    assert {"sequoia_required", "bain_required", "sequoia_multiple", "bain_multiple", "jpm_multiple", "after_lives",
            "crf_servers", "beta_steady", "required_steady_state", "d_over_committed"} <= keys


@pytest.fixture(scope="module")
def book(base_gap, base_pool):
    books = [Notebook("01_profit_capture", "Profit", figures={CALCULATIONS_KEY: base_pool.calculations().record()}),
             Notebook("02_demand_gap", "Demand", figures={CALCULATIONS_KEY: base_gap.calculations().record()})]
    return workbook.build("base", {"title": "Base case"}, books)


def test_a_formula_engine_recomputes_every_formula_to_the_cent(book, base_gap, base_pool):
    import openpyxl
    from pycel import ExcelCompiler

    sheet = openpyxl.load_workbook(io.BytesIO(book))["Calculations"]
    engine = ExcelCompiler(excel=openpyxl.load_workbook(io.BytesIO(book)))
    library = {q.label: q.value for calc in (base_pool.calculations(), base_gap.calculations())
               for q in calc.quantities if q.formula}
    checked = 0
    for row in sheet.iter_rows(min_row=2):
        label, cell = row[0].value, row[1]
        if isinstance(cell.value, str) and cell.value.startswith("="):
            assert engine.evaluate(f"Calculations!B{cell.row}") == pytest.approx(library[label], abs=0.005), label
            checked += 1
    assert checked == len(library) >= 40  # every formula, each label once


def test_changing_an_input_moves_the_formulas_that_use_it(book):
    import openpyxl
    from pycel import ExcelCompiler

    books = openpyxl.load_workbook(io.BytesIO(book))
    inputs, calc = books["Inputs"], books["Calculations"]
    gpu = next(r[1].coordinate for r in inputs.iter_rows(min_row=2) if r[0].value == "GPU share of data-center total cost (Sequoia)")
    sequoia = next(r[1].coordinate for r in calc.iter_rows(min_row=2) if r[0].value == "Sequoia's required revenue")
    engine = ExcelCompiler(excel=books)
    before = engine.evaluate(f"Calculations!{sequoia}")
    engine.set_value(f"Inputs!{gpu}", inputs[gpu].value / 2)
    assert engine.evaluate(f"Calculations!{sequoia}") == pytest.approx(2 * before)


def test_the_workbook_opens_on_its_contents_and_prints_landscape_to_the_page_width(book):
    import openpyxl

    books = openpyxl.load_workbook(io.BytesIO(book))
    assert books.sheetnames[:4] == ["Contents", "Key figures", "Inputs", "Calculations"]
    contents = [c.value for c in books["Contents"]["A"][2:]]
    assert contents == books.sheetnames[1:]
    for sheet in books.worksheets:
        assert sheet.page_setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToHeight == 0  # one page wide, as many pages down as needed
    assert books["Calculations"].print_title_rows == "$1:$1"  # the header row on every printed page
    cached = books["Calculations"]["B3"].value
    assert isinstance(cached, str) and cached.startswith("=")  # a live formula, not a pasted value
