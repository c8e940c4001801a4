r"""Local-linear-trend model for irregularly dated observations of log revenue, and its noise levels
estimated by maximum likelihood.

On a quarterly grid :math:`t = 0, \dots, n-1`, log revenue has a level :math:`\mu_t` and a
growth rate (slope) :math:`\nu_t`:

.. math::

    y_{t,i} = \mu_t + \varepsilon_{t,i}, \quad \varepsilon_{t,i} \sim N(0, h_{t,i}),
    \qquad \mu_{t+1} = \mu_t + \nu_t + \eta_t, \quad \eta_t \sim N(0, \sigma_\eta^2),
    \qquad \nu_{t+1} = \nu_t + \zeta_t, \quad \zeta_t \sim N(0, \sigma_\zeta^2).

A quarter may hold no observation (the filter predicts through it) or several (they are combined
into their precision-weighted mean, which is equivalent for the state and changes the likelihood
by a term free of :math:`\sigma_\eta, \sigma_\zeta`). The measurement variance :math:`h` differs
by observation, so a filed quarterly revenue figure weighs more than a press report of a run-rate.

The Kalman filter gives the **filtered** (real-time) state, which uses observations up to
:math:`t` only, and the prediction-error log-likelihood
:math:`\ell = -\tfrac12 \sum_t [\log 2\pi F_t + v_t^2 / F_t]` over the observed quarters; the
Rauch-Tung-Striebel smoother gives the **smoothed** state, which also uses later observations.
Both come with variances. The code is plain numpy and batched over a leading axis, so the
calibration can filter thousands of simulated series at once; a test checks it, likelihood
included, against statsmodels' ``UnobservedComponents`` with the same initial state.

Initial state: the level starts at the first observation with s.d. ``init_level_sd`` and the slope
at 0 with s.d. ``init_slope_sd``; both are wide relative to the data, a proper stand-in for a
diffuse start.

Past the last observation
-------------------------
With ``hold=True`` no slope is extrapolated past a row's last observed quarter :math:`L`: the level
is held at :math:`m_L` (the smoothed and filtered levels agree there), and its variance is the
mean squared error of that carry under the fitted model, :math:`k = t - L` quarters on:

.. math::

    V_{L+k} = P^{\mu\mu}_L + 2k P^{\mu\nu}_L + k^2 (P^{\nu\nu}_L + m_{\nu,L}^2)
              + k \sigma_\eta^2 + \tfrac{(k-1)k(2k-1)}{6} \sigma_\zeta^2,

the model's own :math:`k`-step forecast variance plus the square of the slope it does not
extrapolate. The slope past :math:`L` is reported as 0 with variance
:math:`P^{\nu\nu}_L + m_{\nu,L}^2`.

Noise levels estimated
----------------------
:func:`estimate_noise` estimates :math:`(\sigma_\eta, \sigma_\zeta)` by **maximum likelihood**,
pooled over a panel's series (one pair for all of them, the measurement variances as given), on a
log-spaced grid (:data:`NOISE_GRID`, 0.002 to 0.5 a quarter), then refined by a few Newton steps
in :math:`\log\sigma` (:data:`NEWTON_STEPS`, derivatives by central differences). An estimate on
the grid's edge stays there: at the floor it reads as no noise, the boundary of the parameter
space. Maximum likelihood rather than a
Bayesian posterior: it is the criterion statsmodels uses and can be checked against it, it
needs no prior on quantities the disclosures barely inform, and a grid evaluates every panel of a
simulation at once (the leading axes of ``y`` are panels), where a sampler would run panel by
panel. Each s.d. gets a profile-likelihood interval (the values whose profile log-likelihood is
within :math:`\chi^2_1(\text{level})/2` of the maximum; a lower end at the grid's floor is reported
as 0: the data do not rule out no noise) and a standard error from the Hessian in
:math:`\log\sigma` by the delta method (NaN on the grid's edge, where the curvature does not give one;
the interval is the one to read there). The cost is one batched filter of
``panels x (grid points + 9 x steps) x series`` rows: about 25-40 ms a panel of the bundled
disclosure pattern (13 series, 15 quarters) on one core, whether one panel or hundreds are passed.
:meth:`NoiseEstimate.weights` turns the grid into posterior weights under a uniform prior on each
s.d. over :math:`(0, 0.5]`, which a caller uses to carry the parameters' uncertainty into a band.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

_T = np.array([[1.0, 1.0], [0.0, 1.0]])

ESTIMATE = "estimate"
"""The value of a noise level that asks for it to be estimated (:func:`estimate_noise`)."""

NOISE_GRID = np.geomspace(0.002, 0.5, 15)
"""Grid of quarterly noise s.d.s the likelihood is profiled over (steps of about 48%)."""


@dataclass(frozen=True)
class TrendEstimates:
    """Filtered and smoothed level and slope, with variances; arrays are ``(..., n)``; ``loglike`` is ``(...)``."""

    filtered_level: np.ndarray
    filtered_level_var: np.ndarray
    filtered_slope: np.ndarray
    filtered_slope_var: np.ndarray
    smoothed_level: np.ndarray
    smoothed_level_var: np.ndarray
    smoothed_slope: np.ndarray
    smoothed_slope_var: np.ndarray
    loglike: np.ndarray  # prediction-error log-likelihood of each row at the noise levels used
    level_sd: np.ndarray  # the noise levels used, per row
    slope_sd: np.ndarray


def _first_observed(y: np.ndarray) -> np.ndarray:
    """Each row's first finite value (0 for a row with none)."""
    seen = np.isfinite(y)
    at = np.argmax(seen, axis=-1)
    first = np.take_along_axis(np.where(seen, y, 0.0), at[..., None], axis=-1)[..., 0]
    return np.where(seen.any(axis=-1), first, 0.0)


def _filter(y: np.ndarray, h: np.ndarray, q_level: np.ndarray, q_slope: np.ndarray, init_level_sd: float,
            init_slope_sd: float, store: bool):
    """Kalman filter of rows ``y`` (batch x n); per-row state noise variances. Log-likelihood, and the paths if ``store``.

    The state covariance is symmetric, so it is carried as its three distinct entries, each an array over the rows;
    the arithmetic is the 2 x 2 matrix form's, term by term.
    """
    batch, n = y.shape
    ys, hs = np.ascontiguousarray(y.T), np.ascontiguousarray(h.T)
    level, slope = _first_observed(y), np.zeros(batch)
    p_ll, p_ls, p_ss = np.full(batch, init_level_sd ** 2), np.zeros(batch), np.full(batch, init_slope_sd ** 2)
    ll = np.zeros(batch)
    shapes = ((n, batch, 2), (n, batch, 2, 2)) * 2  # the predicted state and covariance, then the filtered
    paths = [np.empty(shape) for shape in shapes] if store else None
    for t in range(n):
        if store:
            _put(paths[0][t], paths[1][t], level, slope, p_ll, p_ls, p_ss)
        seen = np.isfinite(ys[t])
        if seen.any():
            F = np.where(seen, p_ll + hs[t], 1.0)
            v = np.where(seen, ys[t] - level, 0.0)
            k_level, k_slope = p_ll / F, p_ls / F
            level, slope = level + k_level * v, slope + k_slope * v
            p_ll = p_ll - np.where(seen, k_level * k_level * F, 0.0)
            p_ls = p_ls - np.where(seen, k_level * k_slope * F, 0.0)
            p_ss = p_ss - np.where(seen, k_slope * k_slope * F, 0.0)
            ll -= np.where(seen, 0.5 * (np.log(2 * np.pi * F) + v ** 2 / F), 0.0)
        if store:
            _put(paths[2][t], paths[3][t], level, slope, p_ll, p_ls, p_ss)
        level = level + slope
        p_ll, p_ls, p_ss = p_ll + 2 * p_ls + p_ss + q_level, p_ls + p_ss, p_ss + q_slope
    return ll, paths


def _put(a: np.ndarray, P: np.ndarray, level, slope, p_ll, p_ls, p_ss):
    """Write the state (``a``: rows x 2) and its covariance (``P``: rows x 2 x 2) from their entries."""
    a[:, 0], a[:, 1] = level, slope
    P[:, 0, 0], P[:, 0, 1], P[:, 1, 0], P[:, 1, 1] = p_ll, p_ls, p_ls, p_ss


def carry_variance(P_L: np.ndarray, slope: np.ndarray, k: np.ndarray, level_sd, slope_sd) -> np.ndarray:
    """Variance of the level held flat ``k`` quarters past the last observation (the module's :math:`V_{L+k}`).

    ``P_L`` is the state covariance at the last observed quarter (``(..., 2, 2)``), ``slope`` the
    slope estimate there; the result broadcasts over ``k``.
    """
    k = np.asarray(k, float)
    return (P_L[..., 0, 0] + 2 * k * P_L[..., 0, 1] + k ** 2 * (P_L[..., 1, 1] + slope ** 2)
            + k * np.asarray(level_sd) ** 2 + (k - 1) * k * (2 * k - 1) / 6 * np.asarray(slope_sd) ** 2)


def _as_row_sd(value, lead: tuple[int, ...]) -> np.ndarray:
    """One s.d. per row: ``value`` broadcast to the rows' leading shape ``lead`` (or given flat, one per row), flattened."""
    value = np.asarray(value, float)
    batch = int(np.prod(lead, dtype=int))
    try:
        return np.broadcast_to(value, lead).reshape(-1).copy()
    except ValueError:
        return np.broadcast_to(value, (batch,)).copy()


def local_linear_trend(y: np.ndarray, h: np.ndarray, level_sd, slope_sd, init_level_sd: float = 2.0,
                       init_slope_sd: float = 0.5, hold: bool = False, *,
                       smoothed_variances: bool = True) -> TrendEstimates:
    """Filter and smooth ``y`` (``(..., n)``, NaN where a quarter has no observation) with variances ``h``.

    ``level_sd`` and ``slope_sd`` are numbers, arrays broadcasting to the rows' leading shape ``y.shape[:-1]``
    (e.g. one per panel of ``panels x rows``) or given flat (one per row),
    or :data:`ESTIMATE`: maximum likelihood pooled over all the rows given (:func:`estimate_noise`).
    The level starts at the first observation (at 0 for a row with none, whose estimates are then
    the prior's and mean nothing). With ``hold``, no slope is extrapolated past a row's last
    observation (see the module docstring). Without ``smoothed_variances`` the smoother's covariance
    recursion, which the smoothed level and slope do not need, is skipped and their variances are NaN.
    """
    y = np.atleast_2d(np.asarray(y, float))
    shape = y.shape
    y = y.reshape(-1, shape[-1])
    h = np.broadcast_to(np.asarray(h, float), shape).reshape(y.shape)
    batch, n = y.shape
    if isinstance(level_sd, str) or isinstance(slope_sd, str):
        fit = estimate_noise(y, h, level_sd, slope_sd, init_level_sd=init_level_sd, init_slope_sd=init_slope_sd)
        level_sd, slope_sd = fit.level_sd, fit.slope_sd
    lsd, ssd = _as_row_sd(level_sd, shape[:-1]), _as_row_sd(slope_sd, shape[:-1])
    ll, (a_pred, P_pred, a_filt, P_filt) = _filter(y, h, lsd ** 2, ssd ** 2, init_level_sd, init_slope_sd, True)
    a_s, P_s = a_filt.copy(), (P_filt.copy() if smoothed_variances else np.full_like(P_filt, np.nan))
    for t in range(n - 2, -1, -1):
        J = P_filt[t] @ _T.T @ np.linalg.inv(P_pred[t + 1])
        a_s[t] = a_filt[t] + np.einsum("bij,bj->bi", J, a_s[t + 1] - a_pred[t + 1])
        if smoothed_variances:
            P_s[t] = P_filt[t] + J @ (P_s[t + 1] - P_pred[t + 1]) @ np.swapaxes(J, 1, 2)
    out = [np.moveaxis(arr, 0, -1) for arr in (a_filt[..., 0], P_filt[..., 0, 0], a_filt[..., 1], P_filt[..., 1, 1],
                                               a_s[..., 0], P_s[..., 0, 0], a_s[..., 1], P_s[..., 1, 1])]
    if hold:
        seen = np.isfinite(y)
        last = np.where(seen.any(axis=1), n - 1 - np.argmax(seen[:, ::-1], axis=1), n - 1)
        rows = np.arange(batch)
        k = np.arange(n)[None, :] - last[:, None]
        past = k > 0
        P_L, m_L, slope_L = P_filt[last, rows], a_filt[last, rows, 0], a_filt[last, rows, 1]
        var = carry_variance(P_L[:, None], slope_L[:, None], np.maximum(k, 0), lsd[:, None], ssd[:, None])
        slope_var = (P_L[:, 1, 1] + slope_L ** 2)[:, None]
        for i, (value, variance) in enumerate(((m_L, var), (0.0, slope_var))):
            for j in (0, 4):  # filtered and smoothed
                out[j + 2 * i] = np.where(past, value if np.ndim(value) == 0 else value[:, None], out[j + 2 * i])
                out[j + 2 * i + 1] = np.where(past, variance, out[j + 2 * i + 1])
    if not smoothed_variances:  # NaN past the last observation too
        out[5], out[7] = np.full_like(out[5], np.nan), np.full_like(out[7], np.nan)
    out = [arr.reshape(shape) for arr in out]
    lead = shape[:-1]
    return TrendEstimates(*out, ll.reshape(lead), lsd.reshape(lead), ssd.reshape(lead))


@dataclass(frozen=True)
class NoiseEstimate:
    """Maximum-likelihood noise levels of the local linear trend, pooled over a panel's series (see the module docstring).

    Each number is an array over the panels (the leading axes of ``y``), a 0-d array for one panel.
    A level fixed by the caller has an interval of that value alone and no standard error.
    """

    level_sd: np.ndarray  # sigma_eta, quarterly s.d. of shocks to log revenue's level
    slope_sd: np.ndarray  # sigma_zeta, quarterly s.d. of shocks to its growth rate
    level_interval: tuple[np.ndarray, np.ndarray]  # profile-likelihood interval at ``level``
    slope_interval: tuple[np.ndarray, np.ndarray]
    level_se: np.ndarray  # from the Hessian in log s.d. (delta method); NaN on the grid's edge or fixed
    slope_se: np.ndarray
    loglike: np.ndarray  # pooled log-likelihood at the estimate
    grid_level: np.ndarray  # the s.d.s profiled over (one value where fixed)
    grid_slope: np.ndarray
    surface: np.ndarray  # pooled log-likelihood, (..., len(grid_level), len(grid_slope))
    estimated: tuple[str, ...]  # which of "level_sd", "slope_sd" were estimated (the others fixed)
    level: float  # coverage of the intervals
    series: int  # series pooled per panel
    observations: np.ndarray  # quarters observed per panel, over all its series
    measurement_scale: np.ndarray | float = 1.0  # the factor on the stated measurement s.d.s (1: as stated)
    method: str = "maximum likelihood (Kalman prediction errors), pooled over the series; profile-likelihood intervals"

    def weights(self) -> np.ndarray:
        """Posterior weights over the grid, ``(..., len(grid_level), len(grid_slope))``, summing to 1 per panel.

        The likelihood times a uniform prior on each estimated s.d. over (0, 0.5], which on the
        log-spaced grid is a weight proportional to the s.d. itself.
        """
        log_w = self.surface - self.surface.max(axis=(-2, -1), keepdims=True)
        if "level_sd" in self.estimated:
            log_w = log_w + np.log(self.grid_level)[:, None]
        if "slope_sd" in self.estimated:
            log_w = log_w + np.log(self.grid_slope)[None, :]
        w = np.exp(log_w - log_w.max(axis=(-2, -1), keepdims=True))
        return w / w.sum(axis=(-2, -1), keepdims=True)

    def summary(self) -> dict:
        """The estimates, intervals and standard errors of a single panel, rounded for presentation."""
        out = {"method": self.method, "series": self.series, "observations": int(self.observations),
               "loglike": round(float(self.loglike), 3), "level": self.level}
        for name in ("level", "slope"):
            lo, hi = getattr(self, f"{name}_interval")
            out.update({f"{name}_sd": round(float(getattr(self, f"{name}_sd")), 4),
                        f"{name}_sd_low": round(float(lo), 4), f"{name}_sd_high": round(float(hi), 4),
                        f"{name}_sd_se": round(float(getattr(self, f"{name}_se")), 4),
                        f"{name}_sd_estimated": f"{name}_sd" in self.estimated})
        return out


def _grid_for(value, grid: np.ndarray) -> np.ndarray:
    return np.asarray(grid, float) if isinstance(value, str) else np.array([float(value)])


def pooled_loglike(y: np.ndarray, h: np.ndarray, level_sd: np.ndarray, slope_sd: np.ndarray,
                   init_level_sd: float = 2.0, init_slope_sd: float = 0.5, max_rows: int = 200_000) -> np.ndarray:
    """Log-likelihood of each panel (``y``: ``(..., S, n)``, summed over its S series) at each pair of s.d.s.

    ``level_sd`` and ``slope_sd`` are 1-D; the result is ``(..., len(level_sd), len(slope_sd))``.
    Every panel, pair and series is one row of one batched filter (in chunks of ``max_rows``).
    """
    y = np.asarray(y, float)
    h = np.broadcast_to(np.asarray(h, float), y.shape)
    lead, (S, n) = y.shape[:-2], y.shape[-2:]
    panels = int(np.prod(lead, dtype=int))
    pairs = np.stack(np.meshgrid(level_sd, slope_sd, indexing="ij"), -1).reshape(-1, 2)
    yy, hh = y.reshape(panels, 1, S, n), h.reshape(panels, 1, S, n)
    out = np.empty((panels, len(pairs)))
    step = max(1, max_rows // max(panels * S, 1))
    for start in range(0, len(pairs), step):
        chunk = pairs[start:start + step]
        rows = np.broadcast_to(yy, (panels, len(chunk), S, n)).reshape(-1, n)
        hrows = np.broadcast_to(hh, (panels, len(chunk), S, n)).reshape(-1, n)
        q = np.broadcast_to(chunk[None, :, None, :] ** 2, (panels, len(chunk), S, 2)).reshape(-1, 2)
        ll, _ = _filter(rows, hrows, q[:, 0], q[:, 1], init_level_sd, init_slope_sd, False)
        out[:, start:start + len(chunk)] = ll.reshape(panels, len(chunk), S).sum(-1)
    return out.reshape(*lead, len(level_sd), len(slope_sd))


def _panel_loglike(y: np.ndarray, h: np.ndarray, level_sd: np.ndarray, slope_sd: np.ndarray, init_level_sd: float,
                   init_slope_sd: float) -> np.ndarray:
    """Pooled log-likelihood of panels ``(P, S, n)`` at points ``(P, K)`` of s.d.s: ``(P, K)``, in one batched filter."""
    P, S, n = y.shape
    K = level_sd.shape[1]
    rows = np.broadcast_to(y[:, None], (P, K, S, n)).reshape(-1, n)
    hrows = np.broadcast_to(h[:, None], (P, K, S, n)).reshape(-1, n)
    q_l = np.broadcast_to(level_sd[:, :, None] ** 2, (P, K, S)).reshape(-1)
    q_s = np.broadcast_to(slope_sd[:, :, None] ** 2, (P, K, S)).reshape(-1)
    ll, _ = _filter(rows, hrows, q_l, q_s, init_level_sd, init_slope_sd, False)
    return ll.reshape(P, K, S).sum(-1)


NEWTON_STEPS = 4
_STENCIL = np.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)], float)  # 3 x 3 finite-difference points


def _newton(y, h, start: np.ndarray, active: np.ndarray, bounds: tuple[float, float], init_level_sd: float,
            init_slope_sd: float, delta: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton steps on the pooled log-likelihood in log s.d. from ``start`` (``(P, 2)``), moving only ``active`` axes.

    Derivatives by central differences (step ``delta`` in log s.d.); a step is taken only if it
    raises the likelihood (else halved once, else refused). Returns the log s.d.s, the
    log-likelihood there and the covariance of the log s.d.s (minus the inverse Hessian on the
    active axes, NaN elsewhere or where the Hessian is not negative definite).
    """
    u = start.copy()
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    eye = np.eye(2)
    for step in range(NEWTON_STEPS + 1):
        pts = u[:, None, :] + delta * _STENCIL[None] * active[:, None, :]
        f = _panel_loglike(y, h, np.exp(pts[..., 0]), np.exp(pts[..., 1]), init_level_sd, init_slope_sd)
        f = f.reshape(-1, 3, 3)  # [level offset, slope offset]
        f0 = f[:, 1, 1]
        g = np.stack([f[:, 2, 1] - f[:, 0, 1], f[:, 1, 2] - f[:, 1, 0]], -1) / (2 * delta)
        H = np.empty((len(u), 2, 2))
        H[:, 0, 0] = (f[:, 2, 1] - 2 * f0 + f[:, 0, 1]) / delta ** 2
        H[:, 1, 1] = (f[:, 1, 2] - 2 * f0 + f[:, 1, 0]) / delta ** 2
        H[:, 0, 1] = H[:, 1, 0] = (f[:, 2, 2] - f[:, 2, 0] - f[:, 0, 2] + f[:, 0, 0]) / (4 * delta ** 2)
        both = active[:, :, None] & active[:, None, :]
        H = np.where(both, H, -eye)
        g = np.where(active, g, 0.0)
        negative = (H[:, 0, 0] < 0) & (np.linalg.det(H) > 0)
        if step == NEWTON_STEPS:
            break
        move = np.where(negative[:, None], -np.linalg.solve(np.where(negative[:, None, None], H, -eye), g[..., None])[..., 0],
                        0.1 * np.sign(g))
        move = np.clip(move, -0.5, 0.5)
        accepted = np.zeros(len(u), bool)
        for scale in (1.0, 0.5):
            trial = np.where(active, np.clip(u + scale * move, lo, hi), u)
            better = _panel_loglike(y, h, np.exp(trial[:, :1]), np.exp(trial[:, 1:]), init_level_sd,
                                    init_slope_sd)[:, 0] > f0
            take = better & ~accepted
            u = np.where(take[:, None], trial, u)
            accepted |= take
        if not accepted.any():
            break
    with np.errstate(invalid="ignore"):
        cov = np.where(negative[:, None, None], np.linalg.inv(np.where(negative[:, None, None], H, -eye)) * -1, np.nan)
    cov = np.where(active[:, :, None] & active[:, None, :], cov, np.nan)
    return u, f0, cov


def _interval(profile: np.ndarray, grid: np.ndarray, top: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood interval: where the profile is within chi2_1(level)/2 of ``top``, interpolated in log s.d.

    A lower end that reaches the grid's floor is 0; an upper end that reaches its top is the top.
    """
    if len(grid) == 1:
        value = np.broadcast_to(grid[0], profile.shape[:-1]).copy()
        return value, value
    u = np.log(grid)
    threshold = (top - stats.chi2.ppf(level, 1) / 2)[..., None]
    best = np.argmax(profile, axis=-1)[..., None]
    idx = np.arange(len(grid))
    out_low = np.where((idx < best) & (profile < threshold), idx, -1).max(-1)
    out_high = np.where((idx > best) & (profile < threshold), idx, len(grid)).min(-1)

    def cross(i, j):  # i outside, j = i +- 1 inside: interpolate the crossing in log s.d.
        fi = np.take_along_axis(profile, i[..., None], -1)[..., 0]
        fj = np.take_along_axis(profile, j[..., None], -1)[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.clip(np.nan_to_num((threshold[..., 0] - fi) / (fj - fi)), 0.0, 1.0)
        return np.exp(u[i] + frac * (u[j] - u[i]))

    i_low = np.clip(out_low, 0, len(grid) - 2)
    i_high = np.clip(out_high, 1, len(grid) - 1)
    low = np.where(out_low < 0, 0.0, cross(i_low, i_low + 1))
    high = np.where(out_high >= len(grid), grid[-1], cross(i_high, i_high - 1))
    return low, high


def estimate_noise(y: np.ndarray, h: np.ndarray, level_sd=ESTIMATE, slope_sd=ESTIMATE, grid: np.ndarray = NOISE_GRID,
                   level: float = 0.90, init_level_sd: float = 2.0, init_slope_sd: float = 0.5) -> NoiseEstimate:
    r"""Maximum-likelihood :math:`(\sigma_\eta, \sigma_\zeta)` of each panel, pooled over its series.

    ``y`` is ``(..., S, n)``: panels on the leading axes, each of ``S`` series on ``n`` quarters
    (NaN where none is observed; a series is best left-aligned, its first observation in column
    0); ``h`` the measurement variances. ``level_sd`` or ``slope_sd`` given as a number is held
    fixed and the other profiled. The likelihood is evaluated on ``grid`` for every panel in one
    batched filter (:func:`pooled_loglike`) and refined by Newton steps in log s.d. (:func:`_newton`) for all
    panels at once; profile-likelihood intervals at ``level`` from the grid, interpolated in log s.d.
    """
    y = np.asarray(y, float)
    if y.ndim == 1:
        y = y[None, :]
    h = np.broadcast_to(np.asarray(h, float), y.shape)
    gl, gs = _grid_for(level_sd, grid), _grid_for(slope_sd, grid)
    surface = pooled_loglike(y, h, gl, gs, init_level_sd, init_slope_sd)
    lead, (S, n) = y.shape[:-2], y.shape[-2:]
    panels = int(np.prod(lead, dtype=int))
    flat = surface.reshape(panels, -1)
    i_best, j_best = np.unravel_index(flat.argmax(-1), (len(gl), len(gs)))
    # a grid edge is where the likelihood keeps rising out of the grid: the estimate stays there (the floor reads as
    # no noise); elsewhere Newton steps refine it
    active = np.stack([(i_best > 0) & (i_best < len(gl) - 1), (j_best > 0) & (j_best < len(gs) - 1)], -1)
    start = np.log(np.stack([gl[i_best], gs[j_best]], -1))
    u, top, cov = _newton(y.reshape(panels, S, n), h.reshape(panels, S, n), start, active,
                          (float(np.min(grid)), float(np.max(grid))), init_level_sd, init_slope_sd)
    top = np.maximum(top, flat.max(-1))
    sd = np.exp(u)
    se = sd * np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    profile_l, profile_s = surface.max(-1), surface.max(-2)
    top = top.reshape(lead)
    estimated = tuple(name for name, value in (("level_sd", level_sd), ("slope_sd", slope_sd)) if isinstance(value, str))
    return NoiseEstimate(sd[:, 0].reshape(lead), sd[:, 1].reshape(lead), _interval(profile_l, gl, top, level),
                         _interval(profile_s, gs, top, level), se[:, 0].reshape(lead), se[:, 1].reshape(lead), top, gl, gs,
                         surface, estimated, level, S, np.isfinite(y).sum(axis=(-2, -1)))
