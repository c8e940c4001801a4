"""D's smoother: noise levels estimated on the disclosures, series held flat past their last disclosure, and a band
that carries the noise levels' uncertainty."""
import numpy as np
import pandas as pd
import pytest

from valuechain.model import downstream
from valuechain.model.downstream import SeriesFit
from valuechain.stats.statespace import estimate_noise

START = "2023Q1"


def _series(series_id, quarters, log_levels, published=None):
    """A final-demand series disclosed as quarterly revenue (annualized exp(log_level)), a month after each quarter."""
    published = published or [q.end_time.normalize() + pd.Timedelta(days=30) for q in quarters]
    return pd.DataFrame({"series_id": series_id, "company_id": series_id, "product": series_id,
                         "as_of": [q.end_time.normalize() for q in quarters], "published": pd.to_datetime(published),
                         "value_usd_bn": np.exp(log_levels) / 4, "kind": "quarterly_revenue", "flow": "final_demand",
                         "netted_from": "", "basis": "reported", "definition": "d", "source_id": "x", "note": ""})


@pytest.fixture(scope="module")
def panel():
    """A grows 10% a quarter to 2025Q2 and stops disclosing; B grows 5% a quarter to 2025Q4; both with noise."""
    rng = np.random.default_rng(11)
    a_q = pd.period_range("2023Q1", "2025Q2", freq="Q")
    b_q = pd.period_range("2023Q3", "2025Q4", freq="Q")
    a = np.log(4.0) + 0.095 * np.arange(len(a_q)) + rng.normal(0, 0.06, len(a_q))
    b = np.log(20.0) + 0.05 * np.arange(len(b_q)) + rng.normal(0, 0.06, len(b_q))
    return pd.concat([_series("a", a_q, a), _series("b", b_q, b)], ignore_index=True)


def test_a_series_past_its_last_disclosure_is_held_flat_and_d_s_band_widens(panel):
    """A is held at its 2025Q2 level in 2025Q3 and 2025Q4; D's log s.d. there is the delta method on A's widening
    variance (closed form of the smoother's held variance) and B's."""
    d = downstream.downstream(None, START, 0.05, 0.03, panel=panel)
    a = d.series["a"]
    assert a["2025Q3"] == pytest.approx(a["2025Q2"]) and a["2025Q4"] == pytest.approx(a["2025Q2"])
    fit_a = downstream.fit_series(downstream.observations(panel[panel["series_id"] == "a"]),
                                  pd.Period("2025Q4", freq="Q"), 0.05, 0.03)
    fit_b = downstream.fit_series(downstream.observations(panel[panel["series_id"] == "b"]),
                                  pd.Period("2025Q4", freq="Q"), 0.05, 0.03)
    va, vb = (pd.Series(f.log_var, index=f.quarters) for f in (fit_a, fit_b))
    for q in ("2025Q3", "2025Q4"):
        x_a, x_b = d.series.loc[q, "a"], d.series.loc[q, "b"]
        expected = np.sqrt(x_a ** 2 * np.expm1(va[q]) + x_b ** 2 * np.expm1(vb[q])) / (x_a + x_b)
        assert d.d.loc[q, "log_sd"] == pytest.approx(expected, rel=1e-9)
    assert va["2025Q2"] < va["2025Q3"] < va["2025Q4"]
    assert not d.band_includes_noise_uncertainty and d.noise.estimated == ()


def test_the_band_with_estimated_noise_is_the_law_of_total_variance():
    """One series at two noise points, weights 1/2 each, its log level moved by -delta and +delta with variance v:
    within each point the variance of log D is e^v - 1; between the points it is delta^2."""
    quarters = pd.period_range("2025Q1", "2025Q2", freq="Q")
    delta, v = 0.1, 0.02
    fit = SeriesFit("a", "final_demand", "", quarters, np.log([10.0, 12.0]), np.full(2, v), np.log([10.0, 12.0]),
                    np.log([[10.0, 12.0], [10.0, 12.0]]) + np.array([[-delta], [delta]]), np.full((2, 2), v))
    columns = pd.DataFrame({"a": [10.0, 12.0]}, index=quarters)
    var = downstream.band_log_var(columns, pd.Series({"a": 1.0}), columns["a"], [fit], quarters, np.array([0.5, 0.5]))
    assert np.allclose(var, np.expm1(v) + delta ** 2, atol=1e-12)
    at_point = downstream.band_log_var(columns, pd.Series({"a": 1.0}), columns["a"], [fit], quarters, None)
    assert np.allclose(at_point, np.expm1(v), atol=1e-12)


def test_estimated_noise_levels_widen_the_band_and_say_so(panel):
    est = downstream.downstream(None, START, "estimate", "estimate", panel=panel)
    assert est.band_includes_noise_uncertainty and est.noise.estimated == ("level_sd", "slope_sd")
    fixed = downstream.downstream(None, START, float(est.noise.level_sd), float(est.noise.slope_sd), panel=panel,
                                  measurement_scale=est.noise.measurement_scale)
    assert np.allclose(est.d["d_usd_bn"], fixed.d["d_usd_bn"])  # D is smoothed at the estimate
    assert not fixed.band_includes_noise_uncertainty
    assert (est.d["log_sd"] >= fixed.d["log_sd"] * 0.95).all() and (est.d["log_sd"] > fixed.d["log_sd"]).any()


def test_each_vintage_estimates_its_noise_on_the_disclosures_then_public(panel):
    cutoffs = [pd.Timestamp("2024-09-30"), pd.Timestamp("2026-03-31")]
    built = downstream.vintages(panel, cutoffs, START, "estimate", "estimate")
    for cutoff, vintage in zip(cutoffs, built):
        cut = panel[panel["published"] <= cutoff]
        alone = downstream.downstream(None, START, "estimate", "estimate", panel=cut)
        pd.testing.assert_series_equal(vintage.d["d_usd_bn"], alone.d["d_usd_bn"], rtol=1e-9)
    early = downstream.noise(downstream.observations(panel[panel["published"] <= cutoffs[0]]))
    late = downstream.noise(downstream.observations(panel))
    assert float(early.level_sd) != pytest.approx(float(late.level_sd))


def test_the_noise_panel_left_aligns_each_final_demand_series(panel):
    y, h = downstream.noise_inputs(downstream.observations(panel))
    assert y.shape == (2, 12)
    assert np.isfinite(y[0, :10]).all() and np.isnan(y[0, 10:]).all()  # a: 10 quarters
    assert np.isfinite(y[1, :10]).all()  # b: 10 quarters from 2023Q3, moved to column 0
    stacked, _ = downstream.noise_inputs(downstream.observations(panel), [pd.Timestamp("2024-09-30"), pd.Timestamp.max])
    assert stacked.shape == (2, 2, 12) and np.isfinite(stacked[0]).sum() < np.isfinite(stacked[1]).sum()


def test_bundled_noise_levels(ds):
    """On the bundled disclosures (13 final-demand series, 59 quarters observed) the stated measurement s.d.s are too
    small: their common factor is estimated at 1.91 (the pooled log-likelihood rises by about 4.7 from 1). At that
    factor the level s.d. is at the grid's floor (90% profile interval 0-0.081) and the slope s.d. 0.029 a quarter
    (interval 0-0.059): the data read as noisier disclosures of revenue whose growth wanders, not as a wandering level
    measured exactly."""
    from valuechain.dataset import disclosures

    fit = downstream.noise(downstream.observations(disclosures.load(ds)))
    assert (fit.series, int(fit.observations)) == (13, 59)
    assert float(fit.measurement_scale) == pytest.approx(1.915, abs=0.005)
    assert float(fit.level_sd) == pytest.approx(0.002) and float(fit.level_interval[0]) == 0.0
    assert float(fit.level_interval[1]) == pytest.approx(0.081, abs=0.001)
    assert float(fit.slope_sd) == pytest.approx(0.0286, abs=0.0005) and float(fit.slope_interval[0]) == 0.0
    assert float(fit.slope_interval[1]) == pytest.approx(0.059, abs=0.001)


def test_the_measurement_scale_is_the_likelihoods_maximum():
    """Two series of pure measurement noise, s.d. exactly three times the stated one (no state noise, fixed at the
    grid's floor): the estimated factor is near 3 (seed 5, 40 quarters each; within 15%), and 1 when the noise is as
    stated."""
    rng = np.random.default_rng(5)
    stated = np.full((2, 40), 0.05 ** 2)
    for truth in (3.0, 1.0):
        y = 1.0 + 0.1 * np.arange(40)[None, :] + truth * 0.05 * rng.standard_normal((2, 40))
        scale = downstream.measurement_scale(y, stated, 0.002, 0.002)
        assert float(scale) == pytest.approx(truth, rel=0.15) if truth > 1 else float(scale) <= 1.2


def test_the_intervals_cover_on_the_real_disclosure_pattern(ds):
    """400 panels with the bundled pattern (same series, quarters observed and measurement variances), true level and
    slope s.d. 0.05 and 0.03: each 90% profile-likelihood interval covers in 0.90 +- 0.045 of them (three binomial
    s.e. at 400); measured 0.91 and 0.915 with seed 27."""
    from valuechain.dataset import disclosures

    y, h = downstream.noise_inputs(downstream.observations(disclosures.load(ds)))
    rng = np.random.default_rng(27)
    sims, (S, n) = 400, y.shape
    slope = 0.1 + np.concatenate([np.zeros((sims, S, 1)), np.cumsum(rng.normal(0, 0.03, (sims, S, n - 1)), -1)], -1)
    level = np.concatenate([np.zeros((sims, S, 1)),
                            np.cumsum(slope[..., :-1] + rng.normal(0, 0.05, (sims, S, n - 1)), -1)], -1)
    panels = np.where(np.isfinite(y), level + rng.normal(size=level.shape) * np.sqrt(h), np.nan)
    fit = estimate_noise(panels, h)
    for (low, high), truth in ((fit.level_interval, 0.05), (fit.slope_interval, 0.03)):
        assert np.mean((low <= truth) & (truth <= high)) == pytest.approx(0.90, abs=0.045)
