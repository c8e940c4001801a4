"""The calibration harness: its rates on checks whose size, coverage and calibration are known, and the record."""
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from valuechain.batch import calibrate
from valuechain.stats import size

SIMS = 4000
# binomial tolerance: four standard errors of a rate p measured on SIMS draws
TOLERANCE = {p: 4 * np.sqrt(p * (1 - p) / SIMS) for p in (0.05, 0.90, 0.5)}


@pytest.fixture(scope="module")
def iid():
    rng = np.random.default_rng(27)
    x = rng.standard_normal((SIMS, 10))
    return SimpleNamespace(x=x, u=rng.uniform(size=SIMS))


def test_size_of_a_t_test_on_iid_normal_data_is_nominal(iid):
    check = calibrate.Check("t_test", "test", lambda b: stats.ttest_1samp(b.x, 0.0, axis=1).pvalue,
                            lambda b: np.ones(len(b.x), bool), lambda b: 0.05)
    rate = calibrate.rejects(check, iid)[check.truth(iid)].mean()
    assert rate == pytest.approx(0.05, abs=TOLERANCE[0.05])  # 0.05 +- 0.014


def test_coverage_of_a_t_interval_is_nominal(iid):
    def bounds(b):
        half = stats.t.ppf(0.95, 9) * b.x.std(axis=1, ddof=1) / np.sqrt(10)
        return np.column_stack([b.x.mean(axis=1) - half, b.x.mean(axis=1) + half])

    check = calibrate.Check("mean", "interval", bounds, lambda b: np.zeros(len(b.x)), lambda b: 0.90)
    assert calibrate.covered(check, iid).mean() == pytest.approx(0.90, abs=TOLERANCE[0.90])  # 0.90 +- 0.019


def test_calibration_of_a_calibrated_probability(iid):
    """P(x_1 > 0 | x_0) = Phi(...) with x_1 = x_0 + e: the reported probability equals the event's frequency."""
    check = calibrate.Check("p", "probability", lambda b: stats.norm.cdf(b.x[:, 0]), lambda b: b.x[:, 0] + b.x[:, 1] > 0,
                            lambda b: np.nan)
    mean, freq = calibrate.calibration(check, [iid])
    assert mean == pytest.approx(0.5, abs=TOLERANCE[0.5])
    # E[Phi(x0)] = 1/2 and P(x0 + x1 > 0) = 1/2, but the pair is only calibrated if Phi(x0) is the right
    # conditional probability: P(x1 > -x0 | x0) = Phi(x0). Check it by bins.
    reported, happened = check.statistic(iid), check.truth(iid)
    low = reported < 0.5
    assert happened[low].mean() == pytest.approx(reported[low].mean(), abs=4 * np.sqrt(0.25 / low.sum()))
    assert freq == pytest.approx(mean, abs=2 * TOLERANCE[0.5])


def test_mde_interpolates_the_first_crossing():
    assert calibrate.mde([0.2, 0.5, 1.0], [0.3, 0.6, 1.0]) == pytest.approx(0.5 + 0.5 * 0.2 / 0.4)
    assert calibrate.mde([0.2, 0.5], [0.9, 0.95]) == 0.2
    assert calibrate.mde([0.2, 0.5], [0.1, 0.2]) == float("inf")


def test_every_check_is_of_a_known_kind():
    assert {c.kind for c in calibrate.CHECKS} <= {"test", "interval", "probability"}
    assert len({c.name for c in calibrate.CHECKS}) == len(calibrate.CHECKS)
    assert [c.name for c in calibrate.CHECKS if c.kind == "test"] == ["gap_closing", "growth_test"]
    # the question's checks: its test, both intervals the page shows and P(D >= R*'s committed path)
    assert {c.name for c in calibrate.CHECKS if c.question == "reach"} == {
        "growth_test", "growth_interval", "needed_growth_interval", "prob_reach", "prob_reach_no_decay"}
    # each probability is checked in the world it is a probability in
    worlds = {c.name: c.worlds for c in calibrate.CHECKS if c.kind == "probability" and c.question == "reach"}
    assert worlds["prob_reach"]("decay") and not worlds["prob_reach"]("model")
    assert worlds["prob_reach_no_decay"]("pace_lasts") and not worlds["prob_reach_no_decay"]("decay")


def test_recorded_calibration_has_its_shape_and_500_simulations():
    rec = size.recorded()
    assert set(size.RECORD_KEYS) <= set(rec)
    assert rec["test"] == "gap_closing" and rec["simulations"] >= 500
    assert len(rec["power"]) >= 3 and all(0 <= r <= 1 for r in rec["power"].values())
    assert all(0 <= r <= 1 for r in rec["size"].values()) and "model" in rec["size"]
    assert rec["mde"] is None or rec["mde"] >= min(float(e) for e in rec["power"])
    assert "commit" not in rec and set(rec["settings"]["worlds"]) == set(rec["size"])


def test_recorded_calibration_holds_the_questions_test():
    rec = size.recorded()["reach"]
    assert rec["test"] == calibrate.REACH_TEST and rec["simulations"] >= 500
    # a record of the figures the page now shows: their method, and the worlds that check them
    from valuechain.stats import reach as stats_reach

    assert rec["method"] == stats_reach.METHOD
    assert {"noisier_disclosures", "decay", "pace_lasts"} <= set(rec["settings"]["worlds"])
    assert set(rec["size"]) == set(rec["settings"]["worlds"]) and len(rec["power"]) >= 3
    assert set(rec["coverage"]) == {"growth_interval", "needed_growth_interval"}
    assert set(rec["calibration"]["prob_reach"]) == {"decay"}
    assert set(rec["calibration"]["prob_reach_no_decay"]) == {"pace_lasts"}
    assert rec["mde"] is None or rec["mde"] >= 0
