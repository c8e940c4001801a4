r"""Net external AI revenue :math:`D`, built from the dated disclosures of ``ai_revenue.csv``
(:mod:`valuechain.dataset.disclosures` reads and checks them).

Netting
-------
:math:`D` is the chain's **final demand** under one scope of :data:`valuechain.model.chain.SCOPES`
(:func:`of_scenario` uses the primary, central rung): the scope's series on one revenue basis less
the flows between the chain's members it would otherwise count twice, each capped at the revenue
that contains it (:mod:`valuechain.model.chain` states the flows). :func:`aggregate` gives the
columns whose signed sum is :math:`D`. Without a chain (``accounting=None``), the panel is taken
as disclosed:

.. math::

    D_t = \sum_{i \in F} x_{i,t} - \sum_{j \in I} \min(x_{j,t}, x_{f(j),t}),

where :math:`F` are the final-demand series present in quarter :math:`t`, :math:`I` the
intra-chain series present with their ``netted_from`` series :math:`f(j)` also present, and
:math:`x` is annualized revenue; that form counts every flow no figure gives twice.

From dated points to quarters
-----------------------------
Every disclosure becomes an observation of log annualized revenue in the calendar quarter that
holds its ``as_of`` date (a quarter's revenue x 4; a year's revenue in the quarter holding the
year's midpoint), with a measurement s.d. set by basis and kind (:data:`BASIS_SD`,
:data:`KIND_SD`). Each series is smoothed by the local-linear-trend model of
:mod:`valuechain.stats.statespace` from its first disclosed quarter to the last quarter of the panel;
nothing is interpolated from a later point into the real-time series, which uses, for each
quarter, only disclosures published by that quarter's end.

A series enters :math:`D` at its first disclosure, so the sum jumps when a series enters.
Growth is therefore **chain-linked**: from :math:`t-1` to :math:`t` only series present in both
quarters count, and :math:`D` is the full-coverage level of the quarter with the most revenue
present carried back (and forward) by those links (a constant-composition index, as statistical
agencies build one; :func:`chain_linked`).
The plain sum of series disclosed at the time is kept beside it.

Imputed quarters and vintages
-----------------------------
A quarter's chain-linked level is **imputed** where it rests on something other than the
figures of that quarter's series: a series of the last quarter's composition that is not yet
present (its level is carried back by the other series' growth, so the chain-linked level
exceeds the plain sum), or a series carried past its last disclosed quarter (a filter
prediction, or an intra-chain flow held at its last share). :func:`imputed` counts both.
:func:`vintages` builds :math:`D` as it could have been built on a date, and
:func:`known_by_year` sets each year's :math:`D` as known shortly after the year (its vintage)
beside today's (revised) value.

The scope ladder
----------------
What counts as downstream revenue is a definition, not a datum. :func:`ladder` builds the chain's
final demand on the same smoothed series under each scope of :data:`valuechain.model.chain.SCOPES`
(strict, central, broad; the series left out are listed in :data:`valuechain.model.chain.EXCLUSIONS`
with their reasons). Each quarter's level is split into what was disclosed in the quarter, carried
from earlier disclosures, and assumed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from valuechain.dataset import disclosures
from valuechain.dataset.load import Dataset
from valuechain.model import chain
from valuechain.model.chain import SCOPES, Chain, Scope
from valuechain.stats.statespace import (
    ESTIMATE,
    NoiseEstimate,
    estimate_noise,
    local_linear_trend,
    pooled_loglike,
)

BASIS_SD = {"reported": 0.03, "derived": 0.05, "run_rate": 0.08, "claim": 0.15, "estimate": 0.25}
"""Measurement s.d. of log revenue by basis: a filed figure is nearly exact, a press report less so."""

KIND_SD = {"quarterly_revenue": 0.0, "arr": 0.05, "run_rate": 0.05, "acv": 0.08, "annual_revenue": 0.10}
"""Extra s.d. for timing: a point figure stands for its whole quarter; a year's revenue for its midpoint."""

ANNUALIZE = {"quarterly_revenue": 4.0, "arr": 1.0, "run_rate": 1.0, "acv": 1.0, "annual_revenue": 1.0}


def observations(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per disclosure as an observation of log annualized revenue in a calendar quarter."""
    obs = panel.copy()
    mid_year = pd.to_datetime(obs["as_of"].dt.year.astype(str) + "-06-30")
    when = obs["as_of"].where(obs["kind"] != "annual_revenue", mid_year)
    obs["quarter"] = when.dt.to_period("Q")
    obs["annualized_usd_bn"] = obs["value_usd_bn"] * obs["kind"].map(ANNUALIZE)
    obs["log_value"] = np.log(obs["annualized_usd_bn"])
    obs["variance"] = obs["basis"].map(BASIS_SD) ** 2 + obs["kind"].map(KIND_SD) ** 2
    return obs


QUARTER_DAYS = 365.25 / 4


def effective_date(obs: pd.DataFrame) -> pd.Series:
    """The date an observation measures: a quarter's revenue its quarter's midpoint, a year's revenue the year's
    midpoint (1 July), a run-rate, ARR or ACV its ``as_of`` date."""
    quarter = obs["as_of"].dt.to_period("Q")
    mid_quarter = quarter.dt.start_time + (quarter.dt.end_time - quarter.dt.start_time) / 2
    mid_year = pd.to_datetime(obs["as_of"].dt.year.astype(str) + "-07-01")
    return (obs["as_of"].where(obs["kind"] != "quarterly_revenue", mid_quarter)
            .where(obs["kind"] != "annual_revenue", mid_year))


def row_date_offsets(obs: pd.DataFrame) -> pd.Series:
    """Each observation's date (:func:`effective_date`) in quarters from its quarter's midpoint."""
    mids = {q: q.start_time + (q.end_time - q.start_time) / 2 for q in pd.PeriodIndex(obs["quarter"]).unique()}
    return (effective_date(obs) - obs["quarter"].map(mids)) / pd.Timedelta(days=QUARTER_DAYS)


def date_offsets(obs: pd.DataFrame, quarters: pd.PeriodIndex) -> pd.DataFrame:
    r"""Quarter x series: where in time each series' level in a quarter sits, in quarters from the quarter's midpoint.

    A quarter with observations: their precision-weighted offset (a run-rate of 31 December sits half a quarter
    after its quarter's midpoint, +0.49). A quarter past the series' last observation :math:`L`, where its level is
    held: the offset at :math:`L` less the quarters since (:math:`k` quarters on, :math:`o_L - k`). Other quarters:
    0 (the smoother's level on the quarterly grid); NaN before the first. D's pace divides by the time between its
    two ends measured so (:func:`d_date_offset`, :func:`valuechain.stats.reach.pace`), not by the quarters between
    their labels.
    """
    offset = row_date_offsets(obs)
    weight = 1.0 / obs["variance"]
    names = sorted(obs["series_id"].unique())
    rows = obs.assign(offset=offset * weight, weight=weight)
    sums = rows.groupby(["series_id", "quarter"])[["offset", "weight"]].sum()  # each series' quarters
    per_quarter = (sums["offset"] / sums["weight"]).to_numpy()
    col = pd.Index(names).get_indexer(sums.index.get_level_values("series_id"))
    at = pd.PeriodIndex(sums.index.get_level_values("quarter")).asi8  # quarter ordinals
    first, last = np.full(len(names), np.iinfo(np.int64).max), np.full(len(names), np.iinfo(np.int64).min)
    np.minimum.at(first, col, at)
    np.maximum.at(last, col, at)
    at_last = np.empty(len(names))  # each series' offset in its last quarter
    at_last[col[at == last[col]]] = per_quarter[at == last[col]]
    grid = quarters.asi8[:, None]
    out = np.where(grid >= first, 0.0, np.nan)
    row = quarters.get_indexer(sums.index.get_level_values("quarter"))
    out[row[row >= 0], col[row >= 0]] = per_quarter[row >= 0]
    out = np.where(grid > last, at_last - (grid - last).astype(float), out)  # held past the last: k quarters on
    return pd.DataFrame(out, index=quarters, columns=names)


def d_date_offset(columns, signs, offsets) -> np.ndarray:
    """D's offset in each quarter: the series' offsets (:func:`date_offsets`, same column order as ``columns`` for
    the series counted with sign +1) weighted by their levels in D. ``columns`` quarter x column (frame) or
    ``(..., quarters, columns)`` with ``offsets`` ``(quarters, columns)`` (0 for a flow)."""
    c, s = np.asarray(columns, float), np.asarray(signs, float)
    o = np.asarray(offsets, float)
    counted = np.isfinite(c) & (s > 0) & np.isfinite(o)
    weight = np.where(counted, c, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weight * np.where(counted, o, 0.0)).sum(axis=-1) / weight.sum(axis=-1)


def _grids(obs: pd.DataFrame, quarters: pd.PeriodIndex, cutoffs=None, values=None) -> tuple[np.ndarray, np.ndarray]:
    """Combined observation and variance per quarter (NaN where none), one row per vintage.

    By default row ``i < n`` holds the disclosures published by the end of quarter ``i`` (the
    real-time information set) and the last row holds every disclosure; with ``cutoffs`` (dates)
    row ``j`` holds those published by ``cutoffs[j]``. Observations of quarters outside
    ``quarters`` are left out. Several observations of one quarter are combined into their
    precision-weighted mean. ``values`` (``(..., len(obs))``, e.g. simulations x rows) replaces the
    rows' log values: the grids then have those leading axes (the variances are the same for all).
    """
    return _grid_rows(quarters.get_indexer(obs["quarter"]), obs["variance"].to_numpy(float),
                      obs["published"].to_numpy("datetime64[ns]"),
                      obs["log_value"].to_numpy(float) if values is None else np.asarray(values, float), quarters,
                      cutoffs)


def _grid_rows(position: np.ndarray, variances: np.ndarray, published: np.ndarray, values: np.ndarray,
               quarters: pd.PeriodIndex, cutoffs=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_grids` on the observations' arrays: each one's position in ``quarters`` (-1 outside), measurement
    variance, publication date and log value (``(..., observations)``)."""
    n = len(quarters)
    if cutoffs is None:
        cutoffs = np.append(quarters.end_time.to_numpy("datetime64[ns]"), np.datetime64(pd.Timestamp.max, "ns"))
    cutoffs = np.array(list(cutoffs), dtype="datetime64[ns]")
    public = cutoffs[None, :] >= published[:, None]  # observations x cutoffs
    weight, weighted = np.zeros((len(cutoffs), n)), np.zeros((*values.shape[:-1], len(cutoffs), n))
    for k in np.flatnonzero(position >= 0):  # row by row, so that each cell sums its rows in order
        seen, variance = public[k], variances[k]
        weight[seen, position[k]] += 1.0 / variance
        weighted[..., seen, position[k]] += values[..., k:k + 1] / variance
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(weight > 0, weighted / weight, np.nan),
                np.broadcast_to(np.where(weight > 0, 1.0 / weight, 1.0), weighted.shape))


@dataclass(frozen=True)
class SeriesFit:
    """One series smoothed on its quarters: log level and its variance, and the real-time log level.

    ``draws_log_level`` and ``draws_log_var`` (``points x quarters``) are the same smoothing at
    other noise levels (``points`` of :func:`fit_series`); empty without them.
    """

    series_id: str
    flow: str
    netted_from: str
    quarters: pd.PeriodIndex
    log_level: np.ndarray
    log_var: np.ndarray
    realtime_log_level: np.ndarray  # filtered with disclosures published by each quarter's end (NaN before any)
    draws_log_level: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    draws_log_var: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))


def fit_series(obs: pd.DataFrame, end: pd.Period, level_sd, slope_sd, carry_quarters: int = 2,
               points: tuple[np.ndarray, np.ndarray] | None = None, values: np.ndarray | None = None,
               scale=1.0) -> SeriesFit:
    """Smooth one series' observations from its first quarter to ``carry_quarters`` past its last (at most ``end``).

    The real-time path covers the same quarters, each using the disclosures published by its end.
    Past the series' last disclosed quarter the level is held, its variance widening
    (``hold`` of :func:`valuechain.stats.statespace.local_linear_trend`): no slope is extrapolated.
    ``level_sd`` or ``slope_sd`` may be :data:`~valuechain.stats.statespace.ESTIMATE`: estimated
    on this series alone (:func:`downstream` pools the final-demand series instead). ``points``
    (two arrays of s.d.s) smooths the series again at each pair, for a band that carries the noise
    levels' uncertainty.

    Many panels at once: ``values`` (``(..., len(obs))``, e.g. simulations x rows) replaces the rows'
    log values, and every array of the fit gains those leading axes; ``level_sd`` and ``slope_sd``
    are then one value or one per panel (``(...)``), ``points`` ``(k,)`` or one set per panel
    (``(..., k)``). Each panel's fit is the one its own rows would give. ``scale`` (one, or one per panel) multiplies
    the rows' measurement s.d.s (:func:`measurement_scale`).
    """
    quarters = pd.period_range(obs["quarter"].min(), min(end, obs["quarter"].max() + carry_quarters), freq="Q")
    y, h = _grids(obs, quarters, values=values)
    h = h * np.asarray(scale, float)[..., None, None] ** 2  # the measurement s.d.s' common factor (:func:`noise`)
    lead, n = y.shape[:-2], len(quarters)
    if isinstance(level_sd, str) or isinstance(slope_sd, str):
        fit = estimate_noise(y[..., -1:, :], h[..., -1:, :], level_sd, slope_sd)
        level_sd, slope_sd = fit.level_sd, fit.slope_sd
    est = local_linear_trend(y, h, np.asarray(level_sd, float)[..., None], np.asarray(slope_sd, float)[..., None],
                             hold=True)
    diagonal = np.arange(n)
    known = np.isfinite(y[..., :-1, :]).any(axis=-1)
    realtime = np.where(known, est.filtered_level[..., diagonal, diagonal], np.nan)
    row = obs.iloc[0]
    draws = (np.empty((*lead, 0, n)),) * 2
    if points is not None and np.shape(points[0])[-1]:
        k = np.shape(points[0])[-1]
        grid = local_linear_trend(np.broadcast_to(y[..., -1:, :], (*lead, k, n)), np.broadcast_to(h[..., -1:, :], (*lead, k, n)),
                                  points[0], points[1], hold=True)
        draws = (grid.smoothed_level, grid.smoothed_level_var)
    return SeriesFit(row["series_id"], row["flow"], row["netted_from"], quarters, est.smoothed_level[..., -1, :],
                     est.smoothed_level_var[..., -1, :], realtime, *draws)


def _left_aligned(y: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row of ``(..., n)`` shifted so that its first observation is in column 0 (NaN after its end)."""
    seen = np.isfinite(y)
    start = np.where(seen.any(-1), np.argmax(seen, axis=-1), 0)
    cols = np.arange(y.shape[-1]) + start[..., None]
    inside = cols < y.shape[-1]
    cols = np.minimum(cols, y.shape[-1] - 1)
    return (np.where(inside, np.take_along_axis(y, cols, -1), np.nan),
            np.where(inside, np.take_along_axis(h, cols, -1), 1.0))


def noise_inputs(obs: pd.DataFrame, cutoffs=None, values=None) -> tuple[np.ndarray, np.ndarray]:
    """The final-demand series of ``obs`` (:func:`observations`) as the panel :func:`estimate_noise` pools.

    Returns ``y`` and ``h``, each ``series x quarters`` (one row per final-demand series, its first
    observed quarter in column 0, NaN where none), or ``cutoffs x series x quarters`` with
    ``cutoffs`` (dates): row ``j`` holds the disclosures published by ``cutoffs[j]``. ``values``
    (``(..., len(obs))``: simulations x rows) replaces the rows' log values, and many simulated
    panels stack on the leading axes for one call of :func:`~valuechain.stats.statespace.estimate_noise`.
    """
    mask = (obs["flow"] == "final_demand").to_numpy()
    final = obs[mask]
    lead = () if values is None else np.shape(values)[:-1]
    if final.empty:
        shape = (*lead, 0, 1) if cutoffs is None else (*lead, len(list(cutoffs)), 0, 1)
        return np.full(shape, np.nan), np.ones(shape)
    vals = final["log_value"].to_numpy(float) if values is None else np.asarray(values, float)[..., mask]
    quarters = pd.period_range(final["quarter"].min(), final["quarter"].max(), freq="Q")
    position, variance = quarters.get_indexer(final["quarter"]), final["variance"].to_numpy(float)
    published = final["published"].to_numpy("datetime64[ns]")
    rows = [_grid_rows(position[at], variance[at], published[at], vals[..., at], quarters, cutoffs)
            for _, at in sorted(final.groupby("series_id", sort=True).indices.items())]
    y = np.stack([r[0][..., -1, :] if cutoffs is None else r[0] for r in rows], axis=-2)
    h = np.stack([r[1][..., -1, :] if cutoffs is None else r[1] for r in rows], axis=-2)
    return _left_aligned(y, h)


MEASUREMENT_SCALES = np.geomspace(0.8, 8.0, 11)
"""Factors on the stated measurement s.d.s (:data:`BASIS_SD`, :data:`KIND_SD`) over which their common scale is
profiled (steps of about 26%)."""

SCALE_SEARCH_GRID = np.geomspace(0.002, 0.5, 8)
"""The coarse grid of noise levels over which the likelihood is maximized at each scale."""


def measurement_scale(y: np.ndarray, h: np.ndarray, level_sd=ESTIMATE, slope_sd=ESTIMATE) -> np.ndarray:
    r"""Maximum-likelihood factor on the stated measurement s.d.s, per panel (``y``, ``h`` as
    :func:`~valuechain.stats.statespace.estimate_noise` takes them).

    The stated s.d.s by basis and kind are judgements; the data can say whether they are too small. The pooled
    log-likelihood, maximized over the noise levels on :data:`SCALE_SEARCH_GRID` (or at the fixed ones), is profiled
    over :data:`MEASUREMENT_SCALES` and the maximum refined by a parabola in :math:`\log` scale (an edge stays at
    the edge). On the bundled disclosures the stated s.d.s are too small: the likelihood rises by about 4.7 from a
    factor of 1 to about 1.9.
    """
    gl, gs = (np.atleast_1d(np.asarray(v, float)) if not isinstance(v, str) else SCALE_SEARCH_GRID
              for v in (level_sd, slope_sd))
    lead = np.shape(y)[:-2]
    ll = np.stack([pooled_loglike(y, np.asarray(h) * f ** 2, gl, gs).reshape(*lead, -1).max(-1)
                   for f in MEASUREMENT_SCALES], -1)
    x = np.log(MEASUREMENT_SCALES)
    i = np.clip(ll.argmax(-1), 1, len(x) - 2)
    a, b, c = (np.take_along_axis(ll, (i + k)[..., None], -1)[..., 0] for k in (-1, 0, 1))
    step = x[1] - x[0]
    curvature = a - 2 * b + c
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(curvature < 0, 0.5 * (a - c) / curvature * step, 0.0)
    best = np.where((ll.argmax(-1) == 0) | (ll.argmax(-1) == len(x) - 1), x[ll.argmax(-1)],
                    x[i] + np.clip(shift, -step, step))
    return np.exp(best)


def noise(obs: pd.DataFrame, level_sd=ESTIMATE, slope_sd=ESTIMATE, cutoffs=None, level: float = 0.90,
          values=None, scale=None) -> NoiseEstimate:
    """The noise levels of the local linear trend, estimated on the final-demand disclosures of ``obs`` (where asked).

    :func:`~valuechain.stats.statespace.estimate_noise` on :func:`noise_inputs`: one pair pooled over
    the final-demand series (per cutoff with ``cutoffs``; per panel with ``values``, simulations x
    rows of ``obs``), each series' measurement variances as set by basis and kind times the square of a
    common factor, ``scale``: estimated first (:func:`measurement_scale`, one per panel), or a number; by default
    (None) estimated where a noise level is, and 1 (the s.d.s as stated) where both are fixed numbers.
    A number for ``level_sd`` or ``slope_sd`` holds it fixed. The factor is the result's ``measurement_scale``.
    """
    if scale is None:
        scale = ESTIMATE if isinstance(level_sd, str) or isinstance(slope_sd, str) else 1.0
    y, h = noise_inputs(obs, cutoffs, values)
    factor = measurement_scale(y, h, level_sd, slope_sd) if isinstance(scale, str) else np.asarray(scale, float)
    fit = estimate_noise(y, np.asarray(h) * np.asarray(factor)[..., None, None] ** 2, level_sd, slope_sd, level=level)
    return dataclasses.replace(fit, measurement_scale=factor if np.ndim(factor) else float(factor))


def band_points(fitted: NoiseEstimate) -> tuple[tuple[np.ndarray, np.ndarray] | None, np.ndarray | None]:
    """The noise levels the band mixes over and their weights: ``(points, weights)``, or ``(None, None)`` with both fixed.

    The grid points whose posterior weight (:meth:`~valuechain.stats.statespace.NoiseEstimate.weights`)
    is at least :data:`PARAMETER_POINTS_MIN_WEIGHT` of the largest, in grid order, their weights
    renormalized. With several panels (leading axes of ``fitted``), each panel's list is padded to
    the longest with points of weight 0, so that the arrays are ``(..., k)``.
    """
    if not fitted.estimated:
        return None, None
    w = fitted.weights()
    lead, shape = w.shape[:-2], w.shape[-2:]
    flat = w.reshape(-1, shape[0] * shape[1])
    keep = flat > PARAMETER_POINTS_MIN_WEIGHT * flat.max(axis=-1, keepdims=True)
    k = int(keep.sum(axis=-1).max())
    order = np.argsort(~keep, axis=-1, kind="stable")[:, :k]  # the kept points first, in grid order
    weights = np.where(np.take_along_axis(keep, order, -1), np.take_along_axis(flat, order, -1), 0.0)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    i, j = np.unravel_index(order, shape)
    return ((fitted.grid_level[i].reshape(*lead, k), fitted.grid_slope[j].reshape(*lead, k)),
            weights.reshape(*lead, k))


def net_external(levels: pd.DataFrame, flows: dict[str, str], netted_from: dict[str, str]) -> pd.DataFrame:
    """Final-demand total, the intra-chain flows netted out, and :math:`D` (see the module docstring).

    ``levels`` is quarter x series (annualized USD bn, NaN where a series is absent); ``flows`` and
    ``netted_from`` map each series to its flow tag and containing series. A flow is netted only
    in quarters where both it and its containing series are present.
    """
    final = [s for s in levels.columns if flows[s] == "final_demand"]
    netted = pd.Series(0.0, index=levels.index)
    for s in levels.columns:
        parent = netted_from.get(s) or ""
        if flows[s] == "intra_chain" and parent in final:
            both = levels[s].notna() & levels[parent].notna()
            netted += np.minimum(levels[s], levels[parent]).where(both, 0.0)
    gross = levels[final].sum(axis=1, min_count=1)
    return pd.DataFrame({"final_demand_usd_bn": gross, "intra_chain_netted_usd_bn": netted,
                         "net_usd_bn": gross - netted})


def carry_flows(levels: pd.DataFrame, flows: dict[str, str], netted_from: dict[str, str]) -> pd.DataFrame:
    """Intra-chain flows after their last disclosure, held at their last share of the series containing them."""
    out = levels.copy()
    for s in levels.columns:
        parent = netted_from.get(s) or ""
        if flows[s] == "intra_chain" and parent in levels.columns:
            share = (levels[s] / levels[parent]).ffill()
            out[s] = levels[s].fillna(share * levels[parent])
    return out


def chain_linked(levels, signs):
    r"""Constant-composition index of :math:`\sum_i s_i x_{i,t}`, rebased to the full sum in its anchor quarter.

    The anchor :math:`a` is the quarter with the most revenue present (the sum of the series
    present, before netting; the last quarter on every disclosure to date, as revenue and
    coverage grow). From it the index runs back by
    links :math:`I_{t-1} = I_t \, S_{t-1}(B_t) / S_t(B_t)` and forward by
    :math:`I_{t+1} = I_t \, S_{t+1}(B_{t+1}) / S_t(B_{t+1})`, with :math:`S_t(B)` the signed sum
    over the series :math:`B` present in both quarters of the link. A vintage whose last quarter
    has lost a series (one not disclosed again by its cutoff) is thus anchored where its coverage
    is widest, not scaled to its thinnest quarter.

    ``levels`` is a quarter x series frame (the index is a series), or an array ``(..., quarters,
    series)`` whose leading axes (simulations) are linked at once (the index is ``(..., quarters)``).
    """
    frame = isinstance(levels, pd.DataFrame)
    values = np.asarray(levels, float)
    signed = values * np.asarray(signs, float)
    present = np.isfinite(values)
    index = np.full(values.shape[:-1], np.nan)
    n = values.shape[-2]
    if n:
        covered = np.where(present & (np.asarray(signs, float) > 0), signed, 0.0).sum(axis=-1)
        anchor = n - 1 - np.argmax((covered == covered.max(axis=-1, keepdims=True))[..., ::-1], axis=-1)
        at = np.take_along_axis(signed, anchor[..., None, None], axis=-2)[..., 0, :]
        np.put_along_axis(index, anchor[..., None], np.nansum(at, axis=-1)[..., None], axis=-1)

        def link(t, other, active):  # index[other] from index[t] over the series present in both
            both = present[..., t, :] & present[..., other, :]
            now = np.where(both, signed[..., t, :], 0.0).sum(axis=-1)
            then = np.where(both, signed[..., other, :], 0.0).sum(axis=-1)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = np.where(both.any(axis=-1) & (now > 0), index[..., t] * then / now, np.nan)
            index[..., other] = np.where(active, step, index[..., other])

        for t in range(n - 1, 0, -1):
            link(t, t - 1, t <= anchor)
        for t in range(n - 1):
            link(t, t + 1, t >= anchor)
    return pd.Series(index, index=levels.index) if frame else index


def band_log_sd(columns, columns_log_var, signs):
    r"""Delta-method s.d. of :math:`\log D` from the series' independent smoothing errors (the flows add none).

    With :math:`c_i` the columns of :func:`aggregate` and :math:`v_i` the smoothed variances of
    their log levels (0 for a flow),
    :math:`\mathrm{sd}(\log D) = \sqrt{\sum_i c_i^2 (e^{v_i} - 1)} / N`, :math:`N` the net sum of
    the columns present. Frames (quarter x column) give a series; arrays ``(..., quarters,
    columns)`` an array ``(..., quarters)``.
    """
    frame = isinstance(columns, pd.DataFrame)
    c, v, s = np.asarray(columns, float), np.nan_to_num(np.asarray(columns_log_var, float)), np.asarray(signs, float)
    present = np.isfinite(c)
    var_level = np.where(present & (s != 0), c ** 2 * (np.exp(v) - 1), 0.0).sum(axis=-1)
    gross = np.where(present & (s > 0), c, 0.0).sum(axis=-1)
    netted = np.where(present & (s < 0), c, 0.0).sum(axis=-1)
    counted = (present & (s != 0)).any(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(counted & (present & (s > 0)).any(axis=-1), np.sqrt(var_level) / (gross - netted), np.nan)
    return pd.Series(out, index=columns.index) if frame else out


def _signs(flows: dict[str, str], netted_from: dict[str, str], columns) -> pd.Series:
    """+1 for a final-demand series, -1 for an intra-chain flow netted from a series present, 0 otherwise."""
    return pd.Series({s: (1.0 if flows[s] == "final_demand" else -1.0 if netted_from[s] in flows else 0.0)
                      for s in columns}, dtype=float)


def _present(levels: pd.DataFrame, signs: pd.Series) -> pd.Series:
    """Series that enter D in each quarter (final demand and the flows netted from it)."""
    return levels.notna().mul(signs.abs() > 0, axis=1).sum(axis=1)


def aggregate(levels: pd.DataFrame, flows: dict[str, str], netted_from: dict[str, str],
              accounting: Chain | None = None, scope: Scope | None = None) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The columns whose signed sum is :math:`D`, their signs, and which of them are series :math:`D` rests on.

    With ``accounting`` (a :class:`valuechain.model.chain.Chain`) and its ``scope``: the scope's
    final-demand series on one revenue basis and the chain's flows it nets
    (:meth:`~valuechain.model.chain.Chain.columns`). Without: every final-demand series, less the
    disclosed intra-chain flows (:func:`carry_flows`), the panel as disclosed.
    """
    if accounting is None:
        columns = carry_flows(levels, flows, netted_from)
        signs = _signs(flows, netted_from, columns.columns)
        return columns, signs, signs.abs() > 0
    columns, signs = accounting.columns(levels, scope)
    return columns, signs, signs > 0


def imputed(levels: pd.DataFrame, signs: pd.Series, disclosed: dict[str, tuple]) -> pd.DataFrame:
    r"""Which quarters' chain-linked levels are imputed, and by how many series.

    With :math:`P_t` the series that enter :math:`D` in quarter :math:`t` (sign not zero, level
    present), :math:`T` the last quarter and :math:`[a_i, b_i]` the first and last quarters
    series :math:`i` was disclosed in (``disclosed``):

    .. math::

        \text{linked back}_t = |P_T \setminus P_t|, \qquad
        \text{carried}_t = |\{i \in P_t : t > b_i\}|, \qquad
        \text{imputed}_t = \text{linked back}_t + \text{carried}_t > 0.

    Where no series is linked back and none leaves between :math:`t` and :math:`T`, the
    chain-linked level equals the plain sum (:func:`chain_linked` rebases to the full sum).
    """
    inside = levels.notna() & (signs.reindex(levels.columns).abs() > 0).to_numpy()[None, :]
    last = inside.iloc[-1].to_numpy()
    linked_back = (~inside.to_numpy() & last[None, :]).sum(axis=1)
    never = (levels.index[0], levels.index[-1])  # a flow the chain assumes is never carried past a disclosure
    past = np.array([[q > disclosed.get(s, never)[1] for s in levels.columns] for q in levels.index],
                    dtype=bool).reshape(inside.shape)
    carried = (inside.to_numpy() & past).sum(axis=1)
    return pd.DataFrame({"series_linked_back": linked_back, "series_carried": carried,
                         "imputed": (linked_back + carried) > 0}, index=levels.index)


@dataclass(frozen=True)
class Downstream:
    """Net external AI revenue :math:`D` by quarter, its parts, its band and the observations behind it."""

    quarters: pd.PeriodIndex
    series: pd.DataFrame  # quarter x series: smoothed annualized revenue, USD bn (NaN before a series' first disclosure)
    d: pd.DataFrame  # quarter: d_usd_bn (chain-linked), low, high, log_sd, disclosed_sum_usd_bn, realtime_usd_bn,
    # series_present, series_linked_back, series_carried, imputed (see :func:`imputed`)
    netting: pd.DataFrame  # quarter: final demand, intra-chain netted, net (smoothed series, as disclosed)
    observations: pd.DataFrame  # every disclosure with its quarter and annualized value
    coverage: pd.DataFrame  # one row per series: company, flow, first and last disclosure, points
    sources: tuple[str, ...]
    level: float  # band level, e.g. 0.90
    scope: Scope | None = None  # the chain's rung D is built on (:data:`valuechain.model.chain.SCOPES`); None: as disclosed
    accounting: Chain | None = None  # the chain whose flows D nets; None: only the disclosed intra-chain flows
    noise: NoiseEstimate | None = None  # the smoother's noise levels, estimated on the disclosures or fixed
    band_includes_noise_uncertainty: bool = False  # True: the band carries the noise levels' estimation uncertainty

    @property
    def noise_levels(self) -> tuple[float, float]:
        """The smoother's (level, slope) s.d.s D was built with: the estimates, or the scenario's fixed numbers.
        Simulations of D's pipeline (the bootstraps, the projection, the calibration) take these."""
        return float(self.noise.level_sd), float(self.noise.slope_sd)

    @property
    def companies(self) -> tuple[str, ...]:
        final = self.coverage[self.coverage["flow"] == "final_demand"]
        return tuple(sorted(final["company_id"].unique()))


PARAMETER_POINTS_MIN_WEIGHT = 1e-3
"""Grid points of the noise levels whose posterior weight is below this share of the largest are left out of the band."""


def band_log_var(columns, signs: pd.Series, net, fits: list[SeriesFit], quarters: pd.PeriodIndex,
                 weights: np.ndarray | None):
    r"""Variance of :math:`\log D` from the series' smoothing errors, and from the noise levels where ``weights`` is given.

    At the point estimate (delta method, the series' errors independent, the chain's flows adding
    none): :math:`V_t = \sum_i x_{i,t}^2 (e^{v_{i,t}} - 1) / D_t^2`. With ``weights`` :math:`w_k`
    over the smoothings at other noise levels (:attr:`SeriesFit.draws_log_level`), each series
    scaled by :math:`r_{i,k,t} = e^{m_{i,k,t} - m_{i,t}}` and :math:`D_{k,t} = D_t + \sum_i s_i
    x_{i,t} (r_{i,k,t} - 1)`, the law of total variance:
    :math:`\sum_k w_k V_{k,t} + \sum_k w_k (\log D_{k,t} - \overline{\log D}_t)^2`.

    ``columns`` is a quarter x column frame (``net`` a series; the result a series), or an array
    ``(..., quarters, columns)`` in the order of ``signs`` with ``net`` ``(..., quarters)``, fits
    with the same leading axes (:func:`fit_series` with ``values``) and ``weights`` ``(..., k)``.
    """
    frame = isinstance(columns, pd.DataFrame)
    labels = list(columns.columns) if frame else list(signs.index)
    by_id = {f.series_id: f for f in fits}
    names = [c for c in labels if c in by_id and signs[c] != 0]
    x = np.asarray(columns, float)[..., [labels.index(c) for c in names]]  # (..., quarters, series)
    sign = signs[names].to_numpy(float)

    def aligned(c, attr):  # the fit's (..., [points,] its quarters) on ``quarters``
        f = by_id[c]
        values = getattr(f, attr)
        out = np.full(values.shape[:-1] + (len(quarters),), np.nan)
        at = quarters.get_indexer(f.quarters)
        keep = at >= 0
        out[..., at[keep]] = values[..., keep]
        return out

    var_point = np.nansum(x ** 2 * (np.exp(np.stack([aligned(c, "log_var") for c in names], -1)) - 1), axis=-1)
    present = np.isfinite(x).any(axis=-1)
    d = np.asarray(net, float)
    if weights is None:
        out = np.where(present, var_point, np.nan) / d ** 2
    else:
        ratio = np.stack([np.exp(aligned(c, "draws_log_level") - aligned(c, "log_level")[..., None, :]) for c in names],
                         -1)  # (..., points, quarters, series)
        var_k = np.stack([aligned(c, "draws_log_var") for c in names], -1)
        xs = np.nan_to_num(x)[..., None, :, :]
        d_k = d[..., None, :] + np.nansum(sign * xs * (ratio - 1), axis=-1)
        within = np.nansum(xs ** 2 * ratio ** 2 * (np.exp(var_k) - 1), axis=-1) / d_k ** 2
        log_d = np.log(d_k)
        w = np.asarray(weights, float)[..., :, None]
        mean = (w * log_d).sum(-2)
        out = np.where(present, (w * (within + (log_d - mean[..., None, :]) ** 2)).sum(-2), np.nan)
    return pd.Series(out, index=quarters) if frame else out


def downstream(ds: Dataset, start: str, level_sd=ESTIMATE, slope_sd=ESTIMATE, level: float = 0.90,
               carry_quarters: int = 2, panel: pd.DataFrame | None = None, accounting: Chain | None = None,
               scope: Scope | None = None, measurement_scale=None) -> Downstream:
    """Build :math:`D` from the disclosure panel, quarterly from ``start`` to the panel's last quarter.

    A series is present from its first disclosed quarter to ``carry_quarters`` past its last, held
    at its last smoothed level there with a widening variance (no slope extrapolated; filter
    predictions beyond that would rest on no data); an intra-chain flow after that is held at its
    last share of the series containing it (:func:`carry_flows`). With ``accounting`` and
    ``scope``, :math:`D` is the chain's final demand under that scope (:func:`aggregate`); without,
    the panel as disclosed.

    The smoother's noise levels ``level_sd`` and ``slope_sd`` are
    :data:`~valuechain.stats.statespace.ESTIMATE` (maximum likelihood pooled over the final-demand
    series, :func:`noise`, with the measurement s.d.s' common factor, ``measurement_scale``, estimated too unless
    given) or fixed numbers (the measurement s.d.s as stated unless ``measurement_scale`` is given). :math:`D` is smoothed at the estimate. Where a level
    is estimated, the band (``low_usd_bn``, ``high_usd_bn``, ``log_sd``) **includes** the noise
    levels' uncertainty: it mixes the smoothings over the likelihood grid with posterior weights
    under a uniform prior on each s.d. (:meth:`~valuechain.stats.statespace.NoiseEstimate.weights`,
    :func:`band_log_var`); with both fixed it does not, and ``band_includes_noise_uncertainty``
    says which.
    """
    from scipy import stats

    panel = disclosures.load(ds) if panel is None else panel
    obs = observations(panel)
    used = obs[obs["flow"] != "market_total"]
    end = used["quarter"].max()
    fitted = noise(used, level_sd, slope_sd, level=level, scale=measurement_scale)
    points, weights = band_points(fitted)
    sd = (float(fitted.level_sd), float(fitted.slope_sd))
    fits = [fit_series(group, end, *sd, carry_quarters, points, scale=fitted.measurement_scale)
            for _, group in used.groupby("series_id", sort=True)]
    quarters = pd.period_range(min(pd.Period(start, freq="Q"), min(f.quarters[0] for f in fits)), end, freq="Q")

    def frame(attr):
        return pd.DataFrame({f.series_id: pd.Series(getattr(f, attr), index=f.quarters) for f in fits}).reindex(quarters)

    flows = {f.series_id: f.flow for f in fits}
    parents = {f.series_id: f.netted_from for f in fits}
    smoothed = np.exp(frame("log_level"))
    columns, signs, counted = aggregate(smoothed, flows, parents, accounting, scope)
    levels = carry_flows(smoothed, flows, parents)  # every series, the intra-chain ones carried
    rt_columns, rt_signs, _ = aggregate(np.exp(frame("realtime_log_level")), flows, parents, accounting, scope)
    netting = _netting(columns, signs)
    rt_net = columns_sum(rt_columns, rt_signs)
    chained = chain_linked(columns, signs)
    log_sd = np.sqrt(band_log_var(columns, signs, netting["net_usd_bn"], fits, quarters, weights))
    z = stats.norm.ppf(0.5 + level / 2)
    offsets = date_offsets(used, quarters).reindex(columns=columns.columns).fillna(0.0)
    d = pd.DataFrame({"d_usd_bn": chained, "low_usd_bn": chained * np.exp(-z * log_sd),
                      "high_usd_bn": chained * np.exp(z * log_sd), "log_sd": log_sd,
                      "date_offset": d_date_offset(columns, signs, offsets),
                      "disclosed_sum_usd_bn": netting["net_usd_bn"], "realtime_usd_bn": rt_net,
                      "series_present": _present(columns, counted.astype(float))}, index=quarters)
    disclosed = {sid: (g["quarter"].min(), g["quarter"].max()) for sid, g in used.groupby("series_id")}
    d = d.join(imputed(columns, signs, disclosed))
    d = d.loc[pd.Period(start, freq="Q"):]
    coverage = (obs.groupby("series_id")
                .agg(company_id=("company_id", "first"), product=("product", "first"), flow=("flow", "first"),
                     netted_from=("netted_from", "first"), first=("as_of", "min"), last=("as_of", "max"),
                     points=("value_usd_bn", "size"), bases=("basis", lambda s: ", ".join(sorted(set(s)))))
                .reset_index())
    return Downstream(quarters=d.index, series=levels.loc[d.index], d=d, netting=netting.loc[d.index], observations=obs,
                      coverage=coverage, sources=tuple(dict.fromkeys(panel["source_id"])), level=level,
                      scope=scope if accounting is not None else None, accounting=accounting, noise=fitted,
                      band_includes_noise_uncertainty=bool(fitted.estimated))


def of_scenario(scenario, ds: Dataset, panel: pd.DataFrame | None = None) -> Downstream:
    """:math:`D` of ``scenario``: the chain's final demand under the primary rung (:data:`valuechain.model.chain.PRIMARY`),
    smoothed as the scenario's ``demand_gap.downstream`` says (its noise levels estimated on the disclosures, or
    fixed). The primary test, the engine and the pages use it."""
    panel = disclosures.load(ds) if panel is None else panel
    down = scenario.demand_gap.downstream
    return downstream(ds, down.start_quarter, down.level_sd, down.slope_sd, down.band, panel=panel,
                      accounting=chain.chain(scenario, ds, panel), scope=chain.scope(chain.PRIMARY))


def columns_sum(columns, signs: pd.Series):
    """The plain signed sum of :func:`aggregate`'s columns present in each quarter (NaN where none is).

    ``columns`` a quarter x column frame (a series out) or an array ``(..., quarters, columns)`` in the order of ``signs``.
    """
    if isinstance(columns, pd.DataFrame):
        return columns.mul(signs, axis=1).sum(axis=1, min_count=1)
    signed = np.asarray(columns, float) * signs.to_numpy(float)
    return np.where(np.isfinite(signed).any(axis=-1), np.nansum(signed, axis=-1), np.nan)


def _netting(columns: pd.DataFrame, signs: pd.Series) -> pd.DataFrame:
    """Final demand (the series), what is netted from it (the flows), and the net, by quarter."""
    gross = columns.loc[:, (signs > 0).to_numpy()].sum(axis=1, min_count=1)
    netted = columns.loc[:, (signs < 0).to_numpy()].sum(axis=1)
    return pd.DataFrame({"final_demand_usd_bn": gross, "intra_chain_netted_usd_bn": netted, "net_usd_bn": gross - netted})


@dataclass(frozen=True)
class Vintage:
    """:math:`D` as it could have been built on one date, from the disclosures published by then."""

    cutoff: pd.Timestamp
    d: pd.DataFrame  # quarter: d_usd_bn (chain-linked), disclosed_sum_usd_bn, series_present, series_linked_back,
    # series_carried, imputed; to the last quarter a disclosure then covered
    last_published: pd.Timestamp  # the latest publication date among the disclosures used
    disclosures: int  # how many disclosures were used


def vintages(panel: pd.DataFrame, cutoffs, start: str, level_sd=ESTIMATE, slope_sd=ESTIMATE,
             carry_quarters: int = 2, accounting: Chain | None = None, scope: Scope | None = None) -> list[Vintage]:
    """:math:`D` as :func:`downstream` builds it from the disclosures published by each of ``cutoffs``.

    Each vintage equals ``downstream(..., panel=panel[panel["published"] <= cutoff])`` (its band
    aside): every series is smoothed on the figures then public, present from its first such
    quarter to ``carry_quarters`` past its last (at most the vintage's last quarter) and held flat
    past its last, netted and chain-linked the same way. Noise levels asked to be estimated are
    estimated for each cutoff on the disclosures then public (no look-ahead), all cutoffs in one
    batched likelihood (:func:`noise` with ``cutoffs``). The series are filtered for all cutoffs
    in one batch (one smoother run per series and first quarter), so a rolling-origin exercise
    costs about one build of :math:`D`. A cutoff before any disclosure gives no vintage.
    """
    obs = observations(panel)
    used = obs[obs["flow"] != "market_total"]
    cutoffs = [pd.Timestamp(c) for c in cutoffs]
    fitted = noise(used, level_sd, slope_sd, cutoffs=cutoffs)
    sd_by_cutoff = np.stack([np.broadcast_to(fitted.level_sd, len(cutoffs)),
                             np.broadcast_to(fitted.slope_sd, len(cutoffs))], -1)
    published = used["published"].to_numpy()
    seen_by = [published <= np.datetime64(c) for c in cutoffs]
    ends = [used["quarter"][seen].max() if seen.any() else None for seen in seen_by]
    logs: list[dict[str, tuple]] = [{} for _ in cutoffs]
    disclosed: list[dict[str, tuple]] = [{} for _ in cutoffs]  # first and last quarter disclosed by the cutoff
    flows, parents = {}, {}
    for sid, group in used.groupby("series_id", sort=True):
        flows[sid], parents[sid] = group["flow"].iloc[0], group["netted_from"].iloc[0]
        when, quarter = group["published"].to_numpy(), list(group["quarter"])
        spans = {}
        for j, cutoff in enumerate(cutoffs):
            public = [q for q, w in zip(quarter, when) if w <= np.datetime64(cutoff)]
            if public:
                spans[j] = (min(public), min(max(public) + carry_quarters, ends[j]))
                disclosed[j][sid] = (min(public), max(public))
        for first in sorted({f for f, _ in spans.values()}):
            rows = [j for j, (f, _) in spans.items() if f == first]
            quarters = pd.period_range(first, max(spans[j][1] for j in rows), freq="Q")
            y, h = _grids(group, quarters, [cutoffs[j] for j in rows])
            h = h * np.broadcast_to(fitted.measurement_scale, len(cutoffs))[rows, None] ** 2
            # trailing quarters without observations leave the smoothed values before them unchanged, and are held flat
            smoothed = local_linear_trend(y, h, sd_by_cutoff[rows, 0], sd_by_cutoff[rows, 1], hold=True,
                                          smoothed_variances=False).smoothed_level
            for r, j in enumerate(rows):
                logs[j][sid] = (first, smoothed[r, :(spans[j][1] - first).n + 1])  # first quarter, log levels
    out = []
    for j, cutoff in enumerate(cutoffs):
        if not logs[j]:
            continue
        first = min(min(q for q, _ in logs[j].values()), pd.Period(start, freq="Q"))
        quarters = pd.period_range(first, ends[j], freq="Q")
        names = sorted(logs[j])
        grid = np.full((len(quarters), len(names)), np.nan)
        for col, name in enumerate(names):
            at, values = logs[j][name]
            offset = (at - first).n
            grid[offset:offset + len(values), col] = values[:len(quarters) - offset]
        fl, pa = {s: flows[s] for s in names}, {s: parents[s] for s in names}
        columns, signs, counted = aggregate(pd.DataFrame(np.exp(grid), index=quarters, columns=names), fl, pa,
                                            accounting, scope)
        d = pd.DataFrame({"d_usd_bn": chain_linked(columns, signs),
                          "disclosed_sum_usd_bn": columns_sum(columns, signs),
                          "series_present": _present(columns, counted.astype(float))}).join(
            imputed(columns, signs, disclosed[j]))
        out.append(Vintage(cutoff, d.loc[pd.Period(start, freq="Q"):], pd.Timestamp(published[seen_by[j]].max()),
                           int(seen_by[j].sum())))
    return out


def annual_revenue(quarterly: pd.Series) -> pd.Series:
    """Mean of the annualized quarterly values in each calendar year with all four quarters: the year's revenue."""
    q = quarterly.dropna()
    grouped = q.groupby(q.index.year)
    return grouped.mean()[grouped.count() == 4]


VINTAGE_LAG_QUARTERS = 1
"""Quarters after a year's end at which the year's :math:`D` is taken as known: its vintage's cutoff.

A year's :math:`D` is known once its fourth quarter can first be known, not on 31 December:
no company has reported its fourth quarter by then, so a vintage dated at the year's end has
no fourth-quarter figure from any filer, and the year's revenue would rest on predictions.
US filers release the fourth quarter from late January and file their annual reports within
60 to 90 days, so the end of the next year's first quarter (31 March) is the first date the
year's last quarter is public. The requirements use the same date: Sequoia's run-rate for a
year is NVIDIA's quarter ending in January of the next year, reported in late February.
"""


def vintage_cutoff(year: int, lag_quarters: int = VINTAGE_LAG_QUARTERS) -> pd.Timestamp:
    """The date ``year``'s :math:`D` is taken as known: the end of the ``lag_quarters``-th quarter after the year."""
    return (pd.Period(f"{year}Q4", freq="Q") + lag_quarters).end_time.normalize()


KNOWN_BY_YEAR_COLUMNS = ["year", "cutoff", "d_vintage_usd_bn", "d_vintage_disclosed_sum_usd_bn", "d_vintage_imputed_quarters",
                         "d_revised_usd_bn", "d_revised_disclosed_sum_usd_bn", "d_revised_imputed_quarters",
                         "d_revised_over_vintage"]


def known_by_year(revised: pd.DataFrame, panel: pd.DataFrame, years, start: str, level_sd: float, slope_sd: float,
                  carry_quarters: int = 2, lag_quarters: int = VINTAGE_LAG_QUARTERS, accounting: Chain | None = None,
                  scope: Scope | None = None) -> pd.DataFrame:
    r"""Each year's :math:`D` as known at the time (its vintage) beside today's (revised), with the plain sums.

    For year :math:`Y` with cutoff :math:`c_Y` (:func:`vintage_cutoff`), :math:`V^{(c)}_t` the
    quarterly :math:`D` of the vintage built on the disclosures published by :math:`c`
    (:func:`vintages`) and :math:`D_t` the revised one (``revised``, :attr:`Downstream.d`):

    .. math::

        D^{vintage}_Y = \frac{1}{4} \sum_{t \in Y} V^{(c_Y)}_t, \qquad
        D^{revised}_Y = \frac{1}{4} \sum_{t \in Y} D_t,

    each the mean of the year's four annualized quarters (:func:`annual_revenue`; missing when
    the vintage does not cover all four, as when the series then disclosed do not link back
    through the year). Beside each: the mean of the year's plain sums of the series present
    (``disclosed_sum_usd_bn``, not chain-linked) and the number of the year's quarters whose
    level is imputed (:func:`imputed`). ``d_revised_over_vintage`` is :math:`D^{revised}_Y /
    D^{vintage}_Y`: how far later disclosures moved the year.
    """
    years = [int(y) for y in years]
    cutoffs = {y: vintage_cutoff(y, lag_quarters) for y in years}
    built = {v.cutoff: v for v in vintages(panel, sorted(set(cutoffs.values())), start, level_sd, slope_sd, carry_quarters,
                                           accounting, scope)}

    def annual(frame: pd.DataFrame | None, year: int) -> tuple[float, float, float]:
        if frame is None:
            return np.nan, np.nan, np.nan
        level = annual_revenue(frame["d_usd_bn"]).get(year, np.nan)
        plain = annual_revenue(frame["disclosed_sum_usd_bn"]).get(year, np.nan)
        count = float(frame.loc[frame.index.year == year, "imputed"].sum()) if np.isfinite(level) else np.nan
        return float(level), float(plain), count

    rows = []
    for year in years:
        vintage = built.get(cutoffs[year])
        then = annual(vintage.d if vintage is not None else None, year)
        now = annual(revised, year)
        rows.append(dict(zip(KNOWN_BY_YEAR_COLUMNS, (year, cutoffs[year].date().isoformat(), *then, *now,
                                                     now[0] / then[0] if then[0] > 0 else np.nan))))
    return pd.DataFrame(rows, columns=KNOWN_BY_YEAR_COLUMNS)


def market_check(down: Downstream) -> pd.DataFrame:
    r"""Annual :math:`D` against the market totals in the panel (Menlo Ventures' enterprise survey), year by year.

    For each year with a ``market_total`` figure (the latest published, where a total was
    restated) and all four quarters of :math:`D`: the year's :math:`D` (mean of its annualized
    quarters), the total, their ratio, the growth of each on the year before, and the fewest
    series :math:`D` rested on in any quarter of the year.

    The totals are a **check** on the scale of :math:`D`, not a constraint it is scaled to,
    because the two measure different things:

    - Menlo Ventures surveys US enterprises' spending on generative AI (applications, model
      access and infrastructure). It leaves out consumers' subscriptions, a large part of the
      labs' revenue and in :math:`D`; it includes spending on vendors outside :math:`D`'s series
      and on compute bought inside the chain.
    - :math:`D` is what the panel's companies disclose (some as company-defined run-rates, some
      as broad "AI-influenced" revenue), with the flows between chain members netted only where
      a figure gives them; where fewer series are present, :math:`D` is carried back by
      chain-linking.

    Scaling :math:`D` to the totals would give it the survey's scope, which is not the one the
    gap against the required revenue needs, so the primary test and its calibration are
    unchanged by them.
    """
    obs = down.observations
    totals = obs[obs["flow"] == "market_total"].assign(year=lambda f: f["as_of"].dt.year)
    totals = totals.sort_values("published").groupby(["series_id", "year"], as_index=False).last()
    annual = annual_revenue(down.d["d_usd_bn"])
    fewest = down.d["series_present"].groupby(down.d.index.year).min()
    rows = []
    for _, row in totals.sort_values(["series_id", "year"]).iterrows():
        year = int(row["year"])
        if year not in annual.index:
            continue
        before = totals[(totals["series_id"] == row["series_id"]) & (totals["year"] == year - 1)]
        rows.append({"year": year, "series_id": row["series_id"], "product": row["product"],
                     "d_usd_bn": float(annual[year]), "total_usd_bn": float(row["annualized_usd_bn"]),
                     "ratio": float(annual[year] / row["annualized_usd_bn"]),
                     "d_growth": float(annual[year] / annual[year - 1]) if year - 1 in annual.index else np.nan,
                     "total_growth": (float(row["annualized_usd_bn"] / before["annualized_usd_bn"].iloc[0])
                                      if len(before) else np.nan),
                     "fewest_series": int(fewest[year]), "published": row["published"], "source_id": row["source_id"]})
    return pd.DataFrame(rows, columns=["year", "series_id", "product", "d_usd_bn", "total_usd_bn", "ratio", "d_growth",
                                       "total_growth", "fewest_series", "published", "source_id"])


# ----------------------------------------------------------------------------- D's scope as a ladder


@dataclass(frozen=True)
class Ladder:
    """D under each scope of :data:`valuechain.model.chain.SCOPES`, by quarter, with what each level rests on."""

    scopes: tuple[Scope, ...]
    levels: pd.DataFrame  # quarter x scope key: level, annualized USD bn
    shares: pd.DataFrame  # rows (quarter, scope key): disclosed_share, carried_share, assumed_share, *_usd_bn parts
    members: pd.DataFrame  # one row per (scope, series): company, role, included, reason, weight
    accounting: Chain  # the chain whose flows each rung nets

    def at(self, quarter) -> pd.DataFrame:
        """One row per rung in ``quarter``: level and shares."""
        q = pd.Period(quarter, freq="Q")
        rows = self.shares.xs(q, level="quarter")
        return rows.assign(level_usd_bn=self.levels.loc[q]).reindex([s.key for s in self.scopes])


def ladder(down: Downstream, accounting: Chain, scopes=SCOPES) -> Ladder:
    r""":math:`D` under each scope of ``scopes``, every quarter, from the series :func:`downstream` smoothed.

    No series is re-estimated: each rung is the chain's final demand under its scope
    (:meth:`valuechain.model.chain.Chain.columns`) on the final-demand series of ``down``. A
    linked rung is carried back by :func:`chain_linked`; strict is the plain sum.

    The shares split the gross amount :math:`G_t = P_t + A_t` behind the level, with :math:`P_t`
    the scope's series present on the net basis (:math:`P^{disc}_t` those with a disclosure dated
    in :math:`t`, the rest :math:`P^{carr}_t` carried from earlier disclosures by the smoother and
    the carry rule) and :math:`A_t = N_t + |D^{rung}_t - (P_t - N_t)|` what is assumed (the flows
    netted, :math:`N_t`, and the part linked back): ``disclosed_share`` :math:`= P^{disc}_t/G_t`,
    ``carried_share`` :math:`= P^{carr}_t/G_t`, ``assumed_share`` :math:`= A_t/G_t`; they sum to 1.
    Without netting or linking back, :math:`G_t = D^{rung}_t`.
    """
    disclosed_in = set(zip(down.observations["series_id"], down.observations["quarter"]))
    members, levels, shares = [], {}, []
    for scope in scopes:
        members.append(accounting.members(scope))
        columns, signs = accounting.columns(down.series, scope)
        x = columns.loc[:, (signs > 0).to_numpy()]
        netting = columns.loc[:, (signs < 0).to_numpy()].sum(axis=1)
        plain = columns_sum(columns, signs)
        level = chain_linked(columns, signs) if scope.linked else plain
        here = pd.DataFrame({s: [(s, q) in disclosed_in for q in x.index] for s in x.columns}, index=x.index, dtype=bool)
        disclosed = x.where(here).sum(axis=1)
        carried = x.where(~here).sum(axis=1)
        linked_back = (level - plain).abs().fillna(0.0)
        linked_back = linked_back.where(linked_back > 1e-9 * level.abs(), 0.0)  # rounding, not a level linked back
        assumed = netting + linked_back
        gross = x.sum(axis=1, min_count=1).fillna(0.0) + assumed
        levels[scope.key] = level
        shares.append(pd.DataFrame({"scope": scope.key, "quarter": x.index, "disclosed_usd_bn": disclosed.to_numpy(),
                                    "carried_usd_bn": carried.to_numpy(), "assumed_usd_bn": assumed.to_numpy(),
                                    "disclosed_share": (disclosed / gross).to_numpy(),
                                    "carried_share": (carried / gross).to_numpy(),
                                    "assumed_share": (assumed / gross).to_numpy()}))
    return Ladder(tuple(scopes), pd.DataFrame(levels, index=down.series.index),
                  pd.concat(shares).set_index(["quarter", "scope"]), pd.concat(members, ignore_index=True), accounting)
