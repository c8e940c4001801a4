"""The published site as a stakeholder sees it: headless Chromium, network blocked."""
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from valuechain import runner, site

CHROMIUM = site.find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="headless Chromium is not installed (CI installs it)")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("site")
    outcomes = runner.run(scenarios=["base", "bear"], outputs=outputs, progress=False, jobs=2)
    assert all(o.status == "ok" for o in outcomes)
    return site.publish(outputs, rerender=False)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    assert CHROMIUM, "CI must provide Chromium"
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=list(site.CHROMIUM_FLAGS[1:]))
        yield b
        b.close()


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
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
    assert page.locator("#comparison tbody tr").count() == 2
    links = _local_links(page)
    targets = {Path(unquote(urlparse(h).path)) for h in links}
    assert {t.name for t in targets} >= {"01_profit_capture.html", "02_demand_gap.html", "metrics.csv"}
    assert all(t.exists() for t in targets), [t for t in targets if not t.exists()]
    page.screenshot(path=str(published.parent / "index.png"), full_page=True)
    assert (published.parent / "index.png").stat().st_size > 10_000
    page.close()


@pytest.mark.parametrize("notebook", ["01_profit_capture", "02_demand_gap", "03_lab_economics", "04_valuations"])
def test_scenario_page_shows_charts_with_alt_text_and_no_code(browser, published, notebook):
    page, problems = _open(browser, (published.parent / "base" / f"{notebook}.html").as_uri())
    assert problems == []
    images = page.eval_on_selector_all("img", "els => els.map(i => [i.complete, i.naturalWidth, i.alt])")
    assert len(images) >= (3 if notebook < "03" else 1)
    assert all(complete and width > 0 and len(alt) > 20 for complete, width, alt in images), images
    assert page.locator(".jp-InputArea-editor, .jp-InputPrompt, .jp-OutputPrompt").count() == 0
    text = page.inner_text("body")
    assert "import valuechain" not in text and "load_dataset(" not in text
    assert "Executive summary" in text and "Data vintage" in text
    for href in _local_links(page):
        assert Path(unquote(urlparse(href).path)).exists(), href
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
        assert text.count(XSS_TITLE) >= 2  # in the page header and in the notebook's own scenario line
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
