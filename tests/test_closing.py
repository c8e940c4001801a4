"""The gap estimand: closed forms for the time to close and the probability of closing."""
import numpy as np
import pandas as pd
import pytest

from valuechain.stats import closing


def _gap(d_growth, r_growth, start_gap, n=12):
    q = pd.period_range("2023Q4", periods=n, freq="Q")
    log_r = pd.Series(np.log(100.0) + r_growth * np.arange(n), q)
    log_d = pd.Series(np.log(100.0) + start_gap + d_growth * np.arange(n), q)
    return log_d, log_r


def test_time_to_close_equals_the_closed_form_with_constant_growth():
    """D grows 10% a quarter, R* 5%: the gap of -1.0 at the start is -1.0 + 0.05 * 11 = -0.45 at the end,
    and closes after 0.45 / 0.05 = 9 more quarters."""
    log_d, log_r = _gap(0.10, 0.05, -1.0)
    result = closing.gap_closing(log_d, log_r, 1e-9, 5.0, 8, (0.05, 0.03))
    assert result.current_gap == pytest.approx(-0.45)
    assert result.trend == pytest.approx(0.05)
    assert result.quarters_to_close == pytest.approx(9.0)
    assert closing.time_to_close(-0.45, 0.05) == pytest.approx(9.0)
    assert closing.time_to_close(0.1, -1.0) == 0.0 and closing.time_to_close(-0.1, -0.01) == np.inf
    # 2026Q3 + 9 quarters = 2028Q4: closed by the end of 2029, not by the end of 2027 (2028 is the boundary)
    assert result.prob_closed_by[2029] == pytest.approx(1.0) and result.prob_closed_by[2027] == pytest.approx(0.0)
    assert result.ratio == pytest.approx(np.exp(-0.45))


def test_primary_test_null_is_the_rate_that_closes_within_the_asset_life():
    """On a straight line the trend is known without error, so the p-value is at its bounds: the least a
    Monte Carlo p-value can be, 1 / (1 + B), above the null, and 1 below it (every null draw is at least -inf)."""
    log_d, log_r = _gap(0.10, 0.05, -1.0)
    result = closing.gap_closing(log_d, log_r, 0.05, 5.0, 8, (0.05, 0.03))
    assert result.required_trend == pytest.approx(0.45 / 20)  # close -0.45 within 5 years = 20 quarters
    assert result.t_stat > 1e6 and result.p_value == 1 / (1 + closing.BOOTSTRAP_DRAWS)
    # D grows 6% a quarter against 5%: the gap of -0.89 needs 0.89 / 20 a quarter, above the trend of 0.01
    slow = closing.gap_closing(*_gap(0.06, 0.05, -1.0), 0.05, 5.0, 8, (0.05, 0.03))
    assert slow.required_trend == pytest.approx(0.89 / 20) and slow.trend == pytest.approx(0.01)
    assert slow.t_stat < -1e6 and slow.p_value == 1.0
    assert result.reject and not slow.reject


def test_primary_test_at_its_null_gives_a_p_value_of_one_half():
    """Gap changes whose mean is exactly the rate tested give t = 0; the null's t statistics are symmetric
    about 0, so P(T* >= 0) = 1/2, within the Monte Carlo error of 999 draws (s.e. 0.016)."""
    q = pd.period_range("2023Q4", periods=12, freq="Q")
    log_r = pd.Series(np.log(100.0) + 0.05 * np.arange(12), q)
    noise = [0.02, -0.02, 0.01, -0.01, 0.03, -0.03, 0.02, -0.02, 0.01, -0.01, 0.0]  # D grows 10% a quarter give or take
    log_d = pd.Series(np.log(100.0) - 1.0 + np.concatenate([[0.0], np.cumsum(0.10 + np.array(noise))]), q)
    gap = log_d - log_r
    trend = gap.diff().iloc[-8:].mean()  # the mean change over the 8-quarter window
    horizon = -gap.iloc[-1] / (4 * trend)  # the horizon whose required rate is exactly the trend
    result = closing.gap_closing(log_d, log_r, 0.05, horizon, 8, (0.05, 0.03))
    assert result.required_trend == pytest.approx(result.trend) and result.t_stat == pytest.approx(0.0, abs=1e-9)
    assert result.p_value == pytest.approx(0.5, abs=3 * 0.016)


def test_bootstrap_t_inversion_subtracts_the_pivot_and_recovers_a_known_probability():
    """A constructed, non-centred pivot: t* = 1 + z over a grid of normal quantiles (median +1, as the pipeline's
    is shifted). With g = ĝ - se t*, P(G + g h >= 0) = P(t* <= (ĝ + G/h)/se) = Φ((ĝ + G/h)/se - 1).
    With ĝ = 0.05, se = 0.02, G = -0.45, h = 12: (0.05 - 0.0375)/0.02 - 1 = -0.375, Φ = 0.3538.
    The old sign (ĝ + se t*) gives P(0.07 + 0.02 z >= 0.0375) = P(z >= -1.625) = 0.948: far from the answer."""
    from scipy import stats

    z = stats.norm.ppf((np.arange(100_000) + 0.5) / 100_000)
    t_star = 1.0 + z
    draws = closing.invert_bootstrap_t(0.05, 0.02, t_star)
    assert np.median(draws) == pytest.approx(0.05 - 0.02 * 1.0, abs=1e-6)  # the pivot's median is subtracted
    known = stats.norm.cdf((0.05 - 0.45 / 12) / 0.02 - 1.0)
    assert closing.prob_closed(np.full(len(draws), -0.45), draws, 12) == pytest.approx(known, abs=1e-4)
    assert known == pytest.approx(0.3538, abs=1e-4)
    wrong = closing.prob_closed(np.full(len(draws), -0.45), 0.05 + 0.02 * t_star, 12)
    assert wrong == pytest.approx(stats.norm.sf(-1.625), abs=1e-4) and wrong - known > 0.5
    assert np.isnan(closing.prob_closed(np.zeros(3), np.zeros(3), -1))
