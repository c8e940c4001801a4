import numpy as np
import pandas as pd
import pytest

from valuechain.model import bridge, capital
from valuechain.model.formulas import capital_recovery_factor

QUARTERS = pd.period_range("2015Q1", "2025Q4", freq="Q")


def _flat_tail(a=10.0, life=5.0, lag=2, rate=0.1, margin=0.5, ai_share=0.5):
    """Flat AI capex of ``a`` a quarter for eleven years: every vintage in service is the same size."""
    ai = pd.Series(a, index=QUARTERS)
    spend = ai / ai_share
    return bridge.tail(ai, spend, (capital.AssetClass("servers", 1.0, life),), lag, rate, margin, 2025)


def test_flat_capex_tail_has_no_lag_or_lives_step_and_the_return_step_is_the_closed_form():
    a, life, rate, margin = 10.0, 5.0, 0.1, 0.5
    t = _flat_tail(a, life, 2, rate, margin)
    assert t.ai_capex_usd_bn == pytest.approx(4 * a) and t.spenders_capex_usd_bn == pytest.approx(8 * a)
    assert t.entering_service_usd_bn == pytest.approx(4 * a)  # flat: what enters service is what is spent
    assert t.depreciation_usd_bn == pytest.approx(4 * a)  # K / n = 4 n a / n
    assert t.required_usd_bn == pytest.approx(4 * life * a * capital_recovery_factor(rate, life) / margin)


def test_sequoia_bridge_closed_form_values_and_reconciliation():
    t = _flat_tail(margin=0.5)
    b = bridge.sequoia_bridge(50, 0.5, 0.5, t, 2, 2023)
    assert b.start_usd_bn == 200.0 and b.bar_year == "2023"
    values = [s.value_usd_bn for s in b.steps]
    assert values[:3] == pytest.approx([80 / 0.5, 40 / 0.5, 40 / 0.5])  # C_Y/(1-g), A_Y/(1-g), A_Y/m with m = 1-g
    assert [s.name for s in b.steps] == ["Which capex", "AI share", "Margin", "In service versus spent",
                                         "Asset lives", "Return"]
    assert b.start_usd_bn + sum(s.change_usd_bn for s in b.steps) == pytest.approx(t.required_usd_bn)
    assert b.end_usd_bn == t.required_usd_bn


def test_bain_bridge_starts_at_bains_2000_and_ends_at_r_star():
    t = _flat_tail()
    b = bridge.bain_bridge(500, 0.25, t, 2, 2030)
    assert b.start_usd_bn == 2000.0
    assert b.steps[0].value_usd_bn == pytest.approx(80 / 0.25) and b.steps[2].value_usd_bn == pytest.approx(40 / 0.5)
    assert b.start_usd_bn + sum(s.change_usd_bn for s in b.steps) == pytest.approx(b.end_usd_bn)
    assert b.end_usd_bn == t.required_usd_bn and b.multiple == pytest.approx(2000 / t.required_usd_bn)


def test_jpm_bridge_marks_what_is_not_published_and_its_return_step_is_the_difference_in_returns():
    t = _flat_tail(rate=0.12)
    at_10 = _flat_tail(rate=0.10).required_usd_bn
    b = bridge.jpm_bridge(650, 0.10, at_10, t, 2030)
    assert [s.published for s in b.steps] == [False, True]
    assert b.steps[1].change_usd_bn == pytest.approx(t.required_usd_bn - at_10) and b.steps[1].change_usd_bn > 0
    assert 650 + sum(s.change_usd_bn for s in b.steps) == pytest.approx(t.required_usd_bn)
    assert "not published" in bridge.Bridges(2025, t.required_usd_bn, (b,)).table()["detail"].iloc[1]


def test_growing_capex_makes_the_lag_and_lives_steps_negative():
    ai = pd.Series(1.1 ** np.arange(len(QUARTERS)), index=QUARTERS)
    t = bridge.tail(ai, ai, (capital.AssetClass("servers", 1.0, 5.0),), 3, 0.0, 1.0, 2025)
    assert t.entering_service_usd_bn < t.ai_capex_usd_bn and t.depreciation_usd_bn < t.entering_service_usd_bn
    assert t.required_usd_bn == pytest.approx(t.depreciation_usd_bn)  # zero return: R* is depreciation over m = 1


def test_a_year_without_four_quarters_is_refused():
    ai = pd.Series(1.0, index=pd.period_range("2024Q1", "2025Q2", freq="Q"))
    with pytest.raises(ValueError, match="four quarters"):
        bridge.tail(ai, ai, (capital.AssetClass("servers", 1.0, 5.0),), 2, 0.1, 0.5, 2025)


def test_every_published_bar_on_the_data_reconciles_with_the_pages_r_star(base_gap):
    req = base_gap.requirements.set_index("method")
    bridges = {b.key: b for b in base_gap.bridges.bridges}
    assert list(bridges) == ["sequoia", "capex_to_revenue", "jpm"]
    r_star = req.loc["capital_recovery", "required_usd_bn"]  # the year's R*, mean of its annualized quarters
    for key, b in bridges.items():
        assert b.start_usd_bn + sum(s.change_usd_bn for s in b.steps) == pytest.approx(r_star, rel=1e-12)
        assert b.end_usd_bn == pytest.approx(r_star, rel=1e-12)
        if key in req.index:
            assert b.start_usd_bn == req.loc[key, "required_usd_bn"]
    assert bridges["jpm"].start_usd_bn == 650.0
    table = base_gap.bridges.table()
    assert len(table) == sum(1 + len(b.steps) for b in bridges.values())
    assert {"jpm_2025", "jpm_2025_tomshardware"} <= set(base_gap.bridges.sources)


def test_the_page_names_the_bridge_and_its_chart_states_the_multiples(base_gap, ds):
    from valuechain.report import charts, narrative, tables

    multiples = sorted(b.multiple for b in base_gap.bridges.bridges)
    verdict = narrative.demand_verdict(base_gap)
    assert f"{multiples[0]:,.0f} to {multiples[-1]:,.0f} times R*" in verdict and "Only R*" in verdict
    chart = charts.bridge_chart(base_gap.bridges, charts.source_line(ds, base_gap.bridges.sources, "base"))
    assert f"{multiples[0]:,.0f} to {multiples[-1]:,.0f} times R*" in chart.title
    assert "J.P. Morgan" in chart.source and chart.alt.count("ending at") == 3
    table = tables.bridges(base_gap)
    assert len(table.rows) == len(base_gap.bridges.table()) and base_gap.bridges.order == table.note


def test_the_bars_multiples_of_r_star_are_recorded_for_the_report_year(base_gap):
    heads = {h.key: h for h in base_gap.headlines()}
    req = base_gap.requirements.set_index("method")
    r_star = req.loc["capital_recovery", "required_usd_bn"]
    h = heads["sequoia_over_required"]
    assert h.value == pytest.approx(req.loc["sequoia", "required_usd_bn"] / r_star) and h.period == str(base_gap.year)
    assert heads["jpm_over_required"].value == pytest.approx(650 / r_star)
