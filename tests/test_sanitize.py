"""Data text is escaped where it is put into a page, and every page the site writes passes the allowlist.

Pages are built by ``site.publish`` from small fake outputs folders (an executed notebook written
here, no kernel), and the assertions read the HTML files it wrote.
"""
import base64
import html
import json
import re
from types import SimpleNamespace

import pytest

from valuechain.escape import html_text, markdown_plain, markdown_text
from valuechain.publish import sanitize, site

PAYLOADS = {
    "img": "<img src=x onerror=alert(1)>",
    "refresh": '<meta http-equiv=refresh content="0;url=http://example.com">',
    "base": "<base href=http://example.com/>",
    "form": '<form action="http://example.com"><input name=q value=1><button>go</button></form>',
    "script": "<script>alert(1)</script>",
}
EVERY_PAYLOAD = " ".join(PAYLOADS.values())


TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")  # an element's start tag (escaped text has none)
ATTRIBUTE = re.compile(r"""([^\s=/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _inert(page: str) -> None:
    """Nothing in ``page`` runs, navigates, submits or changes where its links point."""
    metas = []
    for tag, attributes in TAG.findall(page):
        tag = tag.lower()
        assert tag not in {"script", "base", "form", "input", "button", "iframe", "object", "embed", "svg", "link"}, tag
        for name, *values in ATTRIBUTE.findall(attributes):
            name, value = name.lower(), html.unescape("".join(values)).strip().lower()
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src", "action", "formaction", "content", "data", "srcset", "poster", "background"}:
                assert "javascript:" not in value and "example.com" not in value, (tag, name, value)
            if tag == "img" and name == "src":
                assert value.startswith("data:image/"), value  # an image only from the page itself
        if tag == "meta":
            metas.append(attributes.strip())
    assert metas == [f'http-equiv="Content-Security-Policy" content="{site.CSP}"', 'charset="utf-8"',
                     'name="viewport" content="width=device-width, initial-scale=1.0"']
    assert "base-uri 'none'" in site.CSP and "form-action 'none'" in site.CSP


def _visible(page: str) -> str:
    """The text a reader sees: tags removed, entities read."""
    body = re.sub(r"<style\b.*?</style>", "", page[page.index("<body"):], flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _fake_outputs(tmp_path, outputs_of_cell, parameters=None, markdown_cells=(), metadata=None):
    """An outputs folder holding one scenario ``base`` with one executed notebook whose code cell shows
    ``outputs_of_cell`` (mime bundles), then the site published from it."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    outputs = tmp_path / "outputs"
    folder = outputs / "base"
    folder.mkdir(parents=True)
    params = {"name": "base", "title": "Base case", "description": "The base case."} | (parameters or {})
    (folder / "parameters.json").write_text(json.dumps(params))
    cells = [new_markdown_cell("# Fake notebook\n\n## Executive summary"), *map(new_markdown_cell, markdown_cells),
             new_code_cell("shown()", outputs=[new_output("display_data", data=data) for data in outputs_of_cell])]
    nbformat.write(new_notebook(cells=cells, metadata=metadata or {}), str(folder / "01_fake.ipynb"))
    site.publish(outputs)
    return outputs


# ----------------------------------------------------------------------------- escaping at the source


@pytest.mark.parametrize("name", PAYLOADS)
def test_markdown_text_renders_a_payload_as_its_own_text(name):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune  # the renderer the pages use

    rendered = markdown2html_mistune(f"**{markdown_text(PAYLOADS[name])}** starts")
    assert re.findall(r"<(/?[a-z]+)", rendered) == ["p", "strong", "/strong", "/p"]
    assert html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip() == f"{PAYLOADS[name]} starts"


def test_the_sanitizer_escapes_angle_brackets_inside_attribute_values():
    """nh3 (0.3.8 on) writes < and > in a value as entities: no tag can be read inside a value afterwards."""
    assert sanitize.fragment('<p title="</header><img src=x>">y</p>') == '<p title="&lt;/header&gt;&lt;img src=x&gt;">y</p>'


def test_html_text_closes_no_attribute_and_opens_no_tag():
    assert html_text('"><img src=x onerror=alert(1)>') == "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
    assert html_text("it's") == "it&#x27;s"


@pytest.mark.filterwarnings("ignore:Tight layout not applied")  # a name of 200 characters fills the legend
def test_a_company_name_in_the_data_is_text_on_the_written_page(tmp_path, data_copy, base_scenario, base_gap):
    """A company renamed to every payload: the labs' summary, its table and its chart's alt text show it as text."""
    from conftest import edit_csv
    from valuechain.dataset.load import load_dataset
    from valuechain.model import labs
    from valuechain.model.profit import profit_pool
    from valuechain.report import charts, narrative, tables

    edit_csv(data_copy, "companies.csv",
             lambda f: f.assign(name=[EVERY_PAYLOAD if c == "openai" else n for c, n in zip(f["company_id"], f["name"])]))
    ds = load_dataset(data_copy)
    econ = labs.analyse(base_scenario, ds, profit_pool(base_scenario, ds), base_gap)
    summary = narrative.labs_summary(econ)
    chart = charts.break_even_chart(econ.break_even, econ.names, "s")
    table = tables.run_rates(econ)
    outputs = _fake_outputs(tmp_path, [{"text/markdown": summary}, {"text/html": table.html()},
                                       {"text/html": chart._repr_html_()}])
    page = (outputs / "base" / "01_fake.html").read_text()
    _inert(page)
    shown = _visible(page)
    assert f"{EVERY_PAYLOAD} starts from" in shown  # the summary's sentence, with the name as it is written
    assert shown.count(EVERY_PAYLOAD) >= 3  # the summary, the table's rows and the chart's caption
    embedded = re.search(r"<img\b[^>]*\ssrc=\"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\"", page)
    assert embedded  # the chart itself is kept, an SVG image (which a browser never runs a script in)
    svg = base64.b64decode(embedded.group(1)).decode()
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg  # the name is the legend's text
    assert svg == chart.svg()


def test_a_product_in_the_data_is_text_in_the_narratives():
    """A product comes from the dataset's rows: the market check's sentence shows it as text."""
    import pandas as pd
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from valuechain.report import narrative

    check = pd.DataFrame([{"year": 2025, "product": PAYLOADS["refresh"], "d_usd_bn": 10.0, "total_usd_bn": 5.0,
                           "ratio": 2.0, "d_growth": float("nan"), "total_growth": float("nan"), "fewest_series": 9}])
    result = SimpleNamespace(market_check=lambda: check,
                             scenario=SimpleNamespace(demand_gap=SimpleNamespace(primary_test=SimpleNamespace(min_series=3))))
    rendered = markdown2html_mistune(narrative.market_check(result))
    assert "<meta" not in rendered
    assert f"estimate of {PAYLOADS['refresh']}, net" in html.unescape(re.sub(r"<[^>]+>", "", rendered))


@pytest.mark.parametrize("name", PAYLOADS)
def test_a_scenario_title_and_description_are_text_on_the_page_and_the_index(tmp_path, name):
    payload = PAYLOADS[name]
    outputs = _fake_outputs(tmp_path, [{"text/markdown": "Body."}],
                            {"title": f"Title {payload}", "description": f"Described {payload}",
                             "layers": {"cloud": {"rationale": f"Because {payload}"}}})
    for written in (outputs / "base" / "01_fake.html", outputs / "index.html"):
        page = written.read_text()
        _inert(page)
        assert f"Title {payload}" in _visible(page) and f"Described {payload}" in _visible(page)
    assert f"Because {payload}" in _visible((outputs / "base" / "01_fake.html").read_text())  # the parameters table


def test_a_slide_shows_the_data_text_as_it_was_written():
    from pptx import Presentation
    import io

    from valuechain.publish import deck
    from valuechain.publish.outputs import Notebook

    summary = f"**{markdown_text('AT&T <Labs> (US) 1.5x')}** starts from $3.0bn."
    assert markdown_plain(markdown_text(EVERY_PAYLOAD)) == EVERY_PAYLOAD
    prs = Presentation(io.BytesIO(deck.build("base", {"title": "Base"}, [Notebook("01", "Q", [summary])])))
    texts = [shape.text_frame.text for slide in prs.slides for shape in slide.shapes if shape.has_text_frame]
    assert "AT&T <Labs> (US) 1.5x starts from $3.0bn" in texts  # the summary's lead sentence is the slide's title


# ----------------------------------------------------------------------------- the sanitizer at the end


def test_a_tampered_notebook_cannot_navigate_send_or_run(tmp_path):
    """Raw HTML in an executed notebook's outputs, Markdown cells and metadata: none of it survives as markup."""
    tampered = [
        {"text/html": PAYLOADS["refresh"] + '<meta http-equiv="refresh" content="0; url=http://example.com/x">'},
        {"text/html": PAYLOADS["base"] + PAYLOADS["form"] + PAYLOADS["script"] + PAYLOADS["img"]},
        {"text/html": '<a href="javascript:alert(1)">j</a><a href="http://example.com/">off</a>'
                      '<a href=" JaVaScRiPt:alert(1)">k</a><iframe src="http://example.com"></iframe>'
                      '<object data="http://example.com/x.swf"></object><svg onload="alert(1)"><circle/></svg>'
                      '<div onclick="alert(1)" style="position:fixed">d</div><img src="http://example.com/p.png">'
                      '<link rel="stylesheet" href="http://example.com/s.css"><style>@import url(http://example.com/s.css)</style>'},
        {"text/markdown": "[md link](javascript:alert(1)) " + PAYLOADS["refresh"]},
    ]
    outputs = _fake_outputs(tmp_path, tampered, markdown_cells=[PAYLOADS["refresh"] + "\n\n" + PAYLOADS["base"]],
                            metadata={"title": '</title><meta http-equiv="refresh" content="0;url=http://example.com">'})
    page = (outputs / "base" / "01_fake.html").read_text()
    _inert(page)
    assert "@import" not in page and "position:fixed" not in page
    assert page.index('<meta http-equiv="Content-Security-Policy"') < page.index("<title>") < page.index("<style")


def test_a_meta_refresh_in_the_head_is_dropped_with_the_rest_of_the_head():
    document = ('<html><head><meta http-equiv="refresh" content="0;url=http://example.com"><base href="http://example.com/">'
                '<link rel="stylesheet" href="http://example.com/a.css"><title>T &amp; <b>x</b></title>'
                '<style>p{color:red}</style></head><body class="jp-Notebook" onload="alert(1)"><p>kept</p></body></html>')
    page = sanitize.page(document, site.CSP)
    _inert(page)
    assert "<style>p{color:red}</style>" in page and "<p>kept</p>" in page
    assert '<body class="jp-Notebook">' in page and "<title>T &amp; &lt;b&gt;x&lt;/b&gt;</title>" in page


def test_the_pages_keep_their_tables_charts_and_links(tmp_path, monkeypatch):
    """The same page built with and without the sanitizer has the same tables, chart images, links and headings."""
    import pandas as pd
    from matplotlib.figure import Figure

    from valuechain.report import charts, tables

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    chart = charts.Chart(fig, "A line", "A line falling from 1 to 0.", "a-line")
    table = tables.present(pd.DataFrame({"company": ["nvidia"], "v": [1.5]}),
                           [tables.Column("company", "Company", "company"), tables.Column("v", "Revenue", "usd_bn")],
                           "A table", "Source: test.")
    cells = [{"text/markdown": "Some **bold** text, a [relative link](../index.html) and a list:\n\n- one\n- two"},
             {"text/html": table.html()}, {"text/html": chart._repr_html_()}]
    markdown = ["## A second section\n\n| a | b |\n|---|---|\n| 1 | 2 |"]

    def structure(page):
        body = page[page.index("<body"):]
        return {tag: len(re.findall(rf"<{tag}\b", body)) for tag in
                ("table", "tr", "td", "th", "caption", "img", "figure", "a", "h1", "h2", "li", "details", "strong")} | {
            "data images": len(re.findall(r"<img\b[^>]*\ssrc=\"data:image/svg\+xml;base64,", body)),
            "links": sorted(re.findall(r'href="([^"]*)"', body))}

    clean = _fake_outputs(tmp_path / "clean", cells, markdown_cells=markdown)
    monkeypatch.setattr(sanitize, "page", lambda document, policy: document)
    raw = _fake_outputs(tmp_path / "raw", cells, markdown_cells=markdown)
    for name in ("base/01_fake.html", "index.html"):
        kept, before = (clean / name).read_text(), (raw / name).read_text()
        assert structure(kept) == structure(before), name
        assert kept.count("<style>") >= 1 and ".vc-header{" in kept  # the site's own style
    page = structure((clean / "base" / "01_fake.html").read_text())
    assert page["table"] == 3 and page["data images"] == 1 and "../index.html" in page["links"]
    assert "#A-second-section" in page["links"]  # the contents' anchors
    index = (clean / "index.html").read_text()
    assert 'href="base/01_fake.html"' in index and 'href="base/01_fake.ipynb"' in index
