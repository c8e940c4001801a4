"""Small-sample inference: closed forms, size on simulated nulls, and p-values that are never 0."""
import numpy as np
import pytest
from scipy import stats

from valuechain.stats import inference


def test_format_p_never_prints_zero():
    assert inference.format_p(0.0) == "< 0.001"
    assert inference.format_p(0.0004) == "< 0.001"
    assert inference.format_p(0.0123) == "0.012"
    assert inference.format_p(float("nan")) == "n/a"


def test_mc_p_value_is_never_zero():
    assert inference.mc_p_value(10.0, np.zeros(999)) == pytest.approx(1 / 1000)


def test_holm_matches_the_step_down_closed_form():
    adjusted = inference.holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06})


def test_ewc_variance_of_white_noise_is_the_variance():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((20_000, 1))
    omega = inference.ewc_long_run(z, inference.ewc_dof(len(z)))
    assert omega[0, 0] == pytest.approx(1.0, rel=0.25)


def test_sandwich_posterior_closed_form():
    post = inference.sandwich_posterior(estimate=2.0, se=1.0, prior_mean=0.0, prior_sd=1.0)
    assert post.mean == pytest.approx(1.0) and post.sd == pytest.approx(np.sqrt(0.5))
    flat = inference.sandwich_posterior(2.0, 1.0, 0.0, np.inf)
    assert flat.mean == 2.0 and flat.sd == 1.0


@pytest.mark.parametrize("phi", [0.0, 0.6])
def test_bootstrap_t_rejects_at_about_its_nominal_rate(phi):
    """A fast version of the calibration: slope tests on AR(1) series independent of the regressor."""
    rng = np.random.default_rng(11)
    n, sims = 30, 300
    x = rng.standard_normal(n)
    X = np.column_stack([np.ones(n), x])
    rejections = 0
    for _ in range(sims):
        y = inference.simulate_ar1(rng, 1, n, phi, 1.0)[0]
        test = inference.bootstrap_t(y, X, np.array([0.0, 1.0]), draws=199, rng=rng)
        rejections += test.pvalue < 0.05
    # binomial s.e. at 0.05 is 0.013 with 300 draws; a test that (almost) never rejects is broken, not
    # conservative: at a true size of 0.05, fewer than 3 rejections in 300 happen with probability below 1e-4
    assert 3 / sims <= rejections / sims <= 0.10


def test_sup_wald_finds_a_real_break_and_dates_it():
    rng = np.random.default_rng(2)
    n = 60
    x = rng.standard_normal(n)
    y = np.where(np.arange(n) < 30, 0.0, 3.0) + x + 0.3 * rng.standard_normal(n)
    test = inference.sup_wald(y, np.column_stack([np.ones(n), x]), bootstrap=199, rng=rng)
    assert test.pvalue < 0.05
    assert test.date_set[0] <= 30 <= test.date_set[1]


def test_bounds_test_sees_a_levels_relationship():
    rng = np.random.default_rng(4)
    x = np.cumsum(0.05 + 0.1 * rng.standard_normal(60))
    y = 1.0 + 0.8 * x + 0.02 * rng.standard_normal(60)
    test = inference.bounds_test(y, x, lags=1, bootstrap=199, rng=rng)
    assert test.pvalue < 0.05
    assert test.long_run_elasticity == pytest.approx(0.8, abs=0.1)


def test_t_reference_matches_scipy_when_effect_is_exact():
    fit = inference.ols_ewc(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.column_stack([np.ones(5), np.arange(5.0)]), ["c", "b"])
    assert fit.coef == pytest.approx([1.0, 1.0])
    lo, hi = fit.interval(1.0, 0.1, 0.90)
    assert hi - 1.0 == pytest.approx(0.1 * stats.t.ppf(0.95, fit.dof))


def test_a_test_without_an_estimate_shows_its_statistic_in_a_table_row():
    test = inference.bounds_test(*np.cumsum(np.random.default_rng(5).standard_normal((2, 30)), axis=1), bootstrap=19)
    row = test.row()
    assert isinstance(test, inference.TestResult) and test.statistic_name == "F"
    assert row["estimate"] == test.statistic and np.isnan(row["ci_low"]) and np.isnan(row["df"])
    assert row["nobs"] == 30 - 1 - 1 and row["pvalue"] == test.pvalue


def test_a_test_summary_states_hypotheses_statistic_and_interval():
    test = inference.TestResult(name="mean change", statistic=2.5, pvalue=0.0004, null="no change", alternative="a rise",
                                method="EWC HAC t", nobs=12, df=4, estimate=0.1, interval=(0.02, 0.18), level=0.9)
    assert test.summary().splitlines() == [
        "mean change", "  H0: no change", "  H1: a rise",
        "  t = 2.5, p = < 0.001 (12 observations, 4 degrees of freedom)",
        "  estimate 0.1, 90% interval 0.02 to 0.18", "  method: EWC HAC t"]
