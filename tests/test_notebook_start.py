"""notebook.start, the notebooks' one setup call."""
from __future__ import annotations

import pytest

from valuechain import paths
from valuechain.dataset.load import load_dataset
from valuechain.exceptions import ParameterError
from valuechain.report import narrative, notebook
from valuechain.scenario.schema import load_scenario

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
