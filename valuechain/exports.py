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
from dataclasses import dataclass, field
from pathlib import Path

from valuechain import labels, mime
from valuechain.iorw import atomic_write_bytes, atomic_write_text
from valuechain.results import HEADLINES_KEY, SOURCES_KEY

MANIFEST = "exports.json"


def notebook_title(nb, default: str = "") -> str:
    """The notebook's title: the first Markdown heading of its first cells."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0].lstrip("# ").strip()
    return default


def read_parameters(folder: Path) -> dict:
    """A scenario's recorded parameters (``parameters.json``) as plain data; {} if missing or unreadable."""
    try:
        data = json.loads((folder / "parameters.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class Notebook:
    """What one executed notebook shows, as data: title, summary paragraphs, tables, charts, figures."""

    stem: str
    title: str
    summary: list[str] = field(default_factory=list)  # Markdown of the executive summary's outputs
    tables: list[dict] = field(default_factory=list)  # tables.Table.data()
    charts: list[dict] = field(default_factory=list)  # name, title, alt, source, main, png (base64), svg
    figures: dict = field(default_factory=dict)  # the recorded key figures, headlines and sources


def read_notebook(path: Path) -> Notebook:
    """The tables, charts and executive summary of an executed notebook, in page order."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    out = Notebook(path.stem, notebook_title(nb, path.stem))
    section = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = next((line for line in cell.source.splitlines() if line.startswith("## ")), None)
            section = heading[3:].strip() if heading else section
            continue
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if mime.TABLE in data:
                out.tables.append(data[mime.TABLE])
            elif mime.CHART in data:
                out.charts.append(data[mime.CHART])
            elif mime.METRICS in data:
                out.figures = data[mime.METRICS]
            elif section == "Executive summary" and "text/markdown" in data:
                out.summary.append("".join(data["text/markdown"]))
    return out


def read_scenario(folder: Path, notebooks=None) -> list[Notebook]:
    """Every successfully executed notebook of a scenario (limited to ``notebooks`` if given), in name order."""
    return [read_notebook(p) for p in sorted(folder.glob("*.ipynb"))
            if not p.name.endswith(".failed.ipynb") and (notebooks is None or p.stem in notebooks)]


def write_charts(folder: Path, books: list[Notebook]) -> list[dict]:
    """Each chart as PNG and SVG beside the pages; returns their names, titles and files."""
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


def sources_used(books: list[Notebook]) -> list[str]:
    """Source ids every notebook recorded, then those its tables cite, in order and without repeats."""
    ids = []
    for book in books:
        ids += book.figures.get(SOURCES_KEY) or []
    for book in books:
        for table in book.tables:
            for j, column in enumerate(table["columns"]):
                if column["key"] == "source_id":
                    for row in table["rows"]:
                        ids += [part.strip() for part in str(row[j] or "").split(";")]
    return list(dict.fromkeys(i for i in ids if i and i != "from the rows above"))


def headlines(books: list[Notebook]) -> list[dict]:
    """Every declared headline figure with its value, question (notebook title) and notebook."""
    rows = []
    for book in books:
        for h in book.figures.get(HEADLINES_KEY) or []:
            rows.append({**h, "value": book.figures.get(h["key"]), "question": book.title, "notebook": book.stem})
    return rows


def write_all(folder: Path, notebooks=None, vintage: str | None = None) -> dict:
    """Write the charts, the workbook and the deck of the scenario in ``folder``; returns the manifest."""
    from valuechain import deck, workbook
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
