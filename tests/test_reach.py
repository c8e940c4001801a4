"""The pre-specified question: needed growth, D's growth and its test, the MDE, the posterior predictive and its bound."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from valuechain.model import reach as reach_model
from valuechain.stats import inference, reach


def test_needed_growth_is_the_log_ratio_over_the_years():
    """D of 50 reaching 200 in 2 years needs log(4)/2 = 0.693 a year; the grid broadcasts scopes against rungs."""
    assert reach.needed_growth(np.log(50.0), np.log(200.0), 2.0) == pytest.approx(np.log(4) / 2)
    grid = reach.needed_growth(np.log([[50.0], [100.0]]), np.log([[100.0, 400.0]]), 2.0)
    assert grid == pytest.approx(np.array([[np.log(2) / 2, np.log(8) / 2], [0.0, np.log(4) / 2]]))
    with pytest.raises(ValueError, match="after the last quarter"):
        reach.needed_growth(0.0, 1.0, 0.0)


def test_growth_is_four_times_the_mean_change_with_the_ewc_standard_error():
    changes = np.array([0.30, 0.25, 0.31, 0.33, 0.33, 0.36, 0.37, 0.42])
    log_d = np.concatenate([[0.0], np.cumsum(changes)])
    g, se, nu = reach.growth(log_d, 8)
    fit = inference.ols_ewc(changes, np.ones((8, 1)), ["g"])
    assert g == pytest.approx(4 * changes.mean()) and se == pytest.approx(4 * fit.se("g")) and nu == fit.dof == 2
    # the window takes the latest changes, fewer when fewer are there; a panel gives one estimate per row
    g6, _, _ = reach.growth(log_d, 6)
    assert g6 == pytest.approx(4 * changes[-6:].mean())
    assert reach.growth(log_d[:5], 8)[0] == pytest.approx(4 * changes[:4].mean())
    panel = np.vstack([log_d, 2 * log_d])
    assert reach.growth(panel, 8)[0] == pytest.approx([g, 2 * g])
    with pytest.raises(ValueError, match="at least 3"):
        reach.growth(log_d[:3], 8)


def test_growth_interval_covers_at_its_nominal_rate_on_iid_changes():
    """On iid normal changes the EWC t on a mean is exactly t_ν (the cosine projections are orthonormal and orthogonal
    to the constant), so the 90% interval covers 0.90 of the time: 4,000 panels, seed 1, tolerance 3 binomial s.e.
    (3 x 0.0047 = 0.014)."""
    rng = np.random.default_rng(1)
    truth = 0.3  # a quarter
    log_d = np.concatenate([np.zeros((4000, 1)), np.cumsum(truth + 0.1 * rng.standard_normal((4000, 8)), axis=1)], axis=1)
    g, se, nu = reach.growth(log_d, 8)
    lo, hi = reach.growth_interval(g, se, nu, 0.90)
    assert np.mean((lo <= 4 * truth) & (4 * truth <= hi)) == pytest.approx(0.90, abs=0.014)


def test_growth_test_and_mde_closed_forms():
    """t = (ĝ - g_need)/se with a one-sided t_ν p-value; MDE = (t_ν,0.95 + t_ν,0.8) se: (2.920 + 1.061) 0.1 = 0.398 for ν = 2."""
    t, p = reach.growth_test(1.0, 0.1, 2, 0.7)
    assert t == pytest.approx(3.0) and p == pytest.approx(stats.t.sf(3.0, 2))
    assert reach.growth_test(0.7, 0.1, 2, 0.7)[1] == pytest.approx(0.5)
    assert reach.mde(0.1, 2, 0.05) == pytest.approx(0.3981, abs=1e-4)
    assert reach.mde(0.1, 10_000, 0.05) == pytest.approx((1.6449 + 0.8416) * 0.1, abs=1e-3)


def test_quarters_to_detect_scales_the_standard_error_with_root_n():
    """MDE 0.5 against 0.3 on 6 changes: n (0.5/0.3)^2 = 16.7, so 11 more quarters; a window of 8 cannot hold them."""
    assert reach.quarters_to_detect(0.5, 0.3, 6) == 11
    assert reach.quarters_to_detect(0.5, 0.3, 6, max_n=8) == np.inf
    assert reach.quarters_to_detect(0.2, 0.3, 6) == 0 and reach.quarters_to_detect(0.2, -0.1, 6) == np.inf


def test_decaying_paths_without_shocks_follow_the_closed_form():
    """No shocks, no ceiling: log D_{T+k} = log D_T + k g∞/4 + (g0 - g∞) ρ (1 - ρ^k) / (4 (1 - ρ)), ρ = 2^(-1/(4η))."""
    rng = np.random.default_rng(0)
    paths = reach.decaying_paths(rng, np.log(66.0), 1.4, 0.07, 2.0, 0.0, 0.0, 18)
    rho = 2 ** (-1 / 8)
    k = np.arange(1, 19)
    expected = np.log(66.0) + k * 0.07 / 4 + (1.4 - 0.07) * rho * (1 - rho ** k) / (4 * (1 - rho))
    assert paths[0] == pytest.approx(expected)
    # the growth left is bounded: with g∞ = 0 the excess adds g0 ρ / (4 (1 - ρ)) = 3.87 at most, below g0 η / ln 2 = 4.04
    far = reach.decaying_paths(rng, 0.0, 1.4, 0.0, 2.0, 0.0, 0.0, 400)[0, -1]
    assert far == pytest.approx(1.4 * rho / (4 * (1 - rho)), rel=1e-6) == pytest.approx(3.867, abs=1e-3)
    assert far < 1.4 * 2 / np.log(2)


def test_a_ceiling_holds_the_path_below_it():
    """Without shocks the diffusion approaches its ceiling from below and never crosses it, whatever the growth."""
    rng = np.random.default_rng(0)
    paths = reach.decaying_paths(rng, np.log(66.0), np.array([0.5, 1.4, 3.0]), 0.07, 4.0, 0.0, 0.0, 40,
                                 log_ceiling=np.log(1000.0))
    assert (paths < np.log(1000.0)).all() and np.all(np.diff(paths, axis=1) > 0)
    assert np.exp(paths[2, -1]) > 900  # the fastest gets close


def test_probability_above_and_its_monte_carlo_error():
    p, se = reach.probability_above(np.array([0.0, 1.0, 2.0, 3.0]), 1.5)
    assert p == 0.5 and se == pytest.approx(0.25)


# ----------------------------------------------------------------------------- on the bundled data (base)


def test_committed_spend_stops_after_the_guidance_year():
    q = pd.period_range("2026Q1", "2027Q4", freq="Q")
    spend = reach_model.committed_spend(pd.Series(10.0, q), 2026)
    assert list(spend) == [10.0] * 4 + [0.0] * 4


def test_the_committed_path_is_r_star_in_service_until_the_committed_quarter(base_gap):
    """R*'s committed path equals R* in service (the scenario's path) to G + L, and there it is the committed rung."""
    a, rungs = base_gap.reach, base_gap.rungs
    path = a.path.loc[:rungs.committed_quarter]
    assert path["committed_usd_bn"].to_numpy() == pytest.approx(path["in_service_usd_bn"].to_numpy())
    assert path["in_service_usd_bn"].to_numpy() == pytest.approx(
        rungs.by_quarter["in_service_usd_bn"].loc[path.index].to_numpy())
    assert a.path.loc[rungs.committed_quarter, "committed_usd_bn"] == pytest.approx(rungs.committed_usd_bn)
    # after G + L, vintages leave service and nothing replaces them
    later = a.path.loc[rungs.committed_quarter:, "committed_usd_bn"]
    assert later.iloc[-1] < later.iloc[0]


def test_needed_growth_grid_on_the_data(base_gap):
    """Each cell is log(requirement in Y4 / D in T) / h, and the grid's order follows the levels."""
    a = base_gap.reach
    assert a.years == pytest.approx(((a.target_quarter - a.quarter).n) / 4)
    row = a.needed.loc[("central", "committed")]
    assert row["needed"] == pytest.approx(np.log(row["target_usd_bn"] / row["d_usd_bn"]) / a.years)
    assert row["low"] < row["needed"] < row["high"]
    grid = a.grid()
    assert list(grid.columns) == ["in_service", "committed", "steady_state"]
    assert (grid.loc["strict"] > grid.loc["broad"]).all()  # less D needs more growth
    assert (grid["committed"] < grid["in_service"]).all() and (grid["in_service"] < grid["steady_state"]).all()
    assert a.needed.loc[("central", "committed"), "d_usd_bn"] == pytest.approx(
        float(base_gap.downstream.d["d_usd_bn"].iloc[-1]))


def test_the_projection_stays_below_world_it_spending(base_gap):
    """The bound: D's 95th percentile in 2030Q4 stays below world IT spending in 2025 (Gartner, USD 5,555bn; facts.csv).
    The fan at the current closing rate it replaces put it at over USD 700 trillion."""
    a, proj = base_gap.reach, base_gap.projection
    assert a.bound.value_usd_bn == pytest.approx(5555.3) and a.bound.source_id in base_gap.sources
    p95 = a.p95_at("2030Q4")
    assert p95 < a.bound.value_usd_bn
    assert float(proj.loc[pd.Period("2030Q4", freq="Q"), "d_p95"]) == pytest.approx(p95)
    fan = proj[["d_p05", "d_p25", "d_p50", "d_p75", "d_p95"]].dropna()
    assert (np.diff(fan.to_numpy(), axis=1) > 0).all() and (fan.to_numpy() < a.bound.value_usd_bn).all()


def test_the_probability_draws_the_priors_and_is_reported_with_its_range(base_gap, base_scenario):
    a = base_gap.reach
    priors = set(base_scenario.uncertainty.priors)
    assert "demand_gap.capital.servers_life_years" in a.prior_keys and "layers.labs.pass_through" in a.prior_keys
    assert set(a.prior_keys) <= priors
    low, high = a.probability_range
    assert low <= a.probability <= high and a.probability_by_scope["central"] == a.probability
    assert a.probability_se < 0.005 and 0 < a.probability < 1
    assert a.test.null.startswith("D does not reach") and a.test.df == a.dof
    keys = {h.key for h in base_gap.headlines()}
    assert {"prob_reach", "reach_needed_growth", "d_growth", "reach_mde", "reach_p_value"} <= keys


def test_scope_factors_are_one_at_the_scenarios_values(base_gap, base_scenario):
    """At the scenario's own chain assumptions each rung's D in T is its ladder level (factor 1)."""
    a, down, ladder = base_gap.reach, base_gap.downstream, base_gap.ladder
    _, keys = reach_model.drawn_keys(base_scenario)
    at = np.array([[ladder.accounting.labs_to_clouds if k == "layers.labs.pass_through"
                    else ladder.accounting.partner_share[k.split(".")[2]] for k in keys]])
    assert reach_model.scope_factors(down, ladder, a.quarter, base_scenario, keys, at) == pytest.approx(np.ones((1, 3)))
