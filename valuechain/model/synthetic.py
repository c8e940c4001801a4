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
:func:`run` is :func:`valuechain.model.downstream.downstream` on many panels at once: the same
precision-weighted quarterly observations, the smoother (:func:`~valuechain.stats.statespace.local_linear_trend`)
on every simulation's rows of a series at once, the chain's columns and the chain-link on
simulations x quarters arrays (the same functions as for the data), D's band, the quarters the
primary test uses (at least ``min_series`` series). :func:`panel` writes one simulation as a panel,
so that a test can run the per-panel pipeline on it and compare. The primary test itself is
:func:`valuechain.stats.closing.gap_closing`, run on each simulation (:func:`with_primary`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from valuechain.dataset import disclosures
from valuechain.dataset.load import Dataset
from valuechain.model import downstream
from valuechain.model.chain import Chain, Scope
from valuechain.stats import closing, inference
from valuechain.stats.statespace import local_linear_trend

CARRY_QUARTERS = 2  # as downstream() carries a series past its last disclosure


@dataclass(frozen=True)
class SeriesGrid:
    """How one series' disclosures become its quarterly observations: the rows, their weights, the quarters."""

    series_id: str
    rows: np.ndarray  # positions of the series' rows among the simulated rows
    first: int  # index of its first quarter on the pipeline's quarters
    weights: np.ndarray  # quarters x rows: precision weights of the rows in each quarter (rows sum to 1)
    variance: np.ndarray  # quarters: variance of the combined observation (1 where none)
    seen: np.ndarray  # quarters: whether any row falls in the quarter


@dataclass(frozen=True)
class Pattern:
    """The real sampling pattern and everything the pipeline and the truth need, from one scenario."""

    panel: pd.DataFrame  # the real disclosure panel (a synthetic panel replaces the simulated rows' values)
    rows: np.ndarray  # panel positions of the simulated (final-demand) rows
    row_series: np.ndarray  # per simulated row: index in ``series``
    row_quarter: np.ndarray  # per simulated row: index in ``quarters``
    row_sd: np.ndarray  # per simulated row: measurement s.d. of its log annualized value
    row_annualize: np.ndarray  # per simulated row: annualized value / disclosed value
    series: tuple[str, ...]  # the final-demand series
    grids: tuple[SeriesGrid, ...]
    offsets: np.ndarray  # m_i: log x_i - log D
    quarters: pd.PeriodIndex  # the pipeline's quarters, to the gap quarter T
    tested: np.ndarray  # bool over ``quarters``: the quarters the primary test uses
    log_required: pd.Series  # log R*, as the primary test takes it
    horizon: pd.PeriodIndex  # the quarters after T to the end of the horizon year
    current_gap: float  # G_T of the data: the truth's gap in quarter T
    gap_changes: np.ndarray  # the data's gap changes in the test window (for the test's own null)
    accounting: Chain
    scope: Scope
    level_sd: float
    slope_sd: float
    band: float
    horizon_years: float  # H: the years within which the gap must close
    horizon_year: int  # the year of P(gap closed by then)
    window: int
    alpha: float

    @property
    def required_rate(self) -> float:
        """The closing rate per quarter the null allows at most, at the truth's current gap: -G_T / (4H)."""
        return -self.current_gap / (4 * self.horizon_years)

    @property
    def steps(self) -> int:
        """Quarterly changes of the truth: over the pipeline's quarters and on to the horizon."""
        return len(self.quarters) + len(self.horizon) - 1

    @property
    def window_start(self) -> int:
        """Index (among the truth's changes) of the first change in the test window."""
        return len(self.quarters) - 1 - min(self.window, int(self.tested.sum()) - 1)


def _grid(sid: str, rows: np.ndarray, quarter: np.ndarray, variance: np.ndarray, first: int, n: int) -> SeriesGrid:
    """Precision weights of a series' rows in each of its ``n`` quarters from ``first``."""
    precision = np.zeros((n, len(rows)))
    precision[quarter[rows] - first, np.arange(len(rows))] = 1.0 / variance[rows]
    total = precision.sum(axis=1)
    seen = total > 0
    weights = np.divide(precision, total[:, None], out=np.zeros_like(precision), where=seen[:, None])
    return SeriesGrid(sid, rows, first, weights, np.where(seen, 1.0 / np.where(seen, total, 1.0), 1.0), seen)


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
    grids = []
    for i, sid in enumerate(series):
        rows = np.flatnonzero(row_series == i)
        first = int(row_quarter[rows].min())
        last = min(len(quarters) - 1, int(row_quarter[rows].max()) + CARRY_QUARTERS)
        grids.append(_grid(sid, rows, row_quarter, variance, first, last - first + 1))
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
    return Pattern(
        panel=panel, rows=np.flatnonzero((panel["flow"] == "final_demand").to_numpy()), row_series=row_series,
        row_quarter=row_quarter, row_sd=np.sqrt(variance), row_annualize=final["kind"].map(downstream.ANNUALIZE).to_numpy(float),
        series=series, grids=tuple(grids), offsets=np.log(at_end) - np.log(full), quarters=quarters, tested=tested,
        log_required=np.log(result.required["required_usd_bn"].where(result.required["required_usd_bn"] > 0)),
        horizon=pd.period_range(end + 1, pd.Period(f"{pt.horizon_year}Q4", freq="Q"), freq="Q"),
        current_gap=c.current_gap, gap_changes=c.gap.diff().dropna().iloc[-pt.window_quarters:].to_numpy(),
        accounting=d.accounting, scope=d.scope, level_sd=dg.downstream.level_sd, slope_sd=dg.downstream.slope_sd,
        band=dg.downstream.band, horizon_years=c.horizon_years, horizon_year=pt.horizon_year, window=pt.window_quarters,
        alpha=pt.alpha)


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
    """A random walk in growth: the smoother's own local linear trend (slope shocks ``slope_sd``, level shocks ``level_sd``)."""
    slope = np.cumsum(p.slope_sd * rng.standard_normal((sims, p.steps)), axis=1)
    return slope + p.level_sd * rng.standard_normal((sims, p.steps))


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


def true_log_d(p: Pattern, gap: np.ndarray) -> np.ndarray:
    """True log :math:`D` on the pipeline's quarters from the true gap."""
    return gap[:, :len(p.quarters)] + p.log_required.reindex(p.quarters).to_numpy()


# ----------------------------------------------------------------------------- observing and the pipeline


def observe(p: Pattern, log_d: np.ndarray, rng: np.random.Generator, noise: float = 1.0) -> np.ndarray:
    """Log annualized values of the simulated rows (``sims x rows``): each series' truth at the row's quarter plus noise."""
    truth = p.offsets[p.row_series][None, :] + log_d[:, p.row_quarter]
    return truth + noise * p.row_sd[None, :] * rng.standard_normal(truth.shape)


def panel(p: Pattern, values: np.ndarray) -> pd.DataFrame:
    """One simulation's disclosure panel: the real rows, the simulated rows' values replaced (``values``: one row of :func:`observe`)."""
    out = p.panel.copy()
    column = out.columns.get_loc("value_usd_bn")
    out.iloc[p.rows, column] = np.exp(values) / p.row_annualize
    return out


@dataclass(frozen=True)
class Run:
    """What the pipeline gives the primary test for each simulation."""

    quarters: pd.PeriodIndex  # the tested quarters
    log_d: np.ndarray  # sims x tested quarters: log of the chain-linked D
    log_sd: np.ndarray  # sims: D's band s.d. (log) in the last tested quarter


def run(p: Pattern, values: np.ndarray) -> Run:
    """:func:`valuechain.model.downstream.downstream` on every simulation of ``values`` at once (module docstring)."""
    sims = len(values)
    n = len(p.quarters)
    levels = np.full((sims, n, len(p.series)), np.nan)
    log_var = np.full((n, len(p.series)), np.nan)
    for i, g in enumerate(p.grids):
        y = np.where(g.seen[None, :], values[:, g.rows] @ g.weights.T, np.nan)
        est = local_linear_trend(y, g.variance, p.level_sd, p.slope_sd)
        span = slice(g.first, g.first + len(g.seen))
        levels[:, span, i] = np.exp(est.smoothed_level)
        log_var[span, i] = est.smoothed_level_var[0]
    columns, signs = p.accounting.columns(levels, p.scope, series=p.series)
    where = {s: i for i, s in enumerate(p.series)}
    column_var = np.stack([log_var[:, where[c]] if c in where else np.zeros(n) for c in signs.index], axis=-1)
    d = downstream.chain_linked(columns, signs)
    sd = downstream.band_log_sd(columns, column_var, signs)
    last = np.flatnonzero(p.tested)[-1]
    return Run(p.quarters[p.tested], np.log(d[:, p.tested]), sd[:, last])


def gap_test(p: Pattern, log_d: pd.Series, log_sd: float, seed: int) -> closing.GapClosing:
    """The primary test on one simulation, called as :func:`valuechain.model.demand.demand_gap` calls it."""
    return closing.gap_closing(log_d, p.log_required, log_sd, p.horizon_years, p.window, (p.level_sd, p.slope_sd),
                               years=range(int(log_d.index[-1].year), 2041), level=p.band, alpha=p.alpha, seed=seed)


PRIMARY_COLUMNS = ["p_value", "t_stat", "closing_rate", "closing_rate_low", "closing_rate_high", "d_over_required",
                   "d_over_required_low", "d_over_required_high", "prob_closed_by_horizon"]
"""What the page shows of the primary test, per simulation (rates in log points a year)."""


def primary(p: Pattern, quarters: pd.PeriodIndex, log_d: np.ndarray, log_sd: float, seed: int) -> list[float]:
    """The page's figures of the primary test on one simulation (:data:`PRIMARY_COLUMNS`)."""
    c = gap_test(p, pd.Series(log_d, index=quarters), float(log_sd), int(seed))
    return [c.p_value, c.t_stat, 4 * c.trend, 4 * c.trend_interval[0], 4 * c.trend_interval[1], c.ratio, *c.ratio_interval,
            c.prob_closed_by.get(p.horizon_year, np.nan)]


def _primary_rows(args) -> list[list[float]]:
    p, quarters, log_d, log_sd, seeds = args
    return [primary(p, quarters, row, sd, seed) for row, sd, seed in zip(log_d, log_sd, seeds)]


@dataclass(frozen=True)
class Batch:
    """Simulations of one world at one true closing rate, with their truth and what the pipeline made of them."""

    pattern: Pattern
    world: str
    rate: float  # true closing rate g, log points a quarter
    gap: np.ndarray  # sims x (quarters + horizon): the true gap
    run: Run
    seeds: np.ndarray  # the primary test's seed per simulation
    primary: pd.DataFrame | None = None  # sims x :data:`PRIMARY_COLUMNS` (:func:`with_primary`)

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
        return self.gap[:, -1] >= 0

    @property
    def window_changes(self) -> np.ndarray:
        """The true gap's changes in the test window (``sims x window``)."""
        t = len(self.pattern.quarters) - 1
        return np.diff(self.gap[:, self.pattern.window_start:t + 1], axis=1)


def simulate(p: Pattern, world: str, rate: float, sims: int, rng: np.random.Generator) -> Batch:
    """``sims`` synthetic panels of ``world`` with true closing rate ``rate`` (per quarter), through the pipeline."""
    gap = true_gap(p, WORLDS[world](p, rng, sims), rate)
    values = observe(p, true_log_d(p, gap), rng)
    return Batch(p, world, rate, gap, run(p, values), rng.integers(0, 2 ** 31, sims))


def with_primary(batch: Batch, chunks: int = 1, map=map) -> Batch:
    """``batch`` with the primary test run on each simulation, in ``chunks`` handed to ``map``
    (an executor's, to use several processes)."""
    parts = np.array_split(np.arange(batch.sims), chunks)
    r = batch.run
    rows = [row for part in map(_primary_rows, [(batch.pattern, r.quarters, r.log_d[i], r.log_sd[i], batch.seeds[i])
                                                for i in parts if len(i)]) for row in part]
    return replace(batch, primary=pd.DataFrame(rows, columns=PRIMARY_COLUMNS))
