"""The answer in words, from a scenario's latest outputs: what ``valuechain answer`` prints.

For each question (a notebook's title) the first paragraph of its executive summary, which the
notebook generates from the numbers (for the demand gap, the verdict rule's sentence), then its
headline figures (those the notebook declares and does not mark as detail), and the data vintage the
pages were built on. Nothing is recomputed: the text is read from the executed notebooks, as the
pages show it, and an outputs folder is untrusted input (:mod:`valuechain.publish.outputs` reads it).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from valuechain.exceptions import OutputError
from valuechain.publish.outputs import read_scenario, stated_vintage
from valuechain.report import labels
from valuechain.report.notebook import HEADLINES_KEY

QUESTIONS = ("01_profit_capture", "02_demand_gap")  # who captures the profit; is demand catching up
SENTENCES = 3  # of each question's first paragraph: the answer, why, and what would tell
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*])")  # a sentence ends at a stop before a capital, not inside "0.30"


def plain(markdown: str) -> str:
    """Markdown of a summary paragraph as terminal text: no emphasis markers, no backslash escapes, no entities."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"\\(.)", r"\1", text)
    return html.unescape(" ".join(text.split()))


vintage = stated_vintage  # the data vintage a scenario's page states


def first_sentences(book) -> str:
    """The first :data:`SENTENCES` sentences of a notebook's executive summary, as plain text ("" without one)."""
    if not book.summary:
        return ""
    first = plain(book.summary[0].strip().split("\n\n")[0])
    return " ".join(SENTENCE.split(first)[:SENTENCES])


def figure_lines(book) -> list[str]:
    """A notebook's headline figures (those it does not mark as detail) as "label, period: value unit" lines,
    formatted as the pages format them; the answer and the brief print these."""
    lines = []
    for h in book.figures.get(HEADLINES_KEY) or []:
        value = book.figures.get(h.get("key"))
        if h.get("detail") or labels.missing(value):
            continue
        text = labels.value_text(value, h.get("unit", ""))
        unit = labels.UNITS[h["unit"]].suffix if h.get("unit") in labels.UNITS else ""
        suffix = f" {unit}" if unit and not text.endswith(unit) else ""
        lines.append(f"{h.get('label', h.get('key'))}, {h.get('period', '')}: {text}{suffix}")
    return lines


def verdicts(folder: Path, notebooks=QUESTIONS) -> list[tuple[str, str]]:
    """(question, its first sentences) for each of ``notebooks`` executed in a scenario's ``folder`` that has a summary."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    return [(book.title, first_sentences(book)) for book in read_scenario(folder, notebooks) if book.summary]


def answer(outputs: Path, scenario: str = "base", notebooks=QUESTIONS) -> str:
    """The answer of ``scenario`` from ``outputs``: per question, the summary's first paragraph and the headline figures."""
    folder = Path(outputs) / scenario
    if not folder.is_dir() or folder.is_symlink():
        raise OutputError(f"{folder}: no outputs for scenario '{scenario}'; run 'valuechain run {scenario}' "
                          "(or make report) first")
    books = read_scenario(folder, notebooks)
    if not books:
        raise OutputError(f"{folder}: no executed notebook of {', '.join(notebooks)}; run "
                          f"'valuechain run {scenario}' first")
    blocks = []
    for book in books:
        lines = [book.title]
        if book.summary:
            lines.append(first_sentences(book))
        lines += [f"  - {line}" for line in figure_lines(book)]
        blocks.append("\n".join(lines))
    stated = vintage(folder, books[0].stem)
    footer = f"Scenario {scenario}" + (f"; data: filed figures through {stated}." if stated else ".")
    return "\n\n".join([*blocks, footer])
