"""The published site as a stakeholder sees it: headless Chromium, network blocked."""
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from valuechain.batch import runner
from valuechain.publish import site
from valuechain.scenario.load import load_scenario

CHROMIUM = site.find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="headless Chromium is not installed (CI installs it)")


SHIPPED = runner.list_scenarios()
NOTEBOOKS = runner.notebook_names()


@pytest.fixture(scope="module")
def published(executed_outputs):
    """The site of every shipped scenario and notebook (the session's batch run)."""
    assert sorted(p.name for p in executed_outputs.iterdir() if p.is_dir() and (p / "metrics.json").exists()) == sorted(SHIPPED)
    return site.publish(executed_outputs, rerender=False)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    assert CHROMIUM, "CI must provide Chromium"
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=list(site.CHROMIUM_FLAGS[1:]))
        yield b
        b.close()


def _open(browser, url, width=1280):
    page = browser.new_page(viewport={"width": width, "height": 1000})
    problems = []
    page.on("requestfailed", lambda r: problems.append(f"failed request {r.url}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    page.goto(url, wait_until="load")
    return page, problems


def _local_links(page):
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return [h for h in hrefs if h.startswith("file://")]


def test_index_renders_with_table_and_working_links(browser, published):
    page, problems = _open(browser, published.as_uri())
    assert problems == []
    assert page.locator("#comparison").is_visible()
    assert page.locator("#comparison thead th.vc-scenario").count() == len(SHIPPED)  # one column per scenario
    assert page.locator("#comparison thead th a").all_inner_texts()[0] == load_scenario("base").title  # base first
    links = _local_links(page)
    targets = {Path(unquote(urlparse(h).path)) for h in links}
    names = {t.name for t in targets}
    assert names >= {"01_profit_capture.html", "02_demand_gap.html", "metrics.csv", "base.xlsx", "base.pptx",
                     "profit-pool-2025.png", "profit-pool-2025.svg"}
    assert all(t.exists() for t in targets), [t for t in targets if not t.exists()]
    texts = page.eval_on_selector_all("a[href$='.html']", "els => els.map(e => e.innerText)")
    assert "Profit capture across the AI value chain" in texts and not any(t.endswith(".html") or "_" in t for t in texts)
    page.screenshot(path=str(published.parent / "index.png"), full_page=True)
    assert (published.parent / "index.png").stat().st_size > 10_000
    page.close()


BROKEN_WORDS = """root => {
    // Words (between spaces and hyphens) whose letters sit on more than one line: broken mid-word.
    const broken = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.data.matchAll(/[^\\s\\u200b-]+/g)) {  // a dotted key may wrap after a dot (U+200B)
            const range = document.createRange();
            range.setStart(node, m.index);
            range.setEnd(node, m.index + m[0].length);
            const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
            if (lines.size > 1) broken.push(m[0]);
        }
    }
    return broken;
}"""
WIDTH_JS = """() => {
    const table = document.querySelector('#comparison');
    const scroll = table.closest('.vc-compare-scroll');
    const cells = Array.from(table.querySelectorAll('th, td'));
    return {page: document.documentElement.scrollWidth, right: scroll.getBoundingClientRect().right,
            hidden: cells.filter(c => c.getBoundingClientRect().right > window.innerWidth + 0.5).length,
            clipped: cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText)};
}"""


def test_the_index_fits_1366_pixels_and_a4_landscape(browser, published):
    page, _ = _open(browser, published.as_uri(), width=1366)
    screen = page.evaluate(WIDTH_JS)
    assert screen["page"] <= 1366 and screen["right"] <= 1366, screen
    assert screen["hidden"] == 0 and screen["clipped"] == [], screen
    assert page.eval_on_selector("#comparison", BROKEN_WORDS) == []
    # A4 landscape at 10 mm margins leaves 277 mm, 1047 CSS pixels, for the content
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1047, "height": 740})
    printed = page.evaluate(WIDTH_JS)
    assert printed["page"] <= 1047 and printed["hidden"] == 0 and printed["clipped"] == [], printed
    assert page.pdf(format="A4", landscape=True, prefer_css_page_size=True)[:4] == b"%PDF"
    page.close()


TWELVE = 12
READ = (".ipynb", ".html", ".page.json", ".inputs")  # what the index reads or links of an item


@pytest.fixture(scope="module")
def twelve(executed_outputs, tmp_path_factory):
    """The index of twelve scenarios: the shipped ones' outputs copied under new names and titles."""
    import shutil

    root = tmp_path_factory.mktemp("twelve")
    names = ["base"] + [f"{SHIPPED[i % len(SHIPPED)]}_{i}" for i in range(1, TWELVE)]
    for i, name in enumerate(names):
        source, target = executed_outputs / (name if i == 0 else SHIPPED[i % len(SHIPPED)]), root / name
        target.mkdir()
        for path in source.iterdir():
            if path.name == "metrics.json" or path.name.endswith(READ):
                shutil.copyfile(path, target / path.name)
        params = json.loads((source / "parameters.json").read_text())
        if i:
            params["title"] = f"{params['title']}, variant {i}"
        (target / "parameters.json").write_text(json.dumps(params))
    return site.publish(root, rerender=False)


SCREEN_JS = """() => {
    const scroll = document.querySelector('.vc-compare-scroll'), first = document.querySelector('#comparison tbody th[scope=row]');
    const outside = Array.from(document.body.querySelectorAll('*')).filter(e => !scroll.contains(e)
        && e.getBoundingClientRect().right > window.innerWidth + 0.5).map(e => e.tagName + '.' + e.className);
    const verdict = Array.from(document.querySelectorAll('#answer p strong')).map(e => e.parentElement.getBoundingClientRect().bottom);
    return {page: document.documentElement.scrollWidth, outside: outside, verdict: verdict, height: window.innerHeight,
            scroll: [scroll.scrollWidth, scroll.clientWidth], first: first.getBoundingClientRect().left - scroll.getBoundingClientRect().left,
            headers: Array.from(document.querySelectorAll('#comparison th')).filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText)};
}"""


@pytest.mark.parametrize("width,height", [(1366, 768), (1024, 768)])
def test_the_index_of_twelve_scenarios_reads_at_laptop_widths(browser, twelve, width, height):
    page, problems = _open(browser, twelve.as_uri(), width=width)
    page.set_viewport_size({"width": width, "height": height})
    assert problems == []
    assert page.locator("#comparison thead th.vc-scenario").count() == TWELVE
    screen = page.evaluate(SCREEN_JS)
    assert screen["page"] <= width and screen["outside"] == [], screen  # only the table's container scrolls
    assert len(screen["verdict"]) == 2 and max(screen["verdict"]) <= height, screen  # both answers on the first screen
    assert screen["headers"] == [] and page.eval_on_selector("body", BROKEN_WORDS) == []  # the table, the cards, the notes
    if screen["scroll"][0] > screen["scroll"][1]:  # scrolled to its end, the figures' names stay in view
        page.eval_on_selector(".vc-compare-scroll", "s => { s.scrollLeft = s.scrollWidth; }")
        assert abs(page.evaluate(SCREEN_JS)["first"]) <= 1
    else:
        assert width == 1366  # twelve scenarios fit a 1366-pixel screen without scrolling
    # an anchor figure is dated by its own scenario: Sequoia's 2023 and 2024 figures are not labelled 2025
    sequoia = page.locator("#comparison tbody tr", has_text="Required revenue, Sequoia").first
    periods = sequoia.locator("td .vc-period").all_inner_texts()
    assert sorted(set(periods)) == ["2023", "2024"] and "2025" in sequoia.locator("th").inner_text()
    page.close()


def test_the_comparison_highlights_differences_and_explains_shares(browser, published):
    page, _ = _open(browser, published.as_uri(), width=1366)
    assert page.locator("#comparison tbody td:nth-of-type(1).vc-diff").count() == 0  # base's column is the reference
    assert page.locator("#comparison td.vc-diff").count() > 0
    same = page.inner_text("#all-scenarios")
    notes = page.inner_text(".vc-notes")
    # the profit shares outside 0-100% are explained where they are shown
    assert "Chips share of chain operating profit" in same + page.inner_text("#comparison tbody")
    assert "Above 100% because the labs layer lost money" in notes and "Negative because the labs layer lost money" in notes
    assert page.locator("table.vc-params").count() == len(SHIPPED) - 1  # each scenario's differences from base
    page.close()


SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
FIRST_COLUMNS = """() => Array.from(document.querySelectorAll('table')).map(
    t => Array.from(t.querySelectorAll('tbody tr')).map(r => r.cells.length ? r.cells[0].innerText.trim() : ''))"""
CODE = ".jp-InputArea-editor, .jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt, pre, code.language-python"


def _reads_as_a_report(page) -> None:
    text = page.inner_text("body")
    for bad in ("**", "NaN", "{'", "key figures recorded", "import valuechain", "load_dataset("):
        assert bad not in text, (bad, text[max(0, text.find(bad) - 100): text.find(bad) + 60])
    headers = page.eval_on_selector_all("thead th", "els => els.map(e => e.innerText)")
    assert headers and not [h for h in headers if SNAKE.search(h)], headers
    for column in page.evaluate(FIRST_COLUMNS):
        assert len(column) < 2 or column != [str(i) for i in range(len(column))], column  # no positional index
    assert page.locator(CODE).count() == 0


@pytest.mark.parametrize("scenario", SHIPPED)
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_page_reads_as_a_report(browser, published, scenario, notebook):
    page, problems = _open(browser, (published.parent / scenario / f"{notebook}.html").as_uri())
    assert problems == []
    images = page.eval_on_selector_all("img", "els => els.map(i => [i.complete, i.naturalWidth, i.alt])")
    assert len(images) >= (3 if notebook < "03" else 1)
    assert all(complete and width > 0 and len(alt) > 20 for complete, width, alt in images), images
    _reads_as_a_report(page)
    text = page.inner_text("body")
    assert "Executive summary" in text and text.count("Data vintage") == 1  # the scenario block once, in the header
    assert page.locator("div.vc-table").count() >= 1
    for href in _local_links(page):
        assert Path(unquote(urlparse(href).path)).exists(), href
    page.close()


def test_the_index_reads_as_a_report(browser, published):
    page, _ = _open(browser, published.as_uri())
    _reads_as_a_report(page)
    page.close()


XSS_TITLE = "<script>alert('t')</script><img src=x onerror=alert(1)>"
XSS_DESCRIPTION = "Read [the report](javascript:alert('link')) or <a href=\"javascript:alert(2)\">this</a>."
XSS_NOTEBOOKS = ["01_profit_capture", "02_demand_gap", "03_lab_economics", "04_valuations"]


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """A site built from a scenario whose title and description carry script (extends: base from params/)."""
    import yaml

    root = tmp_path_factory.mktemp("xss")
    params, outputs = root / "params", root / "outputs"
    params.mkdir()
    (params / "xss.yaml").write_text(yaml.safe_dump({"extends": "base", "title": XSS_TITLE, "description": XSS_DESCRIPTION}))
    outcomes = runner.run(scenarios=["xss"], notebooks=XSS_NOTEBOOKS, params_dir=params, outputs=outputs,
                          progress=False, jobs=2)
    assert all(o.status == "ok" for o in outcomes), [o.error for o in outcomes]
    return site.publish(outputs, rerender=False)


def _watch_dialogs(page):
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


@pytest.mark.parametrize("target", ["index", *XSS_NOTEBOOKS])
def test_script_in_scenario_text_never_runs(browser, attacked, target):
    path = attacked if target == "index" else attacked.parent / "xss" / f"{target}.html"
    page = browser.new_page()
    dialogs = _watch_dialogs(page)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    assert dialogs == [] and problems == []
    assert page.locator("a[href^='javascript:'], img[src='x'], script").count() == 0
    text = page.inner_text("body")
    assert XSS_TITLE in text  # shown as the text the user wrote
    assert "javascript:alert('link')" in text
    if target != "index":
        assert text.count(XSS_TITLE) == 1  # in the page header; the notebook's own scenario block stays off the page
        executed = json.loads((attacked.parent / "xss" / f"{target}.ipynb").read_text())
        shown = [o["data"]["text/markdown"] for c in executed["cells"] for o in c.get("outputs", [])
                 if o.get("metadata", {}).get("valuechain", {}).get("page") is False and "text/markdown" in o.get("data", {})]
        assert len(shown) == 1 and "&lt;script&gt;" in "".join(shown[0])  # escaped in the notebook too
    page.close()


def test_the_policy_stops_a_script_that_escaped_escaping(browser, attacked, tmp_path):
    page_file = attacked.parent / "xss" / "01_profit_capture.html"
    tampered = tmp_path / "tampered.html"
    tampered.write_text(page_file.read_text().replace(
        "<body", "<body onload=\"alert('onload')\"", 1).replace(
        "</body>", "<script>alert('inline')</script><img src=x onerror=\"alert('img')\">"
                   "<a id='js' href=\"javascript:alert('href')\">js</a></body>", 1))
    page = browser.new_page()
    dialogs = _watch_dialogs(page)
    page.goto(tampered.as_uri(), wait_until="load")
    page.click("#js")
    page.wait_for_timeout(500)
    assert dialogs == []
    page.close()


def test_a_tampered_notebook_cannot_send_the_page_elsewhere(browser, attacked, tmp_path):
    """A meta refresh, a base and a form put into an executed notebook's outputs: the republished page stays put."""
    import shutil

    import nbformat
    from nbformat.v4 import new_output

    outputs = tmp_path / "outputs"
    shutil.copytree(attacked.parent, outputs)
    (outputs / "xss" / "elsewhere.html").write_text("<html><body>elsewhere</body></html>")
    executed = outputs / "xss" / "01_profit_capture.ipynb"
    nb = nbformat.read(str(executed), as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and c.outputs)
    code.outputs.append(new_output("display_data", data={"text/html": (
        '<meta http-equiv="refresh" content="0;url=elsewhere.html"><base href="http://example.com/">'
        '<form id="f" action="elsewhere.html"><button id="go">go</button></form><a id="rel" href="#top">stay</a>')}))
    nbformat.write(nb, str(executed))
    site.publish(outputs, scenarios=["xss"], notebooks=["01_profit_capture"])
    page = browser.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    url = (outputs / "xss" / "01_profit_capture.html").as_uri()
    page.goto(url, wait_until="load")
    page.wait_for_timeout(1500)
    assert page.url == url and "elsewhere" not in page.inner_text("body")
    assert page.locator("meta[http-equiv='refresh'], base, form, button").count() == 0
    assert page.eval_on_selector("#rel", "a => a.href") == url + "#top"  # links resolve against the page, not a base
    assert not [r for r in requests if "example.com" in r or r.endswith("elsewhere.html")]
    page.close()
