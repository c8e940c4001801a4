"""Growth-form regressions and their inference, on synthetic series with known answers."""
import numpy as np
import pandas as pd
import pytest

from valuechain import regression


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
    assert effect.p_value < 0.01 and effect.p_value > 0  # a Monte Carlo p-value is never exactly 0
    assert effect.n == 60 - 1 - 2


def test_placebo_finds_nothing_without_a_lead():
    """Revenue responds to lagged capex only: the leads' sum is near zero and not significant."""
    rng = np.random.default_rng(5)
    dx = 0.05 + 0.05 * rng.standard_normal(80)
    dy = 0.8 * np.roll(dx, 1) + 0.01 * rng.standard_normal(80)
    x, y = _series(np.exp(np.cumsum(dx))), _series(np.exp(np.cumsum(dy)))
    placebo = regression.placebo(y, x, lags=2, leads=2)
    assert abs(placebo.estimate) < 0.1
    assert placebo.p_value > 0.05


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
