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

from valuechain.model.formulas import capital_recovery_factor
from valuechain.model.formulas import in_service as vectorized_in_service

def ai_capex(wide: pd.DataFrame, ai_share: dict[int, float]) -> pd.Series:
    """AI-relevant capex by quarter: the filed spenders' sum times the AI share of its year.

    Quarters before the first year of ``ai_share`` count as zero; years after the last one carry
    its share forward. A quarter in which no spender filed is NaN.
    """
    first, last = min(ai_share), max(ai_share)
    share = [0.0 if q.year < first else ai_share.get(q.year, ai_share[last]) for q in wide.index]
    total = wide.sum(axis=1, min_count=1)
    return (total * np.array(share)).rename("ai_capex_usd_bn")


def in_service(quarterly: pd.Series, lag_quarters: int, life_years: float) -> pd.Series:
    r"""Capital in service: :math:`\sum_{j=L}^{L+4n-1} A_{t-j}` (see the module docstring).

    Quarters before the series starts count as zero, so ``quarterly`` must start at or before
    the first quarter with AI capex.
    """
    values = quarterly.fillna(0.0).to_numpy()[None, :]
    out = vectorized_in_service(values, lag_quarters, np.array([round(4 * life_years)]))[0]
    return pd.Series(out, index=quarterly.index, name="in_service_usd_bn")


@dataclass(frozen=True)
class AssetClass:
    """One class of AI capital: its share of capex and its life."""

    name: str
    share: float
    life_years: float


def required_revenue(ai_quarterly: pd.Series, classes: tuple[AssetClass, ...], lag_quarters: int,
                     target_return: float, margin_before_depreciation: float) -> pd.DataFrame:
    """Capital in service by class and the annualized required revenue :math:`R^*_t`, by quarter."""
    out = {}
    required = 0.0
    for c in classes:
        base = c.share * in_service(ai_quarterly, lag_quarters, c.life_years)
        out[f"in_service_{c.name}_usd_bn"] = base
        required = required + base * capital_recovery_factor(target_return, c.life_years) / margin_before_depreciation
    frame = pd.DataFrame(out)
    frame["in_service_usd_bn"] = frame.sum(axis=1)
    frame["required_usd_bn"] = required
    frame["ai_capex_ttm_usd_bn"] = ai_quarterly.rolling(4, min_periods=4).sum()
    frame["beta_star_growth_adjusted"] = frame["required_usd_bn"] / frame["ai_capex_ttm_usd_bn"]
    return frame


def steady_state_beta(classes: tuple[AssetClass, ...], target_return: float, margin_before_depreciation: float) -> float:
    r""":math:`\beta^*_{ss} = \sum_c w_c n_c CRF(r, n_c) / m`: revenue per dollar of annual capex when capex is flat."""
    return sum(c.share * c.life_years * capital_recovery_factor(target_return, c.life_years) for c in classes) \
        / margin_before_depreciation
