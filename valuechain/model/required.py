"""How much downstream revenue the AI build-out requires: three published methods.

Each function is a closed form with its equation in the docstring, so the published anchors
(Sequoia 2023 and 2024, Bain 2030) can be reproduced exactly and the same method run on the
bundled data for any year.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.dataset.names import words
from valuechain.model.formulas import capex_to_revenue_required, capital_recovery_factor, sequoia_required

METHOD_NAMES = {
    "sequoia": "Sequoia (GPU run-rate)",
    "capex_to_revenue": "Bain (capex-to-revenue ratio)",
    "capital_recovery": "Capital recovery (R*)",
}


def method_name(method) -> str:
    """The method's name on a page (``capital_recovery`` -> ``Capital recovery (R*)``)."""
    return METHOD_NAMES.get(str(method), words(method))


@dataclass(frozen=True)
class Requirement:
    """Required revenue, the revenue set against it, and the gap (required minus actual)."""

    method: str
    required_usd_bn: float
    actual_usd_bn: float | None
    inputs: dict

    @property
    def gap_usd_bn(self) -> float | None:
        return None if self.actual_usd_bn is None else self.required_usd_bn - self.actual_usd_bn


def sequoia(run_rate_usd_bn: float, gpu_share_of_tco: float = 0.5, end_user_gross_margin: float = 0.5,
            identified_ai_revenue_usd_bn: float | None = None) -> Requirement:
    r"""Sequoia's required end-user revenue (D. Cahn, "AI's $200B Question", 2023; "AI's $600B Question", 2024).

    .. math::

        R^{req} = \frac{\text{NVIDIA data-center run-rate}}{s_{GPU}\,(1 - g)}, \qquad
        \text{hole} = R^{req} - R^{AI}

    where :math:`s_{GPU}` is the GPU share of data-center total cost of ownership (the rest is
    energy, buildings, backup generators) and :math:`g` the end user's gross margin. With a
    $50B run-rate, :math:`s_{GPU} = 0.5` and :math:`g = 0.5`, :math:`R^{req} = 200`.
    """
    if not 0 < gpu_share_of_tco <= 1 or not 0 <= end_user_gross_margin < 1:
        raise ValueError("gpu_share_of_tco must be in (0, 1] and end_user_gross_margin in [0, 1)")
    required = sequoia_required(run_rate_usd_bn, gpu_share_of_tco, end_user_gross_margin)
    return Requirement("sequoia", required, identified_ai_revenue_usd_bn,
                       {"run_rate_usd_bn": run_rate_usd_bn, "gpu_share_of_tco": gpu_share_of_tco,
                        "end_user_gross_margin": end_user_gross_margin})


def capex_to_revenue(capex_usd_bn: float, capex_to_revenue_ratio: float,
                     fundable_revenue_usd_bn: float | None = None) -> Requirement:
    r"""Bain's required revenue (Technology Report 2025): capex at a sustainable capex-to-revenue ratio.

    .. math::

        R^{req} = \frac{K}{c}, \qquad \text{shortfall} = R^{req} - R^{fundable}

    with annual data-center capex :math:`K` and sustainable capex-to-revenue ratio :math:`c`. Bain:
    :math:`K = 500`, :math:`c = 0.25` gives :math:`R^{req} = 2000`; against :math:`R^{fundable} = 1200`
    the shortfall is 800.
    """
    if not 0 < capex_to_revenue_ratio <= 1:
        raise ValueError("capex_to_revenue_ratio must be in (0, 1]")
    return Requirement("capex_to_revenue", capex_to_revenue_required(capex_usd_bn, capex_to_revenue_ratio), fundable_revenue_usd_bn,
                       {"capex_usd_bn": capex_usd_bn, "capex_to_revenue_ratio": capex_to_revenue_ratio})


def capital_recovery(capital_base_usd_bn: float, life_years: float, target_return: float,
                     margin_before_depreciation: float, actual_usd_bn: float | None = None) -> Requirement:
    r"""Revenue that earns ``target_return`` on an installed capital base over its depreciation life.

    .. math::

        R^{req} = \frac{K^{installed} \cdot CRF(r, n)}{m}

    where :math:`m` is the operating margin before depreciation (the share of revenue left to repay
    capital). J.P. Morgan's estimate of about $650B a year for a 10% return is a published point of
    comparison whose inputs are not public.
    """
    if not 0 < margin_before_depreciation <= 1:
        raise ValueError("margin_before_depreciation must be in (0, 1]")
    crf = capital_recovery_factor(target_return, life_years)
    return Requirement("capital_recovery", capital_base_usd_bn * crf / margin_before_depreciation, actual_usd_bn,
                       {"capital_base_usd_bn": capital_base_usd_bn, "life_years": life_years,
                        "target_return": target_return, "margin_before_depreciation": margin_before_depreciation,
                        "capital_recovery_factor": crf})


def nvidia_run_rate(data_center_quarterly: pd.Series, year: int) -> float:
    """Sequoia's input: four times NVIDIA's last data-center quarter within calendar ``year`` (no later quarter)."""
    within = data_center_quarterly[data_center_quarterly.index.year <= year]
    return float(within.iloc[-1] * 4) if len(within) else np.nan
