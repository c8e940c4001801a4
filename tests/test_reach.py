"""The pre-specified question: needed growth, D's pace and its test, the MDE, the posterior predictive and its bound."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from valuechain.model import reach as reach_model
from valuechain.stats import reach


def test_needed_growth_is_the_log_ratio_over_the_years():
    """D of 50 reaching 200 in 2 years needs log(4)/2 = 0.693 a year; the grid broadcasts scopes against rungs."""
    assert reach.needed_growth(np.log(50.0), np.log(200.0), 2.0) == pytest.approx(np.log(4) / 2)
    grid = reach.needed_growth(np.log([[50.0], [100.0]]), np.log([[100.0, 400.0]]), 2.0)
    assert grid == pytest.approx(np.array([[np.log(2) / 2, np.log(8) / 2], [0.0, np.log(4) / 2]]))
    with pytest.raises(ValueError, match="after the last quarter"):
        reach.needed_growth(0.0, 1.0, 0.0)


def test_pace_is_the_change_over_the_window_with_the_bands_standard_error():
    """Over w changes: 4 (log D_T - log D_{T-w}) / w, se 4 sqrt(s_T^2 + s_{T-w}^2) / w, normal reference. log D rises
    0.3 a quarter, so the pace is 1.2 a year; the band is 0.06 at T and 0.08 six quarters back: se = 4 x 0.1 / 6."""
    log_d = 0.3 * np.arange(9.0)
    sd = np.full(9, 0.05)
    sd[-1], sd[-7] = 0.06, 0.08
    g, se, nu = reach.pace(log_d, sd, 6)
    assert g == pytest.approx(1.2) and se == pytest.approx(4 * 0.1 / 6) and nu == reach.NORMAL == np.inf
    # the window takes the latest changes, fewer when fewer are there; a panel gives one estimate per row
    assert reach.pace(log_d[:5], sd[:5], 8)[1] == pytest.approx(4 * np.sqrt(2) * 0.05 / 4)
    g2, se2, _ = reach.pace(np.vstack([log_d, 2 * log_d]), np.vstack([sd, sd]), 6)
    assert g2 == pytest.approx([1.2, 2.4]) and se2 == pytest.approx([se, se])
    with pytest.raises(ValueError, match="at least 3"):
        reach.pace(log_d[:3], sd[:3], 8)
    with pytest.raises(ValueError, match="band at both ends"):
        reach.pace(log_d, np.where(np.arange(9) == 8, np.nan, sd), 6)


def test_the_tests_standard_error_counts_the_error_d_t_shares_with_the_need():
    """Pace over 6 changes and need over h = 4.5 years both use log D_T: se = sqrt(s_T^2 (4/6 + 1/4.5)^2 + s_{T-6}^2
    (4/6)^2); with s_T = 0.06, s_{T-6} = 0.08: sqrt(0.06^2 x 0.8889^2 + 0.08^2 x 0.6667^2) = 0.07542. A dated span
    (ends at -0.1 and +0.4 quarters: 5.5) replaces the 6."""
    sd = np.full(9, 0.05)
    sd[-1], sd[-7] = 0.06, 0.08
    expected = np.sqrt(0.06 ** 2 * (4 / 6 + 1 / 4.5) ** 2 + 0.08 ** 2 * (4 / 6) ** 2)
    assert reach.test_se(sd, 6, 4.5) == pytest.approx(expected) == pytest.approx(0.07542, abs=1e-5)
    offset = np.zeros(9)
    offset[-1], offset[-7] = -0.1, 0.4
    assert reach.test_se(sd, 6, 4.5, offset) == pytest.approx(np.sqrt(0.06 ** 2 * (4 / 5.5 + 1 / 4.5) ** 2
                                                                      + 0.08 ** 2 * (4 / 5.5) ** 2))
    assert reach.pace(0.3 * np.arange(9.0), sd, 6, offset)[0] == pytest.approx(4 * 1.8 / 5.5)


def test_pace_interval_covers_the_realized_pace_at_its_nominal_rate():
    """True log D wanders (random walk in growth); each end is seen with independent normal error of s.d. s: the
    interval ĝ ± z se covers the realized pace 4 (L_T - L_{T-w}) / w in 0.90 of 4,000 panels (seed 1, tolerance
    3 binomial s.e., 0.014), whatever the path, because the estimand is what happened, not a drift."""
    rng = np.random.default_rng(1)
    truth = np.cumsum(np.cumsum(0.05 * rng.standard_normal((4000, 9)), axis=1) + 0.3, axis=1)
    s = np.full((4000, 9), 0.07)
    seen = truth + s * rng.standard_normal(truth.shape)
    g, se, nu = reach.pace(seen, s, 6)
    lo, hi = reach.growth_interval(g, se, nu, 0.90)
    realized = 4 * (truth[:, -1] - truth[:, -7]) / 6
    assert np.mean((lo <= realized) & (realized <= hi)) == pytest.approx(0.90, abs=0.014)


def test_growth_test_and_mde_closed_forms():
    """t = (ĝ - g_need)/se with a one-sided t_ν p-value; MDE = (t_ν,0.95 + t_ν,0.8) se: (2.920 + 1.061) 0.1 = 0.398 for ν = 2."""
    t, p = reach.growth_test(1.0, 0.1, 2, 0.7)
    assert t == pytest.approx(3.0) and p == pytest.approx(stats.t.sf(3.0, 2))
    assert reach.growth_test(0.7, 0.1, 2, 0.7)[1] == pytest.approx(0.5)
    assert reach.mde(0.1, 2, 0.05) == pytest.approx(0.3981, abs=1e-4)
    assert reach.mde(0.1, 10_000, 0.05) == pytest.approx((1.6449 + 0.8416) * 0.1, abs=1e-3)


def test_quarters_to_detect_scales_the_standard_error_with_one_over_n():
    """MDE 0.5 against 0.3 on 6 changes: the pace's s.e. falls as 1/n, so n (0.5/0.3 - 1) = 4 more quarters; a window
    of 8 cannot hold them."""
    assert reach.quarters_to_detect(0.5, 0.3, 6) == 4
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
    assert a.test.null.startswith("D's recent pace is at most") and a.test.df == a.dof == reach.NORMAL
    keys = {h.key for h in base_gap.headlines()}
    assert {"prob_reach", "reach_needed_growth", "d_growth", "reach_mde", "reach_p_value", "prob_reach_no_decay",
            "prob_reach_half_life_1y"} <= keys


def test_the_probability_rises_with_the_half_life_of_growth(base_gap):
    """P at each half-life the page shows: the slower growth fades, the likelier D reaches the path (D's pace on the data
    is +1.40 a year against +0.30 needed, so a pace that lasts reaches it almost surely and one halving every half
    year mostly does not); the prior's P (median half-life two years) lies within the range the half-lives span."""
    by = base_gap.reach.probability_by_half_life
    assert list(by) == list(reach_model.HALF_LIVES)
    values = list(by.values())
    assert all(b >= a - 0.01 for a, b in zip(values, values[1:]))
    assert values[0] < 0.5 < 0.95 < values[-1]
    assert values[0] <= base_gap.reach.probability <= values[-1]


def test_scope_factors_are_one_at_the_scenarios_values(base_gap, base_scenario):
    """At the scenario's own chain assumptions each rung's D in T is its ladder level (factor 1)."""
    a, down, ladder = base_gap.reach, base_gap.downstream, base_gap.ladder
    _, keys = reach_model.drawn_keys(base_scenario)
    at = np.array([[ladder.accounting.labs_to_clouds if k == "layers.labs.pass_through"
                    else ladder.accounting.partner_share[k.split(".")[2]] for k in keys]])
    assert reach_model.scope_factors(down, ladder, a.quarter, base_scenario, keys, at) == pytest.approx(np.ones((1, 3)))
