"""Growth-form regressions and their inference, on synthetic series with known answers."""
import numpy as np
import pandas as pd
import pytest

from valuechain.model import downstream
from valuechain.stats import regression


def _series(values, start="2015Q1"):
    return pd.Series(values, index=pd.period_range(start, periods=len(values), freq="Q"))


def test_growth_elasticity_recovers_a_known_effect():
    rng = np.random.default_rng(3)
    dx = 0.05 + 0.05 * rng.standard_normal(60)
    dy = 0.02 + 0.8 * np.roll(dx, 1) + 0.005 * rng.standard_normal(60)
    x, y = _series(np.exp(np.cumsum(dx))), _series(np.exp(np.cumsum(dy)))
    effect = regression.elasticity(y, x, lags=2)
    assert effect.estimate == pytest.approx(0.8, abs=0.05)
    assert effect.interval[0] < 0.8 < effect.interval[1]
    assert effect.pvalue < 0.01 and effect.pvalue > 0  # a Monte Carlo p-value is never exactly 0
    assert effect.nobs == 60 - 1 - 2


def test_placebo_finds_nothing_without_a_lead():
    """Revenue responds to lagged capex only: the leads' sum is near zero and not significant."""
    rng = np.random.default_rng(5)
    dx = 0.05 + 0.05 * rng.standard_normal(80)
    dy = 0.8 * np.roll(dx, 1) + 0.01 * rng.standard_normal(80)
    x, y = _series(np.exp(np.cumsum(dx))), _series(np.exp(np.cumsum(dy)))
    placebo = regression.placebo(y, x, lags=2, leads=2)
    assert abs(placebo.estimate) < 0.1
    assert placebo.pvalue > 0.05


def test_growth_frame_never_lags_across_a_missing_quarter():
    y = _series([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    x = _series([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    frame = regression.growth_frame(y, x, lags=0)
    assert list(frame.index.astype(str)) == ["2015Q2", "2016Q1", "2016Q2"]
    assert frame["dy"].iloc[0] == pytest.approx(np.log(2.0))


def test_panel_pools_companies_and_gives_each_slope():
    rng = np.random.default_rng(7)
    idx = pd.period_range("2018Q1", periods=40, freq="Q")
    capex, revenue = {}, {}
    for i, slope in enumerate((0.3, 0.5, 0.7)):
        dx = 0.05 + 0.05 * rng.standard_normal(40)
        dy = 0.01 + slope * np.roll(dx, 2) + 0.005 * rng.standard_normal(40)
        capex[f"c{i}"], revenue[f"c{i}"] = np.exp(np.cumsum(dx)), np.exp(np.cumsum(dy))
    result = regression.panel(pd.DataFrame(revenue, idx), pd.DataFrame(capex, idx), lag=2)
    assert list(result.companies["slope"].round(1)) == [0.3, 0.5, 0.7]
    assert result.pooled.estimate == pytest.approx(0.5, abs=0.05)
    assert result.quarters == 37


def test_out_of_sample_uses_only_published_quarters():
    rng = np.random.default_rng(9)
    dx = 0.05 + 0.05 * rng.standard_normal(40)
    y, x = _series(np.exp(np.cumsum(0.5 * np.roll(dx, 4)))), _series(np.exp(np.cumsum(dx)))
    forecasts = regression.out_of_sample(y, x, lag=4, horizon=4, min_window=12)
    assert len(forecasts) > 5
    # the origin is one quarter after the last quarter used: its filing comes out in the next quarter
    g = regression.growth_frame(y, x.shift(4), 0)
    assert forecasts["origin"].iloc[0] == g.index[11] + 1
    assert regression.rmse_ratio(forecasts) < 1  # the true model beats the random walk


def _disclosed(log_d, quarters, days_to_publish=30):
    """One final-demand series disclosed as quarterly revenue, each figure published a month after its quarter."""
    ends = [q.end_time.normalize() for q in quarters]
    return pd.DataFrame({"series_id": "s", "company_id": "c", "product": "p", "as_of": ends,
                         "published": [e + pd.Timedelta(days=days_to_publish) for e in ends],
                         "value_usd_bn": np.exp(log_d) / 4, "kind": "quarterly_revenue", "flow": "final_demand",
                         "netted_from": "", "basis": "reported", "definition": "d", "source_id": "x", "note": ""})


def _d_forecasts(panel, capex, quarters):
    vintages = downstream.vintages(panel, [q.end_time for q in quarters], str(quarters[0]), 0.05, 0.03)
    final = downstream.vintages(panel, [pd.Timestamp.max], str(quarters[0]), 0.05, 0.03)[0].d["d_usd_bn"]
    return regression.realtime_out_of_sample(vintages, final, capex, lag=3, horizon=2, min_series=1, min_window=8)


def _synthetic_d(seed, effect, n=40):
    """log D a random walk with drift (``effect`` = 0) or driven by capex growth three quarters earlier."""
    rng = np.random.default_rng(seed)
    quarters = pd.period_range("2016Q1", periods=n, freq="Q")
    dx = 0.05 + 0.1 * rng.standard_normal(n)
    dy = 0.03 + effect * np.roll(dx, 3) + 0.03 * rng.standard_normal(n)
    capex = pd.Series(np.exp(np.cumsum(dx)), index=quarters)
    return _disclosed(np.log(5.0) + np.cumsum(dy), quarters), capex, quarters


def test_d_forecasts_on_a_pure_drift_series_match_the_random_walk_with_drift():
    """With D a random walk with drift, capex adds nothing: pooled over eight samples the RMSE ratio is about 1."""
    pooled = pd.concat([_d_forecasts(*_synthetic_d(seed, effect=0.0)) for seed in range(8)])
    assert len(pooled) == 8 * 26
    assert regression.rmse_ratio(pooled) == pytest.approx(1.0, abs=0.06)


def test_d_forecasts_beat_the_random_walk_when_capex_drives_d():
    forecasts = _d_forecasts(*_synthetic_d(0, effect=0.8))
    assert regression.rmse_ratio(forecasts) < 0.6


def test_no_d_forecast_uses_a_figure_published_after_its_origin():
    panel, capex, quarters = _synthetic_d(1, effect=0.0)
    forecasts = _d_forecasts(panel, capex, quarters)
    ends = forecasts["origin"].map(lambda q: q.end_time)
    assert (forecasts["last_published"] <= ends).all()
    assert (forecasts["capex_through"] == forecasts["origin"] - 1).all()  # capex is filed a quarter later
    assert (forecasts["target"] - forecasts["origin"]).map(lambda d: d.n).eq(2).all()
    # a wildly revised figure for an early quarter, published late, moves no forecast made before it appeared
    late = panel.iloc[[5]].assign(value_usd_bn=panel["value_usd_bn"].iloc[5] * 20,
                                  published=quarters[30].end_time.normalize() + pd.Timedelta(days=1))
    revised = _d_forecasts(pd.concat([panel, late], ignore_index=True), capex, quarters)
    before = forecasts["origin"] <= quarters[30]
    model = revised["model_error"] + revised["actual"]  # the forecasts themselves
    np.testing.assert_allclose(model[before], (forecasts["model_error"] + forecasts["actual"])[before])
    assert not np.allclose(model[~before], (forecasts["model_error"] + forecasts["actual"])[~before])


def test_d_forecast_horizon_cannot_need_capex_not_yet_filed():
    panel, capex, quarters = _synthetic_d(1, effect=0.0)
    vintages = downstream.vintages(panel, [quarters[20].end_time], str(quarters[0]), 0.05, 0.03)
    with pytest.raises(ValueError, match="not yet filed"):
        regression.realtime_out_of_sample(vintages, vintages[0].d["d_usd_bn"], capex, lag=3, horizon=3, min_series=1)


def test_linked_growth_counts_only_the_series_present_in_both_quarters():
    # series b enters in the second quarter: the first link is a alone, the second a + b
    levels = np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 3.0]])
    growth = regression.linked_growth(levels, np.array([1.0, 1.0]))
    np.testing.assert_allclose(growth, [np.nan, np.log(2.0), np.log(7.0 / 5.0)])
    # a netted flow (sign -1) is subtracted on both sides of the link
    netted = regression.linked_growth(np.array([[4.0, 1.0], [6.0, 1.0]]), np.array([1.0, -1.0]))
    assert netted[1] == pytest.approx(np.log(5.0 / 3.0))
    # batched over leading axes: two draws at once give each draw's growth
    both = regression.linked_growth(np.stack([levels, 2 * levels]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(both[0], both[1])


def _pattern(n=12, observed=(0, 2, 5, 8, 11), variance=1e-6, slope=0.1):
    var = np.full((1, n), np.nan)
    var[0, list(observed)] = variance
    return regression.DisclosurePattern(pd.period_range("2023Q1", periods=n, freq="Q"), ("s",), ((2, n - 1),), var,
                                        np.array([0.0]), np.array([slope]), 0.05, 0.03)


def test_disclosure_pattern_simulates_the_smoothed_series_on_its_window_only():
    logs = _pattern().simulate(np.random.default_rng(0), 2000)
    assert logs.shape == (2000, 12, 1)
    assert np.isnan(logs[:, :2]).all() and np.isfinite(logs[:, 2:]).all()
    # the level starts at the start level, at the window's first quarter (observed almost exactly: 0)
    assert np.abs(logs[:, 2, 0]).max() < 0.01
    # growth drifts at the start slope: the mean quarterly growth from 2 to 11 is 0.1 + the random walk in the
    # slope, whose mean is 0; its s.d. across draws is below 0.1, so 2000 draws hold the mean within 0.01
    growth = (logs[:, 11, 0] - logs[:, 2, 0]) / 9
    assert growth.mean() == pytest.approx(0.1, abs=0.01)


def _capex(n=12, seed=1):
    rng = np.random.default_rng(seed)
    return _series(np.exp(np.cumsum(0.08 + 0.05 * rng.standard_normal(n))), "2022Q1")


def test_pipeline_elasticity_interval_uses_the_widest_null_critical_value():
    rng = np.random.default_rng(4)
    x = _capex(16)
    y = _series(np.exp(np.cumsum(0.2 + 0.05 * rng.standard_normal(10))), "2023Q3")
    nulls = {"narrow": 0.2 + 0.02 * rng.standard_normal((400, 10)), "wide": 0.2 + 0.2 * rng.standard_normal((400, 10))}
    nulls["wide"][:, :3] = np.cumsum(nulls["wide"][:, :3], axis=1)  # persistence: a wider |t*| distribution
    effect = regression.pipeline_elasticity(y, x, 2, nulls, 0.90)
    worlds = effect.worlds.set_index("world")
    assert effect.critical == pytest.approx(worlds["critical"].max())
    assert effect.interval == pytest.approx((effect.estimate - effect.critical * effect.se,
                                             effect.estimate + effect.critical * effect.se))
    # the reported interval covers in every world: at least the level where its own quantile sets it
    assert (worlds["coverage"] >= 0.90 - 1e-9).all()
    assert effect.mde == pytest.approx(worlds["mde"].max()) and effect.power_at_one == worlds["power_at_one"].min()
    assert 0 < effect.pvalue <= 1 and effect.df == effect.fit.dof and effect.nobs == 9


def test_pipeline_elasticity_power_is_the_shift_of_the_null_estimates():
    """Adding b x dx to a null draw moves its OLS estimate by exactly b and leaves its s.e.: the power the
    result reports at b = 1 is the rejection rate of the shifted draws, recomputed here from scratch."""
    from valuechain.stats import inference

    rng = np.random.default_rng(8)
    x = _capex(20)
    y = _series(np.exp(np.cumsum(0.1 + 0.05 * rng.standard_normal(12))), "2023Q3")
    null = 0.1 + 0.05 * rng.standard_normal((500, 12))
    effect = regression.pipeline_elasticity(y, x, 3, {"own": null}, 0.90)
    frame = regression.growth_frame(y, x.shift(3), 0)
    rows = [y.index.get_loc(q) for q in frame.index]
    X = np.column_stack([np.ones(len(frame)), frame["dx_lag0"]])
    shifted = null[:, rows] + frame["dx_lag0"].to_numpy()[None, :]
    _, t, _ = inference.batched_t(shifted, X, np.array([0.0, 1.0]))
    assert effect.power_at_one == pytest.approx(np.mean(np.abs(t) > effect.critical))


def test_pipeline_interval_covers_at_its_level_on_fresh_samples_of_its_null():
    """Warp-speed coverage: 2000 fresh null samples against the critical value from 2000 others.

    At a true coverage of 0.90 the rate's binomial s.e. is 0.0067 (and the critical value's own
    sampling adds about as much); 0.03 is over three combined s.e.
    """
    from valuechain.stats import inference

    rng = np.random.default_rng(11)
    x = _capex(20)
    y = _series(np.exp(np.cumsum(0.1 + 0.05 * rng.standard_normal(12))), "2023Q3")

    def draws(n):  # persistent growth, as the smoothing makes it
        return 0.1 + inference.simulate_ar1(rng, n, 12, 0.7, 0.05)

    effect = regression.pipeline_elasticity(y, x, 3, {"ar1": draws(2000)}, 0.90)
    frame = regression.growth_frame(y, x.shift(3), 0)
    rows = [y.index.get_loc(q) for q in frame.index]
    X = np.column_stack([np.ones(len(frame)), frame["dx_lag0"]])
    _, t, _ = inference.batched_t(draws(2000)[:, rows], X, np.array([0.0, 1.0]))
    assert np.mean(np.abs(t) <= effect.critical) == pytest.approx(0.90, abs=0.03)


def test_uninformative_when_a_proportional_response_is_not_detected():
    rng = np.random.default_rng(2)
    x = _capex(16)
    y = _series(np.exp(np.cumsum(0.2 + 0.3 * rng.standard_normal(8))), "2023Q3")
    noisy = regression.pipeline_elasticity(y, x, 2, {"own": 0.2 + 0.3 * rng.standard_normal((400, 8))})
    assert noisy.power_at_one < 0.8 and not noisy.informative


def test_panel_takes_a_minimum_of_changes_and_names_its_regressor():
    rng = np.random.default_rng(6)
    quarters = pd.period_range("2023Q1", periods=14, freq="Q")
    dx = 0.08 + 0.05 * rng.standard_normal((14, 3))
    capex = pd.DataFrame(np.exp(np.cumsum(dx, axis=0)), index=quarters, columns=["a", "b", "c"])
    dy = 0.01 * rng.standard_normal((14, 3))
    dy[1:] += 0.5 * dx[:-1]
    revenue = pd.DataFrame(np.exp(np.cumsum(dy, axis=0)), index=quarters, columns=["a", "b", "c"])
    revenue.iloc[:9, 2] = np.nan  # c has four changes only
    wide = regression.panel(revenue, capex, 1, min_changes=4, regressor="suppliers' AI capex")
    narrow = regression.panel(revenue, capex, 1, min_changes=8)
    assert set(wide.companies["company_id"]) == {"a", "b", "c"} and set(narrow.companies["company_id"]) == {"a", "b"}
    assert wide.pooled.name == "panel slope (suppliers' AI capex lagged 1 quarters)"
    assert wide.pooled.interval[0] < 0.5 < wide.pooled.interval[1]
    assert wide.pooled.estimate == pytest.approx(0.553, abs=1e-3)  # the seed's draw, on 28 company-quarters


def _world(n_series=4, quarters=14, seed=3):
    rng = np.random.default_rng(seed)
    grid = pd.period_range("2023Q1", periods=quarters, freq="Q")
    var = np.full((n_series, quarters), np.nan)
    var[:, ::2] = 0.01
    var[:, -1] = 0.01
    pattern = regression.DisclosurePattern(grid, tuple(f"s{i}" for i in range(n_series)),
                                           tuple((0, quarters - 1) for _ in range(n_series)), var,
                                           np.zeros(n_series), np.full(n_series, 0.1), 0.05, 0.03)
    logs = pattern.simulate(rng, 1)[0]
    revenue_log = pd.DataFrame(logs, index=grid, columns=list(pattern.series))
    capex = pd.DataFrame(np.exp(np.cumsum(0.08 + 0.05 * rng.standard_normal((quarters, n_series)), axis=0)),
                         index=grid, columns=list(pattern.series))
    return regression.SupplierWorld(pattern, revenue_log, capex, 1, 4, pd.DataFrame())


def _slopes(world, logs):
    """The panel's slope, s.e. and degrees of freedom on each draw of ``logs``, as panel_calibration computes them."""
    return regression._design_slopes(regression._supplier_design(world), logs)


def test_the_batched_panel_is_the_panel():
    """The calibration's batched Driscoll-Kraay slope and s.e. are panel()'s, draw for draw."""
    world = _world()
    logs = world.pattern.simulate(np.random.default_rng(5), 3)
    est, se, nu = _slopes(world, logs)
    for i in range(3):
        one = regression.panel(world.simulated_revenue(logs[i]), world.capex, world.lag,
                               min_changes=world.min_changes).pooled
        assert est[i] == pytest.approx(one.estimate) and se[i] == pytest.approx(one.se) and nu == one.df


def test_panel_calibration_measures_size_coverage_and_power_from_the_same_draws():
    """On 1000 draws of its own null: the size at 5% is near nominal (binomial s.e. 0.007; the project's bound is
    0.10, and under 0.01 the test would never reject), the coverage is one minus the rejection rate at 10%, and
    the power at b is the rate at which the slopes moved by exactly b reject."""
    from scipy import stats

    world = _world()
    table = regression.panel_calibration(world, {"own": (1.0, 1.0)}, np.random.default_rng(1), 1000, 0.90)
    row = table.iloc[0]
    est, se, nu = _slopes(world, world.pattern.simulate(np.random.default_rng(1), 1000))
    t = np.abs(est / se)
    assert row["size"] == pytest.approx(np.mean(t > stats.t.ppf(0.975, nu)))
    assert row["coverage"] == pytest.approx(np.mean(t <= stats.t.ppf(0.95, nu)))
    assert row["power_at_one"] == pytest.approx(np.mean(np.abs((est + 1) / se) > stats.t.ppf(0.975, nu)))
    assert 0.01 <= row["size"] <= 0.10
    assert row["mde"] < 1.0 and row["power_at_one"] >= 0.8  # 56 company-quarters detect a proportional response


def test_panel_calibration_power_is_the_shifted_slope():
    """Power at b is the rejection rate of the null slopes moved by exactly b: at b = 0 it is the size."""
    world = _world()
    table = regression.panel_calibration(world, {"own": (1.0, 1.0)}, np.random.default_rng(2), 500)
    row = table.iloc[0]
    assert row["power_at_one"] >= row["size"]
    again = regression.panel_calibration(world, {"own": (1.0, 1.0)}, np.random.default_rng(2), 500)
    pd.testing.assert_frame_equal(table, again)  # a fixed seed gives the same table


def _growth_frame_reference(y, x, lags, leads=0):
    """growth_frame as pandas states it: align, log of the positive values, difference, shift, drop incomplete rows."""
    frame = np.log(pd.concat({"y": y, "x": x}, axis=1).sort_index().where(lambda f: f > 0)).diff()
    cols = {"dy": frame["y"]}
    for k in range(lags + 1):
        cols[f"dx_lag{k}"] = frame["x"].shift(k)
    for k in range(1, leads + 1):
        cols[f"dx_lead{k}"] = frame["x"].shift(-k)
    return pd.DataFrame(cols).dropna()


def test_growth_frame_is_the_aligned_frames_growth_bit_for_bit():
    """On series that start and end apart, with gaps, non-positive values and whole numbers: the reference's frame."""
    rng = np.random.default_rng(12)
    for trial in range(60):
        n = int(rng.integers(4, 30))
        y = _series(np.exp(rng.normal(0, 1, n)))
        x = _series(np.exp(rng.normal(0, 1, n)), "2014Q3")
        y[rng.random(n) < 0.15] = np.nan
        x[rng.random(n) < 0.15] = -1.0
        y, x = y.iloc[int(rng.integers(0, 3)):], x.iloc[:n - int(rng.integers(0, 3))].dropna()
        if trial % 4 == 0:
            y = (y.fillna(1.0) * 100).round().astype(int)
        for lags, leads in ((0, 0), (2, 0), (1, 2)):
            pd.testing.assert_frame_equal(regression.growth_frame(y, x, lags, leads),
                                          _growth_frame_reference(y, x, lags, leads), check_exact=True)


def test_growth_frame_sorts_the_quarters_of_equal_unsorted_indexes():
    """Index.union returns two equal indexes as they are: the frame is still in calendar order."""
    y, x = _series([1.0, 2.0, 4.0, 8.0, 16.0]), _series([1.0, 3.0, 9.0, 27.0, 81.0])
    order = [3, 0, 4, 1, 2]
    shuffled_y, shuffled_x = y.iloc[order], x.iloc[order]
    assert shuffled_y.index.equals(shuffled_x.index) and not shuffled_y.index.is_monotonic_increasing
    frame = regression.growth_frame(shuffled_y, shuffled_x, lags=1)
    assert list(frame.index) == list(y.index[2:])
    np.testing.assert_allclose(frame.to_numpy(), np.tile(np.log([2.0, 3.0, 3.0]), (3, 1)), rtol=1e-15)
    pd.testing.assert_frame_equal(frame, regression.growth_frame(y, x, lags=1), check_exact=True)
    pd.testing.assert_frame_equal(frame, _growth_frame_reference(shuffled_y, shuffled_x, 1), check_exact=True)


def test_the_panels_rows_are_each_companys_growth_frame():
    rng = np.random.default_rng(13)
    quarters = pd.period_range("2020Q1", periods=16, freq="Q")
    capex = pd.DataFrame(np.exp(np.cumsum(0.05 + 0.05 * rng.standard_normal((16, 3)), axis=0)), quarters, list("abc"))
    revenue = pd.DataFrame(np.exp(np.cumsum(0.05 + 0.05 * rng.standard_normal((16, 4)), axis=0)), quarters, list("abdc"))
    revenue.iloc[:12, 1] = np.nan  # b has three changes, too few
    parts = [_growth_frame_reference(revenue[c], capex[c].shift(2), 0).rename(columns={"dx_lag0": "dx"}).assign(company=c)
             for c in ("a", "b", "c")]
    expected = pd.concat([p for p in parts if len(p) >= 4])
    pd.testing.assert_frame_equal(regression._panel_data(revenue, capex, 2, 4), expected, check_exact=True)


def _first_powered(est, se, grid, critical):
    """The smallest effect of the grid detected with probability 0.8, from the power at every point of the grid."""
    power = np.array([np.mean(np.abs((est + b) / se) > critical) for b in grid])
    reached = grid[power >= regression.POWER]
    return float(reached[0]) if len(reached) else np.inf


def test_the_mde_is_the_first_effect_of_the_grid_with_power_0_8():
    """The MDE a null world reports is the first grid point whose power reaches 0.8, computing the power at every
    point: within the first block of the grid, beyond it, and nowhere on it (inf)."""
    from valuechain.stats import inference

    rng = np.random.default_rng(8)
    x = _capex(20)
    y = _series(np.exp(np.cumsum(0.1 + 0.05 * rng.standard_normal(12))), "2023Q3")
    frame = regression.growth_frame(y, x.shift(3), 0)
    rows = [y.index.get_loc(q) for q in frame.index]
    X = np.column_stack([np.ones(len(frame)), frame["dx_lag0"]])
    mdes = []
    for spread in (0.02, 0.1, 1.0):
        null = 0.1 + spread * rng.standard_normal((500, 12))
        effect = regression.pipeline_elasticity(y, x, 3, {"own": null}, 0.90)
        est, t, _ = inference.batched_t(null[:, rows], X, np.array([0.0, 1.0]))
        assert effect.mde == _first_powered(est, est / t, np.linspace(0.0, 10.0, 1001), effect.critical)
        mdes.append(effect.mde)
    assert mdes[0] < 1.0 < mdes[1] < 10.0 and mdes[2] == np.inf


def test_the_panel_calibrations_mde_is_the_first_effect_of_the_grid_with_power_0_8():
    from scipy import stats

    world = _world()
    row = regression.panel_calibration(world, {"own": (1.0, 1.0)}, np.random.default_rng(1), 400, 0.90).iloc[0]
    est, se, nu = _slopes(world, world.pattern.simulate(np.random.default_rng(1), 400))
    assert row["mde"] == _first_powered(est, se, np.linspace(0.0, 10.0, 2001), stats.t.ppf(0.975, nu))
