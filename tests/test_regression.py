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
