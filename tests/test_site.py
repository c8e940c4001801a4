"""The site's pages and index: no script, a policy that forbids scripts, only current outputs."""
import ast
import json
import re
import subprocess
import sys

from valuechain.publish import comparison, site
from valuechain import paths, mime
from valuechain.batch import runner
from valuechain.scenario.load import load_scenario


def _run(tiny, **kw):
    params, notebooks, outputs = tiny
    return runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, jobs=2, **kw)


def _csp(page: str) -> str:
    head = page[: page.index("</head>")]
    found = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
    assert len(found) == 1, "one policy in the head"
    assert head.index("Content-Security-Policy") < min(i for i in (head.find("<style"), head.find("<title"), len(head)) if i >= 0)
    return found[0]


def test_every_page_and_the_index_forbid_scripts_and_ship_none(tiny):
    _, _, outputs = tiny
    _run(tiny)
    site.publish(outputs)
    pages = [outputs / "index.html", *outputs.glob("*/*.html")]
    assert len(pages) == 3
    for path in pages:
        text = path.read_text()
        policy = dict(part.strip().split(" ", 1) for part in _csp(text).split(";"))
        assert policy["default-src"] == "'none'" and policy["script-src"] == "'none'"
        assert "unsafe-eval" not in text and policy["img-src"] == "data:"
        assert not re.search(r"<script\b", text, re.I), path


def test_without_scripts_removes_every_script_element():
    page = ("<html><head><title>t</title><script>alert(1)</script></head><body>"
            "<SCRIPT type='text/javascript'>x()</SCRIPT><script src='a.js'/><p>kept</p></body></html>")
    cleaned = site.without_scripts(page)
    assert "alert" not in cleaned and "x()" not in cleaned and "a.js" not in cleaned and "<p>kept</p>" in cleaned
    assert cleaned.startswith('<html><head><meta http-equiv="Content-Security-Policy"')


def test_the_index_shows_a_failure_only_while_it_is_the_latest_run(tiny):
    _, _, outputs = tiny
    _run(tiny)
    (outputs / "base" / "01_quick.failed.ipynb").write_text("{}")  # a marker from an older run
    items = json.loads((outputs / "run.json").read_text())["items"]
    assert {i["status"] for i in items} == {"ok"}
    index = site.index_page(outputs)
    assert "FAILED" not in index
    for item in items:
        item.update(status="failed", error="")
    (outputs / "run.json").write_text(json.dumps({"items": items}))
    index = site.index_page(outputs)
    assert "FAILED: 01_quick (Tiny notebook): see the failed notebook" in index  # never an empty reason


def test_the_site_does_not_import_the_runner():
    """The runner calls the site; the site renders from plain data and never reaches back."""
    for module in ("site", "comparison", "exports", "workbook", "deck"):
        tree = ast.parse((paths.PACKAGE_DIR / "publish" / f"{module}.py").read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {"runner", "valuechain.batch.runner", "params", "valuechain.scenario.schema"} & imported, module
    code = "import sys, valuechain.publish.site; sys.exit('valuechain.batch.runner' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=paths.REPO_ROOT).returncode == 0


def test_publish_reads_the_recorded_parameters_as_data_whatever_their_schema(tiny):
    """A parameters.json from an older or newer schema still publishes: it is never validated again."""
    _, _, outputs = tiny
    _run(tiny, scenarios=["base"])
    recorded = json.loads((outputs / "base" / "parameters.json").read_text())
    recorded.pop("years")  # a key the schema requires
    recorded.update(renamed_block={"x": 1}, layers="no longer a mapping", title="Renamed <b>case</b>")
    (outputs / "base" / "parameters.json").write_text(json.dumps(recorded))
    index = site.publish(outputs)
    page = (outputs / "base" / "01_quick.html").read_text()
    assert "Renamed &lt;b&gt;case&lt;/b&gt;" in page and "renamed_block.x" in page
    assert "Renamed &lt;b&gt;case&lt;/b&gt;" in index.read_text()
    (outputs / "base" / "parameters.json").write_text("not json")  # unreadable: the page still renders
    site.publish(outputs)
    assert "Scenario <strong>base</strong>: base." in (outputs / "base" / "01_quick.html").read_text()


def test_index_links_carry_notebook_titles(tiny):
    _, _, outputs = tiny
    _run(tiny)
    index = site.index_page(outputs)
    assert '<a href="base/01_quick.html">Tiny notebook</a>' in index
    assert ">01_quick</a>" not in index


def test_a_page_leaves_out_outputs_marked_off_page_and_the_exports_data():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    cells = [new_markdown_cell("# Title"), new_code_cell("x", outputs=[
        new_output("display_data", data={"text/markdown": "**Scenario:** block"}, metadata={"valuechain": {"page": False}}),
        new_output("display_data", data={"text/html": "<p>kept</p>", mime.TABLE: {"rows": []}}),
    ]), new_code_cell("record", outputs=[new_output("display_data", data={mime.METRICS: {"a": 1}, "text/plain": "1 key figures recorded"})])]
    nb = new_notebook(cells=cells)
    before = json.dumps(nb, sort_keys=True)
    page = site.for_page(nb)
    assert len(page.cells) == 2  # the key-figure cell is gone with its output
    assert [o["data"] for o in page.cells[1].outputs] == [{"text/html": "<p>kept</p>"}]
    assert json.dumps(nb, sort_keys=True) == before  # the notebook itself is left as it was


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def _odd_notebook(path):
    """An executed notebook whose outputs give nbconvert's last pass all its work: images with and without an
    alternative text, attributes out of order, classes with extra spaces, blank texts inside and outside ``pre``,
    an output's own tab stop, an image tag written inside an attribute's value."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    html_output = ('<div  id="x" class=" vc-table   wide " title="a &gt; b">\n\n  <table>\n <tr><td>1</td>  <td>2</td></tr>'
                   '\n</table>  <img src="data:image/png;base64,' + PNG + '" width="10"> '
                   '<img alt="a chart" src="data:image/png;base64,' + PNG + '"></div>\n\n'
                   '<pre>  two  spaces\n\n  <b>kept</b>  </pre>\t<span>\t</span>\n'
                   '<div class="jp-OutputArea-output" tabindex="5" data-mime-type="x">own</div>'
                   '<p title="<img src=x>">an image written in an attribute</p>')
    cells = [new_markdown_cell("# Odd notebook\n\n## Executive summary\n\nSome **bold** text and a list:\n\n- one\n- two"),
             new_code_cell("shown()", outputs=[
                 new_output("display_data", data={"text/html": html_output}),
                 new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
                 new_output("stream", name="stdout", text="a   b\n\n   \nc\n"),
                 new_output("display_data", data={"text/markdown": "A summary with `code` and a [link](../index.html)."})]),
             new_markdown_cell("## A second section\n\n| a | b |\n|---|---|\n| 1 | 2 |")]
    path.parent.mkdir(parents=True)
    nbformat.write(new_notebook(cells=cells), str(path))
    return path


def test_a_page_is_the_one_nbconverts_whole_html_exporter_gives(tmp_path, monkeypatch):
    """The page renders with nbconvert's template and does nbconvert's last pass (BeautifulSoup's) on the sanitized
    page: it is byte for byte the page of nbconvert's HTMLExporter, sanitized."""
    from nbconvert import HTMLExporter

    executed = _odd_notebook(tmp_path / "base" / "01_odd.ipynb")
    parameters = {"title": "Odd case", "description": "Blanks  and <b>markup</b>.", "note": "   ", "years": [2025, 2030]}
    page = site.notebook_page(executed, parameters, "2025-06-30", overdue="Nvidia's report is overdue.")
    assert 'alt="No description has been provided for this image"' in page and '<img alt="a chart"' in page
    assert '<p title="&lt;img src=x&gt;">an image written in an attribute</p>' in page

    whole = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    monkeypatch.setattr(site, "_html", lambda nb, name: whole.from_notebook_node(nb, resources={"metadata": {"name": name}})[0])
    monkeypatch.setattr(site, "finish", lambda page: page)
    assert page == site.notebook_page(executed, parameters, "2025-06-30", overdue="Nvidia's report is overdue.")


def test_finish_never_reads_markup_inside_an_attributes_value():
    """A value holding what looks like the header's end and a tag (as a sanitizer that leaves < and > raw in
    attributes would write it) stays one value: the pass starts after the header's real end tag, and a "<"
    it cannot read leaves the page as the sanitizer wrote it."""
    head = '<!DOCTYPE html>\n<html lang="en">\n<head><title>t</title></head>\n'
    trap = '<a href="#x</header><img src=x><meta http-equiv=refresh content=0;url=https://evil.example>">t</a>'
    page = (head + f'<body class="jp-Notebook"><header class="vc-header">{trap}</header>'
            '<main><img src="a"></main></body>\n</html>\n')
    assert site.finish(page) == (head + f'<body class="jp-Notebook"><header class="vc-header">{trap}</header>'
                                 '<main><img alt="No description has been provided for this image" src="a"></main></body>\n</html>\n')
    unreadable = page.replace("<main>", '<main><x-y title="<img src=b>">')
    assert site.finish(unreadable) == unreadable


def test_finish_does_nbconverts_last_pass_on_the_sanitizers_markup():
    head = '<!DOCTYPE html>\n<html lang="en">\n<head><title>t</title><style>img{}</style></head>\n'
    header = '<header class="vc-header"><td>  </td></header>'
    body = ('\n\n<main>\n  <div title="x" class=" jp-OutputArea-output  b" data-mime-type="m">'
            '<img src="data:image/png;base64,x" width="1"><img width="2" alt="kept"> \t<span> a  b </span>\n\n'
            '<pre>\n  <b> </b>  </pre> <div class="c" tabindex="5"></div><div class="jp-Cell-inputWrapper" tabindex="5"></div>'
            '<p title="<img src=&quot;x&quot;>">&lt;img&gt;</p></div></main>')
    page = head + '<body class="jp-Notebook">' + header + body + "</body>\n</html>\n"
    assert site.finish(page) == (
        head + '<body class="jp-Notebook">' + header +
        '\n<main>\n<div class="jp-OutputArea-output b" data-mime-type="m" tabindex="0" title="x">'
        '<img alt="No description has been provided for this image" src="data:image/png;base64,x" width="1">'
        '<img alt="kept" width="2"> <span> a  b </span>\n'
        '<pre>\n  <b> </b>  </pre> <div class="c" tabindex="5"></div><div class="jp-Cell-inputWrapper" tabindex="0"></div>'
        '<p title="<img src=&quot;x&quot;>">&lt;img&gt;</p></div></main></body>\n</html>\n')


def _scenario_outputs(tmp_path, figures: dict, params: dict | None = None):
    """An outputs folder holding only what the index reads: metrics.json and parameters.json per scenario."""
    for name, by_notebook in figures.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(by_notebook))
        (tmp_path / name / "parameters.json").write_text(json.dumps((params or {}).get(name, {"title": name})))
    return tmp_path


def _declared(key, label, unit="share", period="2025", note="", detail=False):
    return {"key": key, "label": label, "unit": unit, "period": period, "note": note, "detail": detail}


HEADS = [_declared("chips_profit_share", "Chips share of chain operating profit", note="Above 100% because labs lost money."),
         _declared("labs_profit_share", "Labs share of chain operating profit"),
         _declared("chips_operating_profit_usd_bn", "Chips operating profit", "usd_bn", detail=True)]


def _figures(chips, labs):
    return {"01_profit_capture": {"chips_profit_share": chips, "labs_profit_share": labs,
                                  "chips_operating_profit_usd_bn": 132.9, "headlines": HEADS}}


def test_the_comparison_reads_declared_headlines_highlights_differences_and_lifts_the_same(tmp_path):
    outputs = _scenario_outputs(tmp_path, {"base": _figures(1.0994, -0.2363), "bear": _figures(1.0994, -0.41),
                                           "bull": _figures(1.0994, 0.0155)})
    index = site.index_page(outputs)
    table = index[index.index('id="comparison"'): index.index("</table>", index.index('id="comparison"'))]
    assert "Labs share of chain operating profit" in table and "2025 · %" in table  # label, period, unit
    assert "Chips share" not in table and "Chips operating profit" not in table  # the same everywhere; a detail
    heads = re.findall(r'<th scope="col" class="vc-scenario"><a href="#scenario-(\w+)">\w+</a></th>', table)
    assert heads == ["base", "bear", "bull"]  # one column per scenario, base first
    assert ('<tr><th scope="row">Labs share of chain operating profit<span class="vc-period">2025 · %</span></th>'
            '<td class="vc-num">-24%</td><td class="vc-num vc-diff">-41%</td><td class="vc-num vc-diff">2%</td></tr>') in table
    same = index[index.index('id="all-scenarios"'):]
    assert "Chips share of chain operating profit, 2025: <strong>110%</strong>" in same
    assert "Above 100% because labs lost money." in index  # the figure's note goes with it


def test_a_renamed_figure_keeps_its_column(tmp_path):
    """A figure recorded under a new key in one scenario is still a column; the others read 'not recorded'."""
    renamed = _figures(1.0994, -0.30)
    nb = renamed["01_profit_capture"]
    nb["labs_share_of_profit"] = nb.pop("labs_profit_share")
    nb["headlines"] = [dict(h, key="labs_share_of_profit") if h["key"] == "labs_profit_share" else h for h in HEADS]
    outputs = _scenario_outputs(tmp_path, {"base": _figures(1.0994, -0.2363), "new": renamed})
    data = comparison.load(outputs)
    keys = [f.key for f in comparison.compare(data).rows]
    assert keys == ["labs_profit_share", "labs_share_of_profit"]
    index = site.index_page(outputs)
    assert index.count(comparison.NOT_RECORDED) == 2


def _anchored(required, year):
    return {"02_demand_gap": {"sequoia_required_usd_bn": required, "closing_rate": 0.84,
                              "headlines": [_declared("sequoia_required_usd_bn", "Required revenue, Sequoia", "usd_bn", year),
                                            _declared("closing_rate", "Gap closing rate", "rate", "2026Q2")]}}


def test_each_figure_is_dated_by_the_period_its_scenario_declared(tmp_path):
    """An anchor scenario's figure (Sequoia's 2023 bar) is not shown under base's 2025; the same value
    in another period is a difference, not an "all scenarios" figure."""
    outputs = _scenario_outputs(tmp_path, {"base": _anchored(996.96, "2025"), "bull": _anchored(996.96, "2025"),
                                           "sequoia_2023": _anchored(200.0, "2023"), "sequoia_2024": _anchored(996.96, "2024")})
    comp = comparison.compare(comparison.load(outputs))
    assert [f.key for f in comp.rows] == ["sequoia_required_usd_bn"] and [f.key for f in comp.same] == ["closing_rate"]
    assert comparison.row_period(comp, comp.rows[0]) == "2025"  # what most scenarios' figures describe
    index = site.index_page(outputs)
    assert ('<tr><th scope="row">Required revenue, Sequoia<span class="vc-period">2025 · USD bn</span></th>'
            '<td class="vc-num">997.0</td><td class="vc-num">997.0</td>'
            '<td class="vc-num vc-diff">200.0<span class="vc-period">2023</span></td>'
            '<td class="vc-num vc-diff">997.0<span class="vc-period">2024</span></td></tr>') in index
    assert "Gap closing rate, 2026Q2: <strong>+0.84 log points a year</strong>" in index


def test_the_diff_view_shows_what_a_scenario_changes_with_its_rationale(tmp_path):
    base, bull = load_scenario("base").resolved(), load_scenario("bull").resolved()
    rows = {r["key"]: r for r in comparison.differences(base, bull)}
    assert "title" not in rows and not any(k.endswith("rationale") for k in rows)
    growth = rows["projection.capex_growth"]
    assert growth["base"].startswith("2026: ") and growth["value"] != growth["base"]
    assert growth["rationale"] == bull["projection"]["rationale"]
    outputs = _scenario_outputs(tmp_path, {"base": {}, "bull": {}}, {"base": base, "bull": bull})
    index = site.index_page(outputs)
    card = index[index.index('id="scenario-bull"'):]
    assert f"{len(rows)} parameters differ from base" in card and "Capex growth" in card
    assert f"<th>{base['title']}</th><th>{bull['title']}</th><th>Rationale</th>" in card
    assert "differ from base" not in index[index.index('id="scenario-base"'): index.index('id="scenario-bull"')]


def _executed(folder, stem, heading="From the notebook", recorded=None):
    """An executed notebook with its page in ``folder``; ``recorded`` is the text of its .page.json (None: none)."""
    from nbformat.v4 import new_markdown_cell, new_notebook
    import nbformat

    folder.mkdir(exist_ok=True)
    nbformat.write(new_notebook(cells=[new_markdown_cell(f"# {heading}")]), str(folder / f"{stem}.ipynb"))
    (folder / f"{stem}.html").write_text("<html></html>")
    if recorded is not None:
        (folder / f"{stem}.page.json").write_text(recorded)


INDEX_IN_A_FRESH_PROCESS = """
import sys
from pathlib import Path
from valuechain.publish import site
page = site.index_page(Path(sys.argv[1]))
print(sorted(m for m in ("nbformat", "nbconvert", "papermill") if m in sys.modules))
print(page)
"""


def test_the_index_reads_recorded_titles_without_loading_the_notebook_stack(tmp_path):
    outputs = _scenario_outputs(tmp_path, {"base": {}})
    _executed(outputs / "base", "01_x", recorded=json.dumps({"title": "Recorded <title>"}))
    proc = subprocess.run([sys.executable, "-c", INDEX_IN_A_FRESH_PROCESS, str(outputs)],
                          capture_output=True, text=True, check=True)
    loaded, page = proc.stdout.split("\n", 1)
    assert loaded == "[]"
    assert '<a href="base/01_x.html">Recorded &lt;title&gt;</a>' in page and "From the notebook" not in page


def test_a_missing_or_unreadable_recorded_title_is_read_from_the_notebook(tmp_path):
    outputs = _scenario_outputs(tmp_path, {"base": {}})
    for stem, recorded in (("01_none", None), ("02_not_json", "{not json"), ("03_a_list", '["t"]'),
                           ("04_not_text", '{"title": 3}'), ("05_empty", "")):
        _executed(outputs / "base", stem, heading=f"Heading of {stem}", recorded=recorded)
    (outputs / "base" / "06_broken.ipynb").write_text("{cut short")  # neither recorded nor readable: its file name
    (outputs / "base" / "06_broken.html").write_text("<html></html>")
    titles = site._titles(outputs, ["base"])
    assert titles == {stem: f"Heading of {stem}" for stem in ("01_none", "02_not_json", "03_a_list", "04_not_text",
                                                               "05_empty")} | {"06_broken": "06_broken"}
    assert '<a href="base/02_not_json.html">Heading of 02_not_json</a>' in site.index_page(outputs)


def test_a_recorded_empty_title_is_kept_and_a_good_copy_is_read_before_a_failed_one(tmp_path):
    outputs = _scenario_outputs(tmp_path, {"base": {}, "bear": {}})
    _executed(outputs / "base", "01_x.failed", heading="Failed copy")
    _executed(outputs / "base", "01_x", heading="Good copy", recorded=json.dumps({"title": "Recorded good copy"}))
    _executed(outputs / "base", "02_y", heading="Never read", recorded=json.dumps({"title": ""}))
    _executed(outputs / "bear", "03_z.failed", heading="Only a failed copy")
    assert site._titles(outputs, ["base", "bear"]) == {"01_x": "Recorded good copy", "02_y": "", "03_z": "Only a failed copy"}


def test_a_run_that_changed_nothing_keeps_the_index_and_publish_always_rebuilds_it(tmp_path):
    outputs = _scenario_outputs(tmp_path, {"base": {}})
    _executed(outputs / "base", "01_x", recorded=json.dumps({"title": "First title"}))
    index = site.publish(outputs, rerender=False, when_changed=True)
    assert "First title" in index.read_text() and (outputs / site.INDEX_INPUTS).exists()
    index.write_text("kept")  # stands for the index built from these very inputs
    site.publish(outputs, rerender=False, when_changed=True)
    assert index.read_text() == "kept"
    # Whatever the index shows changes its inputs: a recorded title, a parameter, a status, a file.
    changes = [lambda: (outputs / "base" / "01_x.page.json").write_text(json.dumps({"title": "Second title"})),
               lambda: (outputs / "base" / "parameters.json").write_text(json.dumps({"title": "Renamed"})),
               lambda: (outputs / "run.json").write_text(json.dumps({"items": []})),
               lambda: (outputs / "base" / "01_x.html").unlink()]
    for change in changes:
        change()
        site.publish(outputs, rerender=False, when_changed=True)
        assert index.read_text() != "kept"
        index.write_text("kept")
    site.publish(outputs, rerender=False, when_changed=True, notebooks=["02_other"])  # what exists now, too
    assert index.read_text() != "kept"
    index.write_text("kept")
    site.publish(outputs, rerender=False)  # `valuechain publish` and `clean`: always built again
    assert index.read_text() != "kept" and "<h3>Renamed <small>(base)</small></h3>" in index.read_text()
    index.unlink()
    assert site.publish(outputs, rerender=False, when_changed=True).read_text().startswith("<!DOCTYPE html>")


def test_every_page_and_the_index_carry_the_overdue_banner_escaped(tiny, monkeypatch):
    """The pages the run writes, and those publish writes again."""
    _, _, outputs = tiny
    monkeypatch.setattr(site, "overdue_sentence", lambda: "Overdue: NVIDIA <b>fiscal 2027 Q3</b> & more.")
    banner = '<div class="vc-overdue">Overdue: NVIDIA &lt;b&gt;fiscal 2027 Q3&lt;/b&gt; &amp; more.</div>'
    _run(tiny)
    pages = list(outputs.glob("*/*.html"))
    assert len(pages) == 2 and all(banner in path.read_text() for path in pages)
    site.publish(outputs)
    pages = [outputs / "index.html", *outputs.glob("*/*.html")]
    assert len(pages) == 3
    for path in pages:
        assert banner in path.read_text(), path
    assert site.overdue_banner("") == ""  # nothing overdue, no banner
