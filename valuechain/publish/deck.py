"""The scenario's slides (python-pptx): a title slide, the executive summaries, then one main chart per slide.

Every slide's title states a conclusion, generated from the numbers: a summary slide takes its
summary's lead sentence, a chart slide its chart's title (:mod:`valuechain.report.charts` writes
each as a finding). A chart is a native, editable chart object built from the series the notebook
recorded beside its picture (``native``), so an analyst can restyle it or read its numbers in
PowerPoint; its source line is written once, under it, and the speaker notes give the method and
the sources in two sentences. A chart recorded by an older version without its series is shown as
its picture, which carries its own title and source line, so the slide adds neither.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import re

from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from valuechain.escape import markdown_plain

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
GREY = RGBColor(0x55, 0x55, 0x55)
TITLE_ONLY = 5  # layout of the default template
KINDS = {"line": XL_CHART_TYPE.LINE_MARKERS, "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
         "column_stacked": XL_CHART_TYPE.COLUMN_STACKED, "bar": XL_CHART_TYPE.BAR_CLUSTERED,
         "bar_stacked": XL_CHART_TYPE.BAR_STACKED}
LEAD = re.compile(r"^\*\*(.+?)\*\*[.:]?\s*(.*)$", re.DOTALL)  # a summary's bold lead sentence, then the rest
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _runs(paragraph, markdown: str, size: int) -> None:
    """``markdown``'s text into ``paragraph``, ``**bold**`` as bold runs, backslash escapes and entities
    undone (data text in a summary is escaped for Markdown; a slide shows it as the text it was)."""
    for i, part in enumerate(markdown.split("**")):
        if not part:
            continue
        run = paragraph.add_run()
        run.text = markdown_plain(part)
        run.font.size = Pt(size)
        run.font.bold = i % 2 == 1


def paragraphs(markdown: str) -> list[str]:
    """Paragraphs and list items of a Markdown text, one string each (a list item starts with a bullet)."""
    out = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        lines = block.splitlines()
        if lines and all(line.startswith("- ") for line in lines):
            out += ["• " + line[2:] for line in lines]
        elif block.strip():
            out.append(" ".join(line.strip() for line in lines))
    return out


def _place(shape, left, top, width, height) -> None:
    # The default template's placeholders are laid out for a 4:3 slide; the deck is 16:9.
    shape.left, shape.top, shape.width, shape.height = left, top, width, height


def _title(slide, text: str) -> None:
    title = slide.shapes.title
    _place(title, MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(1.0))
    title.text = text
    title.text_frame.word_wrap = True
    for paragraph in title.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(26 if len(text) < 70 else 22)


def _text_box(slide, top, height, items: list[str], size: int, colour=None):
    box = slide.shapes.add_textbox(MARGIN, top, WIDTH - 2 * MARGIN, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, item in enumerate(items):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(6)
        _runs(paragraph, item, size)
        if colour is not None:
            for run in paragraph.runs:
                run.font.color.rgb = colour
    return box


def lead(items: list[str]) -> tuple[str, list[str]]:
    """A summary's conclusion as a slide title, and the paragraphs left for the body.

    The title is the first paragraph's bold lead (``**...**``) when it is a sentence, else the first
    list item or the paragraph's first sentence; it is taken out of the body, so the slide does not
    say it twice.
    """
    if not items:
        return "", []
    first, rest = items[0], items[1:]
    bullet = first.startswith("• ")
    text = first[2:] if bullet else first
    match = LEAD.match(text)
    if bullet:
        title, remainder = text, ""
    elif match and len(match.group(1).split()) >= 5:  # a sentence, not a bold name
        title, remainder = match.group(1), match.group(2)
    else:
        parts = SENTENCE_END.split(text, 1)
        title, remainder = parts[0], parts[1] if len(parts) > 1 else ""
    title = markdown_plain(title.replace("**", "")).strip().rstrip(".:")
    return title, ([remainder.strip()] if remainder and remainder.strip() else []) + rest


def _notes(slide, text: str) -> None:
    slide.notes_slide.notes_text_frame.text = text


def _summary_slide(prs, title: str, markdown: list[str], notes: str) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    items = [p for text in markdown for p in paragraphs(text)]
    conclusion, body = lead(items)
    _title(slide, conclusion or f"Executive summary: {title}")
    size = 14 if sum(map(len, body)) < 1100 else 12
    _text_box(slide, Inches(1.4), HEIGHT - Inches(1.9), body, size)
    _notes(slide, notes)


def _hide_legend_entry(chart, index: int) -> None:
    """Leave series ``index`` (an invisible waterfall base) out of the legend."""
    legend = chart.legend._element
    entry = etree.Element(qn("c:legendEntry"))
    etree.SubElement(entry, qn("c:idx")).set("val", str(index))
    etree.SubElement(entry, qn("c:delete")).set("val", "1")
    position = legend.find(qn("c:legendPos"))  # the schema puts the entries right after the position
    legend.insert(0 if position is None else legend.index(position) + 1, entry)


def _log_axis(axis) -> None:
    scaling = axis._element.find(qn("c:scaling"))
    base = etree.Element(qn("c:logBase"))
    base.set("val", "10")
    scaling.insert(0, base)


def native_chart(slide, panel: dict, left, top, width, height):
    """``panel`` (:func:`valuechain.report.charts.native`) as an editable chart on ``slide``; returns the chart."""
    data = CategoryChartData(number_format=panel["number_format"])
    data.categories = panel["categories"]
    for series in panel["series"]:
        data.add_series(series["name"], series["values"])
    chart = slide.shapes.add_chart(KINDS[panel["kind"]], left, top, width, height, data).chart
    chart.has_title = bool(panel["title"])
    if panel["title"]:
        chart.chart_title.text_frame.text = panel["title"]
        chart.chart_title.text_frame.paragraphs[0].runs[0].font.size = Pt(12)
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(10)
    axis = chart.value_axis
    axis.has_title = bool(panel["axis"])
    if panel["axis"]:
        axis.axis_title.text_frame.text = panel["axis"]
        axis.axis_title.text_frame.paragraphs[0].runs[0].font.size = Pt(10)
    axis.tick_labels.number_format = panel["number_format"]
    axis.tick_labels.number_format_is_linked = False
    axis.has_major_gridlines = True
    if panel["log"]:
        _log_axis(axis)
    if panel["kind"].startswith("bar"):
        chart.category_axis.reverse_order = True  # the first category at the top, as the page draws it
    for i, series in enumerate(chart.plots[0].series):
        if series.name in panel["hidden"]:
            series.format.fill.background()
            series.format.line.fill.background()
            _hide_legend_entry(chart, i)
    return chart


def _chart_slide(prs, chart: dict) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    top, bottom = Inches(1.35), HEIGHT - Inches(0.9)
    source = chart.get("source", "")
    method = chart.get("method", "")
    _notes(slide, " ".join(t for t in (method, source) if t))
    panels = chart.get("native") or []
    if panels:
        _title(slide, chart["title"])
        width = (WIDTH - 2 * MARGIN) / len(panels)
        for i, panel in enumerate(panels):
            native_chart(slide, panel, Emu(int(MARGIN + i * width)), top, Emu(int(width)), bottom - top)
        _text_box(slide, bottom + Inches(0.1), Inches(0.6), [source], 11, GREY)
        return
    # An older recording: the picture carries the chart's title and source line, so the slide repeats neither.
    slide.shapes._spTree.remove(slide.shapes.title._element)
    top = Inches(0.3)
    picture = slide.shapes.add_picture(io.BytesIO(base64.b64decode(chart["png"])), MARGIN, top)
    scale = min((WIDTH - 2 * MARGIN) / picture.width, (HEIGHT - Inches(0.3) - top) / picture.height)
    picture.width, picture.height = Emu(int(picture.width * scale)), Emu(int(picture.height * scale))
    picture.left = Emu(int((WIDTH - picture.width) / 2))


def build(name: str, parameters: dict, books, vintage: str | None = None) -> bytes:
    """The deck of scenario ``name`` from its notebooks' data (:func:`valuechain.publish.outputs.read_scenario`)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    first = prs.slides.add_slide(prs.slide_layouts[0])
    _place(first.shapes.title, MARGIN, Inches(1.8), WIDTH - 2 * MARGIN, Inches(1.5))
    _place(first.placeholders[1], MARGIN, Inches(3.5), WIDTH - 2 * MARGIN, Inches(3.0))
    first.shapes.title.text = str(parameters.get("title") or name)
    data = f"Data: filed figures through {vintage}. " if vintage else ""
    first.placeholders[1].text = (f"{parameters.get('description', '')}\n\nScenario '{name}'. {data}"
                                  f"Built by valuechain on {dt.date.today().isoformat()}.")
    for paragraph in first.placeholders[1].text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(16)
    _notes(first, f"Every figure in this deck is computed by valuechain from scenario '{name}'. {data}Sources: the "
                  "workbook's Sources sheet lists every source the notebooks used.".replace("  ", " "))
    for nb in books:
        if nb.summary:
            sources = next((c["source"] for c in nb.charts if c.get("source")), "")
            _summary_slide(prs, nb.title, nb.summary,
                           f"The sentences are generated from the numbers of '{nb.title}' for scenario '{name}'. "
                           + (sources or "Sources: the workbook's Sources sheet."))
    for nb in books:
        for chart in nb.charts:
            if chart.get("main", True):
                _chart_slide(prs, chart)
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()
