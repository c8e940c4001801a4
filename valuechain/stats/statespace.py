r"""Local-linear-trend model for irregularly dated observations of log revenue.

On a quarterly grid :math:`t = 0, \dots, n-1`, log revenue has a level :math:`\mu_t` and a
growth rate (slope) :math:`\nu_t`:

.. math::

    y_{t,i} = \mu_t + \varepsilon_{t,i}, \quad \varepsilon_{t,i} \sim N(0, h_{t,i}),
    \qquad \mu_{t+1} = \mu_t + \nu_t + \eta_t, \quad \eta_t \sim N(0, \sigma_\eta^2),
    \qquad \nu_{t+1} = \nu_t + \zeta_t, \quad \zeta_t \sim N(0, \sigma_\zeta^2).

A quarter may hold no observation (the filter predicts through it) or several (they are combined
into their precision-weighted mean, which is equivalent for the state). The measurement variance
:math:`h` differs by observation, so a filed quarterly revenue figure weighs more than a press
report of a run-rate.

The Kalman filter gives the **filtered** (real-time) state, which uses observations up to
:math:`t` only; the Rauch-Tung-Striebel smoother gives the **smoothed** state, which also uses later
observations. Both come with variances. The code is plain numpy and batched over a leading axis,
so the calibration can filter thousands of simulated series at once; a test checks it against
statsmodels' ``UnobservedComponents`` with the same initial state.

Initial state: the level starts at the first observation with s.d. ``init_level_sd`` and the slope
at 0 with s.d. ``init_slope_sd``; both are wide relative to the data, a proper stand-in for a
diffuse start.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_T = np.array([[1.0, 1.0], [0.0, 1.0]])


@dataclass(frozen=True)
class TrendEstimates:
    """Filtered and smoothed level and slope, with variances; arrays are ``(..., n)``."""

    filtered_level: np.ndarray
    filtered_level_var: np.ndarray
    filtered_slope: np.ndarray
    filtered_slope_var: np.ndarray
    smoothed_level: np.ndarray
    smoothed_level_var: np.ndarray
    smoothed_slope: np.ndarray
    smoothed_slope_var: np.ndarray


def local_linear_trend(y: np.ndarray, h: np.ndarray, level_sd: float, slope_sd: float,
                       init_level_sd: float = 2.0, init_slope_sd: float = 0.5) -> TrendEstimates:
    """Filter and smooth ``y`` (``(..., n)``, NaN where a quarter has no observation) with variances ``h``.

    The level starts at the first observation (at 0 for a row with none, whose estimates are then
    the prior's and mean nothing).
    """
    y = np.atleast_2d(np.asarray(y, float))
    h = np.broadcast_to(np.asarray(h, float), y.shape)
    batch, n = y.shape
    first = np.array([row[np.isfinite(row)][0] if np.isfinite(row).any() else 0.0 for row in y])
    a = np.stack([first, np.zeros(batch)], axis=-1)  # batch x 2
    P = np.broadcast_to(np.diag([init_level_sd ** 2, init_slope_sd ** 2]), (batch, 2, 2)).copy()
    Q = np.diag([level_sd ** 2, slope_sd ** 2])
    a_pred, P_pred = np.empty((n, batch, 2)), np.empty((n, batch, 2, 2))
    a_filt, P_filt = np.empty((n, batch, 2)), np.empty((n, batch, 2, 2))
    for t in range(n):
        a_pred[t], P_pred[t] = a, P
        seen = np.isfinite(y[:, t])
        if seen.any():
            F = P[:, 0, 0] + h[:, t]
            K = P[:, :, 0] / np.where(seen, F, 1.0)[:, None]
            innovation = np.where(seen, y[:, t] - a[:, 0], 0.0)
            a = a + K * innovation[:, None]
            update = np.einsum("bi,bj->bij", K, K) * F[:, None, None]
            P = P - np.where(seen[:, None, None], update, 0.0)
        a_filt[t], P_filt[t] = a, P
        a = a @ _T.T
        P = _T @ P @ _T.T + Q
    a_s, P_s = a_filt.copy(), P_filt.copy()
    for t in range(n - 2, -1, -1):
        J = P_filt[t] @ _T.T @ np.linalg.inv(P_pred[t + 1])
        a_s[t] = a_filt[t] + np.einsum("bij,bj->bi", J, a_s[t + 1] - a_pred[t + 1])
        P_s[t] = P_filt[t] + J @ (P_s[t + 1] - P_pred[t + 1]) @ np.swapaxes(J, 1, 2)

    def part(arr, i):
        return np.moveaxis(arr[..., i], 0, -1)

    def var(arr, i):
        return np.moveaxis(arr[..., i, i], 0, -1)

    return TrendEstimates(part(a_filt, 0), var(P_filt, 0), part(a_filt, 1), var(P_filt, 1),
                          part(a_s, 0), var(P_s, 0), part(a_s, 1), var(P_s, 1))
