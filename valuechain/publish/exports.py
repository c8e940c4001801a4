"""Exports of one scenario for memos and decks, read from its executed notebooks.

Beside the pages in ``outputs/<scenario>/``:

``<chart name>.png`` and ``.svg``  every chart, named by what it shows (``profit-pool-2025.png``)
``<scenario>.xlsx``                every table on its own sheet, key figures, parameters, sources
``<scenario>.pptx``                the executive summaries, then one main chart per slide
``<scenario>-brief.pdf``           the one-page brief: the verdicts, three charts, the bridge (:mod:`valuechain.publish.brief`)
``exports.json``                   what was written (the index links it; stale charts are removed)

The manifest is read back as untrusted data (:mod:`valuechain.publish.outputs`): a path in it is
used only if it is a plain file name inside the scenario folder, and a chart is removed only if its
name is one this module writes (``<name>.png`` and ``.svg``, lower case letters, digits, hyphens)
and it is an ordinary file there.

The notebooks carry their tables and charts as data (:mod:`valuechain.mime`), so an export holds
exactly what the pages show, with the raw numbers.
"""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from valuechain.files import atomic_write_bytes, atomic_write_text
from valuechain.publish.outputs import Notebook, contained, read_json_mapping, read_parameters, read_scenario

MANIFEST = "exports.json"
CHART_FILE = re.compile(r"[a-z0-9][a-z0-9-]*\.(?:png|svg)")  # what write_charts names a chart file (labels.file_name)


def write_charts(folder: Path, books: list[Notebook]) -> list[dict]:
    """Each chart as PNG and SVG beside the pages; returns their names, titles and files."""
    # Here, not at the top: labels load pandas, and every run asks this module whether the exports
    # are stale (``stale``), most often to hear that they are not.
    from valuechain.report import labels

    written, seen = [], set()
    for book in books:
        for chart in book.charts:
            name = labels.file_name(chart["name"])
            while name in seen:  # two charts that show the same thing in different notebooks
                name = f"{name}-{book.stem[:2]}"
            seen.add(name)
            atomic_write_bytes(folder / f"{name}.png", base64.b64decode(chart["png"]))
            atomic_write_text(folder / f"{name}.svg", chart["svg"])
            written.append({"name": name, "title": chart["title"], "notebook": book.stem,
                            "png": f"{name}.png", "svg": f"{name}.svg"})
    return written


def write_all(folder: Path, notebooks=None, vintage: str | None = None, overdue: str = "",
              parameters: dict | None = None) -> dict:
    """Write the charts, the workbook and the deck of the scenario in ``folder``; returns the manifest.

    ``overdue`` is the sentence naming the reports the earnings calendar says are overdue; ``parameters``
    the scenario's resolved parameters as plain data (default: its ``parameters.json``, read back)."""
    from valuechain.publish import brief, deck, workbook  # each imports its writer (XlsxWriter, python-pptx) only here

    folder = Path(folder)
    broken: dict[str, str] = {}
    books = read_scenario(folder, notebooks, broken)
    if not books:
        return {}
    name = folder.name
    parameters = read_parameters(folder) if parameters is None else parameters
    previous = listing(folder)
    charts = write_charts(folder, books)
    atomic_write_bytes(folder / f"{name}.xlsx", workbook.build(name, parameters, books))
    atomic_write_bytes(folder / f"{name}.pptx", deck.build(name, parameters, books, vintage))
    manifest = {"workbook": f"{name}.xlsx", "deck": f"{name}.pptx", "charts": charts}
    questions = _questions(folder, books, notebooks)
    if questions:
        atomic_write_bytes(folder / brief.file_name(name), brief.build(name, parameters, questions, vintage, overdue))
        manifest["brief"] = brief.file_name(name)
    drawn = {c[key] for c in charts for key in ("png", "svg")}
    if not broken:  # an unreadable notebook may still draw its charts: they stay until it runs again
        for _, png, svg in (previous or {}).get("charts", []):  # charts a notebook no longer draws
            for path in (png, svg):
                if path.name not in drawn:
                    remove_chart(folder, path)
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _questions(folder: Path, books: list[Notebook], notebooks) -> list[Notebook]:
    """The question notebooks the brief answers, in name order: those among ``books`` (the scenario's notebooks,
    limited to ``notebooks``), and those ``notebooks`` leaves out read from ``folder``."""
    from valuechain.publish import answer

    left_out = [stem for stem in answer.QUESTIONS if notebooks is not None and stem not in notebooks]
    found = [book for book in books if book.stem in answer.QUESTIONS]
    return sorted(found + read_scenario(folder, left_out), key=lambda book: book.stem) if left_out else found


def remove_chart(folder: Path, path: Path) -> bool:
    """Remove ``path`` if it is a chart file this module wrote in ``folder``: named as one, an ordinary file
    (not a link) directly inside it. Returns whether it was removed."""
    if path.parent != Path(folder) or not CHART_FILE.fullmatch(path.name) or path.is_symlink() or not path.is_file():
        return False
    path.unlink(missing_ok=True)
    return True


def listing(folder: Path) -> dict:
    """The exports written in ``folder``: ``files`` as (label, path) and ``charts`` as (title, png, svg); {} if none.

    Only the files of the manifest that are inside ``folder`` and exist are listed; an entry that names
    another place is left out with one line on stderr.
    """
    folder = Path(folder)
    source = folder / MANIFEST
    manifest = read_json_mapping(source, "exports manifest")
    if manifest is None:
        return {}

    def inside(name):
        path = contained(folder, name, source)
        return path if path is not None and path.is_file() else None

    files = []
    for key, label in (("brief", "One-page brief (.pdf)"), ("workbook", "Excel workbook (.xlsx)"), ("deck", "Slides (.pptx)")):
        path = inside(manifest[key]) if manifest.get(key) else None
        if path is not None:
            files.append((label, path))
    charts = []
    entries = manifest.get("charts")
    for chart in entries if isinstance(entries, list) else []:
        if not isinstance(chart, dict):
            continue
        png, svg = inside(chart.get("png")), inside(chart.get("svg"))
        if png is not None and svg is not None:
            charts.append((str(chart.get("title", png.stem)), png, svg))
    return {"files": files, "charts": charts}


def stale(folder: Path) -> bool:
    """True when ``folder`` has executed notebooks and no exports written after the newest of them."""
    notebooks = [p for p in Path(folder).glob("*.ipynb") if not p.name.endswith(".failed.ipynb")]
    manifest = Path(folder) / MANIFEST
    if not notebooks:
        return False
    return not manifest.exists() or manifest.stat().st_mtime <= max(p.stat().st_mtime for p in notebooks)
