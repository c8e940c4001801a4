r"""What the model takes from the data for one scenario, and the parameters it consumes.

:func:`inputs` reads, once per scenario, everything :func:`valuechain.model.engine.evaluate` takes
from the data (each company's filed revenue and margin by year, the spenders' capex by quarter,
NVIDIA's run-rate, where the labs' paths start, the IPO valuations, net external AI revenue
:math:`D`) and lists every parameter the model consumes under its dotted scenario key
(``attribution.microsoft.ai_share.2025``, ``demand_gap.break_even.target_return`` …) with the
scenario's value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.dataset import views
from valuechain.dataset.capex import consistent_quarters, guided_capex, spenders_by_year
from valuechain.dataset.yearly import margin_year
from valuechain.layers import CHAIN_ORDER
from valuechain.model import downstream
from valuechain.model.capital import guided_quarters, share_knots, share_weights
from valuechain.model.companies import company_rows
from valuechain.model.required import nvidia_run_rate

LAYER_INDEX = {layer: i for i, layer in enumerate(CHAIN_ORDER)}


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
    capex_q: np.ndarray  # quarterly capex of the spenders that gave no guidance, filed quarters
    guided_q: np.ndarray  # quarterly capex of those that did: filed, then guided to the end of the guidance year
    capex_ai_cols: np.ndarray  # (quarters, 2): columns of the two AI-share knots each quarter's share lies between
    capex_ai_weights: np.ndarray  # (quarters, 2): their weights (capital.share_weights)
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
    (:func:`valuechain.model.profit.profit_pool`)."""
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


def build(scenario, ds, pool=None, down=None) -> Inputs:
    """Everything :func:`valuechain.model.engine.evaluate` needs for ``scenario`` on the dataset ``ds``.

    ``pool`` (a :class:`~valuechain.model.profit.ProfitPool`, whose company rows are reused) and
    ``down`` (a :class:`~valuechain.model.downstream.Downstream`) are computed when not given.
    Built in steps, each adding the parameters it consumes (the order of the keys is the order
    of the columns of a parameter matrix).
    """
    k = _Keys()
    companies = company_rows(scenario, ds, True)[0] if pool is None else pool.companies
    pool_part = pool_inputs(scenario, companies, spenders_by_year(ds, scenario.demand_gap.regression.capex_companies,
                                                                  range(scenario.years.start, scenario.years.end + 1),
                                                                  True), k)
    dg = scenario.demand_gap
    capex = _quarterly_capex(scenario, ds, k)
    capital_cols = _capital_columns(dg, k)
    down = down or downstream.of_scenario(scenario, ds)
    filed = capex["quarters"][:capex["filed_quarters"]]
    tested = down.d[down.d["series_present"] >= dg.primary_test.min_series]["d_usd_bn"].dropna()
    gap_q = tested.index[tested.index.isin(filed)][-1]
    report_year = pool_part.years[-1]
    requirements = _requirements(scenario, ds, k, pool_part.capex_year, report_year)
    q_d = down.d["d_usd_bn"].dropna()
    lab_cols = _lab_columns(scenario, ds, k)
    pass_col = np.array([k.add(f"layers.{layer}.pass_through", scenario.layers[layer].pass_through)
                         for layer in CHAIN_ORDER[:-1]])
    valuation = _valuation(scenario, ds, k)
    fields = {name: getattr(pool_part, name) for name in PoolInputs.__dataclass_fields__}
    fields.update(keys=tuple(k.keys), values=np.array(list(k.keys.values())))
    return Inputs(
        **fields, **capex, **requirements, **valuation, lag=dg.capital.service_lag_quarters, capital_cols=capital_cols,
        gap_quarter=int(np.searchsorted(capex["quarters"], gap_q)), d_last=float(tested.loc[gap_q]), d_quarterly=q_d,
        report_year=report_year,
        recovery_quarters=np.array([i for i, q in enumerate(filed) if q.year == report_year]),
        actual_usd_bn=float(downstream.annual_revenue(q_d).get(report_year, np.nan)),
        labs=tuple(lab_cols), lab_base_year=scenario.lab_economics.base_year,
        lab_horizon=scenario.lab_economics.horizon_years, lab_cols=lab_cols, pass_col=pass_col,
        source_ids=tuple(dict.fromkeys([*(s for row in companies["sources"] for s in row), *down.sources])),
    )


def _quarterly_capex(scenario, ds, k: _Keys) -> dict:
    """The spenders' quarterly capex, filed (each spender in every quarter or none) and guided, extended
    to the horizon year, with the columns and weights of each quarter's AI share and (past the known
    quarters) the columns of its capex growth (as :func:`valuechain.model.demand.demand_gap` builds R*)."""
    cap, proj = scenario.demand_gap.capital, scenario.projection
    wide = consistent_quarters(ds, cap.spenders, pd.Period(cap.first_quarter, freq="Q")).wide()
    guidance_year = (wide.index[-1] + 1).year
    guided = guided_quarters(wide, guided_capex(ds, wide.columns, guidance_year), guidance_year)
    horizon = max(scenario.demand_gap.primary_test.horizon_year, guidance_year + 1)
    quarters = pd.period_range(wide.index[0], pd.Period(f"{horizon}Q4", freq="Q"), freq="Q")
    filed_n = len(wide)
    knots = share_knots(cap.ai_share, cap.ai_share_before)
    knot_cols = np.array([k.add("demand_gap.capital.ai_share_before" if key == "before" else
                                f"demand_gap.capital.ai_share.{key}", value) for _, value, key in knots])
    index, weights = share_weights(quarters, knots)
    return {
        "quarters": quarters,
        "filed_quarters": filed_n,
        "capex_q": wide.drop(columns=list(guided.columns)).sum(axis=1).to_numpy(),
        "guided_q": pd.concat([wide[list(guided.columns)], guided]).sum(axis=1).to_numpy(),
        "capex_ai_cols": knot_cols[index],
        "capex_ai_weights": weights,
        "quarter_growth_col": np.array([k.per_year("projection.capex_growth", proj.capex_growth, q.year)
                                        if i >= filed_n and proj.start <= q.year <= proj.end else -1
                                        for i, q in enumerate(quarters)]),
    }


def _capital_columns(dg, k: _Keys) -> dict:
    """Columns of the asset classes, the target return and the margin before depreciation (R*)."""
    cap, be = dg.capital, dg.break_even
    return {
        "servers_share": k.add("demand_gap.capital.servers_share", cap.servers_share),
        "servers_life": k.add("demand_gap.capital.servers_life_years", cap.servers_life_years),
        "buildings_life": k.add("demand_gap.capital.buildings_life_years", cap.buildings_life_years),
        "target_return": k.add("demand_gap.break_even.target_return", be.target_return),
        "margin": k.add("demand_gap.break_even.margin_before_depreciation", be.margin_before_depreciation),
    }


def _requirements(scenario, ds, k: _Keys, capex_year: np.ndarray, report_year: int) -> dict:
    """Sequoia's and Bain's inputs for the report year, and the columns of their ratios."""
    dg = scenario.demand_gap
    dc = views.quarterly(ds, "data_center_revenue", ["nvidia"])["nvidia"].dropna()
    return {
        "run_rate": dg.sequoia.run_rate_usd_bn if dg.sequoia.run_rate_usd_bn is not None else nvidia_run_rate(dc, report_year),
        "bain_capex": dg.bain.capex_usd_bn if dg.bain.capex_usd_bn is not None else float(capex_year[-1]),
        "requirement_cols": {
            "gpu_share": k.add("demand_gap.sequoia.gpu_share_of_tco", dg.sequoia.gpu_share_of_tco),
            "gross_margin": k.add("demand_gap.sequoia.end_user_gross_margin", dg.sequoia.end_user_gross_margin),
            "capex_to_revenue": k.add("demand_gap.bain.capex_to_revenue", dg.bain.capex_to_revenue),
        },
    }


@dataclass(frozen=True)
class LabStart:
    """Where a lab's path starts: its latest disclosed revenue and the start year's revenue made from it."""

    lab: str
    kind: str  # run_rate or quarterly_revenue
    as_of: pd.Timestamp  # the date the annualized figure stands for (a quarter: its midpoint)
    reported_usd_bn: float  # annualized, on the lab's own revenue basis
    basis: str  # the disclosure's basis (run_rate, claim, reported ...)
    source_id: str
    year_fraction: float  # f: share of the start year elapsed at ``as_of``
    growth: float  # g: the scenario's revenue growth in the start year
    partner_share: float  # phi: share of reported revenue that cloud partners keep (0: reported net)
    start_year_reported_usd_bn: float  # R_t0 on the lab's own basis
    start_year_revenue_usd_bn: float  # R_t0 (1 - phi): on the common, net basis


def start_year_revenue(run_rate_usd_bn, year_fraction, growth):
    r"""A calendar year's revenue from one annualized point inside it, growing at the year's rate.

    .. math::

        R_{t_0} = \int_0^1 RR_\tau\, e^{\rho (s - f)}\, ds = RR_\tau\, e^{-\rho f}\,\frac{e^{\rho} - 1}{\rho},
        \qquad \rho = \ln(1 + g),

    where :math:`RR_\tau` is the annualized revenue at the date :math:`\tau`, a fraction :math:`f` of
    the year :math:`t_0` in, and :math:`g` the year's growth, run-rate growing continuously through the
    year. With :math:`g = 0`, :math:`R_{t_0} = RR_\tau`; a point at mid-year (:math:`f = 1/2`) gives
    :math:`RR_\tau \cdot 2\sinh(\rho/2)/\rho`, a little above :math:`RR_\tau`.
    """
    rho = np.log1p(np.asarray(growth, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(np.abs(rho) < 1e-12, 1.0, np.exp(-rho * year_fraction) * np.expm1(rho) / rho)
    out = np.asarray(run_rate_usd_bn, dtype=float) * factor
    return float(out) if out.ndim == 0 else out


def net_of_partners(revenue_usd_bn, loss_per_revenue_dollar, partner_share):
    r"""Revenue and loss per revenue dollar moved from gross to net of the cloud partners' share.

    .. math::

        R^{net} = R^{gross}(1 - \phi), \qquad \ell^{net} = \frac{\ell^{gross}}{1 - \phi},

    with :math:`\phi` the share of reported (gross) revenue the cloud partners keep on the lab's
    models they resell. The partners' share is a cost under gross accounting and absent from both
    revenue and cost under net accounting, so the loss in dollars, :math:`\ell R`, is the same on both.
    """
    keep = 1 - partner_share
    return revenue_usd_bn * keep, loss_per_revenue_dollar / keep


def aged_loss(loss_per_revenue_dollar, cost_decline, years):
    r"""A loss per revenue dollar measured ``years`` before the start year, carried to it on the path's
    own cost decline, so that a start later than the measurement does not delay break-even by itself.

    .. math::

        c_{t_0} = c_{t_m} (1 - d)^{t_0 - t_m}, \qquad \ell_{t_0} = c_{t_0} - 1,

    with :math:`c = 1 + \ell` the cost per revenue dollar, :math:`t_m` the year of the reported loss and
    :math:`d` the yearly decline of :func:`valuechain.model.labs.break_even_path`.
    """
    return (1 + loss_per_revenue_dollar) * (1 - cost_decline) ** years - 1


def latest_lab_revenue(ds, lab: str, year: int):
    """The lab's latest annualized revenue disclosed for a date no later than the end of ``year``, from
    ``financials.csv``: a run-rate point, or a calendar quarter's revenue x 4 dated at the quarter's
    midpoint (the same company figures, on the same gross or net basis, as the lab's series in D).
    A row with ``when``, ``value`` (USD bn a year), ``kind``, ``basis``, ``source_id``; None if none."""
    fin = ds.financials[ds.financials["company_id"] == lab]
    points = views.points(ds, "revenue_run_rate", [lab])
    quarters = fin[(fin["metric"] == "revenue") & (fin["period_type"] == "quarter")]
    ends = pd.to_datetime(quarters["period_end"])
    starts = ends.dt.to_period("Q").dt.start_time
    rows = pd.concat([
        pd.DataFrame({"when": pd.to_datetime(points["period_end"]), "value": points["value_usd_bn"].astype(float),
                      "kind": "run_rate", "basis": points["basis"], "source_id": points["source_id"]}),
        pd.DataFrame({"when": (starts + (ends - starts) / 2).dt.normalize(),
                      "value": 4 * quarters["value_usd_bn"].astype(float), "kind": "quarterly_revenue",
                      "basis": quarters["basis"], "source_id": quarters["source_id"]}),
    ], ignore_index=True)
    rows = rows[rows["when"] <= pd.Timestamp(f"{year}-12-31")]
    return None if rows.empty else rows.sort_values("when", kind="stable").iloc[-1]


def lab_start(lab_economics, ds, lab: str) -> LabStart | None:
    """Where ``lab``'s path starts (:class:`LabStart`), or None when the scenario gives the base revenue."""
    le, spec = lab_economics, lab_economics.paths[lab]
    if spec.base_revenue_usd_bn is not None:
        return None
    row = latest_lab_revenue(ds, lab, le.base_year)
    if row is None or row["when"].year != le.base_year:
        found = "none" if row is None else f"the latest is dated {row['when']:%Y-%m-%d}"
        raise ValueError(f"no {le.base_year} revenue for {lab} in financials.csv ({found}); set lab_economics.base_year "
                         f"to the year of the latest disclosure or give lab_economics.paths.{lab}.base_revenue_usd_bn")
    growth = spec.revenue_growth
    g = growth.get(le.base_year, growth[min(growth)]) if isinstance(growth, dict) else growth
    when = row["when"]
    f = (when.day_of_year - 0.5) / (366 if when.is_leap_year else 365)
    reported = start_year_revenue(row["value"], f, g)
    return LabStart(lab, row["kind"], when, float(row["value"]), row["basis"], row["source_id"],
                    f, float(g), spec.cloud_partner_share, reported, reported * (1 - spec.cloud_partner_share))


def reported_start_revenue(lab_economics, ds, lab: str) -> float:
    """A lab's start-year revenue on its own (reported) basis: the scenario's ``base_revenue_usd_bn``
    where it gives it, else :func:`start_year_revenue` from its latest disclosure (:func:`lab_start`)."""
    start = lab_start(lab_economics, ds, lab)
    return lab_economics.paths[lab].base_revenue_usd_bn if start is None else start.start_year_reported_usd_bn


def lab_base(lab_economics, ds, lab: str) -> tuple[float, float]:
    """A lab's start-year revenue (USD bn) and loss per dollar of revenue, both on the common revenue
    basis (net of the cloud partners' share, :func:`net_of_partners`).

    Revenue: :math:`R_{t_0}(1 - \\phi)`, with :math:`R_{t_0}` on the lab's own basis the scenario's
    ``base_revenue_usd_bn`` where it gives it, else :func:`start_year_revenue` from the lab's latest
    disclosure dated in ``lab_economics.base_year`` (:func:`lab_start`), and :math:`\\phi` its
    ``cloud_partner_share``. Loss: the scenario's where it gives it (per dollar of net revenue, in the
    start year), else the latest reported operating (or net) loss over revenue up to the base year,
    moved to the net basis (:func:`net_of_partners`) and carried to the start year at the scenario's
    cost decline (:func:`aged_loss`).

    Raises ValueError naming the key to set when the scenario gives no figure and the data has none:
    a missing base would read as "no break-even", which the data do not say.
    """
    share = lab_economics.paths[lab].cloud_partner_share
    return reported_start_revenue(lab_economics, ds, lab) * (1 - share), start_loss(lab_economics, ds, lab)


def start_loss(lab_economics, ds, lab: str) -> float:
    """A lab's loss per dollar of net revenue in the start year (:func:`lab_base` says how it is taken)."""
    le, spec = lab_economics, lab_economics.paths[lab]
    if spec.loss_per_revenue_dollar is not None:
        return spec.loss_per_revenue_dollar
    found = next(((year, m) for year in range(le.base_year, le.base_year - 4, -1)
                  if (m := margin_year(ds, lab, ["operating_loss", "net_loss"], "revenue", year)) is not None), None)
    if found is None:
        raise ValueError(f"no reported loss for {lab} in {le.base_year - 3}-{le.base_year}; "
                         f"give lab_economics.paths.{lab}.loss_per_revenue_dollar")
    year, margin = found
    loss = net_of_partners(1.0, -margin.value, spec.cloud_partner_share)[1]
    return aged_loss(loss, spec.cost_decline, le.base_year - year)


def _lab_columns(scenario, ds, k: _Keys) -> dict:
    """Per lab: the columns of its start-year revenue on its own basis, its cloud partners' share (the
    core takes revenue net of it, :func:`lab_base`), its loss per net revenue dollar, its cost decline
    and its revenue growth per projected year."""
    le = scenario.lab_economics
    lab_cols = {}
    for lab, spec in le.paths.items():
        prefix = f"lab_economics.paths.{lab}"
        lab_cols[lab] = {
            "base_revenue": k.add(f"{prefix}.base_revenue_usd_bn", reported_start_revenue(le, ds, lab)),
            "partner_share": k.add(f"{prefix}.cloud_partner_share", spec.cloud_partner_share),
            "loss": k.add(f"{prefix}.loss_per_revenue_dollar", start_loss(le, ds, lab)),
            "cost_decline": k.add(f"{prefix}.cost_decline", spec.cost_decline),
            "growth": np.array([k.per_year(f"{prefix}.revenue_growth", spec.revenue_growth, le.base_year + s, carry_last=True)
                                for s in range(1, le.horizon_years + 1)], dtype=int),
        }
    return lab_cols


def _valuation(scenario, ds, k: _Keys) -> dict:
    """The IPO valuations, the labs in the reverse DCF, and the columns of its rate and multiple."""
    val = scenario.valuation
    valuation_cols = {"discount_rate": k.add("valuation.discount_rate", val.discount_rate),
                      "exit_multiple": k.add("valuation.exit_multiple", val.exit_multiple)}
    valuations = {company: ds.fact(fact_id) for company, fact_id in val.ipo_valuation_facts.items()}
    reverse_dcf_labs = [lab for lab in ("openai", "anthropic") if lab in valuations]
    return {
        "valuation_cols": valuation_cols,
        "lab_valuations": np.array([valuations[lab] for lab in reverse_dcf_labs]),
        "years_to_target": val.target_year - val.valuation_year, "target_year": val.target_year,
        "ipo_total_usd_bn": float(sum(valuations.values())), "ipo_typical_high": float(ds.fact("ipo_float_typical_high")),
    }
