"""Reading ``outputs/`` as plain data: a scenario's recorded parameters, and what each executed
notebook shows (title, executive summary, tables, charts, recorded figures, headlines, sources).

The one reader of executed notebooks: the runner collects the recorded figures here, the site
reads titles, the exports, workbook and deck read tables and charts. Nothing read here is
validated against the scenario schema again, so an older or newer output still publishes.

What the index shows of an executed notebook (its title) is also recorded beside it as plain
data, ``<notebook>.page.json``, when the item runs: the index reads that instead of the notebook,
so it never loads nbformat (over a second to import) for titles it already has.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from valuechain import mime
from valuechain.report.notebook import CALCULATIONS_KEY, HEADLINES_KEY, SOURCES_KEY


def notebook_title(nb, default: str = "") -> str:
    """The notebook's title: the first Markdown heading of its first cells."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0].lstrip("# ").strip()
    return default


PAGE_SUFFIX = ".page.json"  # <notebook>.page.json beside the executed notebook: {"title": ...}


def page_record(executed: Path) -> Path:
    """Where the plain data of an executed notebook's page is recorded: ``<stem>.page.json`` beside it."""
    return executed.with_name(executed.name.removesuffix(".ipynb") + PAGE_SUFFIX)


def page_data(book: Notebook) -> str:
    """The JSON text recorded in :func:`page_record` for an executed notebook: its title."""
    return json.dumps({"title": book.title}, ensure_ascii=False, sort_keys=True) + "\n"


def read_mapping(path: Path) -> dict:
    """The JSON mapping recorded in ``path``; {} if the file is missing, unreadable, not JSON or not a mapping
    (a file under ``outputs/`` is read as untrusted data)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recorded_title(executed: Path) -> str | None:
    """The title recorded for an executed notebook (:func:`page_record`); None if missing or unreadable."""
    title = read_mapping(page_record(executed)).get("title")
    return title if isinstance(title, str) else None


def read_title(executed: Path, default: str = "") -> str:
    """An executed notebook's title: the recorded one if there is one, else read from the notebook itself
    (an older outputs folder); ``default`` if neither can be read."""
    title = recorded_title(executed)
    if title is not None:
        return title
    import nbformat

    try:
        return notebook_title(nbformat.read(str(executed), as_version=4), default)
    except Exception:  # an unreadable notebook keeps its default
        return default


def read_parameters(folder: Path) -> dict:
    """A scenario's recorded parameters (``parameters.json``) as plain data; {} if missing or unreadable."""
    return read_mapping(folder / "parameters.json")


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


def collect(notebook_path: str | Path) -> dict | None:
    """Figures recorded in an executed notebook, or None if it recorded none."""
    return read_notebook(Path(notebook_path)).figures or None


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


def calculations(books: list[Notebook]) -> list[dict]:
    """Every notebook's recorded calculations (inputs and formulas), in notebook order, each with its notebook."""
    return [{**q, "notebook": book.stem} for book in books for q in book.figures.get(CALCULATIONS_KEY) or []]
