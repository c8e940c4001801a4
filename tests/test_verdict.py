"""The verdict rule on constructed cases, and its sentence: the case first, intervals before the p-value."""
import numpy as np
import pytest

from valuechain.model import verdict
from valuechain.report import narrative
from valuechain.stats import reach as stats_reach


def _decide(ratio=(0.5, 0.6), needed=0.3, mde=0.1, p=0.01, window=6, max_window=None):
    return verdict.decide(ratio, needed, (needed - 0.05, needed + 0.05), 0.9, (0.7, 1.1), 0.9, mde, "analytic", window,
                          p, 0.05, 0.8, (0.75, 0.85), 2030, max_window)


def test_a_scope_ladder_spanning_one_means_the_data_cannot_tell():
    v = _decide(ratio=(0.8, 1.2))
    assert v.case == "cannot_tell" and v.reasons == ("scope",) and v.position == "spans" and not v.can_tell
    text = narrative.verdict_sentence(v)
    assert text.startswith("**The data cannot tell yet") and "settles D's scope" in text
    assert "above the requirement on every rung" not in text and "below the requirement on some rungs" in text


def test_an_mde_above_the_needed_growth_means_the_data_cannot_tell_and_says_how_many_quarters_would():
    """MDE 0.5 against a need of 0.3 on 6 changes: the pace's s.e. falls as 1/n, 4 more quarters (n (0.5/0.3 - 1) = 4)."""
    v = _decide(mde=0.5)
    assert v.case == "cannot_tell" and v.reasons == ("power",) and v.more_quarters == 4
    text = narrative.verdict_sentence(v)
    assert text.startswith("**The data cannot tell yet") and "about 4 more quarters" in text
    capped = _decide(mde=0.5, max_window=8)  # 6 + 4 > 8
    assert capped.more_quarters == np.inf and "not more quarters alone" in narrative.verdict_sentence(capped)
    both = _decide(ratio=(0.9, 1.1), mde=0.5)
    assert both.reasons == ("scope", "power")


def test_with_power_and_a_settled_scope_the_test_decides():
    on = _decide(p=0.01)
    off = _decide(p=0.2)
    assert on.case == "on_course" and off.case == "not_shown" and on.reasons == off.reasons == ()
    text = narrative.verdict_sentence(on)
    assert text.startswith("**D's recent pace would reach R\\*'s committed path by 2030 if it lasted; whether it lasts, "
                           "the data cannot tell**")
    # P at each half-life the page shows, in words, after the intervals and before the p-value
    shown = verdict.decide((0.5, 0.6), 0.3, (0.25, 0.35), 0.9, (0.7, 1.1), 0.9, 0.1, "measured", 6, 0.01, 0.05, 0.8,
                           (0.75, 0.85), 2030, None, None, {0.5: 0.3, 1.0: 0.75, 4.0: 0.999, float("inf"): 1.0})
    words = narrative.verdict_sentence(shown)
    assert ("by how fast growth fades: 0.30 if growth halves every half year, 0.75 if growth halves every year, "
            "> 0.99 if growth halves every 4 years, > 0.99 if the pace lasts") in words
    assert words.index("interval") < words.index("by how fast") < words.index("p = ")
    assert narrative.verdict_sentence(off).startswith("**The data do not show D reaching")


def test_it_never_says_above_while_a_rung_is_below():
    assert verdict.position((0.99, 1.5)) == "spans" and verdict.position((1.0, 1.5)) == "above"
    assert verdict.position((0.5, 0.99)) == "below"
    for ratio in ((0.5, 0.6), (0.9, 1.3), (0.99, 2.0)):
        assert "above the requirement" not in narrative.verdict_sentence(_decide(ratio=ratio))
    assert "above the requirement on every rung" in narrative.verdict_sentence(_decide(ratio=(1.1, 1.3)))


@pytest.mark.parametrize("case", [dict(), dict(mde=0.5), dict(ratio=(0.8, 1.2)), dict(p=0.3)])
def test_every_interval_comes_before_the_p_value(case):
    text = narrative.verdict_sentence(_decide(**case))
    assert text.rfind("interval") < text.index("p = ") and text.index("P(D") < text.index("p = ")


def test_the_base_page_opens_with_the_rule(base_gap):
    """The base case, today: every rung of the ladder is below R*; D's pace is far above the growth it needs and the MDE
    measured on the real disclosure pattern (calibration.json) is below that need; on those panels the test holds its
    size, D's pace interval covers within 0.05 of its level and each probability is within 0.05 of its event's frequency
    in the world it describes, so the test decides: the recent pace would reach the path if it lasted, which the page
    says is a condition the data do not test, with P at each half-life of growth."""
    v = base_gap.verdict()
    assert v.case == "on_course" and v.position == "below" and v.reasons == ()
    assert v.mde < v.needed < v.growth_interval[0] and v.p_value < v.alpha
    c = v.checks
    assert c["size_high"] <= verdict.SIZE_LIMIT and c["coverage_low"] >= v.level - verdict.TOLERANCE
    assert c["probability_gap"] <= verdict.TOLERANCE and c["simulations"] >= 500
    assert v.mde_source.startswith("measured")
    summary = narrative.demand_summary(base_gap)
    assert summary.startswith(narrative.verdict_sentence(v))
    assert summary.startswith("**D's recent pace would reach R\\*'s committed path by 2030 if it lasted; whether it lasts, "
                              "the data cannot tell**")
    assert "if growth halves every year" in summary and "if the pace lasts" in summary
    # what the fit says about fast fading, and where the probability was checked
    assert "which growth halving within a year would rarely leave" in summary
    assert "checked where D grows exactly as fast as it needs, not at today's pace" in summary
    assert "those at fixed half-lives were not checked" in summary
    assert "Minimum detectable effect" in summary and "P(D ≥ R\\*'s committed path" in summary


def test_an_mde_just_below_the_need_says_so_with_three_decimals():
    """0.2909 against 0.2926: both round to 0.29, so three decimals, and the margin is stated."""
    v = _decide(needed=0.2926, mde=0.2909)
    assert v.case == "on_course"
    assert ("Minimum detectable effect: +0.291 a year, just below the +0.293 D needs: with noisier disclosures the test "
            "could not tell D growing as fast as it needs from not") in narrative.verdict_sentence(v)
    assert "just below" not in narrative.verdict_sentence(_decide(needed=0.3, mde=0.1))


@pytest.mark.parametrize("checks, reason, words", [
    ({"size_high": 0.2, "coverage_low": 0.9, "probability_gap": 0.0}, "size", "rejects a true null in up to 20%"),
    ({"size_high": 0.05, "coverage_low": 0.8, "probability_gap": 0.0}, "coverage", "covers the true pace in as few as 80%"),
    ({"size_high": 0.05, "coverage_low": 0.9, "probability_gap": 0.3, "probability_reported": 0.2,
      "probability_observed": 0.5}, "calibration", "not a calibrated probability"),
])
def test_a_test_interval_or_probability_that_fails_on_the_real_pattern_means_the_data_cannot_tell(checks, reason, words):
    """The limits: size above 0.10; coverage below the level less 0.05; a probability off its frequency by over 0.05."""
    v = verdict.decide((0.5, 0.6), 0.3, (0.25, 0.35), 0.9, (0.7, 1.1), 0.9, 0.1, "measured", 6, 0.01, 0.05, 0.8,
                       (0.75, 0.85), 2030, None, checks)
    assert v.case == "cannot_tell" and v.reasons == (reason,)
    text = narrative.verdict_sentence(v)
    assert text.startswith("**The data cannot tell yet") and words in text
    held = verdict.decide((0.5, 0.6), 0.3, (0.25, 0.35), 0.9, (0.7, 1.1), 0.9, 0.1, "measured", 6, 0.01, 0.05, 0.8,
                          (0.75, 0.85), 2030, None, {"size_high": 0.1, "coverage_low": 0.85, "probability_gap": 0.05})
    assert held.case == "on_course"  # at the limits exactly, the test decides


def _record_with(tmp_path, reach):
    import json

    from valuechain.stats import size

    record = {**size.recorded(), "reach": reach}
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(record))
    return path


def test_the_verdict_uses_the_mde_the_calibration_recorded(tmp_path, base_scenario, base_gap):
    """A record of the question's test with this scenario's window and level gives the MDE; the page says it was measured."""
    from valuechain.model import reach as reach_model

    pt = base_scenario.demand_gap.primary_test
    reach = {"test": "growth_test", "method": stats_reach.METHOD, "mde": 0.4321, "mde_size_adjusted": 0.3,
             "simulations": 500, "power": {"0.1": 0.2, "0.5": 0.9},
             "settings": {"window_quarters": pt.window_quarters, "alpha": pt.alpha}}
    a = base_gap.reach
    mde, source = reach_model.minimum_detectable_effect(base_scenario, a.growth_se, a.dof, pt.alpha,
                                                        _record_with(tmp_path, reach))
    assert mde == 0.4321 and source.startswith("measured") and "500 synthetic panels" in source
    # the test over-rejecting, the MDE at a size of alpha is the larger: that one is used
    mde, source = reach_model.minimum_detectable_effect(base_scenario, a.growth_se, a.dof, pt.alpha,
                                                        _record_with(tmp_path, {**reach, "mde_size_adjusted": 0.5}))
    assert mde == 0.5 and source.endswith(f"at a size of {pt.alpha:g}")
    # a record of another method (an earlier test, a P computed otherwise) is not read: the analytic value stands
    stale = {k: v for k, v in reach.items() if k != "method"}
    mde, source = reach_model.minimum_detectable_effect(base_scenario, a.growth_se, a.dof, pt.alpha,
                                                        _record_with(tmp_path, stale))
    assert source == reach_model.MDE_SOURCE
    assert reach_model.measured_checks(base_scenario, pt.alpha, _record_with(tmp_path, stale)) is None
    # another window: the record does not apply, the analytic value stands
    other = {**reach, "settings": {"window_quarters": pt.window_quarters + 1, "alpha": pt.alpha}}
    mde, source = reach_model.minimum_detectable_effect(base_scenario, a.growth_se, a.dof, pt.alpha,
                                                        _record_with(tmp_path, other))
    assert source == reach_model.MDE_SOURCE and mde == pytest.approx(float(stats_reach.mde(a.growth_se, a.dof, pt.alpha)))
    # no effect reached 80% power: the MDE is infinite, and the data cannot tell
    mde, _ = reach_model.minimum_detectable_effect(base_scenario, a.growth_se, a.dof, pt.alpha,
                                                   _record_with(tmp_path, {**reach, "mde": None}))
    assert mde == float("inf")


def test_the_base_verdict_reads_the_package_record(base_scenario, base_gap):
    """The bundled calibration.json holds the question's measured MDE: the base verdict states that number."""
    from valuechain.stats import size

    recorded = size.recorded()["reach"]
    assert recorded["test"] == "growth_test" and recorded["simulations"] >= 500
    verdict = base_gap.verdict()
    both = (recorded["mde"], recorded["mde_size_adjusted"])
    expected = float("inf") if None in both else max(both)
    assert base_gap.reach.mde == expected and verdict.mde == expected
    assert verdict.mde_source.startswith("measured")
