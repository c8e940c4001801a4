"""A zip to send: the pages, briefs, workbooks and decks of the scenarios, without the executed notebooks.

``valuechain bundle [SCENARIO ...]`` writes it (by default ``outputs/valuechain-bundle.zip``). Inside,
paths are relative to the outputs folder (``index.html``, ``base/02_demand_gap.html``,
``base/base-brief.pdf``), so the unpacked folder opens as the site does. Only files valuechain wrote are
taken, and the outputs folder is untrusted input (:mod:`valuechain.publish.outputs`): a scenario
folder is one with recorded parameters, not a link; a page is the ``.html`` of an executed notebook
beside it; the brief, workbook, deck and charts are those the exports' manifest lists, each a plain file
name inside its folder (:func:`valuechain.publish.outputs.contained`); every member is an ordinary
file, never a link, so a link or a ``..`` planted in the folder is not followed.

The pages carry their charts inside them, so the chart files are extra weight: the bundle takes the
SVG copies (:data:`CHARTS`), a fifth of the PNGs' size zipped, and the index's PNG links are the
only links the bundle leaves without a file.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from valuechain.exceptions import OutputError
from valuechain.files import atomic_write_bytes
from valuechain.publish.exports import listing
from valuechain.publish.outputs import warn

DEFAULT_NAME = "valuechain-bundle.zip"
CHARTS = "svg"  # which copy of each chart the bundle takes: "svg", "png" or "" (none)
TOP_FILES = ("index.html", "metrics.csv")  # the index and the figures it links, when present


def _ordinary(path: Path) -> bool:
    """An ordinary file that is not a link (a link is never followed, wherever it points)."""
    return path.is_file() and not path.is_symlink()


def scenario_folders(outputs: Path, scenarios=None) -> list[Path]:
    """The scenario folders to bundle: ``scenarios`` (default: every folder with recorded parameters), none a link."""
    outputs = Path(outputs)
    found = sorted(p.parent for p in outputs.glob("*/parameters.json") if not p.parent.is_symlink())
    if scenarios is None:
        return found
    by_name = {p.name: p for p in found}
    missing = [name for name in scenarios if name not in by_name]
    if missing:
        raise OutputError(f"{outputs / missing[0]}: no outputs for scenario '{missing[0]}'; run "
                          f"'valuechain run {missing[0]}' first")
    return [by_name[name] for name in dict.fromkeys(scenarios)]


def members(outputs: Path, scenarios=None, charts: str = CHARTS) -> list[tuple[Path, str]]:
    """(file, its name in the zip) for every file the bundle holds, in the order it holds them."""
    outputs = Path(outputs)
    chosen: list[tuple[Path, str]] = []
    for name in TOP_FILES:
        if _ordinary(outputs / name):
            chosen.append((outputs / name, name))
    for folder in scenario_folders(outputs, scenarios):
        files = []
        for executed in sorted(folder.glob("*.ipynb")):
            page = executed.with_suffix(".html")
            if not executed.name.endswith(".failed.ipynb") and _ordinary(page):
                files.append(page)
        found = listing(folder)  # only manifest entries that are plain names inside the folder
        files += [path for _, path in found.get("files", [])]
        if charts:
            files += [png if charts == "png" else svg for _, png, svg in found.get("charts", [])]
        for path in files:
            if not _ordinary(path) or path.resolve().parent != folder.resolve():
                warn(f"{path}: not an ordinary file of its scenario folder; it is left out of the bundle")
                continue
            chosen.append((path, f"{folder.name}/{path.name}"))
    return chosen


def build(outputs: Path, scenarios=None, charts: str = CHARTS) -> bytes:
    """The bundle's zip bytes."""
    chosen = members(outputs, scenarios, charts)
    if not any("/" in arcname for _, arcname in chosen):
        raise OutputError(f"{outputs}: no pages to bundle; run 'valuechain report' (or 'valuechain run') first")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path, arcname in chosen:
            archive.write(path, arcname)
    return out.getvalue()


def zip_names(path: Path) -> list[str]:
    """The member names of the zip at ``path``."""
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def write(outputs: Path, scenarios=None, out: Path | None = None, charts: str = CHARTS) -> Path:
    """Write the bundle to ``out`` (default: ``outputs/valuechain-bundle.zip``) and return its path."""
    path = Path(out) if out is not None else Path(outputs) / DEFAULT_NAME
    atomic_write_bytes(path, build(outputs, scenarios, charts))
    return path
