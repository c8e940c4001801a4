"""Synthetic disclosure panels: the real rows, a known truth, and the vectorized pipeline equal to the per-panel one."""
import numpy as np
import pandas as pd
import pytest

from valuechain.dataset import disclosures
from valuechain.model import downstream, synthetic


@pytest.fixture(scope="module")
def pattern(base_scenario, ds, base_gap):
    return synthetic.pattern(base_scenario, ds, base_gap)


def _draw(pattern, sims, seed, world="model"):
    rng = np.random.default_rng(seed)
    gap = synthetic.true_gap(pattern, synthetic.WORLDS[world](pattern, rng, sims), pattern.required_rate)
    return gap, synthetic.observe(pattern, synthetic.true_log_d(pattern, gap), rng)


def test_synthetic_panel_has_exactly_the_real_rows(pattern, ds):
    real = disclosures.load(ds)
    _, values = _draw(pattern, 2, 1)
    fake = synthetic.panel(pattern, values[0])
    same = [c for c in real.columns if c != "value_usd_bn"]
    pd.testing.assert_frame_equal(fake[same], real[same])  # series, as_of, published, kinds, bases, flows
    pd.testing.assert_series_equal(downstream.observations(fake)["quarter"], downstream.observations(real)["quarter"])
    final = (real["flow"] == "final_demand").to_numpy()
    assert (fake["value_usd_bn"].to_numpy()[final] != real["value_usd_bn"].to_numpy()[final]).all()
    assert (fake["value_usd_bn"].to_numpy()[~final] == real["value_usd_bn"].to_numpy()[~final]).all()
    # a disclosed quarterly revenue is a quarter of its annualized value
    log_annualized = np.log(downstream.observations(fake)["annualized_usd_bn"].to_numpy()[final])
    assert np.allclose(log_annualized, values[0])


def test_truth_is_pinned_at_the_data_and_is_the_chains_final_demand(pattern, base_gap):
    gap, _ = _draw(pattern, 4, 2)
    t = len(pattern.quarters) - 1
    assert np.allclose(gap[:, t], base_gap.closing.current_gap)
    log_d = synthetic.true_log_d(pattern, gap)
    assert np.allclose(log_d[:, t], np.log(base_gap.downstream.d["d_usd_bn"].iloc[-1]))
    # every series present: the chain's final demand of the true series is exactly e^L in every quarter
    levels = np.exp(pattern.offsets[None, None, :] + log_d[:, :, None])
    columns, signs = pattern.accounting.columns(levels, pattern.scope, series=pattern.series)
    assert np.allclose(np.log(np.nansum(columns * signs.to_numpy(), axis=-1)), log_d)


def test_vectorized_run_equals_the_per_panel_pipeline(pattern, base_scenario, ds):
    """Three simulations: the batched smoother, chain's columns and chain-link against downstream() on each panel."""
    gap, values = _draw(pattern, 3, 3)
    batch = synthetic.with_primary(synthetic.Batch(pattern, "model", pattern.required_rate, gap,
                                                   synthetic.run(pattern, values), np.array([11, 12, 13])))
    min_series = base_scenario.demand_gap.primary_test.min_series
    for i in range(3):
        d_i = downstream.of_scenario(base_scenario, ds, synthetic.panel(pattern, values[i]))
        d = d_i.d
        tested = d[d["series_present"] >= min_series]
        assert list(tested.index) == list(batch.run.quarters)
        assert np.allclose(np.log(tested["d_usd_bn"]).to_numpy(), batch.run.log_d[i], rtol=0, atol=1e-12)
        assert float(tested["log_sd"].iloc[-1]) == pytest.approx(batch.run.log_sd[i], abs=1e-12)
        assert d_i.noise_levels == pytest.approx(tuple(batch.run.noise_levels[i]), abs=1e-12)  # each panel estimates its own
        one = synthetic.gap_test(pattern, np.log(tested["d_usd_bn"]), float(tested["log_sd"].iloc[-1]), d_i.noise_levels,
                                 11 + i)
        row = batch.primary.iloc[i]
        assert row["p_value"] == pytest.approx(one.p_value, abs=1e-12)
        assert (row["closing_rate_low"], row["closing_rate_high"]) == pytest.approx(
            (4 * one.trend_interval[0], 4 * one.trend_interval[1]), abs=1e-10)
        assert row["prob_closed_by_horizon"] == pytest.approx(one.prob_closed_by[pattern.horizon_year], abs=1e-12)


def test_zero_noise_recovers_a_flat_truth(pattern):
    """No noise and flat revenue: every smoothed series is exact, and D is the truth wherever the gap quarter's
    series are all present. Before that an application's entry moves the apps-to-labs flow (netted on the series
    present), and the chain-link carries that jump back: a property of the pipeline, bounded here."""
    truth = np.full((1, len(pattern.quarters)), 4.0)
    run = synthetic.run(pattern, synthetic.observe(pattern, truth, np.random.default_rng(0), noise=0.0))
    error = np.abs(run.log_d[0] - 4.0)
    full = np.flatnonzero(error < 1e-12)
    assert len(full) >= 3 and full[-1] == len(error) - 1
    assert error.max() < 0.05


@pytest.mark.parametrize("world", list(synthetic.WORLDS))
def test_each_world_draws_finite_deviations_for_every_step(pattern, world):
    deviations = synthetic.WORLDS[world](pattern, np.random.default_rng(4), 50)
    assert deviations.shape == (50, pattern.steps) and np.isfinite(deviations).all()


def test_drift_break_moves_the_mean_before_the_window_only(pattern):
    rng = np.random.default_rng(5)
    before = np.arange(pattern.steps) < pattern.window_start
    gap = synthetic.drift_break(pattern, np.random.default_rng(6), 4000) - synthetic.model_null(pattern, rng, 4000)
    # same seed path for the AR(1) part is not shared, so compare means: +DRIFT_BREAK before, 0 in and after the window
    assert gap[:, before].mean() == pytest.approx(synthetic.DRIFT_BREAK, abs=0.02)
    assert gap[:, ~before].mean() == pytest.approx(0.0, abs=0.02)


def test_reach_truth_without_deviations_lands_on_the_committed_path(pattern):
    """At the null's boundary with no deviations, true D grows exactly at the needed rate and reaches the path in Y4."""
    deviations = np.zeros((2, pattern.steps))
    log_d = synthetic.true_reach_log_d(pattern, deviations, pattern.needed_growth / 4)
    t = len(pattern.quarters) - 1
    assert np.allclose(log_d[:, t], pattern.log_d_now)
    assert np.allclose(log_d[:, t + pattern.reach_steps], pattern.log_committed, atol=1e-12)


def test_reach_figures_on_the_data_are_the_pages(pattern, base_gap):
    """The question's figures as the calibration computes them, on the data's D, equal the page's (at the scenario's
    R* and scope): D's growth and interval, the growth needed, the test."""
    d = base_gap.downstream
    tested = d.d.loc[base_gap.closing.gap.index]
    r = synthetic.Run(tested.index, np.log(tested["d_usd_bn"].to_numpy())[None, :],
                      np.array([tested["log_sd"].iloc[-1]]), tested["log_sd"].to_numpy()[None, :],
                      np.array([d.noise_levels]))
    row = synthetic.reach_figures(pattern, r, np.random.default_rng(0), draws=2000).iloc[0]
    a = base_gap.reach
    assert row["growth"] == pytest.approx(a.growth, abs=1e-12)
    assert (row["growth_low"], row["growth_high"]) == pytest.approx(a.growth_interval, abs=1e-12)
    assert row["needed"] == pytest.approx(a.needed_central, abs=1e-9)
    assert row["p_value"] == pytest.approx(a.p_value, abs=1e-12)
    assert row["needed_low"] < row["needed"] < row["needed_high"]
    assert 0 <= row["prob_reach"] <= 1 and row["prob_reach"] <= row["prob_reach_no_decay"] + 0.05


def test_a_projection_world_continues_the_truths_pace_under_its_ceiling(pattern):
    """The worlds drawn from the projection's model: without shocks and with a pace that lasts, true log D after T rises
    by the pace over the window a quarter, times the room left below the drawn ceiling, (1 - D/K), in (0, 1]; before T
    it is untouched. With a half-life of half a year, growth fades: the last step is smaller than the first."""
    from dataclasses import replace

    p = replace(pattern, noise_levels=(0.0, 0.0))
    t, w = len(p.quarters) - 1, p.pace_window
    log_d = synthetic.true_reach_log_d(p, np.zeros((3, p.steps)), p.needed_growth / 4)
    lasting = synthetic.decayed(p, log_d, np.random.default_rng(0), float("inf"))
    assert np.array_equal(lasting[:, :t + 1], log_d[:, :t + 1])
    pace = (log_d[:, t] - log_d[:, t - w]) / w
    first = lasting[:, t + 1] - lasting[:, t]
    assert np.all(first > 0) and np.all(first <= pace + 1e-12)
    room = 1 - first / pace
    ceiling = lasting[:, t] - np.log(room)  # 1 - D_T / K = first / pace
    assert np.all(np.exp(ceiling) >= 0.05 * p.bound_usd_bn * 0.999) and np.all(np.exp(ceiling) <= 0.6 * p.bound_usd_bn * 1.001)
    fading = synthetic.decayed(p, log_d, np.random.default_rng(0), 0.5)
    steps = np.diff(fading[:, t:], axis=1)
    assert np.all(steps[:, -1] < steps[:, 0])
