"""One protocol for every model result: a frozen dataclass with sources, headlines() and summary()."""
import dataclasses

import pytest

from valuechain.model import labs, uncertainty, valuation
from valuechain.model.backlog import Backlog, backlog
from valuechain.model.demand import DemandGapResult
from valuechain.model.profit import LatestTwelveMonths, ProfitPool, profit_pool
from valuechain.model.results import Headline, Result
from valuechain.scenario.load import load_scenario

CLASSES = (ProfitPool, LatestTwelveMonths, DemandGapResult, labs.LabEconomicsResult, valuation.ValuationResult,
           Backlog, uncertainty.UncertaintyResult)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_result_class_is_a_frozen_dataclass_with_the_protocol(cls):
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert callable(cls.headlines) and callable(cls.summary)
    assert "sources" in {f.name for f in dataclasses.fields(cls)} or isinstance(cls.sources, property)
    assert not hasattr(cls, "__getitem__")  # read as attributes, never by item


@pytest.fixture(scope="module")
def results(base_scenario, ds, base_pool, base_gap, base_econ):
    ttm = profit_pool(load_scenario("base", {"years": {"latest": "ttm", "ttm_end": "2026Q2"}}), ds).ttm
    drawn = uncertainty.analyse(load_scenario("base", {"uncertainty": {"sobol_samples": 64}}), ds, n=200)
    return {"pool": base_pool, "ttm": ttm, "gap": base_gap, "econ": base_econ,
            "val": valuation.analyse(base_scenario, ds, base_pool),
            "backlog": backlog(ds, base_scenario.demand_gap.capital.spenders), "unc": drawn}


@pytest.mark.parametrize("key", ["pool", "ttm", "gap", "econ", "val", "backlog", "unc"])
def test_every_result_satisfies_the_protocol_and_its_summary_holds_its_headlines(results, key):
    result = results[key]
    assert isinstance(result, Result) and isinstance(result, CLASSES)
    heads, summary = result.headlines(), result.summary()
    assert heads and all(isinstance(h, Headline) for h in heads)
    assert {h.key for h in heads} <= set(summary)
    assert isinstance(result.sources, tuple) and result.sources and all(isinstance(s, str) for s in result.sources)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.sources = ()


def test_valuation_summary_is_computed_from_its_fields(results):
    val = results["val"]
    total = sum(val.ipo_valuations_usd_bn.values())
    assert val.summary()["ipo_draw_typical_high_usd_bn"] == round(total * val.typical_float[1], 2)
    assert val.summary()["ipo_total_valuation_usd_bn"] == round(float(val.draw.loc["total"].iloc[0]) / val.draw.columns[0], 2)


def test_backlog_summary_rounds_its_headlines(results):
    b = results["backlog"]
    assert b.summary() == {"backlog_quarter": str(b.quarter), "backlog_usd_bn": round(b.rpo_usd_bn, 2),
                           "backlog_capex_usd_bn": round(b.capex_usd_bn, 2), "backlog_to_capex": round(b.multiple, 4)}
