"""Profit capture across the AI value chain.

For each year, each layer's AI revenue :math:`R_L` and operating profit :math:`P_L` are summed
over its companies, using the scenario's attribution (AI share of a reported revenue line, and a
margin from the data or an assumption):

.. math::

    R_L = \\sum_{c \\in L} s_c R_c, \\qquad P_L = \\sum_{c \\in L} m_c s_c R_c,
    \\qquad \\text{margin}_L = P_L / R_L,

    \\text{revenue share}_L = R_L / \\sum_K R_K, \\qquad \\text{profit share}_L = P_L / \\sum_K P_K .

Shares are of the chain's net totals, so they sum to 1; a losing layer has a negative profit share.

The chain runs downstream to upstream: apps -> labs -> cloud -> servers -> chips. A layer pays
the share :math:`p_L` (``pass_through``) of its revenue to the next layer upstream. Of one dollar
of end-user spending entering at the top, layer :math:`L` receives
:math:`d_L = \\prod_{K \\text{ downstream of } L} p_K`, keeps :math:`m_L d_L` as profit (a loss when
negative), passes :math:`p_L d_L` upstream and pays :math:`(1 - p_L - m_L) d_L` to everyone outside
the chain (staff, power, buildings, and the chips layer's foundry and memory suppliers).

Value added is revenue less purchases from the layer upstream, :math:`VA_L = R_L (1 - p_L)`. In a
closed chain (each layer's revenue is what the layer below pays it) value added telescopes to
end-user spend: :math:`\\sum_L VA_L = E` when the top layer takes :math:`E` and :math:`p_{chips} = 0`.

The latest twelve months
------------------------
When the scenario says ``years.latest: ttm``, the same rows are also built for the trailing
twelve months to a calendar quarter (``years.ttm_end``, by default the latest quarter at least
half the model's companies have filed) and kept apart in :attr:`ProfitPool.ttm`, so the
calendar-year tables do not change. A company's twelve-month revenue is the sum of its four filed
calendar quarters where it has them (:func:`valuechain.dataset.yearly.company_ttm` gives the order of
fallbacks); its AI share and any assumed margin are the mean, over the four quarters, of the
scenario's values for the calendar year each quarter lies in (a per-year mapping carries its
latest earlier year forward, and says so).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from valuechain.dataset.capex import spenders_by_year
from valuechain.dataset.load import Dataset, load_dataset
from valuechain.model import calculations, engine
from valuechain.model.companies import company_rows
from valuechain.model.inputs import pool_inputs
from valuechain.model.results import Headline, rounded
from valuechain.exceptions import ParameterError
from valuechain.layers import CHAIN_ORDER
from valuechain.scenario.schema import Scenario
from valuechain.dataset.yearly import company_ttm, ttm_label

LAYER_COLUMNS = ["year", "layer", "kind", "ai_revenue_usd_bn", "operating_profit_usd_bn", "operating_margin",
                 "revenue_share", "profit_share", "capex_usd_bn"]


# ----------------------------------------------------------------------------- closed forms


def layer_table(revenue: pd.Series, profit: pd.Series) -> pd.DataFrame:
    """Margins and shares from per-layer revenue and operating profit (indexed by layer)."""
    revenue = revenue.astype(float)
    profit = profit.reindex(revenue.index).astype(float)
    total_r, total_p = revenue.sum(), profit.sum()
    return pd.DataFrame({
        "ai_revenue_usd_bn": revenue,
        "operating_profit_usd_bn": profit,
        "operating_margin": profit / revenue.where(revenue != 0),
        "revenue_share": revenue / total_r if total_r else np.nan,
        "profit_share": profit / total_p if total_p else np.nan,
    })


def dollar_flow(pass_through: dict, margins: dict) -> pd.DataFrame:
    """Cents of one end-user dollar that each layer receives, keeps, loses and passes upstream.

    Columns: ``cents_in`` (:math:`100 d_L`), ``profit_cents`` (positive part of :math:`100 m_L d_L`),
    ``loss_cents`` (negative part, as a positive number), ``passed_upstream_cents``
    (:math:`100 p_L d_L`) and ``outside_costs_cents`` (:math:`100 (1 - p_L - m_L) d_L`).
    """
    rows, d = [], 1.0
    for layer in CHAIN_ORDER:
        p, m = float(pass_through[layer]), float(margins[layer])
        profit = m * d
        rows.append({"layer": layer, "cents_in": 100 * d, "profit_cents": 100 * max(profit, 0.0),
                     "loss_cents": 100 * max(-profit, 0.0), "passed_upstream_cents": 100 * p * d,
                     "outside_costs_cents": 100 * (1 - p - m) * d})
        d *= p
    return pd.DataFrame(rows).set_index("layer")


def value_added(revenue: pd.Series, pass_through: dict) -> pd.DataFrame:
    """Revenue, purchases from the layer upstream (:math:`p_L R_L`) and value added per layer."""
    revenue = revenue.reindex(list(CHAIN_ORDER)).astype(float)
    purchases = revenue * pd.Series(pass_through).reindex(revenue.index).astype(float)
    return pd.DataFrame({"revenue_usd_bn": revenue, "purchases_from_upstream_usd_bn": purchases,
                         "value_added_usd_bn": revenue - purchases})


def required_end_user_spend(chips_revenue: float, pass_through: dict) -> float:
    """End-user spend a closed chain needs to pay the chips layer its revenue: :math:`R_{chips} / d_{chips}`."""
    d = float(np.prod([pass_through[layer] for layer in CHAIN_ORDER[:-1]]))
    return chips_revenue / d if d > 0 else np.inf


# ----------------------------------------------------------------------------- the model on data


@dataclass(frozen=True)
class ProfitPool:
    """Results of :func:`profit_pool`: tidy frames that notebooks and tests use directly."""

    scenario: Scenario
    companies: pd.DataFrame  # one row per year x company used: revenue, AI share, margin, methods
    excluded: pd.DataFrame  # year x company left out, and why
    layers: pd.DataFrame  # year x layer: AI revenue, profit, margin, shares (historical and projection)
    dollar_flow: pd.DataFrame  # year x layer: the $1 flow at that year's margins
    value_added: pd.DataFrame  # year x layer: revenue, purchases from upstream, value added
    capex: pd.DataFrame  # year x spender: annual capex used to drive the projection
    sources: tuple[str, ...] = field(default=())
    ttm: "LatestTwelveMonths | None" = None  # the trailing twelve months, when the scenario asks for them
    names: dict = field(default_factory=dict)  # company id -> name, from the dataset analysed

    def calculations(self, year: int | None = None):
        """The shares and the one-dollar flow of ``year`` (default: the last historical year) as live formulas
        (:func:`valuechain.model.calculations.profit_pool`)."""
        return calculations.profit_pool(self, year or self.historical_years[-1])

    @property
    def historical_years(self) -> list[int]:
        hist = self.layers[self.layers["kind"] == "historical"]
        return sorted(hist["year"].unique().tolist())

    def check_year(self, year: int = 0) -> int:
        """``year`` if it was analysed, the last analysed year if ``year`` is 0; otherwise a ParameterError."""
        if not year:
            return self.historical_years[-1]
        if year not in self.historical_years:
            raise ParameterError(f"parameter 'year' = {year} was not analysed; use one of {self.historical_years} "
                                 f"or change years in params/{self.scenario.name}.yaml")
        return int(year)

    def summary(self, year: int | None = None) -> dict:
        """Key figures for ``year`` (default: the last historical year), rounded for presentation."""
        year = year or self.historical_years[-1]
        lay = self.layers[(self.layers["year"] == year) & (self.layers["kind"] == "historical")].set_index("layer")
        flow = self.dollar_flow[self.dollar_flow["year"] == year].set_index("layer")
        out = {"year": int(year), "scenario": self.scenario.name}
        for layer in CHAIN_ORDER:
            if layer in lay.index:
                out[f"{layer}_revenue_usd_bn"] = rounded(lay.loc[layer, "ai_revenue_usd_bn"])
                out[f"{layer}_operating_profit_usd_bn"] = rounded(lay.loc[layer, "operating_profit_usd_bn"])
                out[f"{layer}_profit_share"] = rounded(lay.loc[layer, "profit_share"], 4)
                out[f"{layer}_revenue_share"] = rounded(lay.loc[layer, "revenue_share"], 4)
            if layer in flow.index:
                out[f"{layer}_profit_cents_per_dollar"] = rounded(flow.loc[layer, "profit_cents"] - flow.loc[layer, "loss_cents"], 2)
        proj = self.layers[self.layers["kind"] == "projection"]
        if len(proj):
            last = proj[proj["year"] == proj["year"].max()].set_index("layer")
            out["projection_year"] = int(proj["year"].max())
            for layer in CHAIN_ORDER:
                out[f"{layer}_profit_share_projected"] = rounded(last.loc[layer, "profit_share"], 4)
        out["companies_excluded"] = int((self.excluded["year"] == year).sum())
        if self.ttm is not None:
            out.update(self.ttm.summary())
        return out

    def headlines(self, year: int | None = None) -> list[Headline]:
        """Each layer's share of chain operating profit in ``year`` and at the end of the projection.

        A share above 100% or below 0 carries a note saying which layer's loss makes it so.
        """
        year = year or self.historical_years[-1]
        figures = self.summary(year)
        lay = self.layers[(self.layers["year"] == year) & (self.layers["kind"] == "historical")].set_index("layer")
        losers = [layer for layer in CHAIN_ORDER if layer in lay.index and lay.loc[layer, "operating_profit_usd_bn"] < 0]
        out = []
        for layer in reversed(CHAIN_ORDER):
            key = f"{layer}_profit_share"
            if key not in figures:
                continue
            share, note = figures[key], ""
            if share is not None and share > 1:
                note = (f"Above 100% because the {' and '.join(losers)} layer{'s' if len(losers) > 1 else ''} lost money: "
                        f"shares are of the chain's total operating profit, which losses make smaller than the "
                        f"profitable layers' profits added up.")
            elif share is not None and share < 0:
                note = (f"Negative because the {layer} layer lost money: a loss counts against the chain's total "
                        f"operating profit, so its share is below zero.")
            out.append(Headline(key, f"{layer.capitalize()} share of chain operating profit", "share", str(year),
                                figures[key], note))
            out.append(Headline(f"{layer}_operating_profit_usd_bn", f"{layer.capitalize()} operating profit", "usd_bn",
                                str(year), figures[f"{layer}_operating_profit_usd_bn"], detail=True))
        for layer in reversed(CHAIN_ORDER):
            key = f"{layer}_profit_share_projected"
            if key in figures:
                out.append(Headline(key, f"{layer.capitalize()} share of chain operating profit, projected", "share",
                                    str(figures["projection_year"]), figures[key], detail=layer != "chips"))
        if self.ttm is not None:
            out += self.ttm.headlines()
        return out


@dataclass(frozen=True)
class LatestTwelveMonths:
    """The profit pool over the trailing twelve months: the calendar-year model on four filed quarters.

    ``companies`` has the columns of :attr:`ProfitPool.companies` (``year`` is the calendar year the
    twelve months end in) plus ``period`` and ``ai_share_method``; ``layers`` has the layer columns
    with ``kind`` 'ttm' and ``period``.
    """

    end: str  # last calendar quarter, e.g. "2026Q2"
    period: str  # the quarters covered, e.g. "2025Q3-2026Q2"
    companies: pd.DataFrame
    excluded: pd.DataFrame  # company left out, and why
    layers: pd.DataFrame
    dollar_flow: pd.DataFrame  # layer: the $1 flow at the twelve months' margins (empty if a layer has no data)
    value_added: pd.DataFrame  # layer: revenue, purchases from upstream, value added
    sources: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"the twelve months {self.period}"

    def summary(self) -> dict:
        """Key figures of the twelve months, prefixed ``ttm_``, rounded for presentation."""
        lay = self.layers.set_index("layer")
        out = {"ttm_period": self.period}
        for layer in CHAIN_ORDER:
            out[f"ttm_{layer}_revenue_usd_bn"] = rounded(lay.loc[layer, "ai_revenue_usd_bn"])
            out[f"ttm_{layer}_operating_profit_usd_bn"] = rounded(lay.loc[layer, "operating_profit_usd_bn"])
            out[f"ttm_{layer}_profit_share"] = rounded(lay.loc[layer, "profit_share"], 4)
            out[f"ttm_{layer}_revenue_share"] = rounded(lay.loc[layer, "revenue_share"], 4)
        out["ttm_companies_excluded"] = int(len(self.excluded))
        return out

    def headlines(self) -> list[Headline]:
        """The chips layer's share of chain operating profit over the twelve months (none when it has no share)."""
        share = self.summary()["ttm_chips_profit_share"]
        if share is None:
            return []
        lay = self.layers.set_index("layer")
        absent = [layer for layer in CHAIN_ORDER if pd.isna(lay.loc[layer, "operating_profit_usd_bn"])]
        note = ("Of the layers with four filed quarters; the " + " and ".join(absent) + " layer"
                + ("s have" if len(absent) > 1 else " has") + " none, so the share is of a smaller chain."
                if absent else "Over the trailing four filed quarters.")
        return [Headline("ttm_chips_profit_share", "Chips share of chain operating profit, latest twelve months",
                         "share", self.period, share, note)]


def profit_pool(scenario: Scenario, ds: Dataset | None = None, annualize_partial: bool = True) -> ProfitPool:
    """Run the profit-capture model for ``scenario`` on the dataset (default: the bundled one).

    The layer sums and the projection are :func:`valuechain.model.engine.pool` at the scenario's values,
    the same function the uncertainty layer evaluates at draws of the priors.
    """
    ds = ds or load_dataset()
    companies, excluded = company_rows(scenario, ds, annualize_partial)
    capex = spenders_by_year(ds, scenario.demand_gap.regression.capex_companies,
                             range(scenario.years.start, scenario.years.end + 1), annualize_partial)
    inputs = pool_inputs(scenario, companies, capex)
    revenue, profit, proj_revenue, proj_profit, proj_capex = engine.pool(inputs, inputs.theta())
    hist = pd.concat([layer_table(pd.Series(revenue[0, i], CHAIN_ORDER), pd.Series(profit[0, i], CHAIN_ORDER))
                      .reset_index(names="layer").assign(year=year, kind="historical", capex_usd_bn=inputs.capex_year[i])
                      for i, year in enumerate(inputs.years)], ignore_index=True)
    projection = _project(inputs, proj_revenue[0], proj_profit[0], proj_capex[0])
    layers = pd.concat([hist, projection], ignore_index=True)[LAYER_COLUMNS]
    flows, added = [], []
    pass_through = {layer: spec.pass_through for layer, spec in scenario.layers.items()}
    for year, group in layers.groupby("year"):
        g = group.set_index("layer")
        if g["operating_margin"].reindex(list(CHAIN_ORDER)).notna().all():
            flows.append(dollar_flow(pass_through, g["operating_margin"].to_dict()).reset_index().assign(year=year))
        added.append(value_added(g["ai_revenue_usd_bn"], pass_through).reset_index(names="layer").assign(year=year))
    sources = tuple(dict.fromkeys(s for row in companies["sources"] for s in row))
    ttm = None
    if scenario.years.latest == "ttm":
        ttm = latest_twelve_months(scenario, ds, annualize_partial)
        sources = tuple(dict.fromkeys(sources + ttm.sources))
    return ProfitPool(
        scenario=scenario,
        companies=companies,
        excluded=excluded,
        layers=layers,
        dollar_flow=pd.concat(flows, ignore_index=True) if flows else pd.DataFrame(),
        value_added=pd.concat(added, ignore_index=True),
        capex=capex,
        sources=sources,
        ttm=ttm,
        names=ds.company_names,
    )


def default_ttm_end(scenario: Scenario, ds: Dataset) -> str:
    """The latest calendar quarter that at least half the model's companies with quarterly revenue have filed."""
    fin = ds.financials
    lasts = []
    for spec in scenario.layers.values():
        for company in spec.companies:
            metric = scenario.attribution[company].revenue_metric
            rows = fin[(fin["company_id"] == company) & (fin["metric"] == metric) & (fin["period_type"] == "quarter")
                       & fin["basis"].isin(["reported", "derived"])]
            if len(rows):
                lasts.append(pd.Period(rows["calendar_quarter"].max(), freq="Q"))
    if not lasts:
        raise ParameterError(f"params/{scenario.name}.yaml: years.latest is ttm but no company in the model has filed "
                             "quarters; set years.ttm_end or use years.latest: calendar_year")
    lasts.sort(reverse=True)
    return str(lasts[(len(lasts) + 1) // 2 - 1])


def latest_twelve_months(scenario: Scenario, ds: Dataset, annualize_partial: bool = True) -> LatestTwelveMonths:
    """The profit pool over the twelve months to ``years.ttm_end`` (default: :func:`default_ttm_end`)."""
    end = scenario.years.ttm_end or default_ttm_end(scenario, ds)
    companies, excluded = company_rows(scenario, ds, annualize_partial, ttm_end=end)
    revenue = pd.Series({layer: np.nan for layer in CHAIN_ORDER})
    profit = revenue.copy()
    if len(companies):
        grouped = companies.groupby("layer")[["ai_revenue_usd_bn", "operating_profit_usd_bn"]].sum()
        revenue.update(grouped["ai_revenue_usd_bn"])
        profit.update(grouped["operating_profit_usd_bn"])
    label = ttm_label(end)
    spenders = scenario.demand_gap.regression.capex_companies
    capex = [company_ttm(ds, c, "capex", end) for c in spenders]
    layers = layer_table(revenue, profit).reset_index(names="layer").assign(
        year=int(pd.Period(end, freq="Q").year), kind="ttm", period=label,
        capex_usd_bn=sum(c.value for c in capex) if all(capex) else np.nan)[LAYER_COLUMNS + ["period"]]
    pass_through = {layer: spec.pass_through for layer, spec in scenario.layers.items()}
    margins = layers.set_index("layer")["operating_margin"].reindex(list(CHAIN_ORDER))
    flow = dollar_flow(pass_through, margins.to_dict()).reset_index() if margins.notna().all() else pd.DataFrame()
    added = value_added(layers.set_index("layer")["ai_revenue_usd_bn"], pass_through).reset_index(names="layer")
    sources = tuple(dict.fromkeys(s for row in companies.get("sources", []) for s in row))
    return LatestTwelveMonths(end=end, period=label, companies=companies, excluded=excluded, layers=layers,
                              dollar_flow=flow, value_added=added, sources=sources)


def _project(inputs, revenue: np.ndarray, profit: np.ndarray, capex: np.ndarray) -> pd.DataFrame:
    r"""The projection years as layer tables (computed by :func:`valuechain.model.engine.pool`).

    AI capex grows from the base year :math:`B`: :math:`K_t = K_{t-1} (1 + g^{capex}_t)`, with
    :math:`K_B` the capex spenders' capex in the data (``demand_gap.regression.capex_companies``). Chips and servers sell into capex, so
    each extra capex dollar adds its allocation :math:`a_L` to their revenue:
    :math:`R_{L,t} = \max(0, R_{L,B} + a_L (K_t - K_B))`. Clouds, labs and apps sell to end users:
    :math:`R_{L,t} = R_{L,B} \prod (1 + g^{end}_t)`. Margins move in straight lines from the
    base-year margin to ``final_margins`` in the last projected year. Without a full base year
    (a layer or a spender missing) there is no projection.
    """
    if np.isnan(revenue).any() or np.isnan(capex).any():
        return pd.DataFrame(columns=LAYER_COLUMNS)
    frames = [layer_table(pd.Series(revenue[i], CHAIN_ORDER), pd.Series(profit[i], CHAIN_ORDER))
              .reset_index(names="layer").assign(year=year, kind="projection", capex_usd_bn=capex[i])
              for i, year in enumerate(inputs.proj_years)]
    return pd.concat(frames, ignore_index=True)


def downstream_check(pool: ProfitPool, down) -> pd.DataFrame:
    r"""The profit pool's labs and applications beside the chain's final demand into them, year by year.

    ``down`` is :math:`D` (:func:`valuechain.model.downstream.of_scenario`), whose chain
    (:attr:`~valuechain.model.downstream.Downstream.accounting`) nets the applications' payments to the
    labs at the same pass-through share as this model. For each historical year with all four
    quarters of the chain's flows on the primary scope (:meth:`valuechain.model.chain.Chain.by_payee`,
    the mean of the annualized quarters): the profit pool's AI revenue of the labs and of the
    applications, the chain's end users' payments to each, and their ratio. The profit pool's
    applications are a share of Menlo Ventures' survey of enterprise spending, the chain's the
    disclosed series of named vendors, so the ratio says how much of the pool's downstream the
    disclosures cover; the labs' layer holds their gross revenue, the chain's end users' part of it.
    """
    flows = down.accounting.by_payee(down.series, down.scope)
    quarters = flows.dropna(subset=["users_to_apps", "users_to_labs"])
    annual = quarters.groupby(quarters.index.year).mean()[quarters.groupby(quarters.index.year).size() == 4]
    hist = pool.layers[pool.layers["kind"] == "historical"].set_index(["year", "layer"])["ai_revenue_usd_bn"]
    rows = []
    for year in pool.historical_years:
        for layer, column in (("labs", "users_to_labs"), ("apps", "users_to_apps")):
            chained = float(annual.loc[year, column]) if year in annual.index else np.nan
            pooled = float(hist.get((year, layer), np.nan))
            rows.append({"year": year, "layer": layer, "pool_usd_bn": pooled, "chain_usd_bn": chained,
                         "chain_over_pool": chained / pooled if pooled > 0 else np.nan})
    return pd.DataFrame(rows, columns=["year", "layer", "pool_usd_bn", "chain_usd_bn", "chain_over_pool"])
