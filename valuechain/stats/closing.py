r"""Is the demand gap closing? The pre-specified primary test and what follows from it.

Estimand
--------
The gap is :math:`G_t = \log D_t - \log R^*_t`, net external AI revenue against the revenue that
recovers the AI capital in service (:mod:`valuechain.model.capital`). :math:`G < 0` means revenue
falls short; :math:`e^{G}` is :math:`D/R^*`. Because :math:`R^*` is computed on the capital
actually in service, the comparison is growth-adjusted by construction: a boom year is held to
the bar of the base it has installed, not to a steady state it has not reached.

Its trend is the mean quarterly change :math:`g = E[\Delta G_t]`, the growth of :math:`D` minus
the growth of :math:`R^*`, over a pre-specified window of the latest quarters (the "current"
closing rate), estimated by OLS on a constant with an EWC HAC variance. Its t statistic is referred to a
parametric bootstrap of the whole pipeline under the null (:func:`null_t`): true log D with
AR(1) deviations, observed with the band's noise and smoothed as the real series is. The fixed-b
:math:`t_\nu` alone, or an AR(1) bootstrap of the changes, over-rejects on so few smoothed
quarters (see :mod:`valuechain.batch.calibrate`).

If the trend holds, the gap closes after :math:`\tau = -G_T / g` quarters (for :math:`G_T < 0,
g > 0`), and it is closed by quarter :math:`T + h` when :math:`G_T + g h \ge 0`. Intervals for
:math:`\tau` and the probability come from draws of :math:`G_T` (the band of :math:`D`) and of
:math:`g` by inverting the bootstrap-t (:func:`invert_bootstrap_t`): the pivot
:math:`t^* = (\hat g^* - g^*)/se^*` has the distribution of :math:`(\hat g - g)/se`, so
:math:`g = \hat g - se\, t^*`. The minus sign matters because :math:`t^*` is not centred (the
pipeline's smoothing shifts it). These draws hold the trend fixed and leave out future shocks and
the uncertainty of R*'s assumptions and D's scope: the page's probability is the posterior
predictive of :mod:`valuechain.model.reach`; :attr:`GapClosing.prob_closed_by` is kept as the
trend's own arithmetic.

Primary test
------------
:math:`H_0: g \le g_{req}` against :math:`H_1: g > g_{req}`, with
:math:`g_{req} = -G_T / (4 H)` and :math:`H` the years within which the gap must close (by
default the life of the servers now being installed). Rejecting :math:`H_0` is evidence that the
gap is closing fast enough to close within that life; not rejecting means the data cannot show
it. The test's size is measured by :mod:`valuechain.batch.calibrate`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from valuechain.stats import inference
from valuechain.stats.inference import LinearFit, ols_ewc
from valuechain.stats.statespace import local_linear_trend

BOOTSTRAP_DRAWS = 999


@dataclass(frozen=True)
class GapClosing:
    """The gap, its trend, the time to close and the primary test, each with its interval."""

    gap: pd.Series  # log D - log R*, by quarter
    last_quarter: pd.Period
    current_gap: float  # log, last quarter
    ratio: float  # D / R* in the last quarter
    ratio_interval: tuple[float, float]
    trend: float  # g, per quarter (log points)
    trend_interval: tuple[float, float]
    n: int
    dof: int
    quarters_to_close: float  # point estimate; inf when the trend does not close the gap; 0 when closed
    close_quarter_interval: tuple[float, float]  # quarters, at the band level (inf: not within any horizon)
    prob_closed_by: dict[int, float]  # calendar year -> P(gap closed by the end of that year)
    horizon_years: float
    required_trend: float  # g_req of the primary test
    t_stat: float
    p_value: float
    alpha: float
    level: float
    fit: LinearFit
    trend_draws: np.ndarray  # bootstrap draws of g (per quarter)
    gap_draws: np.ndarray  # draws of G_T from the band of D

    @property
    def reject(self) -> bool:
        return bool(self.p_value < self.alpha)

    @property
    def test(self) -> inference.TestResult:
        """The primary test in the shape every test shares: :math:`H_0: g \\le g_{req}`, its t and bootstrap p-value.

        The estimate is the trend :math:`g` (per quarter) with its interval from the bootstrap
        critical value; ``df`` is the EWC :math:`\\nu`, on which the t statistic is built, though its
        reference is the pipeline bootstrap.
        """
        return inference.TestResult(
            name="primary test: is the gap closing fast enough to close in time?", statistic=self.t_stat,
            pvalue=self.p_value,
            null=f"the gap's trend is at most the rate the horizon of {self.horizon_years:g} years requires "
                 f"({self.required_trend:+.4f} a quarter)",
            alternative=f"the trend is above {self.required_trend:+.4f} a quarter",
            method="parametric bootstrap of the pipeline", nobs=self.n, df=self.dof, estimate=self.trend,
            interval=self.trend_interval, level=self.level)

    def close_year(self, quarters: float) -> float:
        """Calendar year (with fraction) reached ``quarters`` after the last quarter."""
        end = self.last_quarter.year + self.last_quarter.quarter / 4
        return end + quarters / 4 if np.isfinite(quarters) else np.inf


@dataclass(frozen=True)
class Pipeline:
    """How the gap series was made, so the null can be simulated the same way (see :func:`null_t`)."""

    required_changes: np.ndarray  # quarterly changes of log R* over the tested quarters
    observation_sd: float  # s.d. of log D's measurement (the band's)
    level_sd: float
    slope_sd: float


def simulate_gap_changes(rng: np.random.Generator, pipeline: Pipeline, trend: float, phi, sd, sims: int,
                         window: int) -> np.ndarray:
    """Gap changes as the pipeline makes them when the true gap trend is ``trend``.

    True log D grows at R*'s growth plus ``trend`` plus AR(1) deviations; it is observed each
    quarter with noise and smoothed by the local-linear-trend model; the gap's changes over the
    last ``window`` quarters are returned (``sims x window``).
    """
    n = len(pipeline.required_changes) + 1
    steps = pipeline.required_changes[None, :] + trend + inference.simulate_ar1(rng, sims, n - 1, phi, sd)
    truth = np.concatenate([np.zeros((sims, 1)), np.cumsum(steps, axis=1)], axis=1)
    observed = truth + pipeline.observation_sd * rng.standard_normal(truth.shape)
    smooth = local_linear_trend(observed, pipeline.observation_sd ** 2, pipeline.level_sd,
                                pipeline.slope_sd, smoothed_variances=False).smoothed_level
    return (np.diff(smooth, axis=1) - pipeline.required_changes[None, :])[:, -window:]


def null_persistence(rng: np.random.Generator, changes: np.ndarray, draws: int) -> tuple[np.ndarray, np.ndarray]:
    r"""AR(1) coefficients and scales for ``draws`` null samples, with the estimate's own uncertainty.

    The coefficient is Kendall-corrected and then drawn from its approximate sampling
    distribution :math:`N(\hat\phi, (1 - \hat\phi^2)/n)`: with eight changes a single plug-in
    value understates how persistent the deviations may be, and the test over-rejects.
    """
    phi, sd = inference.ar1(changes, bias_corrected=True)
    spread = np.sqrt(max(1 - phi ** 2, 0.0) / len(changes))
    phis = np.clip(phi + spread * rng.standard_normal(draws), -0.95, 0.95)
    return phis, np.full(draws, sd)


def null_t(rng: np.random.Generator, changes: np.ndarray, pipeline: Pipeline, null: float, draws: int) -> np.ndarray:
    """t statistics of the trend against ``null`` on gap changes simulated under the null through the pipeline.

    The AR(1) of the true deviations comes from :func:`null_persistence`.
    """
    phis, sds = null_persistence(rng, changes, draws)
    sims = simulate_gap_changes(rng, pipeline, null, phis, sds, draws, len(changes))
    return inference.batched_t(sims, np.ones((sims.shape[1], 1)), np.ones(1), null)[1]


def _quantile(values: np.ndarray, q: float) -> float:
    """Order-statistic quantile that keeps infinite draws (a gap that never closes) as infinite."""
    ordered = np.sort(values)
    return float(ordered[int(np.floor(q * (len(ordered) - 1)))])


def invert_bootstrap_t(estimate: float, se: float, t_draws: np.ndarray) -> np.ndarray:
    r"""Draws of the parameter from bootstrap-t draws of its pivot: :math:`g = \hat g - se\, t^*`.

    :math:`t^* = (\hat g^* - g^*)/se^*` stands in for :math:`(\hat g - g)/se`; solving for :math:`g` gives the
    minus sign. Its quantiles are :math:`\hat g - se\, t^*_{1-q}`, the bootstrap-t interval's ends.
    """
    return estimate - se * np.asarray(t_draws, dtype=float)


def prob_closed(gap_draws: np.ndarray, trend_draws: np.ndarray, quarters: float) -> float:
    """Share of draws with :math:`G_T + g h \\ge 0`: the gap closed ``quarters`` after :math:`T` if the trend holds."""
    if quarters < 0:
        return np.nan
    return float(np.mean(np.asarray(gap_draws) + np.asarray(trend_draws) * quarters >= 0))


def time_to_close(gap: float, trend: float) -> float:
    """Quarters until :math:`G + g\\tau = 0`: 0 if already closed, inf if the trend never closes it."""
    if gap >= 0:
        return 0.0
    return -gap / trend if trend > 0 else np.inf


def gap_closing(log_d: pd.Series, log_required: pd.Series, gap_sd: float, horizon_years: float,
                window_quarters: int, pipeline_sd: tuple[float, float], years=range(2026, 2041), level: float = 0.90, alpha: float = 0.05,
                draws: int = 20_000, seed: int = 0) -> GapClosing:
    """Estimate the gap, its trend over the last ``window_quarters`` changes, the time to close and the primary test."""
    gap = (log_d - log_required).dropna()
    changes = gap.diff().dropna().iloc[-window_quarters:]
    pipeline = Pipeline(log_required.reindex(gap.index).diff().dropna().to_numpy(), gap_sd, *pipeline_sd)
    ones = np.ones((len(changes), 1))
    fit = ols_ewc(changes.to_numpy(), ones, ["trend"])
    trend, se = float(fit.coef[0]), fit.se("trend")
    current = float(gap.iloc[-1])
    last = gap.index[-1]
    required = -current / (4 * horizon_years)
    rng = np.random.default_rng(seed)
    t_stat = (trend - required) / se
    reference = null_t(rng, changes.to_numpy(), pipeline, required, BOOTSTRAP_DRAWS)
    p = inference.mc_p_value(t_stat, reference)
    critical = float(np.quantile(np.abs(reference), level))
    g_draws = invert_bootstrap_t(trend, se, rng.choice(reference, draws))
    G_draws = current + gap_sd * rng.standard_normal(draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(G_draws >= 0, 0.0, np.where(g_draws > 0, -G_draws / g_draws, np.inf))
    tail = (1 - level) / 2
    z = stats.norm.ppf(0.5 + level / 2)
    probs = {}
    for year in years:
        h = 4 * (year - last.year) + (4 - last.quarter)
        probs[int(year)] = prob_closed(G_draws, g_draws, h)
    return GapClosing(
        gap=gap, last_quarter=last, current_gap=current, ratio=float(np.exp(current)),
        ratio_interval=(float(np.exp(current - z * gap_sd)), float(np.exp(current + z * gap_sd))),
        trend=trend, trend_interval=(trend - critical * se, trend + critical * se),
        n=len(changes), dof=fit.dof,
        quarters_to_close=time_to_close(current, trend),
        close_quarter_interval=(_quantile(tau, tail), _quantile(tau, 1 - tail)),
        prob_closed_by=probs, horizon_years=horizon_years, required_trend=required, t_stat=float(t_stat),
        p_value=p, alpha=alpha, level=level, fit=fit, trend_draws=g_draws, gap_draws=G_draws,
    )
