"""Reading ``outputs/`` as plain data: a scenario's recorded parameters, and what each executed
notebook shows (title, executive summary, tables, charts, recorded figures, headlines, sources).

The one reader of executed notebooks: the runner collects the recorded figures here, the site
reads titles, the exports, workbook and deck read tables and charts. Nothing read here is
validated against the scenario schema again, so an older or newer output still publishes.

What the index shows of an executed notebook (its title) is also recorded beside it as plain
data, ``<notebook>.page.json``, when the item runs: the index reads that instead of the notebook,
so it never loads nbformat (over a second to import) for titles it already has.

Everything under ``outputs/`` is untrusted: a folder of outputs travels (zipped, sent, unpacked),
so any file in it may be missing, cut short, not JSON, nested too deep or not what its name says,
and any path it names may point elsewhere. A file that cannot be read is treated as missing, with
one line on stderr naming it (:func:`warn`); a path read from a file is used only if it names a
file inside its scenario folder (:func:`contained`).
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from valuechain import mime
from valuechain.exceptions import one_line
from valuechain.files import atomic_write_text
from valuechain.report.notebook import CALCULATIONS_KEY, HEADLINES_KEY, SOURCES_KEY

MARKER = ".valuechain"  # written in an outputs folder by the runner: this folder is valuechain's
STATUS = "run.json"  # latest status of every item, written by every run of every version


_WARNED: set[str] = set()  # each line once per process: publish reads a broken file for the page and the exports


def warn(message: str) -> None:
    """One line on stderr about a file under ``outputs/`` that is ignored or treated as missing (once per process)."""
    line = f"valuechain: warning: {one_line(message)}"
    if line not in _WARNED:
        _WARNED.add(line)
        print(line, file=sys.stderr)


def parse_json(path: Path) -> tuple[object, str]:
    """The JSON data in ``path`` and "" , or (None, why it cannot be read): missing, unreadable, not UTF-8,
    not JSON (cut short, empty) or nested too deep for the parser."""
    try:
        return json.loads(Path(path).read_bytes().decode("utf-8")), ""
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or type(exc).__name__})"
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except ValueError as exc:
        return None, f"not JSON ({str(exc).split(':')[0] or 'empty'})"
    except RecursionError:
        return None, "nested too deep to read"


def read_json_mapping(path: Path, what: str = "file") -> dict | None:
    """The JSON mapping in ``path``; None, with one line on stderr naming the file, if it exists and is not one."""
    data, problem = parse_json(path)
    if problem == "missing":
        return None
    if not problem and not isinstance(data, dict):
        problem = "not a JSON object"
    if problem:
        warn(f"{path}: {problem}; the {what} is treated as missing")
        return None
    return data


STATED_VINTAGE = re.compile(r"filed figures through ([0-9A-Za-z -]{4,20})")  # as a page's header states the data vintage
VINTAGE_WITHIN = 2_000_000  # characters of a page searched: the header follows nbconvert's styles (about 265 kB)


def stated_vintage(folder: Path, stem: str) -> str:
    """The data vintage the page ``<stem>.html`` in a scenario's ``folder`` states ("" when it is missing or does not say)."""
    try:
        with open(Path(folder) / f"{stem}.html", encoding="utf-8", errors="replace") as page:
            found = STATED_VINTAGE.search(page.read(VINTAGE_WITHIN))
    except OSError:
        return ""
    return found.group(1).strip() if found else ""


PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def contained(folder: Path, name, source: Path | None = None) -> Path | None:
    """``folder / name`` if ``name``, read from a file under ``outputs/`` (``source``), names a file inside ``folder``.

    The name must be a plain file name (no folder part, no ``..``, not absolute, not hidden), and what
    it names, links resolved, must stay inside ``folder``; otherwise it is ignored with one line on stderr.
    """
    folder = Path(folder)
    reason = ""
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name) or name in (".", ".."):
        reason = "is not a plain file name in its folder"
    else:
        try:
            if not (folder / name).resolve().is_relative_to(folder.resolve()):
                reason = "is a link out of its folder"
        except (OSError, RuntimeError):  # a loop of links
            reason = "cannot be resolved"
    if reason:
        warn(f"{source or folder}: the path {str(name)[:80]!r} {reason}; it is ignored")
        return None
    return folder / name


def is_outputs_folder(folder: Path) -> bool:
    """Whether ``folder`` is a valuechain outputs folder: it holds the marker the runner writes
    (:data:`MARKER`), or, made by an older version that wrote no marker, a ``run.json`` of the
    runner's shape (an object with a list of items), which every run of every version has written."""
    folder = Path(folder)
    if (folder / MARKER).is_file() and not (folder / MARKER).is_symlink():
        return True
    data, problem = parse_json(folder / STATUS)
    return not problem and isinstance(data, dict) and isinstance(data.get("items"), list)


def mark(folder: Path) -> None:
    """Write the marker that makes ``folder`` a valuechain outputs folder (:func:`is_outputs_folder`), if missing."""
    marker = Path(folder) / MARKER
    if not marker.is_file() or marker.is_symlink():
        atomic_write_text(marker, "valuechain writes its outputs here: 'valuechain clean' works only in a folder "
                                  "holding this file.\n")


NOTEBOOK_END = re.compile(rb'"nbformat":\s*4,\s*"nbformat_minor":\s*\d+\s*}\s*$')


def notebook_problem(path: Path, deep: bool = False) -> str:
    """Why the executed notebook at ``path`` cannot be used ("" if it can), without loading nbformat.

    The quick check reads its first and last bytes only (nbformat writes a notebook's keys in order,
    so a whole one ends with its format version): it finds an empty, cut-short or non-notebook file.
    ``deep`` also parses all of it, which finds a notebook nested too deep to read.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            handle.seek(max(0, handle.seek(0, 2) - 200))
            tail = handle.read()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    if not head.strip():
        return "empty"
    if not head.lstrip().startswith(b"{") or not NOTEBOOK_END.search(tail):
        return "not a whole notebook (cut short, or not a notebook)"
    if deep:
        data, problem = parse_json(path)
        if problem:
            return problem
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            return "not a notebook"
    return ""


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
    """The JSON mapping recorded in ``path``; {} if the file is missing, unreadable, not JSON, nested too
    deep or not a mapping (a file under ``outputs/`` is read as untrusted data)."""
    data, problem = parse_json(path)
    return data if not problem and isinstance(data, dict) else {}


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
    """A scenario's recorded parameters (``parameters.json``) as plain data; {} if missing or unreadable
    (with one line on stderr)."""
    return read_json_mapping(folder / "parameters.json", "scenario's parameters file") or {}


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


def read_scenario(folder: Path, notebooks=None, broken: dict | None = None) -> list[Notebook]:
    """Every successfully executed notebook of a scenario (limited to ``notebooks`` if given), in name order.

    A notebook that cannot be read is left out with one line on stderr, and added to ``broken``
    (stem -> why) if given.
    """
    books = []
    for path in sorted(folder.glob("*.ipynb")):
        if path.name.endswith(".failed.ipynb") or (notebooks is not None and path.stem not in notebooks):
            continue
        book, problem = read_checked(path)
        if book is not None:
            books.append(book)
        elif broken is not None:
            broken[path.stem] = problem
    return books


def read_checked(path: Path) -> tuple[Notebook | None, str]:
    """:func:`read_notebook` of ``path``, or (None, why) with one line on stderr if it cannot be read."""
    problem = notebook_problem(path) if not path.is_symlink() else "a symbolic link, which is never followed"
    if not problem:
        try:
            return read_notebook(path), ""
        except RecursionError:
            problem = "nested too deep to read"
        except Exception as exc:  # not JSON, not a notebook, or not of the shape the runner writes
            problem = f"not a readable notebook ({type(exc).__name__})"
    warn(f"{path}: {problem}; its page is left out until 'valuechain run' executes it again")
    return None, problem


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
