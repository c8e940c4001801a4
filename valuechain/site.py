"""The stakeholder site: one page per scenario x notebook and an index, with no code and no network.

Pages come from nbconvert with the input cells and prompts removed. nbconvert's templates load
scripts (MathJax, require.js) from CDNs; every element that would fetch from another host is
removed, so a page opened from disk makes no request off the machine. Charts are already
embedded as data URIs. Everything a user wrote (titles, descriptions, parameters) is escaped.

The pages need no script, so none is shipped: every ``<script>`` element is removed, and every
page and the index carry a Content-Security-Policy that allows no script at all (nor any
request off the page), so a value that escaped escaping still could not run.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import json
import re
from pathlib import Path

from valuechain import config
from valuechain.iorw import atomic_write_text

EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"'](?:https?:)?//[^\"']*[\"'][^>]*>\s*</script>", re.I)
FETCHING_SCRIPT = re.compile(r"<script\b[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>", re.I | re.S)
EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"'](?:https?:)?//[^\"']*[\"'][^>]*/?>", re.I)
ANY_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/>", re.I | re.S)
# No script; images, styles and fonts only from the page itself (data URIs and inline styles).
CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "font-src data:; base-uri 'none'; form-action 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
OFF_MACHINE = re.compile(r"""\b(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)
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
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def flatten(data, prefix: str = "") -> list[tuple[str, str]]:
    """Key paths and values of a nested mapping (lists kept as comma-separated text)."""
    rows = []
    if isinstance(data, dict):
        for key in data:
            rows += flatten(data[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list):
        rows.append((prefix, ", ".join(map(str, data))))
    else:
        rows.append((prefix, "" if data is None else str(data)))
    return rows


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


def off_machine_references(page: str) -> list[str]:
    """``src=``/``href=`` attributes and script imports of ``page`` that point off the machine (should be none)."""
    found = [page[m.start(): m.start() + 80] for m in OFF_MACHINE.finditer(page)]
    return found + [m.group(0)[:80] for m in FETCHING_SCRIPT.finditer(page)]


@functools.lru_cache(maxsize=1)
def _exporter():
    # Built once per process: loading the templates costs more than converting a notebook.
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def notebook_page(executed: Path, item, scenario, vintage: str | None = None) -> str:
    """Self-contained HTML page of one executed notebook, with the scenario header."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells
                  if c.cell_type == "markdown" and c.source.startswith("# ")), item.notebook)
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": f"{title} - {scenario.title}"}})
    body = without_scripts(strip_external(body))
    toc = "".join(f'<li><a href="#{_e(anchor)}">{re.sub("<[^>]+>", "", text).strip()}</a></li>'
                  for anchor, text in HEADING.findall(body))
    if vintage is None:
        from valuechain.dataset import load_dataset

        vintage = str(load_dataset().vintage)
    params = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in flatten(scenario.resolved()))
    header = (
        f'<header class="vc-header"><nav><a href="../index.html">All scenarios</a>'
        f'<a href="{_e(item.notebook)}.ipynb">Executed notebook (.ipynb)</a></nav>'
        f"<h1>{_e(title)}</h1>"
        f'<div class="vc-meta">Scenario <strong>{_e(scenario.name)}</strong>: {_e(scenario.title)}. {_e(scenario.description)}<br>'
        f"Data vintage: filed figures through {_e(vintage)}. Run on {dt.date.today().isoformat()}.</div>"
        f"<details><summary>Parameters this page ran with</summary><table class=\"vc\">{params}</table></details>"
        f"<details open><summary>Contents</summary><ol>{toc}</ol></details></header>"
    )
    style = f"<style>{CSS}</style>"
    body = body.replace("</head>", style + "</head>", 1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + header, body, count=1)


KEY_COLUMNS = {
    "01_profit_capture.chips_profit_share": "Chips share of profit",
    "01_profit_capture.servers_profit_share": "Servers share",
    "01_profit_capture.cloud_profit_share": "Cloud share",
    "01_profit_capture.labs_profit_share": "Labs share",
    "01_profit_capture.apps_profit_share": "Apps share",
    "01_profit_capture.chips_profit_share_projected": "Chips share, end of projection",
    "02_demand_gap.d_over_required": "Net external AI revenue / required (R*)",
    "02_demand_gap.closing_rate": "Gap closing rate (log points a year)",
    "02_demand_gap.close_year": "Gap closes (year)",
    "02_demand_gap.prob_closed_by_horizon": "P(gap closed by the horizon)",
    "02_demand_gap.primary_p_value": "p, primary test",
    "02_demand_gap.elasticity": "Elasticity of cloud revenue to capex",
    "02_demand_gap.sequoia_required_usd_bn": "Required revenue, Sequoia (USD bn)",
    "02_demand_gap.actual_usd_bn": "Net external AI revenue earned (USD bn)",
    "03_lab_economics.openai_break_even_year": "OpenAI break-even year",
    "03_lab_economics.anthropic_break_even_year": "Anthropic break-even year",
    "03_lab_economics.cloud_round_tripped_share": "Round-tripped share of cloud AI revenue",
    "04_valuations.ipo_draw_typical_high_usd_bn": "IPO draw at 25% float ($bn)",
    "04_valuations.labs_revenue_needed_usd_bn": "Lab revenue needed, target year ($bn)",
    "04_valuations.labs_revenue_scenario_path_usd_bn": "Lab revenue on the scenario path ($bn)",
}


def _format(column: str, value) -> str:
    if value in (None, ""):
        return "n/a"
    if column.endswith("_year"):
        return f"{float(value):.0f}"
    if column.endswith(("_share", "_projected", "d_over_required")):
        return f"{float(value):.0%}"
    if column.endswith(("p_one_sided", "p_value")):
        return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"
    if column.endswith("_usd_bn"):
        return f"{float(value):,.0f}"
    try:
        return f"{float(value):.2f}"
    except ValueError:
        return str(value)


def index_page(outputs: Path, scenarios=None, notebooks=None) -> str:
    """The index: every scenario, the comparison table, links to every page and notebook, failures marked.

    It shows the current outputs: ``scenarios`` and ``notebooks`` (default: all found under
    ``outputs``) are the ones that still exist, and a failure is shown only while it is the latest
    run of its item (run.json).
    """
    try:
        run = json.loads((outputs / "run.json").read_text()) if (outputs / "run.json").exists() else {"items": []}
        status = {(i["scenario"], i["notebook"]): i for i in run["items"]}
    except (ValueError, KeyError, TypeError):
        status = {}
    metrics = []
    if (outputs / "metrics.csv").exists():
        with open(outputs / "metrics.csv", newline="", encoding="utf-8") as handle:
            metrics = [r for r in csv.DictReader(handle) if scenarios is None or r.get("scenario") in scenarios]
    names = sorted(p.parent.name for p in outputs.glob("*/parameters.json")
                   if scenarios is None or p.parent.name in scenarios)
    cards = []
    for name in names:
        params = json.loads((outputs / name / "parameters.json").read_text())
        links = []
        for page in sorted((outputs / name).glob("*.ipynb")):
            stem = page.stem.removesuffix(".failed")
            if notebooks is not None and stem not in notebooks:
                continue
            info = status.get((name, stem), {})
            if page.name.endswith(".failed.ipynb"):
                if info.get("status", "failed") != "failed":
                    continue  # a later run of the item succeeded
                cell = info.get("failing_cell")
                where = f" at cell In[{cell}]" if cell else ""
                reason = info.get("error") or "see the failed notebook"
                links.append(f'<li class="vc-failed">FAILED: {_e(stem)}{_e(where)}: {_e(reason)} '
                             f'(<a href="{_e(name)}/{_e(page.name)}">failed notebook</a>)</li>')
            elif (outputs / name / f"{stem}.html").exists():
                links.append(f'<li><a href="{_e(name)}/{_e(stem)}.html">{_e(stem)}</a> '
                             f'(<a href="{_e(name)}/{_e(page.name)}">.ipynb</a>)</li>')
        cards.append(f"<section><h3>{_e(params.get('title', name))} <small>({_e(name)})</small></h3>"
                     f"<p>{_e(params.get('description', ''))}</p><ul>{''.join(links)}</ul></section>")
    table = ""
    if metrics:
        cols = [c for c in KEY_COLUMNS if c in metrics[0]]
        head = "".join(f"<th>{_e(KEY_COLUMNS[c])}</th>" for c in cols)
        rows = "".join("<tr><th>" + _e(r["scenario"]) + "</th>" + "".join(f"<td>{_e(_format(c, r[c]))}</td>" for c in cols)
                       + "</tr>" for r in metrics)
        table = (f'<div class="vc-scroll"><table class="vc" id="comparison"><thead><tr><th>Scenario</th>{head}</tr></thead>'
                 f"<tbody>{rows}</tbody></table></div>"
                 '<p class="vc-meta">All recorded figures: <a href="metrics.csv">metrics.csv</a>.</p>')
    return (
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">{CSP_META}<title>valuechain: who captures the AI profit?</title>"
        f"<style>{CSS}</style></head><body><header class=\"vc-header\"><h1>Who captures the profit in the AI value chain, "
        "and is downstream demand catching up?</h1>"
        f'<div class="vc-meta">Built on {dt.date.today().isoformat()} from the runs under this folder.</div></header>'
        f'<div class="vc-wrap"><h2>Key figures by scenario</h2>{table}<h2>Scenarios</h2>{"".join(cards)}</div></body></html>'
    )


def publish(outputs: Path | None = None, rerender: bool = True, scenarios=None, notebooks=None) -> Path:
    """Rebuild the site under ``outputs``: every page from its executed notebook, then the index.

    Takes the same lock as ``valuechain run``, so it never renders pages a run is replacing.
    ``scenarios`` and ``notebooks`` (default: all found) are the ones that still exist.
    """
    from valuechain.iorw import OutputsLock

    outputs = Path(outputs or config.OUTPUTS_DIR)
    with OutputsLock(outputs):
        return _publish(outputs, rerender, scenarios, notebooks)


def _publish(outputs: Path, rerender: bool, scenarios, notebooks) -> Path:
    if rerender:
        from valuechain.dataset import load_dataset
        from valuechain.params import Scenario
        from valuechain.runner import Item

        vintage = str(load_dataset().vintage)
        for executed in sorted(outputs.glob("*/*.ipynb")):
            if executed.name.endswith(".failed.ipynb"):
                continue
            if (scenarios is not None and executed.parent.name not in scenarios) or (
                    notebooks is not None and executed.stem not in notebooks):
                continue
            params = json.loads((executed.parent / "parameters.json").read_text())
            params.pop("name", None)
            scenario = Scenario.model_validate(params | {"name": executed.parent.name})
            page = notebook_page(executed, Item(executed.parent.name, executed.stem), scenario, vintage)
            atomic_write_text(executed.with_suffix(".html"), page)
    index = outputs / "index.html"
    atomic_write_text(index, index_page(outputs, scenarios, notebooks))
    return index


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
