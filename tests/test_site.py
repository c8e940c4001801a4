"""The site's pages and index: no script, a policy that forbids scripts, only current outputs."""
import json
import re

from valuechain import runner, site


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
    assert "FAILED: 01_quick: see the failed notebook" in index  # never an empty reason
