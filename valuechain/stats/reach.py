r"""Does D reach a requirement path by year Y? The pre-specified question's statistics, array in, array out.

Every function takes arrays whose leading axis may be simulations, so the calibration can run them on
(simulations x quarters) panels as the page runs them on one series.

The question
------------
Let :math:`T` be the last quarter of :math:`D`, :math:`Y_4` the fourth quarter of year :math:`Y`,
:math:`h = (Y_4 - T)/4` the years between them and :math:`P_{Y_4}` the requirement path in
:math:`Y_4` (in the model: R* on the capital committed, :mod:`valuechain.model.reach`). The question,
:math:`D_{Y_4} \ge P_{Y_4}`?, turns on growth years ahead, which a few quarters cannot bound; so it is
answered in two parts that never depend on the data's sign: a test of what the data can answer (is
D's recent pace above the growth the path needs?) and a probability of reaching the path that turns on
how long that pace lasts, shown against it.

**Needed growth** (:func:`needed_growth`): the constant log growth a year that takes :math:`D_T` to
the path, :math:`g^{need} = (\log P_{Y_4} - \log D_T)/h`.

**D's pace** (:func:`pace`): what the data can answer. The estimand is the realized log growth a year
of the true :math:`D` over the latest ``window`` quarterly changes, :math:`g = 4(\log D_T - \log D_{T-w})/w`
(the quarters' midpoints),
not a drift that lasts: whether the pace lasts to :math:`Y` is the posterior predictive's part, shown
against the half-life of growth because a few quarters say little about it. The estimate is the same change of
the smoothed, chain-linked :math:`\hat D`, over the time between the dates its two ends measure (a year-end
run-rate sits half a quarter after its quarter's midpoint; a series held past its last disclosure sits at
that disclosure's date); its error is the smoothing error at the two ends, so its
standard error comes from D's band (the state-space model's smoothed variances, with the noise
levels' uncertainty), :math:`se = \tfrac{4}{S}\sqrt{s_T^2 + s_{T-w}^2}` over the dated span :math:`S`
(:func:`pace`), with the normal reference. The two ends' errors are treated as uncorrelated (on the real
disclosure pattern an independent simulation found them correlated between -0.13 and +0.05); ``make
calibrate`` measures the interval's coverage. The test of the question in growth form is :math:`H_0: g \le g^{need}`
against :math:`H_1: g > g^{need}` (:func:`growth_test`, with the standard error of the difference,
:func:`test_se`, since both rest on :math:`\hat D_T`): is D's recent pace above the pace the path
needs? A rejection says the recent pace would reach the path if it lasted, not that it will.

**Minimum detectable effect** (:func:`mde`): until the calibration records one measured on the real
disclosure pattern, the conservative analytic value
:math:`MDE = (z_{1-\alpha} + z_{0.8})\, se`, the smallest excess of the pace over the need the
one-sided level-:math:`\alpha` test detects with probability 0.8 if its error were exactly normal.

**Posterior predictive** (:func:`decaying_paths`): log D from :math:`T` on a decaying-growth path below
a ceiling (a logistic diffusion), with future shocks (see the function).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

POWER = 0.8  # the power at which the minimum detectable effect is stated
METHOD = ("pace over the window's dated span, s.e. from D's band; the test's s.e. joint with the need's; "
          "P with growth fading inside the window")
"""What the question's figures are, as the calibration record names it: a record made for another definition (an
earlier test, a P computed otherwise) describes something the page no longer shows, and is not read."""
MIN_CHANGES = 3  # quarterly changes the growth needs at the least


def needed_growth(log_d, log_target, years):
    r""":math:`g^{need} = (\log P - \log D_T)/h`: the log growth a year that takes ``log_d`` to ``log_target`` in ``years``.

    Broadcasts: e.g. ``log_d`` (scopes x 1) against ``log_target`` (1 x rungs) gives the grid.
    """
    years = np.asarray(years, dtype=float)
    if np.any(years <= 0):
        raise ValueError("needed_growth: the target year must come after the last quarter of D")
    return (np.asarray(log_target, dtype=float) - np.asarray(log_d, dtype=float)) / years


NORMAL = np.inf
"""Degrees of freedom of the normal reference (:func:`pace`'s; ``scipy.stats.t`` with infinite :math:`\\nu` is the normal)."""


def _span(n: int, offset) -> float:
    """Quarters between the dates the window's two ends measure: :math:`n + o_T - o_{T-n}` (``n`` without offsets)."""
    if offset is None:
        return float(n)
    offset = np.asarray(offset, float)
    return n + float(offset[-1] - offset[-n - 1])


def pace(log_d, log_sd, window: int, offset=None) -> tuple[np.ndarray, np.ndarray, float]:
    r"""D's realized log growth a year over the latest ``window`` quarterly changes (fewer if fewer, at least
    :data:`MIN_CHANGES`), its standard error from D's band and the reference's degrees of freedom (:data:`NORMAL`).

    ``log_d`` and ``log_sd`` (D's band s.d. of :math:`\log D`, same shape) are (quarters,) or
    (simulations x quarters), with no missing quarter in the window. ``offset`` (quarters,) is where in time D's
    level in each quarter sits, in quarters from the quarter's midpoint
    (:func:`valuechain.model.downstream.d_date_offset`; None: at the midpoints), so the window spans
    :math:`S = w + o_T - o_{T-w}` quarters. The estimate is :math:`4(\log\hat D_T - \log\hat D_{T-w})/S` and the
    standard error :math:`\tfrac{4}{S}\sqrt{s_T^2 + s_{T-w}^2}` (module docstring).
    """
    y = np.atleast_2d(np.asarray(log_d, dtype=float))
    sd = np.atleast_2d(np.asarray(log_sd, dtype=float))
    n = min(window, y.shape[1] - 1)
    if n < MIN_CHANGES or not np.isfinite(y[:, -n - 1:]).all() or not np.isfinite(sd[:, [-n - 1, -1]]).all():
        raise ValueError(f"pace: need at least {MIN_CHANGES} quarterly changes of log D without gaps and D's band at "
                         f"both ends, got {max(n, 0)}")
    span = _span(n, offset)
    if not np.isfinite(span) or span <= 0:
        raise ValueError(f"pace: the window must span a positive time, got {span} quarters")
    est = 4 * (y[:, -1] - y[:, -n - 1]) / span
    se = 4 * np.sqrt(sd[:, -1] ** 2 + sd[:, -n - 1] ** 2) / span
    shape = np.shape(log_d)[:-1]
    return est.reshape(shape), se.reshape(shape), NORMAL


def growth_interval(estimate, se, dof: float, level: float = 0.90) -> tuple[np.ndarray, np.ndarray]:
    """The equal-tailed ``level`` interval :math:`\\hat g \\pm t_{\\nu, (1+level)/2}\\, se` (normal at :data:`NORMAL`)."""
    q = stats.t.ppf(0.5 + level / 2, dof)
    return np.asarray(estimate) - q * np.asarray(se), np.asarray(estimate) + q * np.asarray(se)


def test_se(log_sd, window: int, years, offset=None) -> np.ndarray:
    r"""Standard error of D's pace less the growth it needs, which share :math:`\log\hat D_T`'s error :math:`e_T`.

    The pace's error is :math:`\tfrac{4}{S}(e_T - e_{T-w})`, the need's :math:`-e_T/h` (:func:`needed_growth` from
    :math:`\hat D_T`), so their difference's is :math:`e_T(\tfrac{4}{S} + \tfrac1h) - e_{T-w}\tfrac{4}{S}`, and with
    the two ends uncorrelated :math:`\sqrt{s_T^2 (4/S + 1/h)^2 + s_{T-w}^2 (4/S)^2}`. ``log_sd``, ``window`` and
    ``offset`` as :func:`pace` takes them; ``years`` is :math:`h`.
    """
    sd = np.atleast_2d(np.asarray(log_sd, dtype=float))
    n = min(window, sd.shape[1] - 1)
    span = _span(n, offset)
    out = np.sqrt(sd[:, -1] ** 2 * (4 / span + 1 / np.asarray(years, float)) ** 2 + sd[:, -n - 1] ** 2 * (4 / span) ** 2)
    return out.reshape(np.shape(log_sd)[:-1])


def growth_test(estimate, se, dof: float, needed) -> tuple[np.ndarray, np.ndarray]:
    r"""t statistic and one-sided p-value of :math:`H_0: g \le g^{need}` against :math:`g > g^{need}` (:math:`t_\nu`);
    ``se`` is the difference's (:func:`test_se`)."""
    t = (np.asarray(estimate, dtype=float) - np.asarray(needed, dtype=float)) / np.asarray(se, dtype=float)
    return t, stats.t.sf(t, dof)


def mde(se, dof: float, alpha: float = 0.05, power: float = POWER):
    r"""Analytic minimum detectable effect :math:`(t_{\nu,1-\alpha} + t_{\nu,power})\, se` of the one-sided test."""
    return (stats.t.ppf(1 - alpha, dof) + stats.t.ppf(power, dof)) * np.asarray(se, dtype=float)


def quarters_to_detect(mde_now: float, needed: float, n: int, max_n: int | None = None) -> float:
    r"""Quarters more, at the current pace of disclosure, until the MDE falls to ``needed``.

    The pace's standard error is the band's at the window's two ends over the :math:`n` changes between
    them, so it scales as :math:`n^{-1}` if the band stays as it is: the MDE reaches :math:`g^{need}`
    after :math:`k = \lceil n\,(MDE/g^{need} - 1) \rceil` more quarters. 0 when the MDE is already
    below; inf when nothing needs detecting (:math:`g^{need} \le 0`) or when :math:`n + k` exceeds
    ``max_n``, the changes the test's window holds (more quarters alone would not tell).
    """
    if needed <= 0:
        return np.inf
    if mde_now <= needed:
        return 0.0
    more = float(np.ceil(n * (mde_now / needed - 1)))
    return more if max_n is None or n + more <= max_n else np.inf


def logistic_step(level, step, log_ceiling):
    r"""One quarter of logistic growth in logs (:func:`decaying_paths`' :math:`\ell_k`): with :math:`a = \log K - x`,
    :math:`\log K - \log(1 + (e^{a} - 1) e^{-\gamma})` where :math:`\gamma \ge 0`, evaluated without overflow; plain
    :math:`x + \gamma` where :math:`\gamma < 0` or there is no ceiling (:math:`\log K = \infty`)."""
    level, step, log_ceiling = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (level, step, log_ceiling)))
    a = log_ceiling - level
    grow = (step >= 0) & np.isfinite(log_ceiling)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        below = a > 0  # log(1 + expm1(a) e^-g) = logaddexp(0, a - g + log1p(-e^-a)) below the ceiling
        far = np.logaddexp(0.0, a - step + np.log1p(-np.exp(-np.where(below, a, 1.0))))
        near = np.log1p(np.expm1(np.where(below, 0.0, a)) * np.exp(-step))  # at or above: |expm1(a)| < 1
        logistic = log_ceiling - np.where(below, far, near)
    return np.where(grow, logistic, level + step)


def decaying_paths(rng: np.random.Generator, log_d0, growth0, long_run, half_life_years, level_sd: float,
                   slope_sd: float, quarters: int, log_ceiling=None) -> np.ndarray:
    r"""Posterior-predictive paths of :math:`\log D` for ``quarters`` quarters after :math:`T` (sims x quarters).

    Growth decays from its current value :math:`g_0` to a long-run rate :math:`g_\infty` with
    half-life :math:`\eta` years and is hit by shocks that decay at the same pace; as in a logistic
    diffusion, it is scaled by the room left below a ceiling :math:`K`; the level is hit by shocks
    that last. Quarter :math:`k = 1, 2, \ldots` after :math:`T`, with :math:`\rho = 2^{-1/(4\eta)}`:

    .. math::

        u_k = \rho\, u_{k-1} + \sigma_s \varepsilon_k,\ u_0 = 0, \qquad
        \gamma_k = \tfrac14\big(g_\infty + (g_0 - g_\infty)\rho^{k}\big) + u_k,

        \log D_{T+k} = \ell_k(\log D_{T+k-1}) + \sigma_\ell \eta_k,
        \qquad \ell_k(x) = \log K - \log\big(1 + (K e^{-x} - 1)\, e^{-\gamma_k}\big) \ (\gamma_k \ge 0),
        \quad \ell_k(x) = x + \gamma_k \ (\gamma_k < 0),

    the exact logistic step over one quarter where growth is positive (:math:`D' = \gamma D (1 - D/K)`
    solved over the quarter: it never overshoots :math:`K`, whatever :math:`\gamma_k`, and above
    :math:`K` it falls back towards it) and a plain decline where it is negative, 
    :math:`\varepsilon, \eta \sim N(0, 1)` and :math:`\sigma_\ell`, :math:`\sigma_s` the level and
    slope noise of D's state-space model (quarterly). ``log_d0``, ``growth0`` (log a year),
    ``long_run`` (log a year), ``half_life_years`` and ``log_ceiling`` (:math:`\log K`; None: no ceiling)
    are one value per simulation, or scalars. Far below the ceiling and without shocks,
    :math:`\log D_{T+k} = \log D_T + \tfrac{k}{4} g_\infty + \tfrac14 (g_0 - g_\infty)\rho(1-\rho^k)/(1-\rho)`:
    the growth left is bounded by about :math:`(g_0 - g_\infty)\eta/\ln 2`, and above the ceiling the
    drift turns negative, so no band diverges as a linearly extrapolated trend does.
    """
    ceiling = np.inf if log_ceiling is None else log_ceiling
    log_d0, growth0, long_run, half_life, ceiling = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(a, dtype=float)) for a in (log_d0, growth0, long_run, half_life_years, ceiling)))
    sims = log_d0.shape[0]
    rho = 2.0 ** (-1.0 / (4 * half_life))
    out = np.empty((sims, quarters))
    level, u, decay = log_d0.copy(), np.zeros(sims), np.ones(sims)
    for k in range(quarters):
        decay = decay * rho
        u = rho * u + slope_sd * rng.standard_normal(sims)
        step = (long_run + (growth0 - long_run) * decay) / 4 + u
        level = logistic_step(level, step, ceiling) + level_sd * rng.standard_normal(sims)
        out[:, k] = level
    return out


def probability_above(log_d: np.ndarray, log_target: np.ndarray) -> tuple[float, float]:
    """Share of draws with ``log_d >= log_target`` and its Monte Carlo standard error."""
    hit = np.asarray(log_d) >= np.asarray(log_target)
    p = float(np.mean(hit))
    return p, float(np.sqrt(p * (1 - p) / hit.size))
