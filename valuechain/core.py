r"""The model core: one pure, vectorized function from scenario parameters to the headline results.

:func:`inputs` reads, once per scenario, everything the model takes from the data (each company's
filed revenue and margin by year, the spenders' capex by quarter, NVIDIA's run-rate, the labs'
base-year position, the IPO valuations, net external AI revenue :math:`D`) and lists every
parameter the model consumes under its dotted scenario key (``attribution.microsoft.ai_share.2025``,
``demand_gap.break_even.target_return`` …) with the scenario's value.

:func:`evaluate` maps a parameter matrix :math:`\Theta` (one row per draw, one column per key)
to arrays with one leading axis of draws:

- the profit pool: AI revenue and operating profit by layer and year, historical
  (:math:`R_L = \sum_c s_c R_c`, :math:`P_L = \sum_c m_c s_c R_c`) and projected
  (:func:`valuechain.profit._project` states the projection's equations), and profit shares;
- required revenue by method for the last historical year (Sequoia, Bain, capital recovery on
  the capital in service, :mod:`valuechain.capital`), and the gap :math:`D / R^*` in the last
  quarter the demand-gap test uses;
- the labs' revenue and cost paths and break-even years (:func:`valuechain.labs.break_even_path`);
- the IPO draw and the lab revenue the valuations need (:mod:`valuechain.valuation`).

The profit model (:func:`valuechain.profit.profit_pool`) evaluates it at the scenario's values, and
the uncertainty layer (:mod:`valuechain.uncertainty`) at draws of the priors: one implementation.
The regressions stay outside. Nothing here loops over draws.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.params import CHAIN_ORDER
from valuechain.valuation import reverse_dcf_revenue

L = len(CHAIN_ORDER)
LAYER_INDEX = {layer: i for i, layer in enumerate(CHAIN_ORDER)}


# ----------------------------------------------------------------------------- vectorized closed forms


def capital_recovery_factor(rate, life):
    r""":math:`CRF(r, n) = r (1 + r)^n / ((1 + r)^n - 1)`, and :math:`1/n` at :math:`r = 0`; arrays broadcast."""
    rate, life = np.asarray(rate, dtype=float), np.asarray(life, dtype=float)
    growth = (1 + rate) ** life
    with np.errstate(divide="ignore", invalid="ignore"):
        crf = rate * growth / (growth - 1)
    return np.where(rate == 0, 1.0 / life, crf)


def in_service(ai_capex: np.ndarray, lag: int, life_quarters: np.ndarray) -> np.ndarray:
    r"""Capital in service :math:`\sum_{j=L}^{L+q-1} A_{t-j}` for draws (rows) of a quarterly series.

    ``ai_capex`` is (draws, quarters), zeros where nothing was spent; ``life_quarters`` (draws,)
    integers. Computed from cumulative sums, so a life can differ by draw without a loop.
    """
    n, t = ai_capex.shape
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(ai_capex, axis=1)], axis=1)  # cum[:, k] = sum of the first k
    upper = np.clip(np.arange(t)[None, :] - lag + 1, 0, t)  # sum up to quarter t - lag inclusive
    lower = np.clip(upper - life_quarters.astype(int)[:, None], 0, t)
    rows = np.arange(n)[:, None]
    return cum[rows, upper] - cum[rows, lower]


def required_revenue(ai_capex, lag, servers_share, servers_life, buildings_life, rate, margin):
    r"""Annualized :math:`R^*_t = \sum_c w_c K_{c,t} CRF(r, n_c) / m` by draw and quarter (see :mod:`valuechain.capital`)."""
    out = 0.0
    for share, life in ((servers_share, servers_life), (1 - servers_share, buildings_life)):
        base = in_service(ai_capex, lag, np.rint(4 * life))
        out = out + share[:, None] * base * capital_recovery_factor(rate, life)[:, None]
    return out / margin[:, None]


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


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class PoolInputs:
    """The profit pool's part of :class:`Inputs`: company-year rows and the projection's drivers."""

    scenario: str
    keys: tuple[str, ...]  # every parameter the core consumes, as a dotted scenario key
    values: np.ndarray  # the scenario's value of each key
    years: tuple[int, ...]  # historical calendar years
    row_layer: np.ndarray  # company-year rows of the profit pool: layer index
    row_year: np.ndarray  # year index
    row_revenue: np.ndarray  # reported revenue line, USD bn
    row_share: np.ndarray  # column of the row's AI share in the parameters
    row_margin: np.ndarray  # filed margin (NaN where assumed)
    row_margin_col: np.ndarray  # column of the assumed margin (-1 where filed)
    capex_year: np.ndarray  # the projection's spenders' capex by historical year (NaN where incomplete)
    proj_years: tuple[int, ...]
    capex_growth_col: np.ndarray  # column per projected year
    end_user_growth_col: np.ndarray
    final_margin_col: np.ndarray  # column per layer (CHAIN_ORDER)
    allocation_col: np.ndarray  # columns of capex_allocation.chips and .servers

    def column(self, key: str) -> int:
        return self.keys.index(key)

    def theta(self, n: int = 1) -> np.ndarray:
        """The scenario's values repeated for ``n`` draws."""
        return np.repeat(self.values[None, :], n, axis=0)


@dataclass(frozen=True)
class Inputs(PoolInputs):
    """What the model takes from the data for one scenario, and the parameters it consumes."""

    quarters: pd.PeriodIndex  # capex quarters, extended to the horizon year
    filed_quarters: int  # how many of them are filed
    capex_q: np.ndarray  # spenders' quarterly capex (0 where none filed)
    capex_ai_col: np.ndarray  # column of the AI share of each quarter's year (-1: before the first, share 0)
    quarter_growth_col: np.ndarray  # column of capex growth for projected quarters (-1: none)
    lag: int
    capital_cols: dict  # servers_share, servers_life, buildings_life, target_return, margin_before_depreciation
    gap_quarter: int  # index of the last quarter the demand-gap test uses
    d_last: float  # D in that quarter, USD bn annualized
    d_quarterly: pd.Series  # D by quarter (central), for charts
    report_year: int
    run_rate: float  # NVIDIA run-rate for the report year, or the scenario's
    requirement_cols: dict  # gpu_share_of_tco, end_user_gross_margin, capex_to_revenue
    bain_capex: float
    recovery_quarters: np.ndarray  # quarter indices of the report year (capital recovery = their mean)
    actual_usd_bn: float  # D earned in the report year
    labs: tuple[str, ...]
    lab_base_year: int
    lab_horizon: int
    lab_cols: dict  # lab -> dict(base_revenue, loss, cost_decline, growth=array of columns per year)
    valuation_cols: dict  # discount_rate, exit_multiple
    lab_valuations: np.ndarray  # USD bn, the labs in the reverse DCF
    years_to_target: int
    target_year: int
    ipo_total_usd_bn: float
    ipo_typical_high: float
    pass_col: np.ndarray  # columns of pass_through for every layer but chips (CHAIN_ORDER)
    source_ids: tuple[str, ...]  # the sources of every filed figure used


class _Keys:
    """Collects the parameters the core consumes, in order, with their values."""

    def __init__(self):
        self.keys: dict[str, float] = {}

    def add(self, key: str, value) -> int:
        if key not in self.keys:
            self.keys[key] = float(value)
        return list(self.keys).index(key)

    def per_year(self, prefix: str, spec, year: int, carry_last: bool = False) -> int:
        """Column of a value that is either one number or a mapping by year."""
        if isinstance(spec, dict):
            if year in spec:
                return self.add(f"{prefix}.{year}", spec[year])
            if carry_last and spec:
                last = max(spec)
                return self.add(f"{prefix}.{last}", spec[last])
            return -1
        return self.add(prefix, spec)


def pool_inputs(scenario, companies: pd.DataFrame, capex: pd.DataFrame, keys: _Keys | None = None) -> PoolInputs:
    """The profit pool's inputs from its company-year rows and the spenders' capex by year
    (:func:`valuechain.profit.profit_pool`)."""
    k = keys or _Keys()
    years = tuple(range(scenario.years.start, scenario.years.end + 1))
    share_col, margin_col, margin_filed = [], [], []
    for row in companies.itertuples():
        attr = scenario.attribution[row.company_id]
        share_col.append(k.per_year(f"attribution.{row.company_id}.ai_share", attr.ai_share, row.year))
        if row.margin_basis == "assumption":
            if attr.margin_in(row.year) is not None:
                col = k.per_year(f"attribution.{row.company_id}.margin", attr.margin, row.year)
            else:
                col = k.add(f"layers.{row.layer}.margin", scenario.layers[row.layer].margin)
            margin_col.append(col)
            margin_filed.append(np.nan)
        else:
            margin_col.append(-1)
            margin_filed.append(row.operating_margin)
    proj = scenario.projection
    proj_years = tuple(range(proj.start, proj.end + 1))
    capex_growth = np.array([k.per_year("projection.capex_growth", proj.capex_growth, y) for y in proj_years])
    end_user = np.array([k.per_year("projection.end_user_growth", proj.end_user_growth, y) for y in proj_years])
    final = np.array([k.add(f"projection.final_margins.{layer}", proj.final_margins[layer]) for layer in CHAIN_ORDER])
    allocation = np.array([k.add(f"projection.capex_allocation.{layer}", proj.capex_allocation[layer])
                           for layer in ("chips", "servers")])
    spenders = scenario.demand_gap.regression.capex_companies
    totals = capex.groupby("year").agg(n=("company_id", "nunique"), v=("capex_usd_bn", "sum"))
    capex_year = np.array([totals.loc[y, "v"] if y in totals.index and totals.loc[y, "n"] == len(spenders) else np.nan
                           for y in years])
    empty = not len(companies)
    return PoolInputs(
        scenario=scenario.name, keys=tuple(k.keys), values=np.array(list(k.keys.values())), years=years,
        row_layer=np.zeros(0, int) if empty else np.array([LAYER_INDEX[x] for x in companies["layer"]], dtype=int),
        row_year=np.zeros(0, int) if empty else np.array([years.index(y) for y in companies["year"]], dtype=int),
        row_revenue=np.zeros(0) if empty else companies["revenue_usd_bn"].to_numpy(float),
        row_share=np.array(share_col, dtype=int), row_margin=np.array(margin_filed, dtype=float),
        row_margin_col=np.array(margin_col, dtype=int), capex_year=capex_year, proj_years=proj_years,
        capex_growth_col=capex_growth, end_user_growth_col=end_user, final_margin_col=final, allocation_col=allocation)


def inputs(scenario, ds, pool=None, downstream=None) -> Inputs:
    """Everything :func:`evaluate` needs for ``scenario`` on the dataset ``ds``.

    ``pool`` (a :class:`~valuechain.profit.ProfitPool`, whose company rows are reused) and
    ``downstream`` (a :class:`~valuechain.disclosures.Downstream`) are computed when not given.
    """
    from valuechain import capital, disclosures, views
    from valuechain.profit import _capex, _company_rows
    from valuechain.demand import _nvidia_run_rate
    from valuechain.yearly import company_year, margin_year

    k = _Keys()
    companies = _company_rows(scenario, ds, True)[0] if pool is None else pool.companies
    pool_part = pool_inputs(scenario, companies, _capex(ds, scenario, True), k)
    years, proj, capex_year = pool_part.years, scenario.projection, pool_part.capex_year
    dg = scenario.demand_gap
    cap, be = dg.capital, dg.break_even
    wide = capital.quarterly_wide(capital.spender_capex(ds, cap.spenders, "quarter"))
    horizon = dg.primary_test.horizon_year
    filed = capital.ai_capex(wide, cap.ai_share).dropna()
    quarters = pd.period_range(wide.index[0], pd.Period(f"{max(horizon, filed.index[-1].year)}Q4", freq="Q"), freq="Q")
    filed_n = int(np.searchsorted(quarters, filed.index[-1]) + 1)
    capex_q = wide.sum(axis=1, min_count=1).reindex(quarters[:filed_n]).fillna(0.0).to_numpy()
    first_share = min(cap.ai_share)
    capex_ai_col = np.array([-1 if q.year < first_share else
                             k.per_year("demand_gap.capital.ai_share", cap.ai_share, q.year, carry_last=True)
                             for q in quarters])
    quarter_growth = np.array([k.per_year("projection.capex_growth", proj.capex_growth, q.year)
                               if i >= filed_n and proj.start <= q.year <= proj.end else -1
                               for i, q in enumerate(quarters)])
    capital_cols = {
        "servers_share": k.add("demand_gap.capital.servers_share", cap.servers_share),
        "servers_life": k.add("demand_gap.capital.servers_life_years", cap.servers_life_years),
        "buildings_life": k.add("demand_gap.capital.buildings_life_years", cap.buildings_life_years),
        "target_return": k.add("demand_gap.break_even.target_return", be.target_return),
        "margin": k.add("demand_gap.break_even.margin_before_depreciation", be.margin_before_depreciation),
    }
    down = dg.downstream
    d = downstream or disclosures.downstream(ds, down.start_quarter, down.level_sd, down.slope_sd, down.band)
    tested = d.d[d.d["series_present"] >= dg.primary_test.min_series]["d_usd_bn"].dropna()
    gap_q = tested.index[tested.index.isin(quarters[:filed_n])][-1]

    report_year = years[-1]
    dc = views.quarterly(ds, "data_center_revenue", ["nvidia"])["nvidia"].dropna()
    run_rate = dg.sequoia.run_rate_usd_bn if dg.sequoia.run_rate_usd_bn is not None else _nvidia_run_rate(dc, report_year)
    bain_capex = dg.bain.capex_usd_bn if dg.bain.capex_usd_bn is not None else float(capex_year[-1])
    requirement_cols = {
        "gpu_share": k.add("demand_gap.sequoia.gpu_share_of_tco", dg.sequoia.gpu_share_of_tco),
        "gross_margin": k.add("demand_gap.sequoia.end_user_gross_margin", dg.sequoia.end_user_gross_margin),
        "capex_to_revenue": k.add("demand_gap.bain.capex_to_revenue", dg.bain.capex_to_revenue),
    }
    recovery = np.array([i for i, q in enumerate(quarters[:filed_n]) if q.year == report_year])
    q_d = d.d["d_usd_bn"].dropna()
    actual = float(disclosures.annual_revenue(q_d).get(report_year, np.nan))

    le = scenario.lab_economics
    lab_cols = {}
    for lab, spec in le.paths.items():
        revenue = spec.base_revenue_usd_bn
        if revenue is None:
            found = company_year(ds, lab, "revenue", le.base_year) or company_year(ds, lab, "revenue_run_rate", le.base_year)
            revenue = found.value if found is not None else np.nan
        loss = spec.loss_per_revenue_dollar
        if loss is None:
            margin = margin_year(ds, lab, ["operating_loss", "net_loss"], "revenue", le.base_year)
            loss = -margin.value if margin is not None else np.nan
        prefix = f"lab_economics.paths.{lab}"
        lab_cols[lab] = {
            "base_revenue": k.add(f"{prefix}.base_revenue_usd_bn", revenue),
            "loss": k.add(f"{prefix}.loss_per_revenue_dollar", loss),
            "cost_decline": k.add(f"{prefix}.cost_decline", spec.cost_decline),
            "growth": np.array([k.per_year(f"{prefix}.revenue_growth", spec.revenue_growth, le.base_year + s, carry_last=True)
                                for s in range(1, le.horizon_years + 1)], dtype=int),
        }
    pass_col = np.array([k.add(f"layers.{layer}.pass_through", scenario.layers[layer].pass_through)
                         for layer in CHAIN_ORDER[:-1]])
    val = scenario.valuation
    valuation_cols = {"discount_rate": k.add("valuation.discount_rate", val.discount_rate),
                      "exit_multiple": k.add("valuation.exit_multiple", val.exit_multiple)}
    valuations = {company: ds.fact(fact_id) for company, fact_id in val.ipo_valuation_facts.items()}
    reverse_dcf_labs = [lab for lab in ("openai", "anthropic") if lab in valuations]
    fields = {name: getattr(pool_part, name) for name in PoolInputs.__dataclass_fields__}
    fields.update(keys=tuple(k.keys), values=np.array(list(k.keys.values())))
    return Inputs(
        **fields, quarters=quarters, filed_quarters=filed_n, capex_q=capex_q, capex_ai_col=capex_ai_col,
        quarter_growth_col=quarter_growth, lag=cap.service_lag_quarters, capital_cols=capital_cols,
        gap_quarter=int(np.searchsorted(quarters, gap_q)), d_last=float(tested.loc[gap_q]), d_quarterly=q_d,
        report_year=report_year, run_rate=run_rate, requirement_cols=requirement_cols, bain_capex=bain_capex,
        recovery_quarters=recovery, actual_usd_bn=actual, labs=tuple(lab_cols), lab_base_year=le.base_year,
        lab_horizon=le.horizon_years, lab_cols=lab_cols, valuation_cols=valuation_cols,
        lab_valuations=np.array([valuations[lab] for lab in reverse_dcf_labs]),
        years_to_target=val.target_year - val.valuation_year, target_year=val.target_year,
        ipo_total_usd_bn=float(sum(valuations.values())), ipo_typical_high=float(ds.fact("ipo_float_typical_high")),
        pass_col=pass_col,
        source_ids=tuple(dict.fromkeys([*(s for row in companies["sources"] for s in row), *d.sources])),
    )


# ----------------------------------------------------------------------------- the core


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
    out = theta[:, np.maximum(cols, 0)]
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

    # the projection (equations: valuechain.profit._project)
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


def evaluate(inp: Inputs, theta: np.ndarray) -> Outputs:
    """The model at every row of ``theta`` (draws x ``len(inp.keys)``)."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    n = len(theta)
    revenue, profit, proj_r, proj_p, capex = pool(inp, theta)

    # required revenue on capital in service, to the horizon
    q = len(inp.quarters)
    share_q = _col(theta, inp.capex_ai_col, 0.0)
    spend = np.zeros((n, q))
    spend[:, :inp.filed_quarters] = inp.capex_q[None, :]
    growth_q = _col(theta, inp.quarter_growth_col, 0.0)
    for i in range(inp.filed_quarters, q):  # a quarter is the same quarter a year earlier, grown
        spend[:, i] = spend[:, i - 4] * (1 + growth_q[:, i])
    cc = inp.capital_cols
    required_q = required_revenue(spend * share_q, inp.lag, theta[:, cc["servers_share"]], theta[:, cc["servers_life"]],
                                  theta[:, cc["buildings_life"]], theta[:, cc["target_return"]], theta[:, cc["margin"]])
    rc = inp.requirement_cols
    sequoia = inp.run_rate / theta[:, rc["gpu_share"]] / (1 - theta[:, rc["gross_margin"]])
    bain = inp.bain_capex / theta[:, rc["capex_to_revenue"]]
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
        lab_r[:, j] = theta[:, cols["base_revenue"], None] * growth
        lab_c[:, j] = lab_r[:, j] * c0[:, None] * (1 - d[:, None]) ** np.arange(steps + 1)[None, :]
        lab_year[:, j] = inp.lab_base_year + break_even_years(c0, d, steps)
    vc = inp.valuation_cols
    needed = reverse_dcf_revenue(inp.lab_valuations[None, :], inp.years_to_target, theta[:, vc["discount_rate"], None],
                                 theta[:, vc["exit_multiple"], None]).sum(axis=1)
    # the end-user dollar (valuechain.profit.dollar_flow): chips receive the product of the pass-throughs
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
        "chips_profit_share": out.profit_share[:, last, chips],
        f"chips_profit_share_{inp.proj_years[-1]}": out.proj_profit_share[:, -1, chips],
        "chips_cents_per_dollar": out.chips_cents,
        "d_over_required": out.d_over_required,
        "sequoia_required_usd_bn": out.sequoia,
        "capital_recovery_required_usd_bn": out.capital_recovery,
        "labs_revenue_needed_usd_bn": out.labs_revenue_needed,
    }
    for j, lab in enumerate(inp.labs):
        figures[f"{lab}_break_even_year"] = out.lab_break_even[:, j]
    return figures
