r"""The model's engine: one pure, vectorized function from scenario parameters to the headline results.

:func:`valuechain.model.inputs.build` reads, once per scenario, everything the model takes from the data (each company's
filed revenue and margin by year, the spenders' capex by quarter, NVIDIA's run-rate, the labs'
base-year position, the IPO valuations, net external AI revenue :math:`D`) and lists every
parameter the model consumes under its dotted scenario key (``attribution.microsoft.ai_share.2025``,
``demand_gap.break_even.target_return`` …) with the scenario's value.

:func:`evaluate` maps a parameter matrix :math:`\Theta` (one row per draw, one column per key)
to arrays with one leading axis of draws:

- the profit pool: AI revenue and operating profit by layer and year, historical
  (:math:`R_L = \sum_c s_c R_c`, :math:`P_L = \sum_c m_c s_c R_c`) and projected
  (:func:`valuechain.model.profit._project` states the projection's equations), and profit shares;
- required revenue by method for the last historical year (Sequoia, Bain, capital recovery on
  the capital in service, :mod:`valuechain.model.capital`), and the gap :math:`D / R^*` in the last
  quarter the demand-gap test uses;
- the labs' revenue and cost paths and break-even years (:func:`valuechain.model.labs.break_even_path`);
- the IPO draw and the lab revenue the valuations need (:mod:`valuechain.model.valuation`).

The profit model (:func:`valuechain.model.profit.profit_pool`) evaluates it at the scenario's values, and
the uncertainty layer (:mod:`valuechain.model.uncertainty`) at draws of the priors: one implementation.
The regressions stay outside. Nothing here loops over draws; the rows go through in blocks of
:data:`BLOCK`, which keeps them in the processor's cache, and :func:`headline_figures` skips the paths
the headline figures do not read.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from valuechain.layers import CHAIN_ORDER
from valuechain.model.formulas import (break_even_years, capex_to_revenue_required, extend_quarters, required_revenue,
                                       reverse_dcf_revenue, sequoia_required, shares)
from valuechain.model.inputs import LAYER_INDEX, Inputs, PoolInputs

L = len(CHAIN_ORDER)
BLOCK = 1000  # draws evaluated at a time (evaluate): their arrays stay in the processor's cache


@dataclass(frozen=True)
class Outputs:
    """Arrays with draws on the first axis (see :func:`evaluate`)."""

    revenue: np.ndarray  # (n, years, layers) historical AI revenue, USD bn
    profit: np.ndarray  # (n, years, layers)
    proj_revenue: np.ndarray  # (n, projected years, layers)
    proj_profit: np.ndarray
    proj_capex: np.ndarray  # (n, projected years)
    required_q: np.ndarray  # (n, quarters) R*, annualized USD bn, to the horizon year
    sequoia: np.ndarray  # (n,) required revenue for the report year, USD bn
    bain: np.ndarray
    capital_recovery: np.ndarray
    d_over_required: np.ndarray  # (n,) D / R* in the gap quarter
    lab_revenue: np.ndarray  # (n, labs, horizon + 1)
    lab_cost: np.ndarray
    lab_break_even: np.ndarray  # (n, labs) calendar year, NaN: not within the horizon
    labs_revenue_needed: np.ndarray  # (n,) reverse DCF, target year
    ipo_draw: np.ndarray  # (n,) at the typical high float
    chips_cents: np.ndarray  # (n,) cents of an end-user dollar the chips layer keeps, last historical year

    @property
    def profit_share(self) -> np.ndarray:
        return shares(self.profit)

    @property
    def proj_profit_share(self) -> np.ndarray:
        return shares(self.proj_profit)


def _col(theta: np.ndarray, cols: np.ndarray, missing: float = np.nan) -> np.ndarray:
    """Columns ``cols`` of ``theta`` (draws x len(cols)); ``missing`` where a column is -1."""
    cols = np.asarray(cols, dtype=int)
    out = theta.take(np.maximum(cols, 0), axis=1)
    return np.where(cols[None, :] >= 0, out, missing) if (cols < 0).any() else out


def pool(inp: PoolInputs, theta: np.ndarray):
    """Historical and projected AI revenue and operating profit by layer, and projected capex, per draw.

    Returns ``(revenue, profit, proj_revenue, proj_profit, proj_capex)``: (n, years, layers) twice,
    (n, projected years, layers) twice and (n, projected years).
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    n, years = len(theta), len(inp.years)
    ai = _col(theta, inp.row_share) * inp.row_revenue[None, :]
    margin = np.where(inp.row_margin_col[None, :] >= 0, _col(theta, inp.row_margin_col), inp.row_margin[None, :])
    cell = inp.row_year * L + inp.row_layer
    onehot = np.zeros((len(cell), years * L))
    onehot[np.arange(len(cell)), cell] = 1.0
    present = onehot.sum(axis=0) > 0
    revenue = np.where(present, ai @ onehot, np.nan).reshape(n, years, L)
    profit = np.where(present, (ai * margin) @ onehot, np.nan).reshape(n, years, L)

    # the projection (equations: valuechain.model.profit._project)
    t = len(inp.proj_years)
    base_r, base_p = revenue[:, -1, :], profit[:, -1, :]
    k_base = inp.capex_year[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        base_m = base_p / base_r
    capex = k_base * np.cumprod(1 + _col(theta, inp.capex_growth_col), axis=1)
    demand = np.cumprod(1 + _col(theta, inp.end_user_growth_col), axis=1)
    proj_r = base_r[:, None, :] * demand[:, :, None]
    allocation = _col(theta, inp.allocation_col)
    for j, layer in enumerate(("chips", "servers")):
        i = LAYER_INDEX[layer]
        proj_r[:, :, i] = np.maximum(0.0, base_r[:, None, i] + allocation[:, j, None] * (capex - k_base))
    weight = (np.arange(1, t + 1) / t)[None, :, None]
    proj_m = (1 - weight) * base_m[:, None, :] + weight * _col(theta, inp.final_margin_col)[:, None, :]
    return revenue, profit, proj_r, proj_r * proj_m, capex


def _extended(filed: np.ndarray, growth: np.ndarray) -> np.ndarray:
    """A filed quarterly series, the same for every draw, extended by each draw's growth (draws x quarters)."""
    return extend_quarters(np.broadcast_to(filed, (len(growth), len(filed))), growth)


def evaluate(inp: Inputs, theta: np.ndarray) -> Outputs:
    """The model at every row of ``theta`` (draws x ``len(inp.keys)``), block by block (:func:`_blocks`)."""
    blocks = [_evaluate(inp, block) for block in _blocks(theta)]
    if len(blocks) == 1:
        return blocks[0]
    return Outputs(*(np.concatenate([getattr(block, f.name) for block in blocks]) for f in fields(Outputs)))


def headline_figures(inp: Inputs, theta: np.ndarray) -> dict[str, np.ndarray]:
    """The headline figures at every row of ``theta``: ``headline(inp, evaluate(inp, theta))`` without the paths.

    Block by block, with :math:`R^*` only through the quarters the figures read (the gap quarter and the
    report year's); each is the same as in the full path.
    """
    quarters = int(max([inp.gap_quarter, *inp.recovery_quarters])) + 1
    blocks = [headline(inp, _evaluate(inp, block, quarters)) for block in _blocks(theta)]
    return {key: np.concatenate([block[key] for block in blocks]) for key in blocks[0]}


def _blocks(theta: np.ndarray) -> list[np.ndarray]:
    """The rows of ``theta`` in blocks of about :data:`BLOCK`, whose arrays stay in the processor's cache
    (about twice as fast as all the rows at once).

    The blocks differ in size by at most one row, so none is a single row unless ``theta`` is: BLAS
    takes a single row's matrix product in the pool down another path, which sums in another order.
    Nothing more is promised: BLAS may sum a row differently in blocks of other sizes, so that a row's
    numbers are not guaranteed to be independent of its block. On the bundled scenarios the blocks give
    all the rows' numbers at once bit for bit (a test checks it).
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    return np.array_split(theta, max(1, -(-len(theta) // BLOCK)))


def _evaluate(inp: Inputs, theta: np.ndarray, quarters: int | None = None) -> Outputs:
    """:func:`evaluate` on one block of rows; ``quarters`` limits :math:`R^*` to the first that many
    (default: all, to the horizon year)."""
    n = len(theta)
    revenue, profit, proj_r, proj_p, capex = pool(inp, theta)

    # required revenue on capital in service, to the horizon (or the first `quarters`)
    q = len(inp.quarters) if quarters is None else quarters
    share_q = sum(_col(theta, inp.capex_ai_cols[:q, j], 0.0) * inp.capex_ai_weights[None, :q, j] for j in range(2))
    growth_q = _col(theta, inp.quarter_growth_col[:q], 0.0)
    spend = _extended(inp.capex_q[:q], growth_q) + _extended(inp.guided_q[:q], growth_q)
    cc = inp.capital_cols
    servers = theta[:, cc["servers_share"]]
    required_q = required_revenue(spend * share_q, inp.lag, np.column_stack([servers, 1 - servers]),
                                  theta[:, [cc["servers_life"], cc["buildings_life"]]], theta[:, cc["target_return"]],
                                  theta[:, cc["margin"]])
    rc = inp.requirement_cols
    sequoia = sequoia_required(inp.run_rate, theta[:, rc["gpu_share"]], theta[:, rc["gross_margin"]])
    bain = capex_to_revenue_required(inp.bain_capex, theta[:, rc["capex_to_revenue"]])
    recovery = (required_q[:, inp.recovery_quarters].mean(axis=1) if len(inp.recovery_quarters) == 4
                else np.full(n, np.nan))
    with np.errstate(divide="ignore"):
        d_over = inp.d_last / required_q[:, inp.gap_quarter]

    # labs
    steps = inp.lab_horizon
    lab_r = np.empty((n, len(inp.labs), steps + 1))
    lab_c = np.empty_like(lab_r)
    lab_year = np.empty((n, len(inp.labs)))
    for j, lab in enumerate(inp.labs):
        cols = inp.lab_cols[lab]
        c0 = 1 + theta[:, cols["loss"]]
        d = theta[:, cols["cost_decline"]]
        growth = np.concatenate([np.ones((n, 1)), np.cumprod(1 + _col(theta, cols["growth"]), axis=1)], axis=1)
        net = theta[:, cols["base_revenue"]] * (1 - theta[:, cols["partner_share"]])  # valuechain.model.inputs.lab_base
        lab_r[:, j] = net[:, None] * growth
        lab_c[:, j] = lab_r[:, j] * c0[:, None] * (1 - d[:, None]) ** np.arange(steps + 1)[None, :]
        lab_year[:, j] = inp.lab_base_year + break_even_years(c0, d, steps)
    vc = inp.valuation_cols
    needed = reverse_dcf_revenue(inp.lab_valuations[None, :], inp.years_to_target, theta[:, vc["discount_rate"], None],
                                 theta[:, vc["exit_multiple"], None]).sum(axis=1)
    # the end-user dollar (valuechain.model.profit.dollar_flow): chips receive the product of the pass-throughs
    with np.errstate(divide="ignore", invalid="ignore"):
        chips_margin = profit[:, -1, LAYER_INDEX["chips"]] / revenue[:, -1, LAYER_INDEX["chips"]]
    chips_cents = 100 * chips_margin * np.prod(theta[:, inp.pass_col], axis=1)
    return Outputs(revenue, profit, proj_r, proj_p, capex, required_q, sequoia, bain, recovery, d_over,
                   lab_r, lab_c, lab_year, needed, np.full(n, inp.ipo_total_usd_bn * inp.ipo_typical_high), chips_cents)


def headline(inp: Inputs, out: Outputs) -> dict[str, np.ndarray]:
    """The headline figures per draw, keyed as the comparison table and the sensitivity tables name them."""
    last = len(inp.years) - 1
    chips = LAYER_INDEX["chips"]
    figures = {
        "chips_profit_share": shares(out.profit[:, last])[:, chips],  # the one year's shares, not every year's
        f"chips_profit_share_{inp.proj_years[-1]}": shares(out.proj_profit[:, -1])[:, chips],
        "chips_cents_per_dollar": out.chips_cents,
        "d_over_required": out.d_over_required,
        "sequoia_required_usd_bn": out.sequoia,
        "capital_recovery_required_usd_bn": out.capital_recovery,
        "labs_revenue_needed_usd_bn": out.labs_revenue_needed,
    }
    for j, lab in enumerate(inp.labs):
        figures[f"{lab}_break_even_year"] = out.lab_break_even[:, j]
    return figures
