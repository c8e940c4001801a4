"""notebook.start, the notebooks' one setup call, and what the notebooks' code cells may hold:
no source list typed by hand, no cell long enough to belong in the library."""
from __future__ import annotations

import ast
import json
import re

import pytest

from valuechain import paths
from valuechain.dataset.load import load_dataset
from valuechain.exceptions import ParameterError
from valuechain.report import narrative, notebook
from valuechain.scenario.load import load_scenario

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))
MAX_LOGIC_LINES = 15  # STYLE.md: a cell longer than about 15 lines of logic belongs in the library
SOURCE_ID = re.compile(r"[a-z0-9]+(_[a-z0-9]+)+")  # how sources.csv spells its ids: openai_cfo_2025


def _code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _text(cell) -> str:
    return "".join(cell["source"])


def _calls(tree, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) == name:
                yield node


def _typed_source_lists(code: str) -> list[str]:
    """Literal lists (tuples, sets) of quoted source ids passed to ``source_line``, as written."""
    found = []
    for call in _calls(ast.parse(code), "source_line"):
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            for node in ast.walk(arg):
                if (isinstance(node, (ast.List, ast.Tuple, ast.Set)) and node.elts
                        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) and SOURCE_ID.fullmatch(e.value)
                                for e in node.elts)):
                    found.append(ast.unparse(node))
    return found


def _logic_lines(code: str) -> int:
    return sum(1 for line in code.splitlines() if line.strip() and not line.strip().startswith("#"))


BASE = {"scenario": "base", "metrics_path": "", "overrides": {}}


@pytest.fixture
def shown(monkeypatch):
    """The scenario blocks start displayed, as (scenario, dataset) pairs."""
    calls = []
    monkeypatch.setattr(narrative, "show_scenario", lambda sc, ds: calls.append((sc, ds)))
    return calls


def test_start_returns_the_bundled_dataset_and_shows_the_scenario_once(shown):
    ds, sc = notebook.start(dict(BASE), "scenario", "metrics_path", "overrides")
    fresh = load_dataset()
    assert ds.data_dir == paths.DATA_DIR
    for frame in ("companies", "financials", "facts", "sources"):
        assert getattr(ds, frame).equals(getattr(fresh, frame)), frame
    assert ds.metrics == fresh.metrics
    assert sc == load_scenario("base") and sc.name == "base"
    assert len(shown) == 1 and shown[0][0] is sc and shown[0][1] is ds


def test_start_applies_the_overrides(shown):
    base = load_scenario("base").valuation.discount_rate
    start = notebook.start(dict(BASE, scenario="bear", overrides={"valuation.discount_rate": 0.3}),
                           "scenario", "metrics_path", "overrides")
    assert base != 0.3 and start.scenario.valuation.discount_rate == 0.3
    assert start.scenario == load_scenario("bear", {"valuation.discount_rate": 0.3})
    assert start.scenario.name == "bear" and start.scenario.title.endswith("(variant)")
    assert shown == [(start.scenario, start.dataset)]


def test_start_refuses_a_parameter_the_notebook_does_not_declare(shown):
    injected = '# Parameters\nscenario = "base"\ndiscount_rate = 0.3\n'
    with pytest.raises(ParameterError, match="parameter 'discount_rate' is not a parameter of this notebook "
                                             r"\(it takes scenario, metrics_path, overrides\)"):
        notebook.start(dict(BASE, _ih=["", injected]), "scenario", "metrics_path", "overrides")
    assert shown == []  # refused before anything is shown


def test_the_checks_below_catch_what_they_look_for():
    """The notebook checks rest on these readers: a missed list would let a hand-typed one through."""
    typed = "source = charts.source_line(ds, ['openai_cfo_2025', 'seed_podcast'], sc.name)"
    assert _typed_source_lists(typed) == ["['openai_cfo_2025', 'seed_podcast']"]
    assert _typed_source_lists("x = ds.source_line(ids=('seed_briefing',))") == ["('seed_briefing',)"]
    assert _typed_source_lists("source = charts.source_line(ds, econ.sources, sc.name)") == []
    assert _logic_lines("a = 1\n\n# why\nb = 2\n   \n") == 2


def test_the_notebooks_are_found():
    """The checks below run once per notebook: none found would pass them all."""
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_starts_with_one_start_declaring_every_parameter(path):
    cells = _code_cells(path)
    parameters = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    declared = [node.target.id for node in ast.parse(_text(parameters[0])).body if isinstance(node, ast.AnnAssign)]
    starts = [call for c in cells for call in _calls(ast.parse(_text(c)), "start")]
    assert len(starts) == 1, f"{path.name}: one notebook.start call"
    assert [ast.literal_eval(a) for a in starts[0].args[1:]] == declared  # every parameter, none more


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_takes_its_source_lines_from_the_results(path):
    for cell in _code_cells(path):
        code = _text(cell)
        assert not _typed_source_lists(code), f"{path.name}: a source list typed by hand; use the result's .sources"
        for call in _calls(ast.parse(code), "source_line"):
            ids = call.args[1]
            # a result's sources, all of them or the part one chart draws (e.g. gap.demand_sources)
            assert isinstance(ids, ast.Attribute) and ids.attr.endswith("sources"), f"{path.name}: {ast.unparse(call)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_notebook_cell_belongs_in_the_library(path):
    longest = max(_logic_lines(_text(c)) for c in _code_cells(path))
    assert longest <= MAX_LOGIC_LINES, f"{path.name}: a cell of {longest} lines of logic belongs in the library"
