"""The stakeholder site: one page per scenario x notebook and an index, with no code and no network.

Pages come from nbconvert with the input cells and prompts removed. nbconvert's templates load
scripts (MathJax, require.js) from CDNs; every element that would fetch from another host is
removed, so a page opened from disk makes no request off the machine. Charts are already
embedded as data URIs. Everything a user wrote (titles, descriptions, parameters) is escaped, and
every page and the index pass the allowlist of :mod:`valuechain.publish.sanitize` before they are
written, so markup in a tampered executed notebook does not reach a page either.

The pages need no script, so none is shipped: every ``<script>`` element is removed, and every
page and the index carry a Content-Security-Policy that allows no script at all (nor any
request off the page), so a value that escaped escaping still could not run.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from pathlib import Path

from valuechain import mime, nested, paths
from valuechain.escape import html_text
from valuechain.publish import sanitize
from valuechain.publish.exports import listing
from valuechain.publish.outputs import (PLAIN_NAME, notebook_problem, notebook_title, read_json_mapping, read_mapping,
                                        read_parameters, read_title, warn)
from valuechain.files import atomic_write_text

EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"'](?:https?:)?//[^\"']*[\"'][^>]*>\s*</script>", re.I)
FETCHING_SCRIPT = re.compile(r"<script\b[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>", re.I | re.S)
EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"'](?:https?:)?//[^\"']*[\"'][^>]*/?>", re.I)
ANY_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/>", re.I | re.S)
# No script; images, styles and fonts only from the page itself (data URIs and inline styles).
CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "font-src data:; base-uri 'none'; form-action 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
HEADING = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)(?:<a class="anchor-link".*?)?</h2>', re.S)
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b}
.vc-header{background:#f4f6f8;border-bottom:1px solid #d0d7de;padding:1.2rem 2rem}
.vc-header h1{margin:.2rem 0 .4rem;font-size:1.5rem}.vc-meta{color:#555;font-size:.9rem}
.vc-header nav a{margin-right:1rem}.vc-wrap{padding:1rem 2rem}.vc-scroll{overflow-x:auto}
.vc-wrap p,.vc-wrap ul{max-width:70rem}
table.vc{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
table.vc td,table.vc th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
table.vc th{background:#eef1f4}.vc-failed{color:#b00020;font-weight:bold}.vc-ok{color:#116329}
details{margin:.5rem 0}
div.vc-table table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0;table-layout:auto}
div.vc-table table caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
div.vc-table table th,div.vc-table table td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;
vertical-align:top;white-space:normal}
div.vc-table table thead th{background:#eef1f4;vertical-align:bottom}
div.vc-table table .vc-num,table.vc .vc-num{text-align:right;font-variant-numeric:tabular-nums}
.vc-source{color:#555;font-size:.8rem;margin:.2rem 0 1rem;max-width:70rem}
.vc-overdue{background:#fff4e5;border-left:4px solid #b45309;padding:.35rem .7rem;margin:.5rem 0 0;font-size:.85rem;max-width:70rem}
"""
INDEX_CSS = """
.vc-compare-scroll{max-width:100%;border:1px solid #d0d7de;margin:.5rem 0}
table.vc-compare{font-size:.8rem;margin:0;border-collapse:separate;border-spacing:0}
table.vc-compare th,table.vc-compare td{padding:.25rem .45rem;overflow-wrap:normal;word-break:normal;hyphens:manual;
border-width:0 1px 1px 0}
table.vc-compare td.vc-num{white-space:nowrap}
table.vc-compare thead th{vertical-align:bottom;font-weight:600;min-width:4.5rem}
table.vc-compare th[scope=row],table.vc-compare th.vc-first{position:sticky;left:0;z-index:1;width:17rem;min-width:13rem;
font-weight:normal;background:#fff;box-shadow:1px 0 0 #d0d7de}
table.vc-compare thead th.vc-first{background:#eef1f4;font-weight:600}
table.vc-compare tr.vc-group th{background:#dde3ea;text-align:left;font-style:italic}
table.vc-compare tr.vc-group th span{position:sticky;left:.45rem}
.vc-period{display:block;font-weight:normal;color:#555;font-size:.72rem;margin-top:.1rem}
td.vc-diff{background:#fff1b8;font-weight:600}
td.vc-missing{color:#b00020}
.vc-mark{font-size:.65rem;margin-left:.1rem}
#all-scenarios{max-width:none;font-size:.85rem;line-height:1.5}
#all-scenarios .vc-question{font-style:italic}
.vc-notes{font-size:.8rem;color:#333;max-width:none}
.vc-card{border-top:1px solid #d0d7de;padding:.5rem 0}
table.vc-params{width:100%;table-layout:fixed}
table.vc-params caption{text-align:left;font-weight:600;padding:.3rem 0}
table.vc-params th:nth-child(1){width:22%}table.vc-params th:nth-child(2),table.vc-params th:nth-child(3){width:14%}
table.vc-params td{overflow-wrap:break-word}
.vc-key{display:block;color:#666;font-size:.72rem}
@page{size:A4 landscape;margin:10mm}
@media print{
body{font-size:9pt}.vc-header,.vc-wrap{padding:.3rem 0}
table.vc-compare{font-size:7pt}.vc-period{font-size:6pt}
.vc-compare-scroll{overflow:visible}table.vc-compare th[scope=row]{position:static}
a{color:inherit;text-decoration:none}tr,.vc-card{break-inside:avoid}
td.vc-diff{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def strip_external(page: str) -> str:
    """Remove every script and stylesheet that would be fetched from another host."""
    page = EXTERNAL_SCRIPT.sub("", page)
    page = FETCHING_SCRIPT.sub("", page)  # e.g. the loader that imports mermaid from a CDN
    return EXTERNAL_LINK.sub("", page)


def without_scripts(page: str) -> str:
    """``page`` with every script element removed (the pages need none) and the Content-Security-Policy
    as the first element of its head, so that it governs everything after it."""
    page = ANY_SCRIPT.sub("", page)
    return re.sub(r"(<head\b[^>]*>)", lambda m: m.group(1) + CSP_META, page, count=1, flags=re.I)


@functools.lru_cache(maxsize=1)
def _exporter():
    # Built once per process: loading the templates costs more than converting a notebook.
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.optimistic_validation = True  # the notebook is checked once after the preprocessors, not after each
    return exporter


def _html(nb, name: str) -> str:
    """``nb`` as nbconvert's lab template renders it, titled ``name``: what ``HTMLExporter.from_notebook_node``
    does (the same filters, then the template), but for its last pass through BeautifulSoup, which
    :func:`finish` does on the sanitized page. A test holds the page to the one the whole exporter gives."""
    from nbconvert.exporters import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    exporter = _exporter()
    resources = exporter._init_resources({"metadata": {"name": name}})
    language = nb.metadata.get("language_info", {})
    lexer = language.get("pygments_lexer", language.get("name", None))
    exporter.register_filter("highlight_code", exporter.filters.get(
        "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=exporter)))
    exporter.register_filter("filter_data_type", WidgetsDataTypeFilter(
        notebook_metadata=exporter._nb_metadata, parent=exporter, resources=resources))
    return TemplateExporter.from_notebook_node(exporter, nb, resources)[0]


# A piece of the sanitizer's markup: an end tag, a start tag (each attribute double-quoted), or text.
TOKEN = re.compile(r'<(/?)([a-z][a-z0-9]*)((?: [^\s"\'>/=]+="[^"]*")*)>|[^<]+')
ATTRIBUTE = re.compile(r' ([^\s"\'>/=]+)="([^"]*)"')
BLANK = re.compile(r"[ \t\n\r\f]+")  # a text of HTML's blanks only
NO_ALT = "No description has been provided for this image"  # nbconvert's text for an image that has none
FOCUSABLE = frozenset({"jp-Cell-inputWrapper", "jp-OutputArea-output"})  # the divs nbconvert makes tab stops


def finish(page: str) -> str:
    """The sanitized ``page`` with the last pass of nbconvert's HTML exporter done on what follows its header
    (the site's own, which nbconvert never sees).

    ``HTMLExporter.from_notebook_node`` ends by reading its whole page with BeautifulSoup and writing it
    back, half of a page's time. That gives every image without an alternative text nbconvert's, makes
    every cell's input wrapper and output a tab stop (``tabindex="0"``; the lab template's body is the
    ``.jp-Notebook`` they are in), writes every tag's attributes in name order, the classes one space
    apart, and every text of blanks alone between two tags (outside ``pre``) as one newline, or one space
    if it has none. The sanitizer reads the page's body again anyway, so this is done on what it writes
    instead: there every start tag is a name and double-quoted attributes and every ``<`` of text is
    escaped, so a pattern reads the body piece by piece from its first tag, the header's pieces as they
    are and the rest rewritten, and never takes a tag written inside an attribute's value for one. A body
    it cannot read so, piece after piece to its end, is left as the sanitizer wrote it (the pass changes
    nothing a reader sees). The one difference: blanks on both sides of markup the sanitizer takes out
    (a comment, a script) end up one text here, written as one newline or space, where nbconvert's pass
    left two.
    """
    start, end = page.index("<body", page.index("\n<body")), page.rindex("</body>")
    out, position, header, pre = [], start, True, 0  # pre: how many pre elements the text is in
    for found in TOKEN.finditer(page, start, end):
        if found.start() != position:  # a "<" no pattern reads: the pass stops, and the page stays as it was
            return page
        position = found.end()
        closing, name, attributes = found.groups()
        if header:
            out.append(found.group(0))
            header = not (closing and name == "header")
        elif name is None:
            text = found.group(0)
            out.append(("\n" if "\n" in text else " ") if not pre and BLANK.fullmatch(text) else text)
        else:
            pre += (-1 if closing else 1) if name == "pre" else 0
            out.append(found.group(0) if closing else _start_tag(name, attributes))
    if position != end or header:
        return page
    return page[:start] + "".join(out) + page[end:]


def _start_tag(name: str, attributes: str) -> str:
    """A start tag as BeautifulSoup writes it back: nbconvert's alternative text or tab stop added, the
    classes one space apart, the attributes in name order."""
    values = dict(ATTRIBUTE.findall(attributes))
    classes = values.get("class", "").split()
    if "class" in values:
        values["class"] = " ".join(classes)
    if name == "img" and "alt" not in values:
        values["alt"] = NO_ALT
    elif name == "div" and not FOCUSABLE.isdisjoint(classes):
        values["tabindex"] = "0"
    return "<" + name + "".join(f' {key}="{values[key]}"' for key in sorted(values)) + ">"


HIDDEN_MIME = (mime.METRICS,)  # outputs that are data for the runner, never shown on a page
DATA_MIME = (mime.METRICS, mime.TABLE, mime.CHART)  # data the exports read; a page shows the HTML beside it


def for_page(nb):
    """A copy of ``nb`` as a page shows it: outputs marked ``{"valuechain": {"page": false}}`` (the
    scenario block, which the page header shows; the key figures, which are data) left out, with
    the cells they leave empty, and the data the exports read dropped from the rest.

    ``nb`` is left as it is; what the copy keeps unchanged (cells, outputs, metadata) it shares with
    ``nb`` rather than copying the whole notebook with the data it drops (nbconvert copies what it converts).
    """
    from nbformat import NotebookNode

    kept = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.outputs:
            outputs = [_without_data(o) for o in cell.outputs
                       if (o.get("metadata") or {}).get("valuechain", {}).get("page") is not False
                       and not any(m in (o.get("data") or {}) for m in HIDDEN_MIME)]
            if not outputs:
                continue
            cell = NotebookNode({**cell, "outputs": outputs})
        kept.append(cell)
    return NotebookNode({**nb, "cells": kept})


def _without_data(output):
    """``output`` without the data the exports read (a copy if it had any)."""
    from nbformat import NotebookNode

    data = output.get("data") or {}
    if not any(kind in data for kind in DATA_MIME):
        return output
    return NotebookNode({**output, "data": NotebookNode({k: v for k, v in data.items() if k not in DATA_MIME})})


def _cell(value) -> str:
    """A parameter's value as text: a list comma-separated, none as nothing."""
    return ", ".join(map(str, value)) if isinstance(value, list) else "" if value is None else str(value)


def _parameters_table(parameters: dict) -> str:
    shown = nested.dotted({k: v for k, v in parameters.items() if k not in ("name", "title", "description")})
    rows = "".join(f"<tr><td>{html_text(k)}</td><td>{html_text(_cell(v))}</td></tr>" for k, v in shown.items() if v != {})
    return f'<table class="vc"><thead><tr><th>Parameter</th><th>Value</th></tr></thead><tbody>{rows}</tbody></table>'


def overdue_sentence() -> str:
    """The earnings calendar's overdue reports as of today, in a sentence ("" when none is overdue)."""
    from valuechain.dataset import calendar
    from valuechain.dataset.load import load_dataset

    return calendar.overdue_sentence(calendar.overdue(load_dataset()))


def overdue_banner(sentence: str) -> str:
    """The banner every page carries under its data vintage, naming the reports that are overdue ("" when none is)."""
    return f'<div class="vc-overdue">{html_text(sentence)}</div>' if sentence else ""


def notebook_page(executed: Path, parameters: dict, vintage: str, scenario: str | None = None, overdue: str = "") -> str:
    """Self-contained HTML page of one executed notebook under its scenario's header.

    Renders from plain data: the executed notebook (its title is its first heading), the
    scenario's recorded parameters (``parameters.json``: title, description and every value,
    read as data and never validated again), the data vintage and the sentence naming the overdue
    reports (``overdue``, from :func:`overdue_sentence`). ``scenario`` defaults to the folder the notebook is in.
    """
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    name = scenario or executed.parent.name
    title = notebook_title(nb, executed.stem)
    s_title, description = parameters.get("title") or name, parameters.get("description") or ""
    body = without_scripts(strip_external(_html(for_page(nb), f"{title} - {s_title}")))
    toc = "".join(f'<li><a href="#{html_text(anchor)}">{re.sub("<[^>]+>", "", text).strip()}</a></li>'
                  for anchor, text in HEADING.findall(body))
    header = (
        f'<header class="vc-header"><nav><a href="../index.html">All scenarios</a>'
        f'<a href="{html_text(executed.stem)}.ipynb">Executed notebook (.ipynb)</a></nav>'
        f"<h1>{html_text(title)}</h1>"
        f'<div class="vc-meta">Scenario <strong>{html_text(name)}</strong>: {html_text(s_title)}. {html_text(description)}<br>'
        f"Data vintage: filed figures through {html_text(vintage)}. Run on {dt.date.today().isoformat()}.</div>{overdue_banner(overdue)}"
        f"<details><summary>Parameters this page ran with</summary>{_parameters_table(parameters)}</details>"
        f"<details open><summary>Contents</summary><ol>{toc}</ol></details></header>"
    )
    style = f"<style>{CSS}</style>"
    body = body.replace("</head>", style + "</head>", 1)
    return finish(sanitize.page(re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + header, body, count=1), CSP))


def _titles(outputs: Path, names) -> dict[str, str]:
    """Notebook stem -> title, from the first executed copy found (a good copy before a failed one);
    the title recorded at the run is read, the notebook itself only when none was recorded."""
    titles = {}
    for name in names:
        for executed in sorted((outputs / name).glob("*.ipynb"), key=lambda p: p.name.endswith(".failed.ipynb")):
            stem = executed.stem.removesuffix(".failed")
            if stem not in titles:
                titles[stem] = read_title(executed, stem)
    return titles


def _links(outputs: Path, name: str, status: dict, notebooks, titles: dict, broken: dict | None = None) -> list[str]:
    """The index's lines for one scenario's items: a link to each page, and every failure marked with its
    reason, whether or not a failed notebook was kept (a full disk, a dead worker leave none); an item
    whose executed notebook could not be read (``broken``: stem -> why) is marked too."""
    broken = broken or {}
    pages = {}
    for page in sorted((outputs / name).glob("*.ipynb")):
        stem = page.stem.removesuffix(".failed")
        pages.setdefault(stem, {})["failed" if page.name.endswith(".failed.ipynb") else "good"] = page
    failures = {stem for (scenario, stem), info in status.items()
                if scenario == name and isinstance(info, dict) and info.get("status") == "failed"}
    links = []
    for stem in sorted(set(pages) | failures | set(broken)):
        if notebooks is not None and stem not in notebooks:
            continue
        info = status.get((name, stem), {})
        info = info if isinstance(info, dict) else {}
        title = titles.get(stem, stem)
        named = f"{stem} ({title})" if title != stem else stem
        failed = pages.get(stem, {}).get("failed")
        if stem in failures or (failed is not None and info.get("status", "failed") == "failed"):
            cell = info.get("failing_cell")
            where = f" at cell In[{cell}]" if isinstance(cell, int) else ""
            reason = info.get("error") or "see the failed notebook"
            kept = (f'(<a href="{html_text(name)}/{html_text(failed.name)}">failed notebook</a>)' if failed is not None
                    else "(no failed notebook was kept)")
            links.append(f'<li class="vc-failed">FAILED: {html_text(named)}{html_text(where)}: {html_text(reason)} {kept}</li>')
        if stem in broken:
            links.append(f'<li class="vc-failed">BROKEN: {html_text(named)}: its executed notebook is {html_text(broken[stem])}; '
                         f"run 'valuechain run {html_text(name)}' to execute it again</li>")
        elif "good" in pages.get(stem, {}) and (outputs / name / f"{stem}.html").exists():
            good = pages[stem]["good"]
            links.append(f'<li><a href="{html_text(name)}/{html_text(stem)}.html">{html_text(title)}</a> '
                         f'(<a href="{html_text(name)}/{html_text(good.name)}">notebook</a>)</li>')
    return links


def _export_links(outputs: Path, name: str) -> str:
    found = listing(outputs / name)
    if not found:
        return ""
    files = [f'<a href="{html_text(name)}/{html_text(p.name)}">{html_text(label)}</a>' for label, p in found["files"]]
    charts = [f'{html_text(title)} (<a href="{html_text(name)}/{html_text(png.name)}">PNG</a>, <a href="{html_text(name)}/{html_text(svg.name)}">SVG</a>)'
              for title, png, svg in found["charts"]]
    out = f'<p class="vc-exports">Downloads: {", ".join(files)}.</p>' if files else ""
    if charts:
        out += f'<details class="vc-charts"><summary>Charts as images ({len(charts)})</summary><ul>' + \
               "".join(f"<li>{c}</li>" for c in charts) + "</ul></details>"
    return out


def index_page(outputs: Path, scenarios=None, notebooks=None, broken: dict | None = None,
               overdue: str | None = None) -> str:
    """The index: the comparison, every scenario with its differences from base, links to every page,
    notebook and export, failures marked.

    It shows the current outputs: ``scenarios`` and ``notebooks`` (default: all found under
    ``outputs``) are the ones that still exist, and a failure is shown only while it is the latest
    run of its item (run.json). ``broken`` ((scenario, notebook) -> why) marks the items whose
    executed notebook publish could not read. ``overdue`` (default: :func:`overdue_sentence`) is the banner's sentence.
    """
    # Here, not at the top: the comparison's labels load pandas, which a run that changed nothing
    # never needs (see publish's ``when_changed``).
    from valuechain.publish import comparison

    run = read_mapping(outputs / "run.json").get("items")
    status = {(i["scenario"], i["notebook"]): i for i in (run if isinstance(run, list) else [])
              if isinstance(i, dict) and isinstance(i.get("scenario"), str) and isinstance(i.get("notebook"), str)}
    broken = broken or {}
    names = comparison.scenario_order(p.parent.name for p in outputs.glob("*/parameters.json")
                                      if (scenarios is None or p.parent.name in scenarios)
                                      and not p.parent.is_symlink())  # a link out of the folder is never read
    titles = _titles(outputs, names)
    params = {name: read_parameters(outputs / name) for name in names}
    cards = []

    def mine(name):
        return {stem: why for (scenario, stem), why in broken.items() if scenario == name}

    for name in names:
        diff = ""
        if name != comparison.BASE and comparison.BASE in params:
            diff = comparison.differences_html(name, params[comparison.BASE], params[name])
        cards.append(f'<section class="vc-card" id="scenario-{html_text(name)}"><h3>{html_text(params[name].get("title", name))} '
                     f"<small>({html_text(name)})</small></h3><p>{html_text(params[name].get('description', ''))}</p>"
                     f"<ul>{''.join(_links(outputs, name, status, notebooks, titles, mine(name)))}</ul>"
                     f"{_export_links(outputs, name)}{diff}</section>")
    table = comparison.comparison_html(comparison.load(outputs, scenarios, notebooks), titles,
                                       {name: params[name].get("title") for name in names})
    answered = _answer_html(outputs, names) + _changes_html(outputs, names, {n: params[n].get("title") for n in names})
    if table:
        table += '<p class="vc-meta">Every recorded figure: <a href="metrics.csv">metrics.csv</a>.</p>'
    return sanitize.page(
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">{CSP_META}<title>valuechain: who captures the AI profit?</title>"
        f"<style>{CSS}{INDEX_CSS}</style></head><body><header class=\"vc-header\"><h1>Who captures the profit in the AI value chain, "
        "and is downstream demand catching up?</h1>"
        f'<div class="vc-meta">Built on {dt.date.today().isoformat()} from the runs under this folder.</div>'
        f'{overdue_banner(overdue_sentence() if overdue is None else overdue)}</header>'
        f'<div class="vc-wrap">{answered}<h2>Key figures by scenario</h2>{table}<h2>Scenarios</h2>{"".join(cards)}'
        f"{_sweeps_html(outputs)}</div>"
        '</body></html>', CSP)


def _answer_html(outputs: Path, names: list[str]) -> str:
    """The answer first: each question's first sentences on the main scenario's pages (base, else the first)."""
    from valuechain.publish import answer, comparison

    if not names:
        return ""
    main = comparison.BASE if comparison.BASE in names else names[0]
    said = answer.verdicts(outputs / main)
    if not said:
        return ""
    items = "".join(f"<p><strong>{html_text(question)}</strong> {html_text(text)}</p>" for question, text in said)
    return (f'<section class="vc-card" id="answer"><h2>The answer ({html_text(main)})</h2>{items}'
            f'<p class="vc-meta">From the pages of the {html_text(main)} scenario; each question\'s page gives the '
            "figures, their intervals and their sources.</p></section>")


def _changes_html(outputs: Path, names: list[str], scenario_titles: dict) -> str:
    """What changed since the previous run, per scenario (the main one open): the data vintage, the
    parameters and the headline figures that moved, with old and new values (:mod:`valuechain.publish.changes`)."""
    from valuechain.publish import changes

    blocks = []
    for name in names:
        found = changes.changes(outputs / name)
        if found is None:
            continue
        previous, current, lines = found
        when = (f" (run of {html_text(current.get('recorded_on', ''))}, against {html_text(previous.get('recorded_on', ''))})"
                if previous.get("recorded_on") and current.get("recorded_on") else "")
        title = html_text(str(scenario_titles.get(name) or name))
        said = "".join(f"<li>{html_text(line)}</li>" for line in lines) or "<li>No figure moved as the pages show it.</li>"
        blocks.append(f'<details{" open" if not blocks else ""}><summary><strong>{title}</strong>{when}</summary>'
                      f"<ul>{said}</ul></details>")
    if not blocks:
        return ""
    return f'<section class="vc-card" id="changes"><h2>What changed since the previous run</h2>{"".join(blocks)}</section>'


SWEEPS = "sweeps"  # the folder of outputs/ where `valuechain sweep` writes, one folder per sweep
SWEEP_RECORD = "sweep.json"  # what a sweep records for the index (valuechain.batch.sweep.RECORD)
MAX_SWEEPS = 50  # sweeps the index lists, newest first
MAX_TEXT = 1000  # characters of a recorded line the index shows
MAX_RECORD_BYTES = 100_000  # a sweep's record is a few kB


def sweep_record(folder: Path) -> dict | None:
    """A sweep's record (title, what it varied, its spread lines), checked as untrusted data: each a
    string of at most :data:`MAX_TEXT` characters, at most 20 lines; None (with one line on stderr) if not."""
    record = folder / SWEEP_RECORD
    if folder.is_symlink() or not (folder / "index.html").is_file():
        return None
    if record.is_file() and record.stat().st_size > MAX_RECORD_BYTES:
        warn(f"{record}: is larger than the {MAX_RECORD_BYTES:,} bytes a sweep's record takes; the sweep is listed by its folder")
        return {"title": folder.name, "what": "", "spread": []}
    data = read_json_mapping(record, "sweep's record")
    if data is None:
        return None
    title, what, spread = data.get("title"), data.get("what"), data.get("spread", [])
    if not (isinstance(title, str) and isinstance(what, str) and isinstance(spread, list) and len(spread) <= 20
            and all(isinstance(x, str) and len(x) <= MAX_TEXT for x in (title, what, *spread))):
        warn(f"{folder / SWEEP_RECORD}: not a sweep's record (title, what, spread as text); the sweep is listed by its folder")
        return {"title": folder.name, "what": "", "spread": []}
    return {"title": title, "what": what, "spread": spread}


def _sweeps_html(outputs: Path) -> str:
    """The index's list of sweeps: each one's title linked to its page, what it varied and how far the figures moved."""
    root = outputs / SWEEPS
    if not root.is_dir() or root.is_symlink():
        return ""
    folders = sorted((f for f in root.iterdir() if f.is_dir() and not f.is_symlink() and PLAIN_NAME.fullmatch(f.name)),
                     key=lambda f: (f / "index.html").stat().st_mtime if (f / "index.html").is_file() else 0, reverse=True)
    items = []
    for folder in folders[:MAX_SWEEPS]:
        record = sweep_record(folder)
        if record is None:
            continue
        what = f": {html_text(record['what'])}" if record["what"] else ""
        moved = "".join(f"<li>{html_text(line)}</li>" for line in record["spread"])
        items.append(f'<li><a href="{SWEEPS}/{html_text(folder.name)}/index.html">{html_text(record["title"])}</a>{what}'
                     f'{f"<ul>{moved}</ul>" if moved else ""}</li>')
    return f'<section id="sweeps"><h2>Sweeps</h2><ul>{"".join(items)}</ul></section>' if items else ""


INDEX_INPUTS = "index.inputs"  # hash of what index.html was built from (see index_inputs_hash)
RECORDED_SUFFIXES = (".json", ".inputs")  # the small files of a scenario folder whose content the index reads


def index_inputs_hash(outputs: Path, scenarios=None, notebooks=None) -> str:
    """Hash of everything the index is built from, read without building it.

    That is: the scenarios and notebooks that exist, run.json, and in every folder under
    ``outputs`` the names of its files (the links and downloads exist or not) and the content of its
    small recorded files (parameters, figures, recorded titles, the exports' manifest). An item's
    ``.inputs`` hashes the package code too, so a run with changed code changes this hash as well.
    A sweep's record counts too (the index lists the sweeps).
    """
    digest = hashlib.sha256(json.dumps([sorted(scenarios) if scenarios is not None else None,
                                        sorted(notebooks) if notebooks is not None else None]).encode())
    run = outputs / "run.json"
    digest.update(run.read_bytes() if run.is_file() else b"no run.json")
    for folder in sorted(p for p in outputs.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(folder.iterdir()):
            digest.update(f"\0{folder.name}/{path.name}\0".encode())
            if path.name.endswith(RECORDED_SUFFIXES) and path.is_file() and not path.is_symlink():
                digest.update(path.read_bytes())
            record = path / SWEEP_RECORD  # a sweep's record, which the index shows
            if folder.name == SWEEPS and path.is_dir() and record.is_file() and not record.is_symlink():
                with record.open("rb") as f:
                    digest.update(f.read(MAX_RECORD_BYTES + 1))
    return digest.hexdigest()


def publish(outputs: Path | None = None, rerender: bool = True, scenarios=None, notebooks=None,
            when_changed: bool = False) -> Path:
    """Rebuild the site under ``outputs``: every page from its executed notebook, then the index.

    Takes the same lock as ``valuechain run``, so it never renders pages a run is replacing.
    ``scenarios`` and ``notebooks`` (default: all found) are the ones that still exist. With
    ``when_changed`` (and no ``rerender``), an index built from the very same inputs is kept as it
    is (``index.inputs`` records their hash), so a run that changed nothing rewrites nothing.
    """
    from valuechain.files import OutputsLock

    outputs = Path(outputs or paths.OUTPUTS_DIR)
    with OutputsLock(outputs):
        return _publish(outputs, rerender, scenarios, notebooks, when_changed)


def _publish(outputs: Path, rerender: bool, scenarios, notebooks, when_changed: bool = False) -> Path:
    index, marker = outputs / "index.html", outputs / INDEX_INPUTS
    broken: dict[tuple[str, str], str] = {}
    overdue = None
    if rerender:
        from valuechain.publish import exports
        from valuechain.dataset.load import load_dataset

        vintage, overdue = str(load_dataset().vintage), overdue_sentence()
        folders = set()
        for executed in sorted(outputs.glob("*/*.ipynb")):
            if executed.name.endswith(".failed.ipynb"):
                continue
            if (scenarios is not None and executed.parent.name not in scenarios) or (
                    notebooks is not None and executed.stem not in notebooks):
                continue
            if executed.parent.is_symlink():
                if executed.parent not in folders:
                    warn(f"{executed.parent}: is a symbolic link, which publish never follows; it is left out")
                folders.add(executed.parent)
                continue
            page, problem = _page_or_problem(executed, vintage, overdue)
            if page is None:
                warn(f"{executed}: {problem}; its page is left out until 'valuechain run' executes it again")
                broken[(executed.parent.name, executed.stem)] = problem
                continue
            atomic_write_text(executed.with_suffix(".html"), page)
            folders.add(executed.parent)
        for folder in sorted(f for f in folders if not f.is_symlink()):
            exports.write_all(folder, notebooks, vintage, overdue)
    key = index_inputs_hash(outputs, scenarios, notebooks)
    if when_changed and not rerender and index.is_file() and _read_key(marker) == key:
        return index
    marker.unlink(missing_ok=True)  # never a marker that vouches for an index being replaced
    atomic_write_text(index, index_page(outputs, scenarios, notebooks, broken, overdue))
    if not broken:  # an index with broken items marked is never kept as it is
        atomic_write_text(marker, key + "\n")  # written last, as an item's .inputs
    return index


def _page_or_problem(executed: Path, vintage: str, overdue: str = "") -> tuple[str | None, str]:
    """The page of an executed notebook, or (None, why it cannot be read)."""
    problem = "a symbolic link, which is never followed" if executed.is_symlink() else notebook_problem(executed)
    if problem:
        return None, problem
    try:
        return notebook_page(executed, read_parameters(executed.parent), vintage, overdue=overdue), ""
    except RecursionError:
        return None, "nested too deep to read"
    except Exception as exc:  # not JSON, not a notebook, or not of the shape the runner writes
        return None, f"not a readable notebook ({type(exc).__name__})"


def _read_key(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


def find_chromium() -> str | None:
    """Path of a Chromium executable on this machine, or None."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(page: Path, png: Path, width: int = 1700, height: int = 1100) -> Path | None:
    """Screenshot of ``page`` taken by headless Chromium with no network; None if Chromium is absent."""
    import subprocess
    import tempfile

    chromium = find_chromium()
    if chromium is None:
        return None
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        tmp = png.with_name(f".{png.name}.tmp.png")
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                        "--host-resolver-rules=MAP * ~NOTFOUND", f"--screenshot={tmp}", page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
        tmp.replace(png)
    return png
