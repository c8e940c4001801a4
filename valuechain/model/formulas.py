r"""The model's closed forms, vectorized over draws: capital recovery, capital in service, required
revenue, break-even years, layer shares and the reverse DCF.

Every other module that needs one of these formulas calls it here: the profit model and the demand
gap at the scenario's values, the uncertainty layer at draws of the priors.
"""
from __future__ import annotations

import numpy as np


def capital_recovery_factor(rate, life):
    r"""Annual payment per dollar of capital that repays it with return :math:`r` over :math:`n` years.

    .. math::

        CRF(r, n) = \frac{r (1 + r)^n}{(1 + r)^n - 1}, \qquad CRF(0, n) = 1/n

    Arrays of draws broadcast; two numbers give a number.
    """
    rate, life = np.asarray(rate, dtype=float), np.asarray(life, dtype=float)
    if np.any(life <= 0):
        raise ValueError("life_years must be positive")
    growth = (1 + rate) ** life
    with np.errstate(divide="ignore", invalid="ignore"):
        crf = rate * growth / (growth - 1)
    out = np.where(rate == 0, 1.0 / life, crf)
    return float(out) if out.ndim == 0 else out


def in_service(ai_capex: np.ndarray, lag: int, life_quarters: np.ndarray) -> np.ndarray:
    r"""Capital in service :math:`\sum_{j=L}^{L+q-1} A_{t-j}` for draws (rows) of a quarterly series.

    ``ai_capex`` is (draws, quarters), zeros where nothing was spent; ``life_quarters`` (draws,)
    integers. Computed from cumulative sums, so a life can differ by draw without a loop.
    """
    return _window_sums(_cumulative(ai_capex), lag, life_quarters)


def _cumulative(values: np.ndarray) -> np.ndarray:
    """Cumulative sums of each row with a leading zero: column :math:`k` is the sum of the first :math:`k` values."""
    out = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=out[:, 1:])
    return out


def _window_sums(cum: np.ndarray, lag: int, life_quarters: np.ndarray) -> np.ndarray:
    """:func:`in_service` from the rows' cumulative sums (:func:`_cumulative`): each window's sum is the
    difference of two of them."""
    t = cum.shape[1] - 1
    upper = np.clip(np.arange(t) - lag + 1, 0, t)  # sum up to quarter t - lag inclusive
    lower = np.clip(upper[None, :] - life_quarters.astype(int)[:, None], 0, t)
    return cum.take(upper, axis=1) - np.take_along_axis(cum, lower, axis=1)


def sequoia_required(run_rate, gpu_share_of_tco, end_user_gross_margin):
    r"""Sequoia's required end-user revenue :math:`R^{req} = RR / (s_{GPU} (1 - g))` (see
    :func:`valuechain.model.required.sequoia`); arrays of draws broadcast."""
    return run_rate / gpu_share_of_tco / (1 - end_user_gross_margin)


def capex_to_revenue_required(capex, capex_to_revenue_ratio):
    r"""Bain's required revenue :math:`R^{req} = K / c` (see :func:`valuechain.model.required.capex_to_revenue`);
    arrays of draws broadcast."""
    return capex / capex_to_revenue_ratio


def required_revenue(ai_capex, lag, shares, lives, rate, margin):
    r"""Annualized :math:`R^*_t = \sum_c w_c K_{c,t} CRF(r, n_c) / m` by draw and quarter (see :mod:`valuechain.model.capital`).

    ``ai_capex`` is (draws, quarters); ``shares`` :math:`w_c` and ``lives`` :math:`n_c` (years) are
    (draws, classes); ``rate`` and ``margin`` (draws,). The one computation of :math:`R^*`: the demand
    gap's, its projection's and the uncertainty layer's.
    """
    cum = _cumulative(ai_capex)  # the classes differ only in their windows
    out = 0.0
    for j in range(shares.shape[1]):
        base = _window_sums(cum, lag, np.rint(4 * lives[:, j]))
        out = out + shares[:, j, None] * base * capital_recovery_factor(rate, lives[:, j])[:, None]
    return out / margin[:, None]


def extend_quarters(filed: np.ndarray, growth: np.ndarray) -> np.ndarray:
    r"""A quarterly series extended past its filed quarters: each later quarter is the same quarter a
    year earlier, grown, :math:`C_t = C_{t-4} (1 + g_t)`.

    ``filed`` is (draws, filed quarters), at least a year of them when there are quarters to extend
    (a ``ValueError`` otherwise), ``growth`` (draws, quarters) the growth :math:`g_t` of each quarter
    (read past the filed ones only); returns (draws, quarters).
    A year of quarters at a time: each depends only on the year before.
    """
    if filed.shape[1] < 4 and growth.shape[1] > filed.shape[1]:
        raise ValueError(f"extend_quarters needs at least four filed quarters (a year) to grow from; "
                         f"got {filed.shape[1]}")
    out = np.zeros(growth.shape)
    out[:, :filed.shape[1]] = filed
    for start in range(filed.shape[1], growth.shape[1], 4):
        end = min(start + 4, growth.shape[1])
        out[:, start:end] = out[:, start - 4:end - 4] * (1 + growth[:, start:end])
    return out


def break_even_years(cost_per_revenue_dollar, cost_decline, horizon: int):
    r"""Years from the base year until cost per revenue dollar reaches 1: :math:`\lceil \ln c_0 / -\ln(1-d) \rceil`.

    0 when :math:`c_0 \le 1`; NaN when it is later than ``horizon`` years or never.
    """
    c0, d = np.asarray(cost_per_revenue_dollar, dtype=float), np.asarray(cost_decline, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.ceil(np.log(np.maximum(c0, 1.0)) / -np.log1p(-d) - 1e-12)
    steps = np.where(c0 <= 1, 0.0, steps)
    return np.where(steps <= horizon, steps, np.nan)


def shares(values: np.ndarray) -> np.ndarray:
    """Each layer's share of the chain total along the last axis; a missing layer is left out of the
    total (as the profit tables do), and the share is NaN where the total is 0."""
    total = np.nansum(values, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total != 0, values / total, np.nan)


def reverse_dcf_revenue(valuation_usd_bn: float, years_to_target: float, discount_rate: float, exit_multiple: float) -> float:
    r"""Revenue needed in the target year for the valuation to earn the discount rate.

    .. math::

        V = \frac{M \cdot R_T}{(1 + r)^{T - t_0}} \quad\Rightarrow\quad R_T = \frac{V (1 + r)^{T - t_0}}{M}

    with exit revenue multiple :math:`M`, ignoring cash paid out before :math:`T` (the labs pay none).
    Arrays of draws broadcast (the model core calls it so).
    """
    if np.any(np.asarray(exit_multiple) <= 0):
        raise ValueError("exit_multiple must be positive")
    return valuation_usd_bn * (1 + discount_rate) ** years_to_target / exit_multiple
