"""The engine: closed forms, and the same numbers as the profit model, the demand gap, the labs and the valuations."""
import dataclasses
import math

import numpy as np
import pytest

from valuechain.model import capital, engine, formulas, labs, valuation
from valuechain.model.inputs import build as build_inputs
from valuechain.layers import CHAIN_ORDER
from valuechain.scenario.load import load_scenario


@pytest.fixture(scope="module")
def dataset(ds):
    return ds


@pytest.fixture(scope="module")
def base(base_scenario, ds, base_pool, base_gap):
    inp = build_inputs(base_scenario, ds, base_pool, base_gap.downstream)
    return base_scenario, base_pool, base_gap, inp, engine.evaluate(inp, inp.theta())


def test_in_service_is_the_window_sum():
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 10, size=(3, 30))
    lives = np.array([4, 9, 22])
    got = formulas.in_service(a, 3, lives)
    for i, life in enumerate(lives):
        want = [a[i, max(0, t - 3 - life + 1):max(0, t - 3 + 1)].sum() for t in range(30)]
        np.testing.assert_allclose(got[i], want, rtol=1e-12, atol=1e-12)


def test_extend_quarters_grows_each_quarter_from_the_same_quarter_a_year_earlier():
    rng = np.random.default_rng(2)
    filed, growth = rng.uniform(1, 10, size=(4, 6)), rng.uniform(-0.3, 0.5, size=(4, 19))
    want = np.zeros((4, 19))
    want[:, :6] = filed
    for t in range(6, 19):  # one quarter at a time
        want[:, t] = want[:, t - 4] * (1 + growth[:, t])
    assert np.array_equal(formulas.extend_quarters(filed, growth), want)


@pytest.mark.parametrize("filed", [0, 1, 3])
def test_extend_quarters_needs_a_year_of_filed_quarters(filed):
    with pytest.raises(ValueError, match=f"at least four filed quarters .*; got {filed}$"):
        formulas.extend_quarters(np.ones((2, filed)), np.zeros((2, 8)))


def test_extend_quarters_with_nothing_to_extend_returns_the_filed_quarters():
    # fewer than four filed quarters are enough when no quarter lies past them
    filed = np.array([[1.0, 2.0, 3.0]])
    assert np.array_equal(formulas.extend_quarters(filed, np.full((1, 3), 0.5)), filed)
    grown = formulas.extend_quarters(np.array([[1.0, 2.0, 3.0, 4.0]]), np.full((1, 6), 0.5))
    assert np.array_equal(grown, [[1.0, 2.0, 3.0, 4.0, 1.5, 3.0]])


def test_required_revenue_is_the_sum_over_classes_of_the_capital_in_service_they_recover():
    rng = np.random.default_rng(3)
    capex = rng.uniform(0, 10, size=(5, 40))
    shares = np.column_stack([np.full(5, 0.7), np.full(5, 0.3)])
    lives = np.column_stack([rng.uniform(3, 7, 5), rng.uniform(12, 20, 5)])
    rate, margin = rng.uniform(0, 0.15, 5), np.full(5, 0.6)
    want = 0.0
    for j in range(2):  # each class's capital in service on its own, then its annual payment
        base = formulas.in_service(capex, 2, np.rint(4 * lives[:, j]))
        want = want + shares[:, j, None] * base * formulas.capital_recovery_factor(rate, lives[:, j])[:, None]
    assert np.array_equal(formulas.required_revenue(capex, 2, shares, lives, rate, margin), want / margin[:, None])


def test_capital_recovery_factor_closed_forms():
    np.testing.assert_allclose(formulas.capital_recovery_factor([0.0, 0.1], [5.0, 5.0]), [0.2, 0.1 * 1.1 ** 5 / (1.1 ** 5 - 1)])


@pytest.mark.parametrize("c0,d", [(1.5, 0.25), (3.0, 0.2), (0.8, 0.3), (2.0, 0.1)])
def test_break_even_years_equal_the_closed_form(c0, d):
    want = 0 if c0 <= 1 else math.ceil(math.log(c0) / -math.log(1 - d) - 1e-12)  # (1 - d)^n c0 <= 1
    assert formulas.break_even_years(c0, d, 30) == want
    assert np.isnan(formulas.break_even_years(c0, d, want - 1)) or want == 0


def test_pool_equals_the_profit_model(base):
    _, pool, _, inp, out = base
    hist = pool.layers[pool.layers["kind"] == "historical"]
    for i, year in enumerate(inp.years):
        rows = hist[hist["year"] == year].set_index("layer").reindex(CHAIN_ORDER)
        np.testing.assert_allclose(out.revenue[0, i], rows["ai_revenue_usd_bn"], rtol=1e-12)
        np.testing.assert_allclose(out.profit_share[0, i], rows["profit_share"], rtol=1e-12)
    proj = pool.layers[pool.layers["kind"] == "projection"]
    last = proj[proj["year"] == inp.proj_years[-1]].set_index("layer").reindex(CHAIN_ORDER)
    np.testing.assert_allclose(out.proj_profit_share[0, -1], last["profit_share"], rtol=1e-12)


def test_requirements_and_gap_equal_the_demand_gap(base):
    _, _, gap, inp, out = base
    req = gap.requirements.set_index("method")["required_usd_bn"]
    assert out.sequoia[0] == pytest.approx(req["sequoia"], rel=1e-12)
    assert out.bain[0] == pytest.approx(req["capex_to_revenue"], rel=1e-12)
    assert out.capital_recovery[0] == pytest.approx(req["capital_recovery"], rel=1e-9)
    assert out.d_over_required[0] == pytest.approx(gap.closing.ratio, rel=1e-9)


def test_labs_and_valuations_equal_their_modules(base, dataset):
    sc, pool, gap, inp, out = base
    econ = labs.analyse(sc, dataset, pool, gap)
    for j, lab in enumerate(inp.labs):
        assert out.lab_break_even[0, j] == econ.break_even[lab].year
        np.testing.assert_allclose(out.lab_revenue[0, j], econ.break_even[lab].path["revenue_usd_bn"], rtol=1e-12)
        np.testing.assert_allclose(out.lab_cost[0, j], econ.break_even[lab].path["cost_usd_bn"], rtol=1e-12)
    summary = valuation.analyse(sc, dataset, pool).summary()
    assert round(float(out.labs_revenue_needed[0]), 2) == summary["labs_revenue_needed_usd_bn"]
    assert round(float(out.ipo_draw[0]), 2) == summary["ipo_draw_typical_high_usd_bn"]
    flow = pool.dollar_flow[pool.dollar_flow["year"] == inp.years[-1]].set_index("layer").loc["chips"]
    assert out.chips_cents[0] == pytest.approx(flow["profit_cents"] - flow["loss_cents"], rel=1e-12)


def test_vectorized_rows_equal_one_at_a_time(base):
    _, _, _, inp, _ = base
    rng = np.random.default_rng(7)
    theta = inp.theta(6) * rng.uniform(0.8, 1.2, size=(6, len(inp.keys)))
    together = engine.headline(inp, engine.evaluate(inp, theta))
    for i in range(6):
        alone = engine.headline(inp, engine.evaluate(inp, theta[i:i + 1]))
        for key, values in together.items():
            np.testing.assert_allclose(values[i], alone[key][0], rtol=1e-12, equal_nan=True)


def test_rows_in_blocks_give_the_numbers_of_all_rows_at_once(base):
    # 2501 rows go through in three blocks, their halves in two each: every row's numbers are the same
    _, _, _, inp, _ = base
    theta = inp.theta(2501) * np.random.default_rng(8).uniform(0.5, 1.5, size=(2501, len(inp.keys)))
    whole = engine.evaluate(inp, theta)
    halves = [engine.evaluate(inp, theta[:1250]), engine.evaluate(inp, theta[1250:])]
    for field in dataclasses.fields(whole):
        got = np.concatenate([getattr(half, field.name) for half in halves])
        assert np.array_equal(getattr(whole, field.name), got, equal_nan=True), field.name
    figures = engine.headline_figures(inp, theta)  # R* only through the quarters they read
    for key, values in engine.headline(inp, whole).items():
        assert np.array_equal(figures[key], values, equal_nan=True), key


@pytest.mark.parametrize("n, sizes", [(1, [1]), (999, [999]), (1001, [501, 500]), (5000, [1000] * 5)])
def test_rows_in_blocks_give_the_unblocked_evaluations_numbers(base, n, sizes):
    # evaluate and headline_figures, block by block, against _evaluate on all the rows at once
    _, _, _, inp, _ = base
    theta = inp.theta(n) * np.random.default_rng(n).uniform(0.5, 1.5, size=(n, len(inp.keys)))
    assert [len(block) for block in engine._blocks(theta)] == sizes
    blocked, unblocked = engine.evaluate(inp, theta), engine._evaluate(inp, theta)
    for field in dataclasses.fields(unblocked):
        assert np.array_equal(getattr(blocked, field.name), getattr(unblocked, field.name), equal_nan=True), field.name
    quarters = int(max([inp.gap_quarter, *inp.recovery_quarters])) + 1
    figures = engine.headline_figures(inp, theta)
    for key, values in engine.headline(inp, engine._evaluate(inp, theta, quarters)).items():
        assert np.array_equal(figures[key], values, equal_nan=True), key


def test_capital_in_service_is_the_cores(base):
    import pandas as pd

    series = pd.Series([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    assert capital.in_service(series, 2, 0.5).tolist() == [0, 0, 1, 3, 2, 4]


def test_every_key_names_a_scenario_value(base):
    sc, _, _, inp, _ = base
    assert "attribution.microsoft.ai_share.2025" in inp.keys
    assert inp.values[inp.column("attribution.microsoft.ai_share.2025")] == sc.attribution["microsoft"].ai_share[2025]
    assert inp.values[inp.column("valuation.discount_rate")] == sc.valuation.discount_rate
    assert inp.values[inp.column("demand_gap.break_even.target_return")] == sc.demand_gap.break_even.target_return


def test_a_labs_base_year_position_has_one_reading_for_the_labs_and_the_core(base_scenario, ds):
    """OpenAI's start comes from its latest run-rate and its H1-2025 operating loss, Anthropic's loss from the
    scenario; with neither, both the labs' analysis and the core's inputs stop with the key to set."""
    from valuechain.model.inputs import lab_base

    le = base_scenario.lab_economics
    revenue, loss = lab_base(le, ds, "openai")
    rho = np.log(2.0)
    assert revenue == pytest.approx(40.0 * np.exp(-rho * 234.5 / 365) / rho)  # USD 40bn run-rate, 23 Aug 2026
    assert loss == pytest.approx((1 + 7.8 / 4.3) * 0.75 - 1)
    assert lab_base(le, ds, "anthropic")[1] == 0.5
    early = load_scenario("base", {"lab_economics.base_year": 2015})
    with pytest.raises(ValueError, match=r"no 2015 revenue for openai.*lab_economics\.paths\.openai\.base_revenue_usd_bn"):
        build_inputs(early, ds)
    with pytest.raises(ValueError, match="lab_economics.paths.openai.base_revenue_usd_bn"):
        labs.analyse(early, ds)
