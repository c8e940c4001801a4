r"""The verdict rule of the demand gap: which case the numbers are in, decided before the data are seen.

The rule (issue 27, pre-specified; :func:`decide`):

1. **The data cannot tell yet** if the range of :math:`D/R^*` over D's scope ladder spans 1 (what counts
   as downstream revenue decides the answer), or if the minimum detectable effect of the growth test
   exceeds the growth D needs (the test could not tell D growing at that rate from D not growing), or
   if, on synthetic panels with the real disclosure pattern (``make calibrate``), the test's size
   exceeds :data:`SIZE_LIMIT` in some world, D's pace interval covers the true pace less often than
   its level less :data:`TOLERANCE`, or the probability the page prints is off the frequency of its
   event by more than :data:`TOLERANCE` (a test, an interval or a probability that does not hold on the
   world the data come from is not evidence).
   The page then says first that the data cannot tell, and what would tell: how many more quarters at
   the current pace of disclosure (:func:`valuechain.stats.reach.quarters_to_detect`), or a disclosure
   that settles D's scope.
2. Otherwise, **on course** if the test of :math:`H_0`: D's recent pace is at most the growth that
   reaches R*'s committed path by :math:`Y` rejects at its level, and **not shown** if it does not.
   "On course" is a condition on the pace lasting, which the data do not test: the sentence says so and
   gives P(D >= the path in :math:`Y`) at each half-life of growth the page shows.

Whatever the case, the position of D against R* is stated from every rung of the scope ladder:
``above`` only when every rung is at or above 1, ``below`` only when every rung is below, ``spans``
otherwise, so no sentence says revenue is above the requirement while a rung puts it below. The words
are :func:`valuechain.report.narrative.verdict_sentence`'s, which puts every interval before any p-value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from valuechain.model.reach import Reach
from valuechain.stats.reach import quarters_to_detect
from valuechain.stats.size import SIZE_LIMIT

Case = Literal["cannot_tell", "on_course", "not_shown"]
Position = Literal["below", "above", "spans"]
REASONS = {"scope": "D's scope decides the answer", "power": "the test cannot detect the growth D needs",
           "size": "the test rejects a true null too often on the real disclosure pattern",
           "coverage": "D's pace interval covers the truth too rarely on the real disclosure pattern",
           "calibration": "the probability is not calibrated on the real disclosure pattern"}
TOLERANCE = 0.05  # an interval's coverage or a probability's calibration may miss by this much


@dataclass(frozen=True)
class Verdict:
    """The case the rule picks, why, and the numbers the sentence states."""

    case: Case
    position: Position  # D / R* over the scope ladder in the last quarter, against 1
    reasons: tuple[str, ...]  # keys of :data:`REASONS`; empty unless the data cannot tell
    year: int  # Y, the question's year
    ratio_range: tuple[float, float]  # D / R* over the scope ladder, last quarter
    needed: float  # growth D needs (log points a year), primary D against R*'s committed path
    needed_interval: tuple[float, float]
    growth: float  # D's growth (log points a year)
    growth_interval: tuple[float, float]
    level: float  # of both intervals
    mde: float  # minimum detectable effect of the growth test (log points a year)
    mde_source: str
    more_quarters: float  # quarters more at the current pace until the MDE is below the need (inf: none would)
    p_value: float
    alpha: float
    probability: float  # P(D >= R*'s committed path in Y), posterior predictive
    probability_range: tuple[float, float]  # over the scope ladder
    max_window: int  # the quarterly changes the test's window holds at most
    checks: dict | None = None  # the calibration's measurements (:func:`valuechain.model.reach.measured_checks`)
    probability_by_half_life: dict | None = None  # half-life of growth in years (inf: the pace lasts) -> P
    growth_noise: float | None = None  # D's estimated slope noise a quarter (growth fading fast would leave more)

    @property
    def can_tell(self) -> bool:
        return self.case != "cannot_tell"


def position(ratio_range: tuple[float, float]) -> Position:
    """``above`` if every rung is at or above 1, ``below`` if every rung is below 1, else ``spans``."""
    low, high = ratio_range
    if low >= 1:
        return "above"
    if high < 1:
        return "below"
    return "spans"


def decide(ratio_range: tuple[float, float], needed: float, needed_interval: tuple[float, float], growth: float,
           growth_interval: tuple[float, float], level: float, mde: float, mde_source: str, window: int,
           p_value: float, alpha: float, probability: float, probability_range: tuple[float, float],
           year: int, max_window: int | None = None, checks: dict | None = None,
           probability_by_half_life: dict | None = None, growth_noise: float | None = None) -> Verdict:
    """Apply the rule (module docstring) to the numbers; ``window`` is the quarterly changes the growth rests on,
    ``max_window`` the most the test's window holds, ``checks`` the calibration's measurements (None: not measured)."""
    where = position(ratio_range)
    c = checks or {}
    reasons = tuple(r for r, hit in (("scope", where == "spans"), ("power", mde > needed),
                                     ("size", c.get("size_high", 0.0) > SIZE_LIMIT),
                                     ("coverage", c.get("coverage_low", 1.0) < level - TOLERANCE),
                                     ("calibration", c.get("probability_gap", 0.0) > TOLERANCE)) if hit)
    case: Case = "cannot_tell" if reasons else ("on_course" if p_value < alpha else "not_shown")
    return Verdict(case, where, reasons, year, tuple(ratio_range), needed, tuple(needed_interval), growth,
                   tuple(growth_interval), level, mde, mde_source, quarters_to_detect(mde, needed, window, max_window),
                   p_value, alpha, probability, tuple(probability_range), max_window or window, checks,
                   dict(probability_by_half_life or {}), growth_noise)


def of_reach(answer: Reach, ratio_range: tuple[float, float]) -> Verdict:
    """The verdict on the question's answer (:class:`valuechain.model.reach.Reach`) and D / R* over the scope ladder."""
    central = answer.needed.loc[(answer.primary, "committed")]
    return decide(ratio_range, answer.needed_central, (float(central["low"]), float(central["high"])), answer.growth,
                  answer.growth_interval, answer.level, answer.mde, answer.mde_source, answer.window, answer.p_value,
                  answer.alpha, answer.probability, answer.probability_range, answer.year, answer.max_window,
                  answer.checks, answer.probability_by_half_life,
                  answer.noise_levels[1] if answer.noise_levels else None)
