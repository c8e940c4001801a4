"""The local-linear-trend filter and smoother against statsmodels and a known trend."""
import numpy as np
import pytest
from statsmodels.tsa.statespace.structural import UnobservedComponents

from valuechain.stats.statespace import local_linear_trend


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
