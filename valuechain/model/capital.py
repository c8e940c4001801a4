r"""AI capex and the AI capital in service, from the spenders' filed capex
(:mod:`valuechain.dataset.capex`, the one owner of those figures).

Required revenue on capital in service
--------------------------------------
AI-relevant capex in quarter :math:`s` is the spenders' filed capex times the scenario's AI share
of that year, :math:`A_s = a_{y(s)} C_s` (zero before the first year with a share: that capex
serves the businesses the spenders had before the generative-AI build-out). A dollar spent in
quarter :math:`s` enters service :math:`L` quarters later and is split into servers and networking
(share :math:`\phi`, life :math:`n_1` years) and buildings and power (life :math:`n_2` years). The
capital in service in quarter :math:`t` is

.. math::

    K_{c,t} = w_c \sum_{j=L}^{L + 4 n_c - 1} A_{t-j}, \qquad w_1 = \phi,\ w_2 = 1 - \phi,

and the revenue that recovers every vintage in service with return :math:`r`, given a margin
before depreciation :math:`m`, is (annualized)

.. math::

    R^*_t = \frac{1}{m} \sum_c K_{c,t}\, CRF(r, n_c).

With capex constant at :math:`C` a year this is :math:`C \sum_c w_c n_c CRF(r, n_c) / m`, the
**steady-state** revenue per dollar of annual capex :math:`\beta^*_{ss}`. While capex grows the
base in service is smaller than :math:`n_c` years of today's capex, and the **growth-adjusted**
:math:`\beta^*_t = R^*_t / (\text{AI capex over the last four quarters})` is lower: the bar a
boom year actually has to clear.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.model import formulas
from valuechain.model.formulas import capital_recovery_factor

def ai_capex(wide: pd.DataFrame, ai_share: dict[int, float]) -> pd.Series:
    """AI-relevant capex by quarter: the filed spenders' sum times the AI share of its year.

    Quarters before the first year of ``ai_share`` count as zero; years after the last one carry
    its share forward. A quarter in which no spender filed is NaN.
    """
    first, last = min(ai_share), max(ai_share)
    share = [0.0 if q.year < first else ai_share.get(q.year, ai_share[last]) for q in wide.index]
    total = wide.sum(axis=1, min_count=1)
    return (total * np.array(share)).rename("ai_capex_usd_bn")


def projected_ai_capex(wide: pd.DataFrame, ai_share: dict[int, float], horizon_year: int, growth) -> pd.Series:
    r"""AI capex by quarter from the first filed quarter to the end of ``horizon_year``.

    Past the last filed quarter, the spenders' capex is the same quarter a year earlier grown,
    :math:`C_t = C_{t-4} (1 + g_{y(t)})` with ``growth(year)`` :math:`= g_y`
    (:func:`valuechain.model.formulas.extend_quarters`, as the model core extends it), and every
    quarter's AI capex is :math:`A_t = a_{y(t)} C_t` (:func:`ai_capex`). A quarter in the filed span
    in which no spender filed counts as zero.
    """
    total = wide.sum(axis=1, min_count=1)
    filed = total.loc[:total.last_valid_index()].fillna(0.0)
    quarters = pd.period_range(filed.index[0], pd.Period(f"{horizon_year}Q4", freq="Q"), freq="Q")
    rates = np.array([[growth(q.year) if i >= len(filed) else 0.0 for i, q in enumerate(quarters)]])
    spend = formulas.extend_quarters(filed.to_numpy()[None, :], rates)[0]
    return ai_capex(pd.DataFrame({"spenders": spend}, index=quarters.rename(wide.index.name)), ai_share)


def in_service(quarterly: pd.Series, lag_quarters: int, life_years: float) -> pd.Series:
    r"""Capital in service: :math:`\sum_{j=L}^{L+4n-1} A_{t-j}` (see the module docstring).

    Quarters before the series starts count as zero, so ``quarterly`` must start at or before
    the first quarter with AI capex.
    """
    values = quarterly.fillna(0.0).to_numpy()[None, :]
    out = formulas.in_service(values, lag_quarters, np.array([round(4 * life_years)]))[0]
    return pd.Series(out, index=quarterly.index, name="in_service_usd_bn")


@dataclass(frozen=True)
class AssetClass:
    """One class of AI capital: its share of capex and its life."""

    name: str
    share: float
    life_years: float


def required_revenue(ai_quarterly: pd.Series, classes: tuple[AssetClass, ...], lag_quarters: int,
                     target_return: float, margin_before_depreciation: float) -> pd.DataFrame:
    """Capital in service by class and the annualized required revenue :math:`R^*_t`
    (:func:`valuechain.model.formulas.required_revenue`), by quarter."""
    frame = pd.DataFrame({f"in_service_{c.name}_usd_bn": c.share * in_service(ai_quarterly, lag_quarters, c.life_years)
                          for c in classes})
    frame["in_service_usd_bn"] = frame.sum(axis=1)
    frame["required_usd_bn"] = formulas.required_revenue(
        ai_quarterly.fillna(0.0).to_numpy()[None, :], lag_quarters, np.array([[c.share for c in classes]]),
        np.array([[c.life_years for c in classes]], dtype=float), np.array([target_return], dtype=float),
        np.array([margin_before_depreciation], dtype=float))[0]
    frame["ai_capex_ttm_usd_bn"] = ai_quarterly.rolling(4, min_periods=4).sum()
    frame["beta_star_growth_adjusted"] = frame["required_usd_bn"] / frame["ai_capex_ttm_usd_bn"]
    return frame


def steady_state_beta(classes: tuple[AssetClass, ...], target_return: float, margin_before_depreciation: float) -> float:
    r""":math:`\beta^*_{ss} = \sum_c w_c n_c CRF(r, n_c) / m`: revenue per dollar of annual capex when capex is flat."""
    return sum(c.share * c.life_years * capital_recovery_factor(target_return, c.life_years) for c in classes) \
        / margin_before_depreciation
