import re

import pytest

from valuechain.model import required
from valuechain.model.demand import demand_gap
from valuechain.report import narrative
from valuechain.scenario.load import load_scenario


def test_sequoia_2023_anchor():
    r = required.sequoia(50, 0.5, 0.5, 75)
    assert r.required_usd_bn == 200.0 and r.gap_usd_bn == 125.0


def test_sequoia_2024_anchor():
    r = required.sequoia(150, 0.5, 0.5, 100)
    assert r.required_usd_bn == 600.0 and r.gap_usd_bn == 500.0


def _itemized(note: str) -> dict[str, float]:
    """Company -> $B from a note listing "$10B each for A, B and C plus $5B each for D and E"."""
    items = {}
    for amount, names in re.findall(r"\$(\d+)B each for ([^$]+?)(?= plus |\))", note):
        for name in re.split(r", | and ", names):
            items[name] = float(amount)
    return items


def test_sequoia_2024_itemized_companies_sum_to_less_than_the_round_figure(ds):
    # Sequoia's "~$100B" of identified AI revenue is a round figure above its itemized list of companies.
    note = ds.facts.set_index("fact_id").loc["sequoia_2024_identified", "note"]
    itemized = _itemized(note)
    assert list(itemized) == ["Google", "Microsoft", "Apple", "Meta", "Oracle", "ByteDance", "Alibaba", "Tencent", "X", "Tesla"]
    total = sum(itemized.values())
    assert f"sums to ${total:.0f}B" in note  # the list adds up to the total the note states
    assert total < ds.fact("sequoia_2024_identified")
    r = required.sequoia(ds.fact("sequoia_2024_run_rate"), 0.5, 0.5, total)
    assert r.gap_usd_bn == ds.fact("sequoia_2024_required") - total


def test_bain_2030_anchor():
    r = required.capex_to_revenue(500, 0.25, 1200)
    assert r.required_usd_bn == 2000.0 and r.gap_usd_bn == 800.0


def test_anchors_match_the_published_facts(ds):
    assert required.sequoia(ds.fact("sequoia_2023_run_rate")).required_usd_bn == ds.fact("sequoia_2023_required")
    assert required.sequoia(ds.fact("sequoia_2024_run_rate")).required_usd_bn == ds.fact("sequoia_2024_required")
    bain = required.capex_to_revenue(ds.fact("bain_2030_capex"), ds.fact("bain_2030_ratio"), ds.fact("bain_2030_fundable"))
    assert bain.required_usd_bn == ds.fact("bain_2030_required") and bain.gap_usd_bn == ds.fact("bain_2030_shortfall")


ANCHORS = {  # scenario file -> (its method's block in demand_gap, the method's row, published required, gap)
    "sequoia_2023": ("sequoia", "sequoia", 200.0, 125.0),
    "sequoia_2024": ("sequoia", "sequoia", 600.0, 500.0),
    "bain_2030": ("bain", "capex_to_revenue", 2000.0, 800.0),
}
METHODS = {  # a block of the scenario's demand_gap -> its requirement
    "sequoia": lambda s: required.sequoia(s.run_rate_usd_bn, s.gpu_share_of_tco, s.end_user_gross_margin,
                                          s.identified_ai_revenue_usd_bn),
    "bain": lambda b: required.capex_to_revenue(b.capex_usd_bn, b.capex_to_revenue, b.fundable_revenue_usd_bn),
}


def _changed(a, b, prefix=""):
    """Dotted keys whose values differ between two nested mappings."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return set() if a == b else {prefix}
    return set().union(*(_changed(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else k) for k in {*a, *b}))


@pytest.mark.parametrize("name", list(ANCHORS))
def test_anchor_scenario_files_reproduce_the_published_numbers(name, base_scenario):
    """Each anchor file changes only its method's inputs, and those inputs give the published figures."""
    block, _, required_bn, gap_bn = ANCHORS[name]
    scenario = load_scenario(name)
    changed = _changed(base_scenario.model_dump(), scenario.model_dump()) - {"name", "title", "description"}
    assert changed and all(key.startswith(f"demand_gap.{block}.") for key in changed), changed
    r = METHODS[block](getattr(scenario.demand_gap, block))
    assert (r.required_usd_bn, r.gap_usd_bn) == (required_bn, gap_bn)


def test_the_demand_gap_takes_the_inputs_a_scenario_fixes(ds, base_pool):
    """One run with both anchors' inputs (the profit model is base's: the anchors change only demand_gap)."""
    bain = load_scenario("bain_2030").demand_gap.bain
    scenario = load_scenario("sequoia_2024", overrides={"demand_gap.bain.capex_usd_bn": bain.capex_usd_bn,
                                                        "demand_gap.bain.fundable_revenue_usd_bn": bain.fundable_revenue_usd_bn})
    rows = demand_gap(scenario, ds, base_pool).requirements.set_index("method")
    for name in ("sequoia_2024", "bain_2030"):
        _, method, required_bn, gap_bn = ANCHORS[name]
        assert rows.loc[method, ["required_usd_bn", "gap_usd_bn"]].tolist() == [required_bn, gap_bn]


def test_capital_recovery_factor_closed_forms():
    assert required.capital_recovery_factor(0.0, 5) == pytest.approx(0.2)
    assert required.capital_recovery_factor(0.10, 1) == pytest.approx(1.10)
    crf = required.capital_recovery_factor(0.10, 5)
    # the annuity repays the capital: present value of 5 payments at 10% is 1
    assert sum(crf / 1.1 ** t for t in range(1, 6)) == pytest.approx(1.0)
    r = required.capital_recovery(1000, 5, 0.10, 0.5)
    assert r.required_usd_bn == pytest.approx(1000 * crf / 0.5)




@pytest.mark.parametrize("call", [
    lambda: required.sequoia(50, 0.0),
    lambda: required.sequoia(50, 0.5, 1.0),
    lambda: required.capex_to_revenue(500, 0.0),
    lambda: required.capital_recovery_factor(0.1, -5),
    lambda: required.capital_recovery(100, 5, 0.1, 0.0),
])
def test_out_of_range_inputs_are_refused(call):
    with pytest.raises(ValueError):
        call()


ANCHOR_YEARS = {"sequoia_2023": ("sequoia", "2023", 200.0, 75.0, 125.0),
                "sequoia_2024": ("sequoia", "2024", 600.0, 100.0, 500.0),
                "bain_2030": ("capex_to_revenue", "2030", 2000.0, 1200.0, 800.0)}


@pytest.mark.parametrize("name", list(ANCHOR_YEARS))
def test_anchor_pages_record_their_arithmetic_whole_in_their_own_year(name, ds, base_pool):
    method, year, required_bn, actual_bn, gap_bn = ANCHOR_YEARS[name]
    result = demand_gap(load_scenario(name), ds, base_pool)
    heads = {h.key: h for h in result.headlines()}
    for suffix, value in (("required", required_bn), ("actual", actual_bn), ("gap", gap_bn)):
        h = heads[f"{method}_{suffix}_usd_bn"]
        assert (h.value, h.period) == (value, year)
    assert required_bn - actual_bn == gap_bn
    assert heads["capital_recovery_required_usd_bn"].period == str(result.year)  # R* stays in the report year
    summary = narrative.demand_summary(result)
    assert f"{gap_bn:,.0f}bn" in summary and f"in {year}" in summary
    if method == "sequoia":  # the anchor's run-rate is Sequoia's figure of its year, not the report year's
        assert f"run-rate at the end of {result.year}" not in summary and f"run-rate in {year}" in summary
