"""The workbook, the deck and the chart files hold what the library returns."""
import os
import re

import pytest

from valuechain.model import uncertainty, valuation
from valuechain.publish import comparison, exports, outputs, site
from valuechain.report import charts, narrative
from valuechain.scenario.load import load_scenario

SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


pytestmark = pytest.mark.notebooks  # reads the session's executed notebooks


@pytest.fixture(scope="module")
def folder(executed_outputs):
    """outputs/base after the session's batch run of every notebook (the runner writes the exports)."""
    return executed_outputs / "base"


@pytest.fixture(scope="module")
def library(ds, base_scenario, base_pool, base_gap, base_econ):
    sc, pool = base_scenario, base_pool
    from valuechain.dataset import ledger as ledger_file
    from valuechain.model import ledger

    record = ledger.track_record(sc, ds, ledger_file.load(), sc.demand_gap.downstream.band)
    return {"ds": ds, "sc": sc, "pool": pool, "gap": base_gap, "econ": base_econ,
            "val": valuation.analyse(sc, ds, pool), "unc": uncertainty.analyse(sc, ds), "record": record}


@pytest.fixture(scope="module")
def book(folder):
    openpyxl = pytest.importorskip("openpyxl")
    return openpyxl.load_workbook(folder / "base.xlsx")


def _rows(sheet, header_row=1):
    header = [c.value for c in sheet[header_row]]
    return header, [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=header_row + 1)]


def test_key_figures_sheet_holds_every_headline_with_its_value(book, library):
    header, rows = _rows(book["Key figures"])
    assert header == ["Question", "Figure", "Period", "Value", "Unit", "Note"] and book["Key figures"].freeze_panes == "A2"
    by_label = {r["Figure"]: r for r in rows}
    pool, gap, econ, val = library["pool"], library["gap"], library["econ"], library["val"]
    declared = [(h, pool.summary()) for h in pool.headlines()] + [(h, gap.summary()) for h in gap.headlines()]
    declared += [(h, econ.summary()) for h in econ.headlines()] + [(h, val.summary()) for h in val.headlines()]
    unc, record = library["unc"], library["record"]
    declared += [(h, unc.summary()) for h in unc.headlines()] + [(h, record.summary()) for h in record.headlines()]
    assert len(rows) == len(declared)
    for h, summary in declared:
        row = by_label[h.label]
        assert str(row["Period"]) == str(h.period)  # a year is stored as the number the page shows
        if summary[h.key] is None:
            assert row["Value"] == "n/a"
        else:
            from valuechain.report import labels

            expected = (int(labels.value_text(summary[h.key], "year")) if h.unit == "year"  # the year the page shows
                        else pytest.approx(summary[h.key]))
            assert row["Value"] == expected, h.key
    chips = by_label["Chips share of chain operating profit"]
    assert chips["Value"] == pytest.approx(pool.summary()["chips_profit_share"]) and "100%" in chips["Note"]
    assert book["Key figures"].cell(row=2 + [h.key for h, _ in declared].index("chips_profit_share"), column=4).number_format == "0%"


def test_every_notebook_table_has_its_own_sheet_with_units_and_frozen_headers(book, folder, library):
    tables = [t for nb in outputs.read_scenario(folder) for t in nb.tables]
    assert book.sheetnames[:4] == ["Contents", "Key figures", "Inputs", "Calculations"]
    assert book.sheetnames[-2:] == ["Parameters", "Sources"] and len(book.sheetnames) == len(tables) + 6
    for name, table in zip(book.sheetnames[4:-2], tables):
        sheet = book[name]
        assert sheet["A1"].value == table["title"] and sheet.freeze_panes == "A3"
        headers = [c.value for c in sheet[2]]
        assert headers == [c["header"] for c in table["columns"]]
        assert not any(SNAKE.search(h) for h in headers), headers
    layers = book[next(n for n in book.sheetnames if n.startswith("01 AI revenue"))]
    header, rows = _rows(layers, 2)
    assert "AI revenue (USD bn)" in header and "Share of chain operating profit (%)" in header
    lay = library["pool"].layers
    want = lay[(lay["kind"] == "historical") & (lay["year"] == 2025)].set_index("layer")
    got = {r["Layer"]: r for r in rows if r["Year"] == 2025}
    for layer in want.index:
        assert got[layer.capitalize()]["AI revenue (USD bn)"] == pytest.approx(want.loc[layer, "ai_revenue_usd_bn"])
        assert got[layer.capitalize()]["Share of chain operating profit (%)"] == pytest.approx(want.loc[layer, "profit_share"])
    col = header.index("Share of chain operating profit (%)") + 1
    assert layers.cell(row=3, column=col).number_format == "0%"
    companies = book[next(n for n in book.sheetnames if n.startswith("01 The company figures"))]
    _, rows = _rows(companies, 2)
    assert "NVIDIA Corporation" in {r["Company"] for r in rows}  # names, not ids


def test_parameters_and_sources_sheets(book, library):
    _, rows = _rows(book["Parameters"])
    by_key = {r["Parameter (key in the scenario file)"]: r for r in rows}
    sc = library["sc"]
    assert by_key["layers.cloud.pass_through"]["Value"] == pytest.approx(sc.layers["cloud"].pass_through)
    assert by_key["layers.cloud.pass_through"]["Rationale"] == sc.layers["cloud"].rationale
    assert by_key["title"]["Value"] == sc.title
    _, rows = _rows(book["Sources"])
    ids = [r["Source id"] for r in rows]
    used = set(library["pool"].sources) | set(library["gap"].sources) | set(library["econ"].sources) | set(library["val"].sources)
    assert set(ids) >= used and len(ids) == len(set(ids))
    known = set(library["ds"].sources["source_id"])
    assert set(ids) <= known  # every row is a row of sources.csv
    first = library["ds"].sources.set_index("source_id").loc[ids[0]]
    assert rows[0]["Title"] == first["title"] and rows[0]["Publisher"] == first["publisher"]


def _slide_text(slide):
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def test_the_deck_has_the_summaries_then_one_main_chart_per_slide(folder, library):
    pptx = pytest.importorskip("pptx")
    deck = pptx.Presentation(str(folder / "base.pptx"))
    slides = list(deck.slides)
    assert slides[0].shapes.title.text == library["sc"].title
    books = outputs.read_scenario(folder)
    summaries = slides[1:1 + sum(bool(nb.summary) for nb in books)]
    assert summaries[0].shapes.title.text.startswith("In 2025 chips captured")  # the lead sentence, not the topic
    profit_text = "\n".join([summaries[0].shapes.title.text, *_slide_text(summaries[0])])
    for paragraph in narrative.profit_summary(library["pool"]).split("\n\n")[1:]:
        assert paragraph.replace("**", "") in profit_text
    pool, ds = library["pool"], library["ds"]
    source = charts.source_line(ds, pool.sources, "base")
    main = [charts.profit_pool_chart(pool.layers, 2025, source), charts.dollar_waterfall(pool.dollar_flow, 2025, source),
            charts.profit_share_chart(pool.layers, source)]
    chart_slides = slides[1 + len(summaries):]
    titles = [s.shapes.title.text for s in chart_slides]
    assert titles[:3] == [main[0].title, main[1].title, main[2].title]
    for slide in chart_slides:
        assert any(shape.has_chart for shape in slide.shapes)  # native, editable charts
        assert slide.notes_slide.notes_text_frame.text
    assert sum(source in t for t in _slide_text(chart_slides[0])) == 1
    drawn = [c for nb in books for c in nb.charts]
    assert titles == [c["title"] for c in drawn if c["main"]]
    assert len(drawn) > len(titles)  # the diagnostic charts stay on the pages and in the image files


def test_every_chart_is_saved_as_png_and_svg_named_by_what_it_shows(folder):
    manifest = exports.listing(folder)
    names = {png.stem for _, png, _ in manifest["charts"]}
    assert {"profit-pool-2025", "one-dollar-flow-2025", "demand-vs-required-revenue", "lab-break-even",
            "ipo-capital-draw"} <= names
    drawn = [c for nb in outputs.read_scenario(folder) for c in nb.charts]
    assert len(manifest["charts"]) == len(drawn)
    for title, png, svg in manifest["charts"]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "<svg" in svg.read_text()[:500]
        assert png.parent == folder  # beside the pages
    index = site.publish(folder.parent, rerender=False).read_text()
    for href in ("base/base.xlsx", "base/base.pptx", "base/profit-pool-2025.png", "base/profit-pool-2025.svg"):
        assert f'href="{href}"' in index


def test_exports_follow_the_notebooks_and_drop_charts_no_longer_drawn(folder, tmp_path):
    import shutil

    folder = shutil.copytree(folder, tmp_path / "base")  # the session's outputs stay as the run wrote them
    stale = folder / "old-chart.png"
    stale.write_bytes(b"x")
    (folder / "old-chart.svg").write_text("<svg/>")
    manifest = (folder / exports.MANIFEST).read_text()
    (folder / exports.MANIFEST).write_text(manifest.replace('"profit-pool-2025.png"', '"old-chart.png"', 1)
                                           .replace('"profit-pool-2025.svg"', '"old-chart.svg"', 1))
    assert not exports.stale(folder)
    earlier = (folder / "01_profit_capture.ipynb").stat().st_mtime - 10
    os.utime(folder / exports.MANIFEST, (earlier, earlier))  # the exports predate a notebook
    assert exports.stale(folder)
    exports.write_all(folder)
    assert not stale.exists() and (folder / "profit-pool-2025.png").exists() and not exports.stale(folder)


def test_parameters_sheet_and_diff_view_share_one_reading_of_the_parameters():
    base = load_scenario("base").resolved()
    leaves = comparison.leaves(base)
    assert ("layers", "cloud", "pass_through") in leaves and not any(p[-1] == "rationale" for p in leaves)
    assert comparison.rationale(base, ("layers", "cloud", "pass_through")) == base["layers"]["cloud"]["rationale"]


def test_the_brief_gets_the_question_notebooks_whichever_notebooks_the_exports_read(tmp_path):
    """The question notebooks among those the exports read are used as read; the others are read from the
    folder: the same notebooks, in the same order, as reading the questions again."""
    import nbformat
    from nbformat.v4 import new_markdown_cell, new_notebook

    from valuechain.publish import answer

    for stem in (*answer.QUESTIONS, "03_other"):
        nbformat.write(new_notebook(cells=[new_markdown_cell(f"# Title of {stem}")]), str(tmp_path / f"{stem}.ipynb"))
    for notebooks in (None, ["03_other"], [answer.QUESTIONS[1], "03_other"], list(answer.QUESTIONS)):
        books = outputs.read_scenario(tmp_path, notebooks)
        questions = exports._questions(tmp_path, books, notebooks)
        assert questions == outputs.read_scenario(tmp_path, answer.QUESTIONS)
        assert [q.stem for q in questions] == list(answer.QUESTIONS)
        assert all(any(q is book for book in books) for q in questions if notebooks is None or q.stem in notebooks)
