"""The one-page brief: one A4 page holding the verdicts, the figures, the bridge, the vintage and what is overdue."""
import base64
import html
import io
import re

import pytest

from valuechain.publish import answer, brief
from valuechain.publish.outputs import Notebook, read_scenario

pypdf = pytest.importorskip("pypdf")


def _png(width=6.0, height=3.0) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.add_subplot().plot([0, 1], [0, 1])
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=40)
    return base64.b64encode(out.getvalue()).decode()


def _pdf_text(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _books(figures=3):
    headlines = [{"key": f"share_{i}", "label": f"Layer {i} share of chain operating profit", "unit": "share",
                  "period": "2025"} for i in range(figures)]
    profit = Notebook("01_profit_capture", "Profit capture across the AI value chain",
                      summary=["In 2025 chips captured 60% of the chain's operating profit. Clouds took 25%. "
                               "Labs lost money. A fourth sentence stays on the page."],
                      charts=[{"name": "profit-pool-2025", "title": "Profit pool", "source": "Source: filings",
                               "png": _png()}],
                      figures={"headlines": headlines, **{f"share_{i}": 0.6 - i / 100 for i in range(figures)}})
    bridge = {"title": "From each published bar to R* in 2025", "note": "Steps in this order.",
              "columns": [{"key": k, "header": k} for k in ("bar", "step", "detail", "change_usd_bn", "value_usd_bn")],
              "text": [["Sequoia", "Sequoia (2025)", "a year's spend", "", "997"],
                       ["Sequoia", "Which capex", "the spenders' capex", "-313", "684"]]}
    demand = Notebook("02_demand_gap", "The demand gap", summary=["The data cannot tell yet whether D reaches R* by 2030."],
                      tables=[bridge],
                      charts=[{"name": "demand-vs-required-revenue", "title": "D", "png": _png(8, 3.5)},
                              {"name": "bridge-to-required-revenue-2025", "title": "Bridge", "png": _png(4, 5)}],
                      figures={"headlines": [{"key": "ratio", "label": "D / R*", "unit": "ratio", "period": "2026Q2"}],
                               "ratio": 0.4712})
    return [profit, demand]


def test_the_brief_is_one_a4_page_with_the_verdicts_figures_bridge_vintage_and_overdue():
    books = _books()
    data = brief.build("base", {"title": "Base <case>"}, books, "2026-08-31",
                       "Overdue as of 2026-12-02 (1 expected report not yet in the data): NVIDIA Corporation "
                       "fiscal 2027 Q3 (expected 2026-11-25, estimated).")
    pages, text = _pdf_text(data)
    assert pages == 1
    box = pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert ("In 2025 chips captured 60% of the chain's operating profit. Clouds took 25%. Labs lost money." in text
            and "A fourth sentence" not in text)  # the answer's three sentences, as `valuechain answer` prints them
    assert "The data cannot tell yet whether D reaches R* by 2030." in text
    assert "Layer 0 share of chain operating profit, 2025: 60%" in text and "D / R*, 2026Q2: 0.47" in text
    assert "Scenario base: Base <case>. Data: filed figures through 2026-08-31." in text
    assert "NVIDIA Corporation fiscal 2027 Q3 (expected 2026-11-25, estimated)." in text
    assert re.search(r"Sequoia Sequoia \(2025\) 997 Which capex -313 684", text)


def test_a_brief_with_more_figures_than_fit_shrinks_to_stay_on_one_page():
    books = _books(figures=70)
    pages, text = _pdf_text(brief.build("base", {}, books, "2026-08-31"))
    assert pages == 1
    assert "Layer 69 share of chain operating profit, 2025: -9%" in text  # the last figure is still on the page


def test_the_charts_and_the_bridge_are_found_by_name_and_columns():
    books = _books()
    assert brief.chart(books, "bridge-to-required-revenue")["title"] == "Bridge"
    assert brief.chart(books, "no-such-chart") is None
    assert brief.bridge_table(books)["title"] == "From each published bar to R* in 2025"


def test_brief_answer_and_page_agree_on_the_verdict_figures_and_vintage(executed_outputs):
    folder = executed_outputs / "base"
    path = folder / "base-brief.pdf"
    pages, text = _pdf_text(path.read_bytes())
    assert pages == 1
    printed = answer.answer(executed_outputs, "base")
    books = read_scenario(folder, answer.QUESTIONS)
    assert [b.stem for b in books] == list(answer.QUESTIONS)
    for book in books:
        sentences = answer.first_sentences(book)
        assert sentences and sentences in text and sentences in printed
        page = html.unescape(" ".join(re.sub(r"<[^>]+>", "", (folder / f"{book.stem}.html").read_text()).split()))
        assert sentences in page
        for line in answer.figure_lines(book):
            assert line in text and f"  - {line}" in printed
    vintage = answer.vintage(folder, "02_demand_gap")
    assert vintage and f"filed figures through {vintage}" in text and f"filed figures through {vintage}" in printed
    assert "base-brief.pdf" in (folder / "exports.json").read_text()
