"""Exports of one scenario for memos and decks, read from its executed notebooks.

Beside the pages in ``outputs/<scenario>/``:

``<chart name>.png`` and ``.svg``  every chart, named by what it shows (``profit-pool-2025.png``)
``<scenario>.xlsx``                every table on its own sheet, key figures, parameters, sources
``<scenario>.pptx``                the executive summaries, then one main chart per slide
``exports.json``                   what was written (the index links it; stale charts are removed)

The notebooks carry their tables and charts as data (:mod:`valuechain.mime`), so an export holds
exactly what the pages show, with the raw numbers.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

from valuechain.files import atomic_write_bytes, atomic_write_text
from valuechain.publish.outputs import Notebook, read_parameters, read_scenario

MANIFEST = "exports.json"


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


def write_all(folder: Path, notebooks=None, vintage: str | None = None) -> dict:
    """Write the charts, the workbook and the deck of the scenario in ``folder``; returns the manifest."""
    from valuechain.publish import deck, workbook  # each imports its writer (XlsxWriter, python-pptx) only here

    folder = Path(folder)
    books = read_scenario(folder, notebooks)
    if not books:
        return {}
    name, parameters = folder.name, read_parameters(folder)
    previous = listing(folder)
    charts = write_charts(folder, books)
    atomic_write_bytes(folder / f"{name}.xlsx", workbook.build(name, parameters, books))
    atomic_write_bytes(folder / f"{name}.pptx", deck.build(name, parameters, books, vintage))
    manifest = {"workbook": f"{name}.xlsx", "deck": f"{name}.pptx", "charts": charts}
    for _, png, svg in (previous or {}).get("charts", []):  # charts a notebook no longer draws
        if png.name not in {c["png"] for c in charts}:
            png.unlink(missing_ok=True)
            svg.unlink(missing_ok=True)
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def listing(folder: Path) -> dict:
    """The exports written in ``folder``: ``files`` as (label, path) and ``charts`` as (title, png, svg); {} if none."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    folder = Path(folder)
    files = [(label, folder / manifest[key]) for key, label in (("workbook", "Excel workbook (.xlsx)"),
                                                                ("deck", "Slides (.pptx)"))
             if manifest.get(key) and (folder / manifest[key]).exists()]
    charts = [(c["title"], folder / c["png"], folder / c["svg"]) for c in manifest.get("charts", [])
              if (folder / c["png"]).exists() and (folder / c["svg"]).exists()]
    return {"files": files, "charts": charts}


def stale(folder: Path) -> bool:
    """True when ``folder`` has executed notebooks and no exports written after the newest of them."""
    notebooks = [p for p in Path(folder).glob("*.ipynb") if not p.name.endswith(".failed.ipynb")]
    manifest = Path(folder) / MANIFEST
    if not notebooks:
        return False
    return not manifest.exists() or manifest.stat().st_mtime <= max(p.stat().st_mtime for p in notebooks)
