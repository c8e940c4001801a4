import pytest

from valuechain.model import required
from valuechain import load_dataset
from valuechain.model.demand import demand_gap
from valuechain.scenario.schema import load_scenario


def test_sequoia_2023_anchor():
    r = required.sequoia(50, 0.5, 0.5, 75)
    assert r.required_usd_bn == 200.0 and r.gap_usd_bn == 125.0


def test_sequoia_2024_anchor():
    r = required.sequoia(150, 0.5, 0.5, 100)
    assert r.required_usd_bn == 600.0 and r.gap_usd_bn == 500.0


def test_sequoia_2024_itemized_companies_sum_to_less_than_the_round_figure():
    # $10B each for Google, Microsoft, Apple, Meta; $5B each for Oracle, ByteDance, Alibaba, Tencent, X, Tesla.
    itemized = 4 * 10 + 6 * 5
    assert itemized == 70  # Sequoia's "~$100B" is a round figure above its itemized list
    assert required.sequoia(150, 0.5, 0.5, itemized).gap_usd_bn == 530.0


def test_bain_2030_anchor():
    r = required.capex_to_revenue(500, 0.25, 1200)
    assert r.required_usd_bn == 2000.0 and r.gap_usd_bn == 800.0


def test_anchors_match_the_published_facts():
    ds = load_dataset()
    assert required.sequoia(ds.fact("sequoia_2023_run_rate")).required_usd_bn == ds.fact("sequoia_2023_required")
    assert required.sequoia(ds.fact("sequoia_2024_run_rate")).required_usd_bn == ds.fact("sequoia_2024_required")
    bain = required.capex_to_revenue(ds.fact("bain_2030_capex"), ds.fact("bain_2030_ratio"), ds.fact("bain_2030_fundable"))
    assert bain.required_usd_bn == ds.fact("bain_2030_required") and bain.gap_usd_bn == ds.fact("bain_2030_shortfall")


@pytest.mark.parametrize("name, method, required_bn, gap_bn", [
    ("sequoia_2023", "sequoia", 200.0, 125.0),
    ("sequoia_2024", "sequoia", 600.0, 500.0),
    ("bain_2030", "capex_to_revenue", 2000.0, 800.0),
])
def test_anchor_scenario_files_reproduce_the_published_numbers(name, method, required_bn, gap_bn, ds):
    result = demand_gap(load_scenario(name), ds)
    row = result.requirements.set_index("method").loc[method]
    assert row["required_usd_bn"] == required_bn
    assert row["gap_usd_bn"] == gap_bn


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
