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
