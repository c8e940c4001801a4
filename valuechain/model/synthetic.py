r"""Synthetic disclosure panels with the real sampling pattern, run through the real pipeline at once.

The primary test is measured on the world the data come from, not on an idealised series: every
synthetic panel has exactly the rows of ``ai_revenue.csv`` (the same series, ``as_of`` and
``published`` dates, kinds, bases and flows; :func:`pattern` reads them), only the values differ.

The truth
---------
True log :math:`D` is a path :math:`L_t` on the quarters of the pipeline and on to the end of the
horizon year. Its gap to the known :math:`R^*` path, :math:`G_t = L_t - \log R^*_t`, moves by

.. math::

    \Delta G_t = g + u_t,

with :math:`g` the true closing rate per quarter and :math:`u_t` the deviations of one world of
:data:`WORLDS` (the test's own null, a random walk in growth, near-unit-root persistence, a drift
break, t(3) shocks, heteroskedastic shocks); :math:`G_T` is pinned at the data's current gap, so the
truth's :math:`D/R^*` in the gap quarter is the data's. Every final-demand series moves with
:math:`D`: :math:`\log x_{i,t} = m_i + L_t`, with :math:`m_i` the series' log share at the data's
levels, scaled so that the chain's final demand over every series (:meth:`Chain.columns
<valuechain.model.chain.Chain.columns>`) is exactly :math:`e^{L_t}`. The chain's flows are
proportional to the series, so the true :math:`D` is known in every quarter, whichever series a
quarter happens to disclose.

The observations
----------------
Each real final-demand row is observed at its quarter (:func:`valuechain.model.downstream.observations`)
as :math:`\log x_{i,q} + \sigma_r \varepsilon`, :math:`\sigma_r^2` its basis' and kind's variance
(:data:`~valuechain.model.downstream.BASIS_SD`, :data:`~valuechain.model.downstream.KIND_SD`),
:math:`\varepsilon` standard normal. Intra-chain and market rows keep their values (the chain's
:math:`D` does not use them).

The pipeline
------------
:func:`run` is :func:`valuechain.model.downstream.downstream` on many panels at once, through the
same functions generalised to simulations x quarters, not a second copy of them:
:func:`~valuechain.model.downstream.noise` estimates each panel's noise levels (the scenario's
``estimate``; a fixed number stays fixed), :func:`~valuechain.model.downstream.band_points` gives each
panel's grid of noise levels for the band, :func:`~valuechain.model.downstream.fit_series` smooths every
panel's rows of a series at once (held at the last smoothed level past the series' last disclosure,
the variance widening), and the chain's columns, :func:`~valuechain.model.downstream.chain_linked` and
:func:`~valuechain.model.downstream.band_log_var` (the band with the noise levels' uncertainty) run on
simulations x quarters arrays. Then D's band, the quarters the tests use (at least ``min_series``
series). :func:`panel` writes one simulation as a panel, so that a test can run the per-panel
pipeline on it and compare.

**Each simulated panel re-estimates its noise levels.** The pipeline as run on the data estimates
them on the data, so a calibration that handed every panel the data's estimates would measure a
pipeline that knows its noise levels, which the real one does not: the estimation error of the
noise levels (often at the grid's floor with 13 series and 15 quarters) is part of what the tests'
size and the intervals' coverage must include. The data's estimates
(:attr:`Pattern.noise_levels`) drive only the truth of the random-walk-in-growth world.

The tests on each simulation: the gap-closing test :func:`valuechain.stats.closing.gap_closing`
(:func:`with_primary`, on batches of the gap's worlds), and the pre-specified question
(:func:`with_reach`, on batches whose truth is D itself: :func:`true_reach_log_d`), with
:mod:`valuechain.stats.reach`'s growth, needed growth and test and
:func:`valuechain.model.reach.posterior_predictive`'s P(D >= R*'s committed path in Y).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from valuechain.dataset import disclosures
from valuechain.dataset.load import Dataset
from valuechain.model import downstream
from valuechain.model import reach as reach_model
from valuechain.model.chain import Chain, Scope
from valuechain.model.uncertainty import quantile
from valuechain.stats import closing, inference
from valuechain.stats import reach as stats_reach

CARRY_QUARTERS = 2  # as downstream() carries a series past its last disclosure


@dataclass(frozen=True)
class Pattern:
    """The real sampling pattern and everything the pipeline and the truth need, from one scenario."""

    panel: pd.DataFrame  # the real disclosure panel (a synthetic panel replaces the simulated rows' values)
    rows: np.ndarray  # panel positions of the simulated (final-demand) rows
    row_series: np.ndarray  # per simulated row: index in ``series``
    row_quarter: np.ndarray  # per simulated row: index in ``quarters``
    row_sd: np.ndarray  # per simulated row: measurement s.d. of its log annualized value
    row_annualize: np.ndarray  # per simulated row: annualized value / disclosed value
    row_offset: np.ndarray  # per simulated row: the date it measures, in quarters from its quarter's midpoint
    series: tuple[str, ...]  # the final-demand series
    final: pd.DataFrame  # the final-demand observations (:func:`valuechain.model.downstream.observations`), simulated rows' order
    groups: tuple[np.ndarray, ...]  # per series of ``series``: positions of its rows among the simulated rows
    end: pd.Period  # the pipeline's last quarter (the panel's, every flow but market totals)
    offsets: np.ndarray  # m_i: log x_i - log D
    quarters: pd.PeriodIndex  # the pipeline's quarters, to the gap quarter T
    tested: np.ndarray  # bool over ``quarters``: the quarters the primary test uses
    d_date_offset: np.ndarray  # over the tested quarters: where in time the data's D sits (the pace's span)
    log_required: pd.Series  # log R*, as the primary test takes it
    horizon: pd.PeriodIndex  # the quarters after T to the end of the horizon year
    current_gap: float  # G_T of the data: the truth's gap in quarter T
    gap_changes: np.ndarray  # the data's gap changes in the test window (for the test's own null)
    accounting: Chain
    scope: Scope
    level_sd: float | str  # the scenario's noise levels: a number, or "estimate" (each panel estimates its own)
    slope_sd: float | str
    noise_levels: tuple[float, float]  # the data's (level, slope) s.d.s, as D was built: the random walk in growth's truth
    measurement_scale: float  # the data's factor on the stated measurement s.d.s (the truth's observation noise)
    band: float
    horizon_years: float  # H: the years within which the gap must close
    horizon_year: int  # the year of P(gap closed by then)
    window: int
    alpha: float
    log_d_now: float  # log D in the gap quarter T, the data's (the question's truth is pinned there)
    reach_year: int  # Y of the question
    reach_steps: int  # quarters from T to Y's fourth quarter
    log_committed: float  # log of R*'s committed path in Y's fourth quarter (the scenario's assumptions)
    decay_priors: dict  # the posterior predictive's priors: growth_half_life_years, long_run_growth, ceiling_share
    bound_usd_bn: float  # the level D's ceiling is a share of (world IT spending)

    @property
    def needed_growth(self) -> float:
        """The growth a year that takes the data's D in T to R*'s committed path by Y: the question's null boundary."""
        return float(stats_reach.needed_growth(self.log_d_now, self.log_committed, self.reach_steps / 4))

    @property
    def required_rate(self) -> float:
        """The closing rate per quarter the null allows at most, at the truth's current gap: -G_T / (4H)."""
        return -self.current_gap / (4 * self.horizon_years)

    @property
    def steps(self) -> int:
        """Quarterly changes of the truth: over the pipeline's quarters and on to the horizon."""
        return len(self.quarters) + len(self.horizon) - 1

    @property
    def pace_window(self) -> int:
        """The quarterly changes D's pace spans: the window's, or fewer if fewer quarters are tested."""
        return min(self.window, int(self.tested.sum()) - 1)

    @property
    def window_start(self) -> int:
        """Index (among the truth's changes) of the first change in the test window."""
        return len(self.quarters) - 1 - min(self.window, int(self.tested.sum()) - 1)


def pattern(scenario, ds: Dataset, result) -> Pattern:
    """The sampling pattern of ``ds``'s disclosures and the truth's anchors from ``result``
    (the scenario's :class:`~valuechain.model.demand.DemandGapResult`)."""
    panel = disclosures.load(ds)
    obs = downstream.observations(panel)
    used = obs[obs["flow"] != "market_total"]
    dg = scenario.demand_gap
    start = pd.Period(dg.downstream.start_quarter, freq="Q")
    end = used["quarter"].max()
    first_quarter = {sid: g["quarter"].min() for sid, g in used.groupby("series_id")}
    quarters = pd.period_range(min(start, min(first_quarter.values())), end, freq="Q")
    final = used[used["flow"] == "final_demand"]
    series = tuple(sorted(final["series_id"].unique()))
    position = {q: i for i, q in enumerate(quarters)}
    row_series = np.array([series.index(s) for s in final["series_id"]])
    row_quarter = np.array([position[q] for q in final["quarter"]])
    variance = final["variance"].to_numpy(float)
    groups = tuple(np.flatnonzero(row_series == i) for i in range(len(series)))
    d = result.downstream
    log_d = np.log(d.d["d_usd_bn"])
    levels = d.series.reindex(columns=list(series))
    # each series' level in the gap quarter: its own, or its last carried forward by D's growth
    at_end = np.array([float(levels[s].dropna().iloc[-1] * np.exp(log_d.iloc[-1] - log_d[levels[s].dropna().index[-1]]))
                       for s in series])
    cols, signs = d.accounting.columns(at_end, d.scope, series=series)
    full = float(np.nansum(cols * signs.to_numpy()))
    c = result.closing
    pt = dg.primary_test
    tested = np.asarray(quarters.isin(c.gap.index))
    answer = result.reach
    return Pattern(
        panel=panel, rows=np.flatnonzero((panel["flow"] == "final_demand").to_numpy()), row_series=row_series,
        row_quarter=row_quarter, row_sd=np.sqrt(variance), row_annualize=final["kind"].map(downstream.ANNUALIZE).to_numpy(float),
        row_offset=downstream.row_date_offsets(final).to_numpy(float),
        series=series, final=final, groups=groups, end=end, offsets=np.log(at_end) - np.log(full), quarters=quarters, tested=tested,
        d_date_offset=d.d["date_offset"].reindex(quarters[tested]).to_numpy(float),
        log_required=np.log(result.required["required_usd_bn"].where(result.required["required_usd_bn"] > 0)),
        horizon=pd.period_range(end + 1, pd.Period(f"{max(pt.horizon_year, pt.reach_year)}Q4", freq="Q"), freq="Q"),
        current_gap=c.current_gap, gap_changes=c.gap.diff().dropna().iloc[-pt.window_quarters:].to_numpy(),
        accounting=d.accounting, scope=d.scope, level_sd=dg.downstream.level_sd, slope_sd=dg.downstream.slope_sd,
        noise_levels=d.noise_levels, measurement_scale=float(d.noise.measurement_scale), band=dg.downstream.band, horizon_years=c.horizon_years, horizon_year=pt.horizon_year,
        window=pt.window_quarters, alpha=pt.alpha, log_d_now=float(log_d.loc[c.gap.index[-1]]), reach_year=answer.year,
        reach_steps=(answer.target_quarter - answer.quarter).n,
        log_committed=float(np.log(answer.path.loc[answer.target_quarter, "committed_usd_bn"])),
        decay_priors=dict(answer.decay_priors), bound_usd_bn=answer.bound.value_usd_bn)


# ----------------------------------------------------------------------------- the worlds


def _ar1_from(shocks: np.ndarray, phi) -> np.ndarray:
    """AR(1) paths started at zero from ``shocks`` (``sims x n``); ``phi`` a scalar or one per path."""
    phi = np.broadcast_to(np.asarray(phi, float), (len(shocks),))
    out = np.empty_like(shocks)
    out[:, 0] = shocks[:, 0]
    for t in range(1, shocks.shape[1]):
        out[:, t] = phi * out[:, t - 1] + shocks[:, t]
    return out


def model_null(p: Pattern, rng: np.random.Generator, sims: int) -> np.ndarray:
    """The test's own null: AR(1) deviations whose coefficient is drawn as its bootstrap draws it."""
    phis, sds = closing.null_persistence(rng, p.gap_changes, sims)
    return inference.simulate_ar1(rng, sims, p.steps, phis, sds)


def random_walk_growth(p: Pattern, rng: np.random.Generator, sims: int) -> np.ndarray:
    """A random walk in growth: the smoother's own local linear trend at the noise levels estimated on the data
    (:attr:`Pattern.noise_levels`: slope shocks of the slope s.d., level shocks of the level s.d.)."""
    level_sd, slope_sd = p.noise_levels
    slope = np.cumsum(slope_sd * rng.standard_normal((sims, p.steps)), axis=1)
    return slope + level_sd * rng.standard_normal((sims, p.steps))


NEAR_UNIT_ROOT = 0.99


def _persistence(p: Pattern) -> tuple[float, float]:
    return inference.ar1(p.gap_changes, bias_corrected=True)


def near_unit_root(p: Pattern, rng: np.random.Generator, sims: int) -> np.ndarray:
    """AR(1) deviations with coefficient :data:`NEAR_UNIT_ROOT`, started at zero, the data's innovation s.d."""
    _, sd = _persistence(p)
    return _ar1_from(sd * rng.standard_normal((sims, p.steps)), NEAR_UNIT_ROOT)


DRIFT_BREAK = 0.10
"""How much faster (log points a quarter) the gap closed before the test window than in it."""


def drift_break(p: Pattern, rng: np.random.Generator, sims: int) -> np.ndarray:
    """The test's own null, with the gap closing :data:`DRIFT_BREAK` a quarter faster before the test window."""
    before = np.arange(p.steps) < p.window_start
    return model_null(p, rng, sims) + DRIFT_BREAK * before


def t3_shocks(p: Pattern, rng: np.random.Generator, sims: int) -> np.ndarray:
    """AR(1) deviations at the data's persistence with t(3) innovations of the data's s.d."""
    phi, sd = _persistence(p)
    return _ar1_from(sd * rng.standard_t(3, (sims, p.steps)) / np.sqrt(3.0), phi)


HETEROSKEDASTIC_RATIO = 4.0
"""Ratio of the last to the first innovation s.d. in the heteroskedastic world (mean variance kept)."""


def heteroskedastic(p: Pattern, rng: np.random.Generator, sims: int) -> np.ndarray:
    """AR(1) deviations at the data's persistence whose innovation s.d. rises :data:`HETEROSKEDASTIC_RATIO`-fold."""
    phi, sd = _persistence(p)
    scale = np.exp(np.log(HETEROSKEDASTIC_RATIO) * np.linspace(0, 1, p.steps))
    scale /= np.sqrt(np.mean(scale ** 2))
    return _ar1_from(sd * scale * rng.standard_normal((sims, p.steps)), phi)


WORLDS = {
    "model": model_null,
    "random_walk_growth": random_walk_growth,
    "near_unit_root": near_unit_root,
    "drift_break": drift_break,
    "t3_shocks": t3_shocks,
    "heteroskedastic": heteroskedastic,
}
"""The deviations :math:`u_t` of each world: name -> ``f(pattern, rng, sims) -> sims x steps``."""


def true_gap(p: Pattern, deviations: np.ndarray, rate: float) -> np.ndarray:
    """The true gap :math:`G_t` on the pipeline's quarters and the horizon's (``sims x quarters``), pinned at :math:`G_T`."""
    path = np.concatenate([np.zeros((len(deviations), 1)), np.cumsum(rate + deviations, axis=1)], axis=1)
    t = len(p.quarters) - 1
    return p.current_gap + path - path[:, t:t + 1]


def true_reach_log_d(p: Pattern, deviations: np.ndarray, rate) -> np.ndarray:
    r"""True log :math:`D` on the pipeline's quarters and on to the horizon (``sims x quarters``) for the question:
    :math:`\Delta L_t = \gamma + u_t`, pinned at the data's :math:`\log D_T`; ``rate`` :math:`\gamma` per quarter
    (a number or one per simulation). At :math:`\gamma` = :attr:`Pattern.needed_growth` / 4 the truth reaches R*'s
    committed path in Y's fourth quarter on average: the null's boundary."""
    rate = np.asarray(rate, float).reshape(-1, 1) if np.ndim(rate) else rate
    path = np.concatenate([np.zeros((len(deviations), 1)), np.cumsum(rate + deviations, axis=1)], axis=1)
    t = len(p.quarters) - 1
    return p.log_d_now + path - path[:, t:t + 1]


def true_log_d(p: Pattern, gap: np.ndarray) -> np.ndarray:
    """True log :math:`D` on the pipeline's quarters from the true gap."""
    return gap[:, :len(p.quarters)] + p.log_required.reindex(p.quarters).to_numpy()


# ----------------------------------------------------------------------------- observing and the pipeline


def truth_at(log_d: np.ndarray, at: np.ndarray) -> np.ndarray:
    """True log D at fractional quarter indices ``at`` (quarters' midpoints at whole numbers), linear between the
    quarters and on from the first or last two."""
    lo = np.clip(np.floor(at).astype(int), 0, log_d.shape[1] - 2)
    return log_d[:, lo] + (at - lo)[None, :] * (log_d[:, lo + 1] - log_d[:, lo])


def observe(p: Pattern, log_d: np.ndarray, rng: np.random.Generator, noise: float = 1.0) -> np.ndarray:
    """Log annualized values of the simulated rows (``sims x rows``): each series' truth at the date the row measures
    (a year-end run-rate half a quarter after its quarter's midpoint) plus noise: the stated s.d. times the data's
    estimated factor on it (:func:`valuechain.model.downstream.measurement_scale`), times ``noise``."""
    truth = p.offsets[p.row_series][None, :] + truth_at(log_d, p.row_quarter + p.row_offset)
    return truth + noise * p.measurement_scale * p.row_sd[None, :] * rng.standard_normal(truth.shape)


def panel(p: Pattern, values: np.ndarray) -> pd.DataFrame:
    """One simulation's disclosure panel: the real rows, the simulated rows' values replaced (``values``: one row of :func:`observe`)."""
    out = p.panel.copy()
    column = out.columns.get_loc("value_usd_bn")
    out.iloc[p.rows, column] = np.exp(values) / p.row_annualize
    return out


@dataclass(frozen=True)
class Run:
    """What the pipeline gives the tests for each simulation."""

    quarters: pd.PeriodIndex  # the tested quarters
    log_d: np.ndarray  # sims x tested quarters: log of the chain-linked D
    log_sd: np.ndarray  # sims: D's band s.d. (log) in the last tested quarter
    log_sd_path: np.ndarray  # sims x tested quarters: D's band s.d. (log)
    noise_levels: np.ndarray  # sims x 2: the (level, slope) s.d.s each panel's D was built with


def run(p: Pattern, values: np.ndarray) -> Run:
    """:func:`valuechain.model.downstream.downstream` on every simulation of ``values`` at once (module docstring)."""
    sims = len(values)
    fitted = downstream.noise(p.final, p.level_sd, p.slope_sd, level=p.band, values=values)
    level_sd, slope_sd = (np.broadcast_to(fitted.level_sd, (sims,)), np.broadcast_to(fitted.slope_sd, (sims,)))
    points, weights = downstream.band_points(fitted)
    if points is not None and np.ndim(points[0]) == 1:  # noise levels fixed: the same points for every panel
        points, weights = (np.broadcast_to(points[0], (sims, len(points[0]))),
                           np.broadcast_to(points[1], (sims, len(points[1])))), np.broadcast_to(weights, (sims, len(weights)))
    fits = [downstream.fit_series(p.final.iloc[rows], p.end, level_sd, slope_sd, CARRY_QUARTERS, points,
                                  values=values[:, rows], scale=np.broadcast_to(fitted.measurement_scale, (sims,)))
            for rows in p.groups]
    levels = np.full((sims, len(p.quarters), len(p.series)), np.nan)
    for i, f in enumerate(fits):
        at = p.quarters.get_indexer(f.quarters)
        levels[:, at, i] = np.exp(f.log_level)
    columns, signs = p.accounting.columns(levels, p.scope, series=p.series)
    d = downstream.chain_linked(columns, signs)
    net = downstream.columns_sum(columns, signs)
    sd = np.sqrt(downstream.band_log_var(columns, signs, net, fits, p.quarters, weights))
    last = np.flatnonzero(p.tested)[-1]
    return Run(p.quarters[p.tested], np.log(d[:, p.tested]), sd[:, last], sd[:, p.tested],
               np.column_stack([level_sd, slope_sd]))


def gap_test(p: Pattern, log_d: pd.Series, log_sd: float, noise_levels, seed: int) -> closing.GapClosing:
    """The gap-closing test on one simulation, called as :func:`valuechain.model.demand.demand_gap` calls it
    (``noise_levels``: the panel's, as D was built)."""
    return closing.gap_closing(log_d, p.log_required, log_sd, p.horizon_years, p.window, tuple(map(float, noise_levels)),
                               years=range(int(log_d.index[-1].year), 2041), level=p.band, alpha=p.alpha, seed=seed)


PRIMARY_COLUMNS = ["p_value", "t_stat", "closing_rate", "closing_rate_low", "closing_rate_high", "d_over_required",
                   "d_over_required_low", "d_over_required_high", "prob_closed_by_horizon"]
"""What the page shows of the primary test, per simulation (rates in log points a year)."""


def primary(p: Pattern, quarters: pd.PeriodIndex, log_d: np.ndarray, log_sd: float, noise_levels, seed: int) -> list[float]:
    """The page's figures of the gap-closing test on one simulation (:data:`PRIMARY_COLUMNS`)."""
    c = gap_test(p, pd.Series(log_d, index=quarters), float(log_sd), noise_levels, int(seed))
    return [c.p_value, c.t_stat, 4 * c.trend, 4 * c.trend_interval[0], 4 * c.trend_interval[1], c.ratio, *c.ratio_interval,
            c.prob_closed_by.get(p.horizon_year, np.nan)]


def _primary_rows(args) -> list[list[float]]:
    p, quarters, log_d, log_sd, noise_levels, seeds = args
    return [primary(p, quarters, row, sd, nl, seed) for row, sd, nl, seed in zip(log_d, log_sd, noise_levels, seeds)]


@dataclass(frozen=True)
class Batch:
    """Simulations of one world at one true rate, with their truth and what the pipeline made of them.

    ``question`` says which truth: ``gap_closing`` (the gap to R* moves by ``rate`` a quarter,
    :func:`true_gap`) or ``reach`` (D itself grows by ``rate`` a quarter, :func:`true_reach_log_d`).
    """

    pattern: Pattern
    world: str
    rate: float  # true rate a quarter: the gap's closing rate, or D's growth (``question``)
    gap: np.ndarray  # sims x (quarters + horizon): the true gap log D - log R* (NaN past T for ``reach``)
    run: Run
    seeds: np.ndarray  # the tests' seed per simulation
    primary: pd.DataFrame | None = None  # sims x :data:`PRIMARY_COLUMNS` (:func:`with_primary`)
    question: str = "gap_closing"
    log_d: np.ndarray | None = None  # sims x (quarters + horizon): the true log D (``reach``)
    reach: pd.DataFrame | None = None  # sims x :data:`REACH_COLUMNS` (:func:`with_reach`)

    @property
    def sims(self) -> int:
        return len(self.gap)

    @property
    def null_holds(self) -> np.ndarray:
        """Whether the primary test's null holds: the true rate at most the rate the horizon requires."""
        return np.full(self.sims, self.rate <= self.pattern.required_rate + 1e-12)

    @property
    def current_gap(self) -> np.ndarray:
        """The true gap in the gap quarter."""
        return self.gap[:, len(self.pattern.quarters) - 1]

    @property
    def closed_by_horizon(self) -> np.ndarray:
        """Whether the true gap is closed at the end of the horizon year."""
        p = self.pattern
        return self.gap[:, len(p.quarters) - 1 + (pd.Period(f"{p.horizon_year}Q4", freq="Q") - p.quarters[-1]).n] >= 0

    @property
    def reach_truth(self) -> dict[str, np.ndarray]:
        """The question's truth per simulation: D's pace (its realized growth a year over the test's window, the
        estimand of :func:`valuechain.stats.reach.pace`), the growth D needs from its true level in T, whether the
        test's null (the pace is at most the need) holds, and whether D reaches R*'s committed path in Y's fourth
        quarter."""
        p, t = self.pattern, len(self.pattern.quarters) - 1
        growth = self.true_pace
        needed = stats_reach.needed_growth(self.log_d[:, t], p.log_committed, p.reach_steps / 4)
        return {"growth": growth, "needed": needed, "null_holds": growth <= needed + 1e-12,
                "reached": self.log_d[:, t + p.reach_steps] >= p.log_committed}

    @property
    def true_pace(self) -> np.ndarray:
        """The true D's realized log growth a year over the pace's window (the tested quarters' last changes)."""
        p, t = self.pattern, len(self.pattern.quarters) - 1
        w = p.pace_window
        return 4 * (self.log_d[:, t] - self.log_d[:, t - w]) / w

    @property
    def window_changes(self) -> np.ndarray:
        """The true gap's changes in the test window (``sims x window``)."""
        t = len(self.pattern.quarters) - 1
        return np.diff(self.gap[:, self.pattern.window_start:t + 1], axis=1)


def simulate(p: Pattern, world: str, rate: float, sims: int, rng: np.random.Generator,
             question: str = "gap_closing") -> Batch:
    """``sims`` synthetic panels of ``world`` with true rate ``rate`` a quarter (the gap's closing rate, or D's growth
    for ``question="reach"``), through the pipeline."""
    noise = NOISIER.get(world, 1.0)
    base = "random_walk_growth" if world in PROJECTION_WORLDS else "model" if world in NOISIER else world
    deviations = WORLDS[base](p, rng, sims)
    if question == "reach":
        log_d = true_reach_log_d(p, deviations, rate)
        if world in PROJECTION_WORLDS:
            log_d = decayed(p, log_d, rng, PROJECTION_WORLDS[world])
        gap = log_d - np.concatenate([p.log_required.reindex(p.quarters).to_numpy(), np.full(len(p.horizon), np.nan)])
        values = observe(p, log_d, rng, noise)
        return Batch(p, world, rate, gap, run(p, values), rng.integers(0, 2 ** 31, sims), question=question, log_d=log_d)
    gap = true_gap(p, deviations, rate)
    values = observe(p, true_log_d(p, gap), rng, noise)
    return Batch(p, world, rate, gap, run(p, values), rng.integers(0, 2 ** 31, sims))


NOISIER = {"noisier_disclosures": 2.0}
"""Worlds whose disclosures are noisier than the data's estimate, by this factor on the measurement s.d.s (the test's
own null's deviations): each panel must find its noise for itself."""

DECAY, LASTING = "decay", "pace_lasts"
PROJECTION_WORLDS = {DECAY: None, LASTING: float("inf")}
"""The question's worlds drawn from the projection's own model (:func:`decayed`), by the half-life of growth they
fix (None: drawn from its prior): the worlds in which P(D >= R*'s committed path) with that half-life is a
probability of something, since its event turns on how long growth lasts. Before T they are the random walk in
growth at the data's noise levels, the same model as the projection's future shocks."""


REACH_WORLDS = (*WORLDS, *NOISIER, *PROJECTION_WORLDS)
"""Every world the question is measured in."""


def decayed(p: Pattern, log_d: np.ndarray, rng: np.random.Generator, half_life: float | None = None) -> np.ndarray:
    r"""True log D with growth fading at a half-life (``half_life``, or drawn from the scenario's prior) inside the
    test's window and after T, as the projection's model says, towards a long-run rate and below a ceiling drawn
    from the scenario's priors, with future level and slope shocks at the data's noise levels
    (:func:`valuechain.stats.reach.decaying_paths`).

    The window's changes keep their deviations and their mean (the truth's pace), but their profile is the decay's:
    the change :math:`j` quarters before T is :math:`g_\infty + (g_T - g_\infty)\rho^{-j}` a year on average, with
    :math:`g_T` from :func:`valuechain.model.reach.under_way`; after T growth starts from :math:`g_T`.
    """
    t, w, n = len(p.quarters) - 1, p.pace_window, len(log_d)
    pr = p.decay_priors
    draw = {k: quantile(pr[k], rng.uniform(size=n)) for k in ("growth_half_life_years", "long_run_growth", "ceiling_share")}
    eta = draw["growth_half_life_years"] if half_life is None else np.full(n, half_life)
    g_inf = draw["long_run_growth"]
    window = np.diff(log_d[:, t - w:t + 1], axis=1)  # the window's changes, oldest first
    pace = 4 * window.mean(axis=1)
    g_t = g_inf + reach_model.under_way(eta, w) * (pace - g_inf)
    rho = 2.0 ** (-1.0 / (4 * eta))
    profile = (g_inf[:, None] + (g_t - g_inf)[:, None] * rho[:, None] ** (-np.arange(w - 1, -1, -1.0))[None, :]) / 4
    inside = np.cumsum(window - window.mean(axis=1, keepdims=True) + profile, axis=1)
    before = log_d[:, :t - w + 1]
    path = np.concatenate([before, before[:, -1:] + inside], axis=1)
    after = stats_reach.decaying_paths(rng, path[:, t], g_t, g_inf, eta, *p.noise_levels, log_d.shape[1] - 1 - t,
                                       np.log(p.bound_usd_bn * draw["ceiling_share"]))
    return np.concatenate([path, after], axis=1)


REACH_COLUMNS = ["growth", "growth_low", "growth_high", "needed", "needed_low", "needed_high", "t_stat", "p_value",
                 "prob_reach", "prob_reach_no_decay"]
"""What the page shows of the question, per simulation (growth in log points a year): D's growth and its interval,
the growth needed and its interval (the band's part), the test, and P(D >= R*'s committed path in Y), with growth's
half-life drawn from its prior and with the pace lasting."""

PREDICTIVE_DRAWS = 2000
"""Draws of the posterior predictive per simulated panel (the page takes the scenario's ``predictive_draws``)."""


def reach_figures(p: Pattern, r: Run, rng: np.random.Generator, draws: int = PREDICTIVE_DRAWS,
                  chunk: int = 50) -> pd.DataFrame:
    r"""The question's figures on every simulation of ``r`` (:data:`REACH_COLUMNS`), as :func:`valuechain.model.reach.reach`
    computes them on the data, at the scenario's R* and D's scope.

    D's growth, its interval and the test are :mod:`valuechain.stats.reach`'s on each panel's tested quarters; the
    growth needed is :math:`(\log R^c_{Y_4} - \log \hat D_T)/h` with the interval D's band gives it
    (:math:`\pm z\,\mathrm{sd}_T/h`; the page's also spans the priors of R*'s and the scope's assumptions, which a
    world with the scenario's values cannot check). P is :func:`valuechain.model.reach.posterior_predictive` with
    ``draws`` draws per panel: :math:`\log D_T` from the panel's band, its pace inverted from its normal error,
    the decay's priors (or no decay), future shocks at the panel's noise levels.
    """
    g, se, nu = stats_reach.pace(r.log_d, r.log_sd_path, p.window, p.d_date_offset)
    g_lo, g_hi = stats_reach.growth_interval(g, se, nu, p.band)
    h = p.reach_steps / 4
    log_d_now = r.log_d[:, -1]
    needed = stats_reach.needed_growth(log_d_now, p.log_committed, h)
    z = stats.norm.ppf(0.5 + p.band / 2)
    t, pval = stats_reach.growth_test(g, stats_reach.test_se(r.log_sd_path, p.window, h, p.d_date_offset), nu, needed)
    prob = {half_life: np.empty(len(g)) for half_life in ("prior", np.inf)}
    pr = p.decay_priors
    for start in range(0, len(g), chunk):
        at = slice(start, start + chunk)
        k = len(g[at])

        def each(x, at=at):
            return np.repeat(np.asarray(x, float)[at], draws)

        log_d0 = each(log_d_now) + each(r.log_sd) * rng.standard_normal(k * draws)
        for half_life, out in prob.items():
            paths = reach_model.posterior_predictive(
                rng, log_d0, each(g), each(se), nu, pr["growth_half_life_years"] if half_life == "prior" else half_life,
                pr["long_run_growth"], pr["ceiling_share"], p.bound_usd_bn, each(r.noise_levels[:, 0]),
                each(r.noise_levels[:, 1]), p.reach_steps, p.pace_window)
            out[at] = (paths[:, -1] >= p.log_committed).reshape(k, draws).mean(axis=1)
    return pd.DataFrame({"growth": g, "growth_low": g_lo, "growth_high": g_hi, "needed": needed,
                         "needed_low": needed - z * r.log_sd / h, "needed_high": needed + z * r.log_sd / h,
                         "t_stat": t, "p_value": pval, "prob_reach": prob["prior"], "prob_reach_no_decay": prob[np.inf]},
                        columns=REACH_COLUMNS)


def with_reach(batch: Batch, draws: int = PREDICTIVE_DRAWS) -> Batch:
    """``batch`` with the question's figures on each simulation (:func:`reach_figures`, seeded by the batch's seeds)."""
    rng = np.random.default_rng(np.asarray(batch.seeds[:4], dtype=np.int64).tolist())
    return replace(batch, reach=reach_figures(batch.pattern, batch.run, rng, draws))


def with_primary(batch: Batch, chunks: int = 1, map=map) -> Batch:
    """``batch`` with the primary test run on each simulation, in ``chunks`` handed to ``map``
    (an executor's, to use several processes)."""
    parts = np.array_split(np.arange(batch.sims), chunks)
    r = batch.run
    rows = [row for part in map(_primary_rows, [(batch.pattern, r.quarters, r.log_d[i], r.log_sd[i], r.noise_levels[i],
                                                 batch.seeds[i])
                                                for i in parts if len(i)]) for row in part]
    return replace(batch, primary=pd.DataFrame(rows, columns=PRIMARY_COLUMNS))
