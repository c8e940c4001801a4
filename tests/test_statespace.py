"""The local-linear-trend filter, smoother and likelihood against statsmodels, closed forms and a known trend."""
import numpy as np
import pytest
from statsmodels.tsa.statespace.structural import UnobservedComponents

from valuechain.stats.statespace import NOISE_GRID, estimate_noise, local_linear_trend, pooled_loglike


def test_matches_statsmodels_with_the_same_initial_state():
    rng = np.random.default_rng(0)
    y = np.log(2) + 0.15 * np.arange(20) + rng.normal(0, 0.05, 20)
    y[[2, 3, 7, 8, 9, 15]] = np.nan
    est = local_linear_trend(y, 0.01, 0.05, 0.02)
    model = UnobservedComponents(y, "local linear trend")
    model.ssm.initialize_known(np.array([y[0], 0.0]), np.diag([4.0, 0.25]))
    ref = model.smooth([0.01, 0.05 ** 2, 0.02 ** 2])
    assert est.smoothed_level[0] == pytest.approx(ref.smoothed_state[0], abs=1e-10)
    assert est.filtered_slope[0] == pytest.approx(ref.filtered_state[1], abs=1e-10)
    assert est.smoothed_level_var[0] == pytest.approx(ref.smoothed_state_cov[0, 0], abs=1e-10)


def test_recovers_a_known_trend_from_irregular_points():
    """Revenue growing 20% a quarter, observed in 7 of 16 quarters with noise: the slope comes back."""
    rng = np.random.default_rng(1)
    truth = np.log(1.0) + 0.2 * np.arange(16)
    y = np.full(16, np.nan)
    seen = [0, 3, 4, 8, 11, 12, 15]
    y[seen] = truth[seen] + rng.normal(0, 0.03, len(seen))
    est = local_linear_trend(y, 0.03 ** 2, 0.01, 0.01)
    assert est.smoothed_slope[0, -1] == pytest.approx(0.2, abs=0.02)
    assert np.max(np.abs(est.smoothed_level[0] - truth)) < 0.08
    # the real-time (filtered) level never uses a later point: before the second observation it is the first
    assert est.filtered_level[0, 1] == pytest.approx(est.filtered_level[0, 0] + est.filtered_slope[0, 0])


def _statsmodels(y, h, level_sd, slope_sd):
    model = UnobservedComponents(y, "local linear trend")
    model.ssm.initialize_known(np.array([y[np.isfinite(y)][0], 0.0]), np.diag([4.0, 0.25]))
    model.loglikelihood_burn = 0  # statsmodels leaves out the first two quarters by default; the filter counts every one
    return model, [h, level_sd ** 2, slope_sd ** 2]


def test_the_log_likelihood_matches_statsmodels_to_1e_6():
    rng = np.random.default_rng(0)
    y = np.log(2) + 0.15 * np.arange(20) + rng.normal(0, 0.05, 20)
    y[[2, 3, 7, 8, 9, 15]] = np.nan
    for level_sd, slope_sd in [(0.05, 0.02), (0.15, 0.002), (0.01, 0.1)]:
        model, params = _statsmodels(y, 0.01, level_sd, slope_sd)
        est = local_linear_trend(y, 0.01, level_sd, slope_sd)
        assert est.loglike[0] == pytest.approx(model.loglike(params), abs=1e-6)
        assert pooled_loglike(y[None], 0.01, np.array([level_sd]), np.array([slope_sd]))[0, 0] == pytest.approx(
            model.loglike(params), abs=1e-6)


def test_the_maximum_likelihood_estimate_matches_statsmodels_fit():
    """One series of 40 quarters, measurement variance known: the grid-and-parabola estimate is statsmodels' optimum."""
    rng = np.random.default_rng(3)
    slope = 0.1 + np.cumsum(rng.normal(0, 0.03, 40))
    y = np.cumsum(slope + rng.normal(0, 0.08, 40)) + rng.normal(0, 0.05, 40)
    model, _ = _statsmodels(y, 0.0025, 0.1, 0.1)
    with model.fix_params({"sigma2.irregular": 0.0025}):
        ref = model.fit(start_params=[0.01, 0.001], disp=False)
    fit = estimate_noise(y, 0.0025)
    assert float(fit.level_sd) == pytest.approx(np.sqrt(ref.params[1]), rel=0.05)
    assert float(fit.slope_sd) == pytest.approx(np.sqrt(ref.params[2]), rel=0.05)
    assert float(fit.loglike) == pytest.approx(ref.llf, abs=0.01)
    assert float(fit.loglike) >= fit.surface.max() - 1e-12
    low, high = fit.level_interval
    assert low < fit.level_sd < high


def test_each_row_may_carry_its_own_noise_levels():
    rng = np.random.default_rng(2)
    y = np.cumsum(rng.normal(0.1, 0.05, (3, 12)), axis=1)
    both = local_linear_trend(y, 0.01, np.array([0.01, 0.05, 0.2]), np.array([0.03, 0.01, 0.002]))
    for row, (level_sd, slope_sd) in enumerate([(0.01, 0.03), (0.05, 0.01), (0.2, 0.002)]):
        one = local_linear_trend(y[row], 0.01, level_sd, slope_sd)
        assert np.allclose(both.smoothed_level[row], one.smoothed_level[0], atol=1e-12)
        assert both.loglike[row] == pytest.approx(one.loglike[0], abs=1e-12)


def test_a_level_held_after_one_observation_widens_in_closed_form():
    r"""One observation y with variance h, then nothing: the update gives :math:`P^{\mu\mu} = 1/(1/4 + 1/h)`, the
    slope stays at 0 with variance 0.5^2, so k quarters on the held level has variance
    :math:`P^{\mu\mu} + k^2 \cdot 0.25 + k \sigma_\eta^2 + (k-1)k(2k-1)/6 \, \sigma_\zeta^2` and stays at y."""
    y = np.array([1.3] + [np.nan] * 4)
    h, level_sd, slope_sd = 0.04, 0.1, 0.05
    est = local_linear_trend(y, h, level_sd, slope_sd, hold=True)
    k = np.arange(5)
    expected = 1 / (1 / 4 + 1 / h) + k ** 2 * 0.25 + k * level_sd ** 2 + (k - 1) * k * (2 * k - 1) / 6 * slope_sd ** 2
    assert np.allclose(est.smoothed_level_var[0], expected, atol=1e-12)
    assert np.allclose(est.filtered_level_var[0], expected, atol=1e-12)
    assert np.allclose(est.smoothed_level[0], 1.3) and np.allclose(est.smoothed_slope[0, 1:], 0.0)


def test_the_held_variance_is_the_forecast_variance_plus_the_unextrapolated_slope_squared():
    """Past the last observation, held = the model's own k-step forecast (same variance, plus k^2 slope^2), level flat."""
    rng = np.random.default_rng(4)
    y = 0.2 * np.arange(12) + rng.normal(0, 0.03, 12)
    y[8:] = np.nan
    free = local_linear_trend(y, 0.03 ** 2, 0.05, 0.02)
    held = local_linear_trend(y, 0.03 ** 2, 0.05, 0.02, hold=True)
    k = np.arange(1, 5)
    slope = free.filtered_slope[0, 7]
    assert np.allclose(held.smoothed_level_var[0, 8:], free.smoothed_level_var[0, 8:] + k ** 2 * slope ** 2, atol=1e-12)
    assert np.allclose(held.smoothed_level[0, 8:], free.smoothed_level[0, 7])
    assert np.allclose(held.smoothed_level[0, :8], free.smoothed_level[0, :8])
    assert np.all(np.diff(held.smoothed_level_var[0, 7:]) > 0)


def test_many_panels_at_once_give_each_panel_s_own_estimate():
    rng = np.random.default_rng(5)
    panels = np.cumsum(rng.normal(0.1, 0.1, (3, 4, 10)), axis=-1) + rng.normal(0, 0.05, (3, 4, 10))
    panels[:, :, ::4] = np.nan
    together = estimate_noise(panels, 0.0025)
    for i in range(3):
        alone = estimate_noise(panels[i], 0.0025)
        assert together.level_sd[i] == pytest.approx(float(alone.level_sd), abs=1e-12)
        assert together.slope_interval[1][i] == pytest.approx(float(alone.slope_interval[1]), abs=1e-12)


def test_a_fixed_level_is_kept_and_only_the_other_is_profiled():
    rng = np.random.default_rng(6)
    y = np.cumsum(rng.normal(0.1, 0.1, (4, 10)), axis=-1)
    fit = estimate_noise(y, 0.0025, level_sd=0.07)
    assert float(fit.level_sd) == 0.07 and fit.estimated == ("slope_sd",) and fit.surface.shape == (1, len(NOISE_GRID))
    assert (float(fit.level_interval[0]), float(fit.level_interval[1])) == (0.07, 0.07)
    assert np.isnan(fit.level_se)
    weights = fit.weights()
    assert weights.sum() == pytest.approx(1.0)


def test_estimate_in_the_smoother_pools_the_rows_it_is_given():
    rng = np.random.default_rng(7)
    y = np.cumsum(rng.normal(0.1, 0.1, (5, 10)), axis=-1)
    fit = estimate_noise(y, 0.0025)
    est = local_linear_trend(y, 0.0025, "estimate", "estimate")
    assert np.allclose(est.level_sd, float(fit.level_sd)) and np.allclose(est.slope_sd, float(fit.slope_sd))


def _matrix_filter(y, h, q_level, q_slope, init_level_sd, init_slope_sd):
    """The Kalman filter written with the 2 x 2 state covariance as a matrix: the reference for the filter's entries."""
    batch, n = y.shape
    a = np.stack([np.where(np.isfinite(y).any(axis=1), y[np.arange(batch), np.argmax(np.isfinite(y), axis=1)], 0.0),
                  np.zeros(batch)], axis=-1)
    P = np.zeros((batch, 2, 2))
    P[:, 0, 0], P[:, 1, 1] = init_level_sd ** 2, init_slope_sd ** 2
    ll = np.zeros(batch)
    paths = [np.empty((n, batch, 2)), np.empty((n, batch, 2, 2)), np.empty((n, batch, 2)), np.empty((n, batch, 2, 2))]
    for t in range(n):
        paths[0][t], paths[1][t] = a, P
        seen = np.isfinite(y[:, t])
        if seen.any():
            F = np.where(seen, P[:, 0, 0] + h[:, t], 1.0)
            v = np.where(seen, y[:, t] - a[:, 0], 0.0)
            K = P[:, :, 0] / F[:, None]
            a = a + K * v[:, None]
            P = P - np.where(seen[:, None, None], K[:, :, None] * K[:, None, :] * F[:, None, None], 0.0)
            ll -= np.where(seen, 0.5 * (np.log(2 * np.pi * F) + v ** 2 / F), 0.0)
        paths[2][t], paths[3][t] = a, P
        a = np.stack([a[:, 0] + a[:, 1], a[:, 1]], axis=-1)
        P = np.stack([np.stack([P[:, 0, 0] + 2 * P[:, 0, 1] + P[:, 1, 1] + q_level, P[:, 0, 1] + P[:, 1, 1]], -1),
                      np.stack([P[:, 0, 1] + P[:, 1, 1], P[:, 1, 1] + q_slope], -1)], axis=-2)
    return ll, paths


def test_the_filter_is_the_matrix_form_bit_for_bit():
    """The filter carries the covariance's three entries; its likelihood and filtered states are the matrix form's
    exactly, with a quarter no row observes, rows observed at different quarters, a row observed nowhere and per-row
    noise levels."""
    rng = np.random.default_rng(8)
    y = np.cumsum(rng.normal(0.1, 0.1, (6, 12)), axis=-1)
    y[rng.random(y.shape) < 0.4] = np.nan
    y[:, 3], y[5] = np.nan, np.nan
    h = rng.uniform(0.001, 0.05, y.shape)
    level_sd, slope_sd = rng.uniform(0.0, 0.1, 6), rng.uniform(0.0, 0.03, 6)
    est = local_linear_trend(y, h, level_sd, slope_sd)
    ll, (_, _, a, P) = _matrix_filter(y, h, level_sd ** 2, slope_sd ** 2, 2.0, 0.5)
    assert np.array_equal(est.loglike, ll)
    for got, want in ((est.filtered_level, a[..., 0]), (est.filtered_slope, a[..., 1]),
                      (est.filtered_level_var, P[..., 0, 0]), (est.filtered_slope_var, P[..., 1, 1])):
        assert np.array_equal(got, want.T)
    one = pooled_loglike(y[:2][None], h[:2], np.array([0.05]), np.array([0.01]))
    assert one[0, 0, 0] == _matrix_filter(y[:2], h[:2], np.full(2, 0.05 ** 2), np.full(2, 0.01 ** 2), 2.0, 0.5)[0].sum()


def test_the_smoothed_level_without_its_variances_is_the_same():
    rng = np.random.default_rng(9)
    y = np.cumsum(rng.normal(0.1, 0.1, (5, 10)), axis=-1)
    y[:, [2, 7, 8, 9]] = np.nan
    for hold in (False, True):
        full = local_linear_trend(y, 0.0025, 0.05, 0.02, hold=hold)
        lean = local_linear_trend(y, 0.0025, 0.05, 0.02, hold=hold, smoothed_variances=False)
        assert np.array_equal(lean.smoothed_level, full.smoothed_level)
        assert np.array_equal(lean.smoothed_slope, full.smoothed_slope)
        assert np.array_equal(lean.filtered_level_var, full.filtered_level_var)
        assert np.isnan(lean.smoothed_level_var).all() and np.isnan(lean.smoothed_slope_var).all()
