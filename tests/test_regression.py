import numpy as np
import pandas as pd
import pytest

from valuechain import regression


def _quarters(n, start="2010Q1"):
    return pd.period_range(start, periods=n, freq="Q")


def _synthetic(n=160, betas=(0.3, 0.0, 0.2, 0.0, 0.4), a=1.0, noise=0.01, seed=7, rho=0.0):
    rng = np.random.default_rng(seed)
    log_x = np.cumsum(rng.normal(0.02, 0.05, n + len(betas))) + 3.0
    eps = np.zeros(n)
    shocks = rng.normal(0, noise, n)
    for t in range(n):
        eps[t] = (rho * eps[t - 1] if t else 0.0) + shocks[t]
    L = len(betas) - 1
    log_y = a + sum(b * log_x[L - k:L - k + n] for k, b in enumerate(betas)) + eps
    idx = _quarters(n + L)
    x = pd.Series(np.exp(log_x[: n + L]), index=idx)
    y = pd.Series(np.exp(log_y), index=idx[L:])
    return y, x


def test_lag_alignment_recovers_known_coefficients():
    betas = (0.3, 0.0, 0.2, 0.0, 0.4)
    y, x = _synthetic(betas=betas, noise=0.002)
    fit = regression.distributed_lag(y, x, lags=4)
    table = fit.table.set_index("term")
    coefs = table["coef"]
    for k, b in enumerate(betas):
        assert coefs[f"x_lag{k}"] == pytest.approx(b, abs=0.015)
        assert abs(coefs[f"x_lag{k}"] - b) < 4 * table.loc[f"x_lag{k}", "std_err"]
    assert coefs["sum_of_lags"] == pytest.approx(sum(betas), abs=0.01)
    assert coefs["const"] == pytest.approx(1.0, abs=0.1)
    assert (fit.table["n"] == 160).all()
    assert set(fit.table.columns) >= {"coef", "std_err", "t", "p", "ci_low", "ci_high", "n", "r2", "durbin_watson", "lags"}


def test_growth_version_recovers_the_same_elasticities():
    betas = (0.5, 0.0, 0.0, 0.0, 0.3)
    y, x = _synthetic(betas=betas, noise=0.002)
    fit = regression.distributed_lag(y, x, lags=4, diff=True)
    coefs = fit.table.set_index("term")["coef"]
    assert coefs["x_lag0"] == pytest.approx(0.5, abs=0.05)
    assert coefs["x_lag4"] == pytest.approx(0.3, abs=0.05)


def test_hac_errors_differ_from_ols_on_autocorrelated_data():
    y, x = _synthetic(noise=0.02, rho=0.9, seed=3)
    fit = regression.distributed_lag(y, x, lags=0, hac_maxlags=8)
    ols = fit.result.model.fit()
    hac_se = fit.table.set_index("term").loc["x_lag0", "std_err"]
    assert hac_se / ols.bse["x_lag0"] > 1.3


def test_too_few_observations_says_so_instead_of_fitting():
    y, x = _synthetic(n=6)
    fit = regression.distributed_lag(y, x, lags=4)
    assert fit.result is None
    assert "only 6 usable observations" in fit.table["note"].iloc[0]


def _yield_data(beta, n=40, seed=1):
    rng = np.random.default_rng(seed)
    capex = pd.Series(np.linspace(100, 400, n) * np.exp(rng.normal(0, 0.02, n)), index=_quarters(n))
    revenue = beta * capex * np.exp(rng.normal(0, 0.05, n))
    return revenue, capex


def test_demand_gap_test_rejects_far_below_break_even():
    revenue, capex = _yield_data(beta=0.5)
    test = regression.yield_test(revenue, capex, beta_star=2.0)
    assert test.beta == pytest.approx(0.5, rel=0.05)
    assert test.reject and test.p_one_sided < 0.001
    assert test.verdict().startswith("At the 5% level, downstream revenue per dollar of capex is below break-even (β = 0.5")


def test_demand_gap_test_does_not_reject_far_above_break_even():
    revenue, capex = _yield_data(beta=4.0)
    test = regression.yield_test(revenue, capex, beta_star=2.0)
    assert not test.reject and test.p_one_sided > 0.99
    assert "cannot reject" in test.verdict()


def test_one_sided_p_is_the_t_cdf():
    revenue, capex = _yield_data(beta=1.9, n=12)
    test = regression.yield_test(revenue, capex, beta_star=2.0)
    from scipy import stats
    assert test.p_one_sided == pytest.approx(stats.t.cdf((test.beta - 2.0) / test.std_err, df=11))


def test_structural_break_detects_a_change_in_elasticity():
    n = 48
    rng = np.random.default_rng(5)
    idx = _quarters(n, "2014Q1")
    log_x = np.cumsum(rng.normal(0.03, 0.05, n)) + 3
    post = idx >= pd.Period("2022Q4", freq="Q")
    log_y = 1 + np.where(post, 1.5, 0.5) * np.r_[np.full(1, log_x[0]), log_x[:-1]] + rng.normal(0, 0.01, n)
    fit = regression.structural_break(pd.Series(np.exp(log_y), idx), pd.Series(np.exp(log_x), idx), "2022Q4", lag=1)
    inter = fit.table.set_index("term").loc["post_x"]
    assert inter["p"] < 0.01 and inter["coef"] > 0.5
    assert "Chow F" in fit.table["note"].iloc[0]


def test_panel_recovers_common_elasticity_with_fixed_effects():
    rng = np.random.default_rng(11)
    rows = []
    for company, level in (("a", 0.0), ("b", 1.0), ("c", -0.5)):
        idx = _quarters(40, "2015Q1")
        log_k = np.cumsum(rng.normal(0.03, 0.05, 40)) + 2
        log_r = level + 0.8 * np.r_[np.full(2, log_k[0]), log_k[:-2]] + rng.normal(0, 0.01, 40)
        rows.append(pd.DataFrame({"company_id": company, "calendar_quarter": idx, "revenue": np.exp(log_r), "capex": np.exp(log_k)}))
    fit = regression.panel(pd.concat(rows), lag=2)
    assert fit.table.set_index("term").loc["log_capex_lag", "coef"] == pytest.approx(0.8, abs=0.05)
    assert "3 companies" in fit.table["note"].iloc[0]


def test_unit_roots_and_cointegration_on_a_random_walk():
    y, x = _synthetic(betas=(1.0,), noise=0.01, seed=2)
    roots = regression.unit_roots({"y": y, "x": x}).set_index(["series", "form"])
    assert roots.loc[("x", "level"), "p"] > 0.05
    assert roots.loc[("x", "first difference"), "p"] < 0.05
    eg = regression.cointegration(y, x)
    assert eg["p"].iloc[0] < 0.05
