"""The scenario's slides (python-pptx): a title slide, the executive summaries, then one main chart per slide.

Each chart slide carries the chart's title and its source line as text, so a slide lifted into
another deck keeps both.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import re

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from valuechain.escape import markdown_plain

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
GREY = RGBColor(0x55, 0x55, 0x55)
TITLE_ONLY = 5  # layout of the default template


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


def _summary_slide(prs, title: str, markdown: list[str]) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, f"Executive summary: {title}")
    items = [p for text in markdown for p in paragraphs(text)]
    size = 14 if sum(map(len, items)) < 1100 else 12
    _text_box(slide, Inches(1.4), HEIGHT - Inches(1.9), items, size)


def _chart_slide(prs, chart: dict) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, chart["title"])
    top, bottom = Inches(1.35), HEIGHT - Inches(0.9)
    picture = slide.shapes.add_picture(io.BytesIO(base64.b64decode(chart["png"])), MARGIN, top)
    scale = min((WIDTH - 2 * MARGIN) / picture.width, (bottom - top) / picture.height)
    picture.width, picture.height = Emu(int(picture.width * scale)), Emu(int(picture.height * scale))
    picture.left = Emu(int((WIDTH - picture.width) / 2))
    _text_box(slide, bottom + Inches(0.1), Inches(0.6), [chart["source"]], 11, GREY)


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
    for nb in books:
        if nb.summary:
            _summary_slide(prs, nb.title, nb.summary)
    for nb in books:
        for chart in nb.charts:
            if chart.get("main", True):
                _chart_slide(prs, chart)
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()
