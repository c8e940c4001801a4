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


def _grids_reference(obs, quarters, cutoffs=None, values=None):
    """_grids observation by observation: each cell sums the precisions (and weighted values) of its rows in order."""
    position = {q: i for i, q in enumerate(quarters)}
    cutoffs = [q.end_time for q in quarters] + [pd.Timestamp.max] if cutoffs is None else cutoffs
    cutoffs = np.array(list(cutoffs), dtype="datetime64[ns]")
    values = obs["log_value"].to_numpy(float) if values is None else np.asarray(values, float)
    weight, weighted = np.zeros((len(cutoffs), len(quarters))), np.zeros((*values.shape[:-1], len(cutoffs), len(quarters)))
    for k, (quarter, variance, published) in enumerate(zip(obs["quarter"], obs["variance"], obs["published"])):
        if quarter in position:
            seen = cutoffs >= np.datetime64(published)
            weight[seen, position[quarter]] += 1.0 / variance
            weighted[..., seen, position[quarter]] += values[..., k:k + 1] / variance
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, weighted / weight, np.nan), np.where(weight > 0, 1.0 / weight, 1.0)


def test_the_grids_combine_each_quarters_disclosures_as_the_row_by_row_sum(ds):
    """On the bundled disclosures (several in some quarters, some outside the grid): the real-time grids, the grids at
    cutoffs and the grids of simulated values are the row-by-row sums' exactly."""
    from valuechain.dataset import disclosures

    obs = downstream.observations(disclosures.load(ds))
    obs = obs[obs["flow"] == "final_demand"]
    quarters = pd.period_range(obs["quarter"].min() + 2, obs["quarter"].max() - 1, freq="Q")
    cutoffs = [pd.Timestamp("2024-06-30"), pd.Timestamp("2025-03-31"), pd.Timestamp.max]
    values = np.random.default_rng(3).normal(0, 1, (4, len(obs)))
    for args in ((None, None), (cutoffs, None), (None, values), (cutoffs, values)):
        y, h = downstream._grids(obs, quarters, *args)
        ref_y, ref_h = _grids_reference(obs, quarters, *args)
        assert np.array_equal(y, ref_y, equal_nan=True) and np.array_equal(h, np.broadcast_to(ref_h, ref_y.shape))
    # the noise panel: each series' grids (on its rows alone) stacked and left-aligned
    everything = pd.period_range(obs["quarter"].min(), obs["quarter"].max(), freq="Q")
    grids = [_grids_reference(obs.iloc[at], everything, cutoffs, values[..., at])
             for _, at in sorted(obs.groupby("series_id").indices.items())]
    ref_y, ref_h = downstream._left_aligned(np.stack([g[0] for g in grids], -2),
                                            np.stack([np.broadcast_to(g[1], g[0].shape) for g in grids], -2))
    y, h = downstream.noise_inputs(obs, cutoffs, values)
    assert np.array_equal(y, ref_y, equal_nan=True) and np.array_equal(h, ref_h)


def _date_offsets_reference(obs, quarters):
    """date_offsets series by series, as the definition reads."""
    offset = downstream.row_date_offsets(obs)
    weight = 1.0 / obs["variance"]
    out = pd.DataFrame(np.nan, index=quarters, columns=sorted(obs["series_id"].unique()))
    for sid, rows in obs.assign(offset=offset * weight, weight=weight).groupby("series_id"):
        by_quarter = rows.groupby("quarter")[["offset", "weight"]].sum()
        per_quarter = by_quarter["offset"] / by_quarter["weight"]
        first, last = per_quarter.index.min(), per_quarter.index.max()
        column = pd.Series(0.0, index=quarters).where(quarters >= first)
        seen = per_quarter.index[per_quarter.index.isin(quarters)]
        column[seen] = per_quarter[seen]
        after = quarters > last
        column[after] = per_quarter[last] - np.array([(q - last).n for q in quarters[after]], dtype=float)
        out[sid] = column
    return out


def test_date_offsets_are_each_series_precision_weighted_offsets(ds):
    from valuechain.dataset import disclosures

    obs = downstream.observations(disclosures.load(ds))
    obs = obs[obs["flow"] != "market_total"]
    for quarters in (pd.period_range("2022Q1", obs["quarter"].max(), freq="Q"),
                     pd.period_range("2024Q1", obs["quarter"].max() + 3, freq="Q")):
        pd.testing.assert_frame_equal(downstream.date_offsets(obs, quarters), _date_offsets_reference(obs, quarters),
                                      check_exact=True)


def test_the_plain_sum_of_one_quarter_is_the_same_on_an_array():
    """columns_sum on a one-row array (as scope_factors takes it) is the frame's sum, bit for bit."""
    rng = np.random.default_rng(4)
    for k in (3, 9, 16):
        row = rng.lognormal(0, 2, (1, k))
        row[0, rng.random(k) < 0.3] = np.nan
        signs = pd.Series(np.where(rng.random(k) < 0.2, -1.0, 1.0), index=[f"s{i}" for i in range(k)])
        frame = pd.DataFrame(row, columns=signs.index)
        assert downstream.columns_sum(row, signs)[0] == downstream.columns_sum(frame, signs).iloc[0]
