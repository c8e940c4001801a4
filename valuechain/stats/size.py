"""The size of every test notebook 02 reports, measured by Monte Carlo under its null.

Each simulation is calibrated to the data it is given (:class:`Inputs`): the same number of quarters,
the same regressors where a test conditions on them, and errors or growth rates that follow the
AR(1) fitted to the data (random walks with drift for levels). A test is run on each simulated
sample exactly as on the data, and its **size** is the share of samples in which it rejects at the
nominal 5% level (:data:`NOMINAL`). A size above 0.10 means the test is not reported as evidence.

Bootstrap tests (the gap-closing, bounds and break tests) are calibrated with the "warp-speed"
method (Giacomini, Politis and White, 2013): one bootstrap draw per simulated sample, pooled across
samples, which measures the size of the bootstrap test at the cost of one draw each.

:data:`TESTS` maps each reported test's name to its simulation ``f(inputs, sims, rng) -> size``;
the command that calibrates them to a scenario is :mod:`valuechain.batch.calibrate`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain import paths
from valuechain.stats import closing, inference, regression

NOMINAL = 0.05
SIZE_LIMIT = 0.10  # the largest measured size a test may have and still be read at its level

RECORD_KEYS = ("test", "scenario", "seed", "simulations", "gap_quarter", "effect_unit", "null_closing_rate", "size",
               "power", "mde", "mde_size_adjusted", "mde_oracle", "coverage", "calibration", "settings")
"""The keys of the recorded calibration (``make calibrate`` with ``--write``)."""


def recorded(path=paths.CALIBRATION_FILE) -> dict:
    """The primary test's calibration on the real disclosure pattern as last recorded by ``make calibrate``.

    Its size under each world, its power at each true closing rate (log points a year), its minimum
    detectable effect at 80% power (``mde``; None when no rate measured reached it) and an oracle's,
    the coverage of its intervals and the calibration of P(gap closed by the horizon year), with the
    number of simulations and the settings that made them (:mod:`valuechain.batch.calibrate`).
    """
    return json.loads(path.read_text())


@dataclass(frozen=True)
class Inputs:
    """What the simulations are calibrated to: the data's series and the test settings they are run with.

    :func:`valuechain.batch.calibrate.inputs_for` takes them from one scenario's demand-gap result.
    """

    long_revenue: pd.Series
    long_capex: pd.Series
    panel_revenue: pd.DataFrame
    panel_capex: pd.DataFrame
    lags: int
    leads: int
    trim: float
    gap_changes: np.ndarray  # the gap's quarterly changes in the test window
    required_changes: np.ndarray  # log R* changes over the tested quarters
    window: int
    d_log_sd: float
    level_sd: float
    slope_sd: float
    supplier_world: regression.SupplierWorld | None = None  # the applications' and labs' panel on their suppliers


def size_gap_closing(inp: Inputs, sims: int, rng: np.random.Generator) -> float:
    """Primary test at the boundary of its null: the true gap trend equals the value tested.

    Samples come from the pipeline itself (true log D with AR(1) deviations fitted to the gap's
    changes, observed with the band's noise, smoothed); each sample's bootstrap draw comes from
    AR(1) drawn for that sample's own changes exactly as the test draws it (warp-speed).
    """
    pipeline = closing.Pipeline(inp.required_changes, inp.d_log_sd, inp.level_sd, inp.slope_sd)
    trend = 0.01  # any value: the test is of the trend against this same value
    phi, sd = inference.ar1(inp.gap_changes)
    changes = closing.simulate_gap_changes(rng, pipeline, trend, phi, sd, sims, inp.window)
    ones = np.ones((changes.shape[1], 1))  # the window, or fewer changes where the gap is shorter
    _, t, _ = inference.batched_t(changes, ones, np.ones(1), trend)
    fitted = [closing.null_persistence(rng, row, 1) for row in changes]
    star = closing.simulate_gap_changes(rng, pipeline, trend, [f[0][0] for f in fitted], [f[1][0] for f in fitted],
                                        sims, inp.window)
    _, t_star, _ = inference.batched_t(star, ones, np.ones(1), trend)
    p = (1 + (t_star[None, :] >= t[:, None]).sum(axis=1)) / (1 + sims)
    return float(np.mean(p <= NOMINAL))


def _warp_t(y: np.ndarray, X: np.ndarray, weights: np.ndarray, rng) -> float:
    """Rejection rate of the slope test :func:`~valuechain.stats.inference.bootstrap_t` on the rows of ``y``.

    Each row gets one bootstrap draw, made as the test makes its draws: the row's mean plus AR(1)
    deviations fitted to the row.
    """
    _, t, _ = inference.batched_t(y, X, weights)
    fitted = np.array([inference.ar1(row) for row in y])
    y_star = y.mean(axis=1, keepdims=True) + inference.simulate_ar1(rng, len(y), y.shape[1], fitted[:, 0], fitted[:, 1])
    _, star, _ = inference.batched_t(y_star, X, weights)
    p = (1 + (np.abs(star)[None, :] >= np.abs(t)[:, None]).sum(axis=1)) / (1 + len(star))
    return float(np.mean(p <= NOMINAL))


def _growth_null(inp: Inputs, sims: int, rng, leads: int) -> float:
    frame = regression.growth_frame(inp.long_revenue, inp.long_capex, inp.lags, leads)
    names = [c for c in frame if c.startswith("dx_")]
    X = np.column_stack([np.ones(len(frame))] + [frame[c] for c in names])
    weights = np.array([0.0] + [1.0 if ("lead" in c) == bool(leads) else 0.0 for c in names])
    phi, sd = inference.ar1(frame["dy"].to_numpy())
    y = frame["dy"].mean() + inference.simulate_ar1(rng, sims, len(frame), phi, sd)
    return _warp_t(y, X, weights, rng)


def size_elasticity(inp: Inputs, sims: int, rng: np.random.Generator) -> float:
    """Elasticity test (sum of lags = 0) with revenue growth independent of the observed capex growth."""
    return _growth_null(inp, sims, rng, leads=0)


def size_placebo(inp: Inputs, sims: int, rng: np.random.Generator) -> float:
    """Placebo test (sum of leads = 0) with revenue growth independent of the observed capex growth."""
    return _growth_null(inp, sims, rng, leads=inp.leads)


def size_panel(inp: Inputs, sims: int, rng: np.random.Generator) -> float:
    """Panel slope test with each company's revenue growth an AR(1) independent of its capex."""
    growth = np.log(inp.panel_revenue).diff()
    rejections = 0
    for _ in range(sims):
        fake = pd.DataFrame(index=inp.panel_revenue.index)
        for company in inp.panel_revenue.columns:
            g = growth[company].dropna()
            phi, sd = inference.ar1(g.to_numpy())
            path = g.mean() + inference.simulate_ar1(rng, 1, len(g), phi, sd)[0]
            first = np.log(inp.panel_revenue[company].dropna().iloc[0])
            fake.loc[g.index, company] = np.exp(first + np.cumsum(path))
        effect = regression.panel(fake, inp.panel_capex, inp.lags).pooled
        rejections += effect.pvalue < NOMINAL
    return rejections / sims


def size_supplier_panel(inp: Inputs, sims: int, rng: np.random.Generator) -> float:
    """Suppliers' panel slope test with each application's and lab's revenue independent of its suppliers' capex:
    drawn on its real disclosure pattern, smoothed as the data are (:class:`~valuechain.stats.regression.SupplierWorld`)."""
    world = inp.supplier_world
    logs = world.pattern.simulate(rng, sims)
    rejections = 0
    for draw in logs:
        effect = regression.panel(world.simulated_revenue(draw), world.capex, world.lag,
                                  min_changes=world.min_changes).pooled
        rejections += effect.pvalue < NOMINAL
    return rejections / sims


def size_bounds(inp: Inputs, sims: int, rng: np.random.Generator) -> float:
    """Bounds test with log revenue a random walk with drift independent of log capex (no levels relationship)."""
    frame = np.log(pd.concat({"y": inp.long_revenue, "x": inp.long_capex}, axis=1).dropna())
    y0, x = frame["y"].to_numpy(), frame["x"].to_numpy()
    ys = inference.simulate_random_walks(rng, sims, y0[0], np.diff(y0), len(y0))
    observed, _ = inference.bounds_f(ys, np.broadcast_to(x, ys.shape), 1)
    star_y = np.vstack([inference.simulate_random_walks(rng, 1, row[0], np.diff(row), len(row)) for row in ys])
    star_x = np.vstack([inference.simulate_random_walks(rng, 1, x[0], np.diff(x), len(x)) for _ in range(sims)])
    boot, _ = inference.bounds_f(star_y, star_x, 1)
    p = (1 + (boot[None, :] >= observed[:, None]).sum(axis=1)) / (1 + sims)
    return float(np.mean(p <= NOMINAL))


def size_break(inp: Inputs, sims: int, rng: np.random.Generator) -> float:
    """sup-Wald break test with no break: the fitted growth regression plus AR(1) errors."""
    g = regression.growth_frame(inp.long_revenue, inp.long_capex.shift(inp.lags), 0)
    X = np.column_stack([np.ones(len(g)), g["dx_lag0"]])
    y = g["dy"].to_numpy()
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    phi, sd = inference.ar1(y - X @ coef)
    n, k = X.shape
    cand = inference.candidates_for(n, k, inp.trim)
    nu = inference.ewc_dof(n)
    ys = X @ coef + inference.simulate_ar1(rng, sims, n, phi, sd)
    observed = inference.wald_path(ys, X, cand, nu)
    fitted, *_ = np.linalg.lstsq(X, ys.T, rcond=None)
    stars = []
    for i in range(sims):
        phi_i, sd_i = inference.ar1(ys[i] - X @ fitted[:, i])
        stars.append(X @ fitted[:, i] + inference.simulate_ar1(rng, 1, n, phi_i, sd_i)[0])
    boot = inference.wald_path(np.array(stars), X, cand, nu)
    p = (1 + (boot[None, :] >= observed[:, None]).sum(axis=1)) / (1 + sims)
    return float(np.mean(p <= NOMINAL))


TESTS = {
    "gap_closing": size_gap_closing,
    "elasticity": size_elasticity,
    "placebo_lead": size_placebo,
    "panel_driscoll_kraay": size_panel,
    "bounds_test": size_bounds,
    "sup_wald_break": size_break,
    "supplier_panel_driscoll_kraay": size_supplier_panel,
}
