r"""The demand gap: is downstream demand catching up with upstream spending?

:func:`demand_gap` runs, for one scenario:

1. **Net external AI revenue** :math:`D` by quarter, from dated disclosures with the disclosed
   intra-chain flows netted out (:mod:`valuechain.dataset.disclosures`), and beside it :math:`D`
   under each scope of the ladder (strict, central, broad; :func:`valuechain.model.downstream.ladder`).
2. **Required revenue** :math:`R^*` on the AI capital in service (:mod:`valuechain.model.capital`), and
   the three published methods (Sequoia, Bain, capital recovery) year by year, each year using
   only that year's data (:mod:`valuechain.model.required`), against :math:`D` as known shortly
   after the year (its vintage) with today's revised value beside it
   (:func:`valuechain.model.downstream.known_by_year`).
3. **The pre-specified question**: does D reach R*'s committed path by the scenario's year?
   (:mod:`valuechain.model.reach`), its verdict (:mod:`valuechain.model.verdict`), and the gap
   :math:`\log D - \log R^*`'s closing rate and test (:mod:`valuechain.stats.closing`).
4. **The secondary evidence**, Holm-adjusted as a family: the growth elasticity of cloud revenue
   to capex with its placebo, the bounds test, the panel, the break test; plus the Bayesian
   elasticity of :math:`D` to AI capex and the out-of-sample check (:mod:`valuechain.stats.regression`).

The result is typed, carries its sources and declares its headline figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from valuechain.dataset.capex import SpenderQuarters, consistent_quarters, guided_capex
from valuechain.model import bridge, calculations, capital, chain, required
from valuechain.model import reach as reach_model
from valuechain.model import verdict as verdict_rule
from valuechain.stats import closing, inference, regression
from valuechain.dataset import disclosures, suppliers, views
from valuechain.model import downstream
from valuechain.dataset.load import Dataset, load_dataset
from valuechain.scenario.schema import Scenario
from valuechain.model.profit import ProfitPool, profit_pool
from valuechain.model.results import Distribution, Headline, Reference, rounded

NULL_DRAWS = 499  # draws of D rebuilt under the null, per world, for the elasticity's pipeline bootstrap
NULL_WORLDS = {  # name: (level noise, growth noise) as multiples of the scenario's, which are set by hand
    "the scenario's noise levels": (1.0, 1.0), "3x the level noise": (3.0, 1.0),
    "3x the growth noise": (1.0, 3.0), "3x the level and the growth noise": (3.0, 3.0)}
SUPPLIER_MIN_CHANGES = 4  # quarterly changes a series needs to enter the suppliers' panel


@dataclass(frozen=True)
class Secondary:
    """The secondary tests and estimates; the tests (:meth:`tests`) are Holm-adjusted as a family (:attr:`holm`)."""

    elasticity: regression.Effect  # long series: cloud revenue growth on own capex growth
    placebo: regression.Effect
    bounds: inference.BoundsTest
    panel: regression.PanelResult
    break_test: inference.BreakTest
    break_dates: tuple  # (estimated, first, last) quarters of the 90% date set
    recursive: pd.DataFrame
    forecasts: pd.DataFrame
    ai_elasticity: regression.PipelineEffect  # D's growth on lagged AI capex growth, pipeline bootstrap
    supplier_panel: regression.PanelResult  # applications' and labs' revenue growth on their suppliers' AI capex
    supplier_world: regression.SupplierWorld  # how that panel's null is simulated (`make calibrate`)
    supplier_calibration: pd.DataFrame  # that panel on each null world: size, coverage, minimum detectable effect
    series_label: str  # e.g. "AWS revenue on Amazon capex"
    d_forecasts: pd.DataFrame = field(default_factory=pd.DataFrame)  # D's growth from rolling origins on its vintages
    d_forecast_lag: int = 0  # quarters capex is lagged in D's forecasting model (the service lag)

    def tests(self) -> dict[str, inference.TestResult]:
        """The family of secondary tests, by key, each in the shape every test shares; the suppliers' panel is in it."""
        return {"elasticity": self.elasticity, "placebo": self.placebo, "panel": self.panel.pooled,
                "supplier_panel": self.supplier_panel.pooled, "bounds": self.bounds, "break": self.break_test}

    @property
    def holm(self) -> dict[str, float]:
        """Each test's p-value, Holm-adjusted over the family :meth:`tests`."""
        return inference.holm({key: test.pvalue for key, test in self.tests().items()})

    def headlines(self) -> list[Headline]:
        """The elasticity of D to lagged AI capex (with its minimum detectable effect) and the suppliers' panel slope."""
        ai, p = self.ai_elasticity, self.supplier_panel.pooled
        period, quarters = f"{ai.nobs} quarterly changes", f"{self.supplier_panel.quarters} quarters"
        return [
            Headline("ai_elasticity", "Elasticity of D to lagged AI capex", "elasticity", period, ai.estimate),
            Headline("ai_elasticity_low", "Elasticity of D to lagged AI capex, lower bound", "elasticity", period,
                     ai.interval[0], detail=True),
            Headline("ai_elasticity_high", "Elasticity of D to lagged AI capex, upper bound", "elasticity", period,
                     ai.interval[1], detail=True),
            Headline("ai_elasticity_mde", "Minimum detectable elasticity of D to lagged AI capex (80% power)",
                     "elasticity", period, ai.mde if np.isfinite(ai.mde) else None, detail=True),
            Headline("supplier_panel_elasticity", "Elasticity of applications' and labs' revenue to their suppliers' "
                     "lagged AI capex (panel)", "elasticity", quarters, p.estimate),
            Headline("supplier_panel_elasticity_low", "Suppliers' panel elasticity, lower bound", "elasticity", quarters,
                     p.interval[0], detail=True),
            Headline("supplier_panel_elasticity_high", "Suppliers' panel elasticity, upper bound", "elasticity",
                     quarters, p.interval[1], detail=True),
        ]

    def table(self) -> pd.DataFrame:
        """One row per secondary test (:meth:`valuechain.stats.inference.TestResult.row`) with its Holm-adjusted p."""
        table = pd.DataFrame([{**test.row(), "key": key} for key, test in self.tests().items()])
        table["pvalue_holm"] = table["key"].map(self.holm)
        return table


@dataclass(frozen=True)
class DemandGapResult:
    """Everything notebook 02 shows, with the sources it rests on and its headline figures."""

    scenario: Scenario
    year: int  # the year of the published methods' headline (the last historical year)
    requirements: pd.DataFrame  # method x (required, actual, gap, inputs) for ``year``
    required_by_year: pd.DataFrame  # year: each method's requirement on that year's data, D as known then and today
    downstream: downstream.Downstream
    required: pd.DataFrame  # quarter: capital in service by class, R*, growth-adjusted beta*
    beta_star_steady: float
    closing: closing.GapClosing
    secondary: Secondary
    projection: pd.DataFrame  # quarter to the horizon: R* (and its asset-life range) and D's fan quantiles
    sources: tuple[str, ...] = field(default=())
    demand_sources: tuple[str, ...] = field(default=())  # D against R*: the disclosures, the capex filed and guided, the bound
    bridges: bridge.Bridges | None = None  # from each published bar to R* for ``year``
    ladder: downstream.Ladder | None = None  # D under each scope of the ladder (strict, central, broad)
    rungs: capital.Rungs | None = None  # R* in service, committed and at the steady state in the gap quarter
    left_out: dict = field(default_factory=dict)  # spenders left out of every quarter, with the reason
    guidance: pd.DataFrame = field(default_factory=pd.DataFrame)  # the spenders' own capex guidance used
    reach: reach_model.Reach | None = None  # the pre-specified question: does D reach R*'s committed path by Y?

    def ladder_at_gap(self) -> pd.DataFrame:
        r"""Each rung of D's scope ladder in the gap quarter :math:`T`: level, shares and :math:`D^{rung}_T / R^*_T`.

        :math:`R^*_T` is the primary test's, and the primary test's :math:`D` is the central rung.
        """
        q = self.closing.last_quarter
        rows = self.ladder.at(q)
        return rows.assign(d_over_required=rows["level_usd_bn"] / float(self.required.loc[q, "required_usd_bn"]))

    def flow_table(self, scope_key: str = "broad") -> pd.DataFrame:
        r"""Who pays whom along the chain in the gap quarter :math:`T`, annualized: the chain's flow table
        (:meth:`valuechain.model.chain.Chain.flows`) under ``scope_key``, with the AI capex of the four quarters to
        :math:`T`. The rows paid by end users and in :math:`D` sum to the rung's plain :math:`D_T`."""
        q = self.closing.last_quarter
        capex = float(self.required.loc[q, "ai_capex_ttm_usd_bn"])
        return self.ladder.accounting.flows(self.downstream.series.loc[q], chain.scope(scope_key), capex)

    def answer_grid(self) -> pd.DataFrame:
        r""":math:`D^{rung}_T / R^{rung}_T`: D's scope ladder (rows: strict, central, broad) against R*'s rungs (columns:
        in service, committed, steady state) in the gap quarter :math:`T`. The committed rung is the requirement
        once the capital already committed is in service, set against today's D."""
        levels = self.ladder_at_gap()["level_usd_bn"]
        bars = {"in_service": self.rungs.in_service_usd_bn, "committed": self.rungs.committed_usd_bn,
                "steady_state": self.rungs.steady_state_usd_bn}
        return pd.DataFrame({key: levels / bar for key, bar in bars.items()})

    def calculations(self):
        """The arithmetic of the published methods, the bridges and R*'s rungs, as live formulas
        (:func:`valuechain.model.calculations.demand_gap`)."""
        return calculations.demand_gap(self)

    def verdict(self) -> verdict_rule.Verdict:
        """The verdict rule (:mod:`valuechain.model.verdict`) on the question's answer and D / R* over the scope ladder."""
        return verdict_rule.of_reach(self.reach, self.ladder_range())

    def ladder_range(self) -> tuple[float, float]:
        """The lowest and highest :math:`D / R^*` across the ladder's rungs in the gap quarter."""
        ratios = self.ladder_at_gap()["d_over_required"]
        return float(ratios.min()), float(ratios.max())

    @property
    def beta_star_growth_adjusted(self) -> float:
        return float(self.required["beta_star_growth_adjusted"].dropna().iloc[-1])

    @property
    def gap_to_steady_state(self) -> float:
        r"""Log gap of :math:`D` to the steady-state bar :math:`\beta^*_{ss} \times` AI capex (last four quarters).

        :math:`R^*_T = \beta^*_T \times` AI capex, so the gap to the steady-state bar is
        :math:`G_T + \log(\beta^*_T / \beta^*_{ss})`, in the last tested quarter :math:`T`.
        """
        c = self.closing
        beta = float(self.required.loc[c.last_quarter, "beta_star_growth_adjusted"])
        return c.current_gap + float(np.log(beta / self.beta_star_steady))

    def market_check(self) -> pd.DataFrame:
        """Annual D against Menlo Ventures' enterprise totals: a check on scale, not a constraint
        (:func:`valuechain.model.downstream.market_check` says why)."""
        return downstream.market_check(self.downstream)

    def distributions(self, *keys: str) -> tuple[Distribution, ...]:
        r"""Distributions of the closing rate and of the elasticities, each with what is marked beside it.

        Keys: ``closing_rate`` (bootstrap draws of :math:`4g`), ``ai_elasticity`` (pipeline-bootstrap
        draws of the elasticity of :math:`D` to lagged AI capex), ``elasticity`` (bootstrap
        draws of the long series' elasticity). Default: all three, in that order.

        Both break-even bars are marked where they are comparable, on the closing rate: each
        defines a gap, :math:`G` to :math:`R^*` (the growth-adjusted :math:`\beta^*`, which the
        primary test uses) and :math:`G_{ss}` to :math:`\beta^*_{ss} \times` AI capex
        (:attr:`gap_to_steady_state`), and the rate that closes it within the horizon :math:`H`
        is :math:`-G/H` a year. :math:`R^*` tends to the steady-state bar once capex stops growing,
        so the second mark is the rate needed if the requirement were already there. Neither
        :math:`\beta^*` is marked on an elasticity: :math:`\beta^*` is a level (revenue per
        dollar of capex), and with a constant in the growth regression the mean growth of revenue
        is fitted whatever the elasticity, so no value of the elasticity corresponds to either
        bar. The elasticities carry 0 (no response) and 1 (revenue in proportion to capex).
        """
        c, s = self.closing, self.secondary
        horizon = c.horizon_years
        beta = float(self.required.loc[c.last_quarter, "beta_star_growth_adjusted"])
        needed_ss = -self.gap_to_steady_state / horizon
        zero = Reference("zero", "0: no change", 0.0)
        proportional = Reference("proportional", "1: revenue in proportion to capex", 1.0)
        not_marked = ("Neither β* is marked here: β* is revenue per dollar of capex, a level, and with a constant in "
                      "the growth regression no elasticity corresponds to it. Both are marked on the closing rate.")
        ai = s.ai_elasticity
        lag = self.scenario.demand_gap.capital.service_lag_quarters
        made = {
            "closing_rate": Distribution(
                "closing_rate", f"Closing rate of the gap between D and R*, last {c.test.nobs} quarterly changes",
                "Closing rate of the gap (log points a year)", 4 * c.trend,
                (4 * c.trend_interval[0], 4 * c.trend_interval[1]), c.level,
                f"bootstrap of the pipeline under the null ({len(c.trend_draws):,} draws of the trend)",
                (Reference("zero", "0: the gap neither closes nor widens", 0.0),
                 Reference("beta_star_growth_adjusted",
                           _needed(c.current_gap, horizon, f"the growth-adjusted β* ({beta:.2f} in {c.last_quarter}; "
                                   "R*, the primary test)") + f": {4 * c.required_trend:+.2f}", 4 * c.required_trend),
                 Reference("beta_star_steady",
                           _needed(self.gap_to_steady_state, horizon,
                                   f"the steady-state β* ({self.beta_star_steady:.2f})") + f": {needed_ss:+.2f}",
                           needed_ss)),
                draws=4 * c.trend_draws,
                note="The rate is measured against R*. The steady-state mark is the rate that would close the larger "
                     "gap to the steady-state bar, which R* approaches once capex stops growing."),
            "ai_elasticity": Distribution(
                "ai_elasticity", f"Elasticity of D to AI capex {lag} quarters earlier (n = {ai.nobs}, "
                f"{ai.df} degrees of freedom)", "Elasticity of D's growth to lagged AI capex growth",
                ai.estimate, ai.interval, ai.level, ai.method, (zero, proportional), draws=ai.draws,
                note=not_marked if ai.informative else "Uninformative: the test cannot tell no response from a "
                "proportional one (minimum detectable elasticity " + _mde(ai.mde) + "). " + not_marked),
            "elasticity": Distribution(
                "elasticity", f"Elasticity, {s.series_label} (n = {s.elasticity.nobs})",
                f"Elasticity of revenue growth to capex growth ({s.elasticity.name})", s.elasticity.estimate,
                s.elasticity.interval, s.elasticity.level, s.elasticity.method, (zero, proportional),
                draws=s.elasticity.draws,
                note="β* is the chain's bar on AI capital in service, not one cloud's; it is not marked here."),
        }
        return tuple(made[k] for k in (keys or made))

    def headlines(self) -> list[Headline]:
        """The figures the comparison table and the summary carry, with labels, units and periods."""
        c, s = self.closing, self.secondary
        q = str(c.last_quarter)
        horizon = self.scenario.demand_gap.primary_test.horizon_year
        req = self.requirements.set_index("method")
        year = str(self.year)
        close_year = c.close_year(c.quarters_to_close)
        figures = [
            Headline("d_over_required", "Net external AI revenue / required revenue", "ratio", q, c.ratio),
            Headline("d_over_required_low", "D / R*, lower bound", "ratio", q, c.ratio_interval[0], detail=True),
            Headline("d_over_required_high", "D / R*, upper bound", "ratio", q, c.ratio_interval[1], detail=True),
            Headline("closing_rate", "Gap closing rate", "rate", q, 4 * c.trend),
            Headline("closing_rate_low", "Closing rate, lower bound", "rate", q, 4 * c.trend_interval[0], detail=True),
            Headline("closing_rate_high", "Closing rate, upper bound", "rate", q, 4 * c.trend_interval[1], detail=True),
            Headline("close_year", "Gap closes (year, at the current rate)", "year", q,
                     close_year if np.isfinite(close_year) else None),
            Headline("prob_closed_by_horizon", f"P(gap closed by {horizon}) if the current closing rate holds", "probability",
                     str(horizon), c.prob_closed_by.get(horizon),
                     note="The trend's arithmetic, without future shocks or parameter uncertainty; see prob_reach"),
            Headline("primary_p_value", "Gap-closing test p-value (H0: not closing in time)", "p", q, c.test.pvalue),
            Headline("elasticity", f"Elasticity, {s.series_label}", "elasticity", f"{s.elasticity.fit.n} quarters",
                     s.elasticity.estimate),
            Headline("elasticity_low", "Elasticity, lower bound", "elasticity", f"{s.elasticity.fit.n} quarters",
                     s.elasticity.interval[0], detail=True),
            Headline("elasticity_high", "Elasticity, upper bound", "elasticity", f"{s.elasticity.fit.n} quarters",
                     s.elasticity.interval[1], detail=True),
            *s.headlines(),
            Headline("net_external_revenue_usd_bn", "Net external AI revenue (annualized)", "usd_bn", q,
                     float(self.downstream.d["d_usd_bn"].iloc[-1]), detail=True),
            Headline("required_revenue_usd_bn", "Required revenue R* (annualized)", "usd_bn", q,
                     float(self.required["required_usd_bn"].loc[c.last_quarter]), detail=True),
            Headline("beta_star_steady", "β* steady state", "ratio", "steady state", self.beta_star_steady, detail=True),
            Headline("beta_star_growth_adjusted", "β* growth-adjusted", "ratio", q, self.beta_star_growth_adjusted,
                     detail=True),
        ]
        for method in ("sequoia", "capex_to_revenue", "capital_recovery"):
            figures.append(Headline(f"{method}_required_usd_bn", f"Required revenue, {required.method_name(method)}",
                                    "usd_bn", str(req.loc[method, "year"]), req.loc[method, "required_usd_bn"]))
        for method in ("sequoia", "capex_to_revenue"):  # each anchor's arithmetic whole, in its own year
            name, period = required.method_name(method), str(req.loc[method, "year"])
            figures.append(Headline(f"{method}_actual_usd_bn", f"Revenue set against it, {name}", "usd_bn", period,
                                    req.loc[method, "actual_usd_bn"], detail=True))
            figures.append(Headline(f"{method}_gap_usd_bn", f"Required minus revenue set against it, {name}", "usd_bn",
                                    period, req.loc[method, "gap_usd_bn"]))
        figures.append(Headline("actual_usd_bn", "Net external AI revenue earned", "usd_bn", year,
                                req.loc["capital_recovery", "actual_usd_bn"]))
        known = self.required_by_year.set_index("year").loc[self.year]
        figures += [
            Headline(f"d_vintage_{year}_usd_bn", f"Net external AI revenue as known on {known['cutoff']}", "usd_bn", year,
                     float(known["d_vintage_usd_bn"])),
            Headline(f"d_revised_{year}_usd_bn", "Net external AI revenue on every disclosure to date", "usd_bn", year,
                     float(known["d_revised_usd_bn"]), detail=True),
            Headline(f"d_vintage_disclosed_sum_{year}_usd_bn",
                     f"Plain sum of the series disclosed by {known['cutoff']}, not chain-linked", "usd_bn", year,
                     float(known["d_vintage_disclosed_sum_usd_bn"]), detail=True),
            Headline(f"d_revised_disclosed_sum_{year}_usd_bn",
                     "Plain sum of the series disclosed to date, not chain-linked", "usd_bn", year,
                     float(known["d_revised_disclosed_sum_usd_bn"]), detail=True),
        ]
        if self.bridges is not None:  # each published bar as a multiple of R*
            figures.extend(self.bridges.headlines())
        if self.rungs is not None:  # R*'s rungs: in service, committed, steady state
            figures.extend(self.rungs.headlines())
        if self.rungs is not None and self.ladder is not None:  # the answer's range: D's ladder x R*'s rungs
            grid = self.answer_grid()
            figures += [Headline("d_over_required_range_low", "D / R*, lowest across D's scope ladder and R*'s rungs",
                                 "ratio", q, float(grid.min().min())),
                        Headline("d_over_required_range_high", "D / R*, highest across D's scope ladder and R*'s rungs",
                                 "ratio", q, float(grid.max().max()))]
            for rung, name in (("committed", "capital committed"), ("steady_state", "the steady state")):
                figures += [Headline(f"d_over_required_{rung}_low", f"D / R* on {name}, lowest across D's scope ladder",
                                     "ratio", q, float(grid[rung].min()), detail=True),
                            Headline(f"d_over_required_{rung}_high", f"D / R* on {name}, highest across D's scope ladder",
                                     "ratio", q, float(grid[rung].max()), detail=True)]
        if self.reach is not None:  # the pre-specified question: does D reach R*'s committed path by Y?
            figures.extend(self.reach.headlines())
        if self.ladder is not None:  # D's scope ladder, the primary D its central rung
            rungs = self.ladder_at_gap()
            low, high = self.ladder_range()
            figures += [Headline("d_over_required_scope_low", "D / R*, lowest across D's scope ladder", "ratio", q, low),
                        Headline("d_over_required_scope_high", "D / R*, highest across D's scope ladder", "ratio", q, high)]
            for scope in self.ladder.scopes:
                row = rungs.loc[scope.key]
                figures += [
                    Headline(f"d_over_required_{scope.key}", f"D / R*, {scope.name.lower()} scope of D", "ratio", q,
                             float(row["d_over_required"]), detail=True),
                    Headline(f"d_{scope.key}_usd_bn", f"D, {scope.name.lower()} scope (annualized)", "usd_bn", q,
                             float(row["level_usd_bn"]), detail=True),
                    Headline(f"d_{scope.key}_assumed_share", f"Share of D, {scope.name.lower()} scope, that is assumed",
                             "share", q, float(row["assumed_share"]), detail=True),
                ]
        return figures

    def summary(self) -> dict:
        """Key figures for the batch comparison table, rounded for presentation."""
        out = {"scenario": self.scenario.name, "year": self.year, "quarter": str(self.closing.last_quarter)}
        for h in self.headlines():
            out[h.key] = rounded(h.value, 4 if h.unit in ("ratio", "rate", "probability", "p", "elasticity") else 2)
        return out


@dataclass(frozen=True)
class Basis:
    """What the whole demand gap rests on: :math:`D`, the spenders' capex, :math:`R^*` and the published bars
    year by year, with ``year``'s requirements (:func:`basis`). Notebook 03 needs only this much of it."""

    year: int
    d: downstream.Downstream
    classes: tuple[capital.AssetClass, ...]
    spend: SpenderQuarters  # the spenders' filed capex
    wide: pd.DataFrame  # the same, a column per spender (SpenderQuarters.wide)
    ai_q: pd.Series  # their AI capex by quarter
    rstar: pd.DataFrame  # R* by quarter (capital.required_revenue)
    required_by_year: pd.DataFrame  # _required_by_year
    requirements: pd.DataFrame  # the three methods for ``year`` (_requirements)


def basis(scenario: Scenario, ds: Dataset | None = None, pool: ProfitPool | None = None,
          year: int | None = None) -> Basis:
    """:math:`D`, :math:`R^*` and the requirements of ``year`` (default: the last historical year) for ``scenario``,
    without the inference :func:`demand_gap` adds to them."""
    ds = ds or load_dataset()
    pool = pool or profit_pool(scenario, ds)
    year = year or pool.historical_years[-1]
    dg = scenario.demand_gap
    cap, be, down = dg.capital, dg.break_even, dg.downstream

    panel = disclosures.load(ds)
    d = downstream.of_scenario(scenario, ds, panel)
    classes = (capital.AssetClass("servers", cap.servers_share, cap.servers_life_years),
               capital.AssetClass("buildings", 1 - cap.servers_share, cap.buildings_life_years))
    spend = consistent_quarters(ds, cap.spenders, pd.Period(cap.first_quarter, freq="Q"))
    wide = spend.wide()
    ai_q = capital.ai_capex(wide, cap.ai_share, cap.ai_share_before)
    rstar = capital.required_revenue(ai_q, classes, cap.service_lag_quarters, be.target_return,
                                     be.margin_before_depreciation)
    annual_r = downstream.annual_revenue(rstar["required_usd_bn"])
    data_center = views.quarterly(ds, "data_center_revenue", ["nvidia"])["nvidia"].dropna()
    known = downstream.known_by_year(d.d, panel, pool.historical_years, down.start_quarter, down.level_sd,
                                     down.slope_sd, accounting=d.accounting, scope=d.scope)
    by_year = _required_by_year(scenario, pool, known, annual_r, data_center)
    return Basis(year, d, classes, spend, wide, ai_q, rstar, by_year, _requirements(scenario, by_year, year))


def requirements(scenario: Scenario, ds: Dataset | None = None, pool: ProfitPool | None = None,
                 year: int | None = None) -> pd.DataFrame:
    """The three published methods' requirements for ``year`` against :math:`D`, as :func:`demand_gap` has them."""
    return basis(scenario, ds, pool, year).requirements


def demand_gap(scenario: Scenario, ds: Dataset | None = None, pool: ProfitPool | None = None,
               year: int | None = None) -> DemandGapResult:
    """Run the demand-gap analysis for ``scenario`` (see the module docstring)."""
    ds = ds or load_dataset()
    pool = pool or profit_pool(scenario, ds)
    base = basis(scenario, ds, pool, year)
    year, d, classes, spend, ai_q, rstar = base.year, base.d, base.classes, base.spend, base.ai_q, base.rstar
    by_year, requirements, wide = base.required_by_year, base.requirements, base.wide
    dg = scenario.demand_gap
    cap, be, reg, pt, down = dg.capital, dg.break_even, dg.regression, dg.primary_test, dg.downstream

    tested = d.d[d.d["series_present"] >= pt.min_series]
    log_d = np.log(tested["d_usd_bn"])
    log_r = np.log(rstar["required_usd_bn"].where(rstar["required_usd_bn"] > 0))
    horizon = pt.close_within_years or cap.servers_life_years
    gap = closing.gap_closing(log_d, log_r, float(tested["log_sd"].iloc[-1]), horizon, pt.window_quarters,
                              d.noise_levels,
                              years=range(int(tested.index[-1].year), 2041), level=down.band, alpha=pt.alpha)

    secondary = _secondary(ds, scenario, d, ai_q, tested.index)
    guidance_year = (wide.index[-1] + 1).year
    guidance = guided_capex(ds, spend.spenders, guidance_year)
    spend_path = _spend_path(scenario, wide, guidance, guidance_year)
    path = _ai_path(scenario, spend_path)
    d_and_capex = [*d.sources, *spend.sources, *(s for row in guidance["sources"] for s in row)]
    sources = tuple(dict.fromkeys([*d_and_capex, *_nvidia_sources(ds), *_series_sources(ds, reg), *_method_sources(ds)]))
    ladder = downstream.ladder(d, d.accounting)
    bound = _bound(ds)
    answer = reach_model.reach(scenario, d, ladder, log_d, spend_path.sum(axis=1), guidance_year, pt.horizon_year,
                               bound)
    projection = _projection(scenario, wide, path, answer, be)
    sources = tuple(dict.fromkeys([*sources, bound.source_id]))
    demand_sources = tuple(dict.fromkeys([*d_and_capex, bound.source_id]))
    bridges = _bridges(scenario, ds, ai_q, wide, classes, requirements, year)
    sources = tuple(dict.fromkeys([*sources, *bridges.sources]))
    return DemandGapResult(
        scenario=scenario, year=year, requirements=requirements, required_by_year=by_year, downstream=d,
        required=rstar, projection=projection,
        beta_star_steady=capital.steady_state_beta(classes, be.target_return, be.margin_before_depreciation),
        closing=gap, secondary=secondary, sources=sources, demand_sources=demand_sources,
        bridges=bridges,
        ladder=ladder, reach=answer,
        rungs=capital.rungs(path, classes, cap.service_lag_quarters, be.target_return, be.margin_before_depreciation,
                            gap.last_quarter, guidance_year),
        left_out=spend.left_out, guidance=guidance.assign(year=guidance_year),
    )


def _mde(mde: float) -> str:
    return f"{mde:.2f}" if np.isfinite(mde) else "above 10"


def _needed(gap: float, years: float, bar: str) -> str:
    """What the rate -gap/years means: the rate that closes a shortfall, or below which a surplus is gone."""
    if gap < 0:
        return f"needed to close in {years:g} years on {bar}"
    return f"below this, revenue falls back to {bar} within {years:g} years"


LIFE_RANGE = ((5.0, 15.0), (6.0, 20.0))  # the asset lives the R* band spans, with the scenario's own: (servers, buildings) years


def _path_end(scenario: Scenario, guidance_year: int) -> int:
    """The last year the capex paths run to: the horizon, the question's year and the committed rung's."""
    pt = scenario.demand_gap.primary_test
    return max(pt.horizon_year, pt.reach_year, guidance_year + 1)


def _spend_path(scenario: Scenario, wide: pd.DataFrame, guidance: pd.DataFrame, guidance_year: int) -> pd.DataFrame:
    """The spenders' capex by quarter (:func:`valuechain.model.capital.projected_spend`): filed, then their guidance
    for ``guidance_year`` where given, then the scenario's capex growth, to the end of :func:`_path_end`."""
    proj = scenario.projection
    return capital.projected_spend(wide, capital.guided_quarters(wide, guidance, guidance_year),
                                   _path_end(scenario, guidance_year),
                                   lambda year: proj.growth("capex_growth", year) if proj.start <= year <= proj.end else 0.0)


def _ai_path(scenario: Scenario, spend: pd.DataFrame) -> pd.Series:
    """AI capex by quarter to the end of :func:`_path_end`: the AI share of the spenders' capex path ``spend``
    (:func:`_spend_path`; :func:`valuechain.model.capital.ai_capex`)."""
    cap = scenario.demand_gap.capital
    return capital.ai_capex(spend, cap.ai_share, cap.ai_share_before)


def _bound(ds: Dataset) -> reach_model.Bound:
    """The level the projection of D may not reach: world IT spending in 2025 (facts.csv)."""
    facts = ds.facts.set_index("fact_id")
    return reach_model.Bound(float(facts.loc[reach_model.BOUND_FACT, "value"]),
                             "World IT spending in 2025 (Gartner)", str(facts.loc[reach_model.BOUND_FACT, "source_id"]))


def _projection(scenario: Scenario, wide: pd.DataFrame, extended: pd.Series, answer: reach_model.Reach,
                be) -> pd.DataFrame:
    r"""R* to the end of the horizon year on the AI capex path ``extended`` (:func:`_ai_path`), and D's
    fan: the percentiles of the posterior predictive of the primary D (:func:`valuechain.model.reach.posterior_predictive`),
    growth decaying along its stated priors, future shocks and the scope's and band's uncertainty included.
    """
    cap = scenario.demand_gap.capital
    horizon = scenario.demand_gap.primary_test.horizon_year
    extended = extended.loc[:pd.Period(f"{horizon}Q4", freq="Q")]
    quarters = extended.index[extended.index > wide.index[-1]]

    def rstar(servers_life, buildings_life):
        classes = (capital.AssetClass("servers", cap.servers_share, servers_life),
                   capital.AssetClass("buildings", 1 - cap.servers_share, buildings_life))
        return capital.required_revenue(extended, classes, cap.service_lag_quarters, be.target_return,
                                        be.margin_before_depreciation)["required_usd_bn"]

    central = rstar(cap.servers_life_years, cap.buildings_life_years)
    # the band spans the usual lives and the scenario's own, so it holds the central path whatever the scenario
    ranges = pd.concat([rstar(*lives) for lives in LIFE_RANGE] + [central], axis=1)
    out = pd.DataFrame({"required_usd_bn": central, "required_low_usd_bn": ranges.min(axis=1),
                        "required_high_usd_bn": ranges.max(axis=1)}).loc[quarters]
    out["committed_usd_bn"] = answer.path["committed_usd_bn"].reindex(quarters)
    return out.join(answer.fan.reindex(quarters))


def _secondary(ds: Dataset, scenario: Scenario, d: downstream.Downstream, ai_q: pd.Series, tested) -> Secondary:
    reg, cap = scenario.demand_gap.regression, scenario.demand_gap.capital
    level = scenario.demand_gap.downstream.band
    company = reg.long_series_company
    y = views.quarterly(ds, "cloud_revenue", [company])[company].dropna()
    x = views.quarterly(ds, "capex", [company])[company].dropna()
    elasticity = regression.elasticity(y, x, reg.lags, level)
    placebo = regression.placebo(y, x, reg.lags, reg.placebo_leads, level)
    bounds = regression.bounds(y, x, 1, reg.bootstrap)
    revenue = views.quarterly(ds, "cloud_revenue", reg.panel_companies)
    capex = views.quarterly(ds, "capex", reg.panel_companies)
    panel = regression.panel(revenue, capex, reg.lags, level)
    brk, dates = regression.break_test(y, x, reg.lags, reg.break_trim, reg.bootstrap)
    recursive = regression.recursive(y, x, reg.lags, level)
    forecasts = regression.out_of_sample(y, x, reg.lags, reg.forecast_horizon)
    d_forecasts = _d_forecasts(ds, scenario, d, ai_q)
    ai_d = d.d.loc[tested, "d_usd_bn"]
    included = _included(d)
    pattern, rng = _pattern(d, included, scenario), np.random.default_rng(0)
    nulls = {name: _null_d_growth(d, replace(pattern, level_sd=pattern.level_sd * lm, slope_sd=pattern.slope_sd * sm),
                                  rng, NULL_DRAWS).reindex(columns=ai_d.index).to_numpy()
             for name, (lm, sm) in NULL_WORLDS.items()}
    ai_elasticity = regression.pipeline_elasticity(ai_d, ai_q.where(ai_q > 0), cap.service_lag_quarters, nulls, level)
    world = _supplier_world(ds, scenario, d, included)
    supplied = regression.panel(np.exp(world.revenue_log), world.capex, world.lag, level, world.min_changes,
                                "suppliers' AI capex")
    calibration = regression.panel_calibration(world, NULL_WORLDS, rng, NULL_DRAWS, level)
    name = ds.companies.set_index("company_id").loc[company, "name"]
    return Secondary(elasticity, placebo, bounds, panel, brk, dates, recursive, forecasts, ai_elasticity, supplied,
                     world, calibration, f"{name} cloud revenue on its capex", d_forecasts=d_forecasts,
                     d_forecast_lag=cap.service_lag_quarters)


def _included(d: downstream.Downstream) -> list[str]:
    """The series D adds up (its scope's members; every final-demand series without a chain)."""
    if d.accounting is None:
        return [s for s in d.coverage.loc[d.coverage["flow"] == "final_demand", "series_id"] if s in d.series]
    members = d.accounting.members(d.scope)
    return [s for s in members.loc[members["included"], "series_id"] if s in d.series]


def _pattern(d: downstream.Downstream, series, scenario: Scenario) -> regression.DisclosurePattern:
    """The disclosure pattern of ``series`` of D (:class:`~valuechain.stats.regression.DisclosurePattern`): each is
    smoothed from its first disclosed quarter to its last quarter in D, observed where disclosed (the disclosures of
    one quarter combined by precision), starting from its first disclosure and its mean smoothed growth.

    A missing value (NaN) counts for nothing in a sum, as in pandas': a disclosure without a value still adds its
    precision to its quarter's, one without a variance adds nothing, and a growth the logs cannot give is left out."""
    obs = d.observations[d.observations["series_id"].isin(list(series))]
    quarters = pd.period_range(min(obs["quarter"].min(), d.series.index[0]), d.series.index[-1], freq="Q")
    obs = obs[obs["quarter"].isin(quarters)]
    row = pd.Index(list(series)).get_indexer(obs["series_id"])
    col = quarters.get_indexer(obs["quarter"])
    log_value, var = obs["log_value"].to_numpy(float), obs["variance"].to_numpy(float)
    precision = (1.0 / obs["variance"]).groupby([row, col]).sum()  # one quarter's disclosures combined
    variance = np.full((len(series), len(quarters)), np.nan)
    variance[precision.index.get_level_values(0), precision.index.get_level_values(1)] = 1.0 / precision.to_numpy()
    windows, levels, slopes = [], [], []
    for i, sid in enumerate(series):
        first = col[row == i].min()
        at = (row == i) & (col == first)
        levels.append(float(np.nansum(log_value[at] / var[at]) / np.nansum(1 / var[at])))
        smoothed = d.series[sid].dropna()
        windows.append((int(first), quarters.get_loc(smoothed.index[-1])))
        growth = np.diff(np.log(smoothed.to_numpy(float)))
        growth = growth[~np.isnan(growth)]
        slopes.append(float(growth.mean()) if len(growth) else 0.0)
    return regression.DisclosurePattern(quarters, tuple(series), tuple(windows), variance, np.array(levels),
                                        np.array(slopes), *d.noise_levels)


def _null_d_growth(d: downstream.Downstream, pattern: regression.DisclosurePattern, rng: np.random.Generator,
                   draws: int) -> pd.DataFrame:
    """D's quarterly log growth as the pipeline builds it from series simulated independent of capex: the series
    drawn and smoothed on their disclosure pattern, put through the chain's accounting (the flows it nets) and
    chain-linked as D is (``draws x quarters``)."""
    logs = pattern.simulate(rng, draws)
    flat = pd.DataFrame(np.exp(logs.reshape(-1, len(pattern.series))), columns=list(pattern.series))
    if d.accounting is None:
        columns, signs = flat, pd.Series(1.0, index=flat.columns)
    else:
        columns, signs = d.accounting.columns(flat, d.scope)
    levels = columns.to_numpy(float).reshape(draws, len(pattern.quarters), -1)
    return pd.DataFrame(regression.linked_growth(levels, signs.to_numpy(float)), columns=pattern.quarters)


def _supplier_world(ds: Dataset, scenario: Scenario, d: downstream.Downstream, included) -> regression.SupplierWorld:
    """Each application's and lab's series of D beside its cloud suppliers' AI capex (``suppliers.csv``).

    A series' regressor is the chain-linked sum of its suppliers' filed capex (a supplier counts from
    its first filed quarter, without a jump) times the scenario's smooth AI share.
    """
    cap = scenario.demand_gap.capital
    links = suppliers.load(ds)
    roles = {s: d.accounting.role(s) for s in included} if d.accounting is not None else {}
    series = [s for s in included if roles.get(s, "apps") in ("apps", "labs") and s in set(links["series_id"])]
    capex = views.quarterly(ds, "capex", sorted(set(links["supplier_id"])))
    share = capital.ai_share_by_quarter(capex.index, cap.ai_share, cap.ai_share_before).to_numpy()
    share_growth = np.concatenate([[np.nan], np.diff(np.log(share))])
    table = {}
    for sid in series:
        chosen = list(links.loc[links["series_id"] == sid, "supplier_id"])
        growth = regression.linked_growth(capex[chosen].to_numpy(float), np.ones(len(chosen))) + share_growth
        present = capex[chosen].notna().any(axis=1).to_numpy()
        level = np.exp(np.cumsum(np.where(np.isfinite(growth), growth, 0.0)))
        starts = np.concatenate([[True], ~present[:-1]])  # a run of filed quarters may start without a growth
        table[sid] = np.where(present & (np.isfinite(growth) | starts), level, np.nan)
    pattern = _pattern(d, series, scenario)
    revenue = np.log(d.series[series])
    return regression.SupplierWorld(pattern, revenue, pd.DataFrame(table, index=capex.index),
                                    cap.service_lag_quarters, SUPPLIER_MIN_CHANGES,
                                    links[links["series_id"].isin(series)].reset_index(drop=True))


PUBLICATION_LAG = 1  # quarters from a quarter's end to its capex filing
D_MIN_WINDOW = 4  # quarterly changes of D a vintage needs before its origin forecasts


def _d_forecasts(ds: Dataset, scenario: Scenario, d: downstream.Downstream, ai_q: pd.Series) -> pd.DataFrame:
    """Rolling-origin forecasts of D's growth on D's real-time vintages (:func:`regression.realtime_out_of_sample`).

    The horizon is the scenario's forecast horizon, cut to the service lag less the filing lag so
    that every capex figure a forecast needs is filed by its origin; the origins are the quarters
    of D whose target is within the data, from the first that can hold ``D_MIN_WINDOW`` changes of
    tested quarters (a vintage holds no series that D on all disclosures lacks, so an earlier
    origin cannot).
    """
    dg = scenario.demand_gap
    lag, min_series = dg.capital.service_lag_quarters, dg.primary_test.min_series
    horizon = min(dg.regression.forecast_horizon, lag - PUBLICATION_LAG)
    tested = d.d.index[d.d["series_present"] >= min_series]
    if tested.empty:
        return regression.realtime_out_of_sample([], d.d["d_usd_bn"], ai_q, lag, horizon, min_series)
    origins = pd.period_range(tested[0] + D_MIN_WINDOW, d.quarters[-1] - horizon, freq="Q")
    down = dg.downstream
    vintages = downstream.vintages(disclosures.load(ds), [o.end_time for o in origins], down.start_quarter,
                                    down.level_sd, down.slope_sd, accounting=d.accounting, scope=d.scope)
    return regression.realtime_out_of_sample(vintages, d.d["d_usd_bn"], ai_q, lag, horizon, min_series,
                                             D_MIN_WINDOW, PUBLICATION_LAG)


def _spender_capex(pool: ProfitPool, year: int) -> float:
    """The capex spenders' calendar-year capex, as the profit model summed it (NaN if one is missing)."""
    hist = pool.layers[(pool.layers["year"] == year) & (pool.layers["kind"] == "historical")]
    return float(hist["capex_usd_bn"].iloc[0])


METHODS = ("sequoia", "capex_to_revenue", "capital_recovery")  # the published methods, in the year table's order


def _required_by_year(scenario: Scenario, pool: ProfitPool, known: pd.DataFrame, annual_r: pd.Series,
                      data_center: pd.Series) -> pd.DataFrame:
    r"""Each method's required revenue year by year on that year's data, against D as known then and today.

    ``known`` is :func:`valuechain.model.downstream.known_by_year`: for each year :math:`Y`, the
    vintage :math:`D^{vintage}_Y` (the disclosures published by the end of the first quarter
    after :math:`Y`), the revised :math:`D^{revised}_Y` (every disclosure to date), the plain
    sums and the imputed quarters. The comparison in year :math:`Y` uses what was known then:

    .. math::

        \text{ratio}^{vintage}_{m,Y} = D^{vintage}_Y / \text{required}_{m,Y}, \qquad
        \text{ratio}^{revised}_{m,Y} = D^{revised}_Y / \text{required}_{m,Y}

    for each method :math:`m` in :data:`METHODS`. ``net_external_ai_revenue_usd_bn`` repeats the
    revised :math:`D`, which the headline year's requirements compare with.
    """
    dg = scenario.demand_gap
    known = known.set_index("year")
    rows = []
    for year in pool.historical_years:
        capex = _spender_capex(pool, year)
        run_rate = required.nvidia_run_rate(data_center, year)
        row = {
            "year": year,
            **known.loc[year].to_dict(),
            "net_external_ai_revenue_usd_bn": known.loc[year, "d_revised_usd_bn"],
            "nvidia_run_rate_usd_bn": run_rate,
            "sequoia_usd_bn": required.sequoia(run_rate, dg.sequoia.gpu_share_of_tco,
                                               dg.sequoia.end_user_gross_margin).required_usd_bn,
            "spenders_capex_usd_bn": capex,
            "capex_to_revenue_usd_bn": required.capex_to_revenue(capex, dg.bain.capex_to_revenue).required_usd_bn
            if pd.notna(capex) else np.nan,
            "capital_recovery_usd_bn": annual_r.get(year, np.nan),
        }
        for method in METHODS:
            for when in ("vintage", "revised"):
                row[f"{method}_ratio_{when}"] = row[f"d_{when}_usd_bn"] / row[f"{method}_usd_bn"]
        rows.append(row)
    return pd.DataFrame(rows)


def _requirements(scenario: Scenario, by_year: pd.DataFrame, year: int) -> pd.DataFrame:
    """The three methods for ``year``: the year table's row, unless the scenario fixes an input."""
    dg = scenario.demand_gap
    seq, bain, be = dg.sequoia, dg.bain, dg.break_even
    row = by_year.set_index("year").loc[year]
    actual = float(row["net_external_ai_revenue_usd_bn"])
    run_rate = seq.run_rate_usd_bn if seq.run_rate_usd_bn is not None else float(row["nvidia_run_rate_usd_bn"])
    identified = seq.identified_ai_revenue_usd_bn if seq.identified_ai_revenue_usd_bn is not None else actual
    capex = bain.capex_usd_bn if bain.capex_usd_bn is not None else float(row["spenders_capex_usd_bn"])
    given = dg.capital_recovery.capital_base_usd_bn
    recovery = (required.capital_recovery(given, be.depreciation_life_years, be.target_return,
                                          be.margin_before_depreciation, actual)
                if given is not None else
                required.Requirement("capital_recovery", float(row["capital_recovery_usd_bn"]), actual,
                                     {"capital_in_service": "from the data (R*)", "year": year}))
    results = [
        required.sequoia(run_rate, seq.gpu_share_of_tco, seq.end_user_gross_margin, identified),
        required.capex_to_revenue(capex, bain.capex_to_revenue,
                                  bain.fundable_revenue_usd_bn if bain.fundable_revenue_usd_bn is not None else actual),
        recovery,
    ]
    return pd.DataFrame([{"method": r.method, "required_usd_bn": r.required_usd_bn, "actual_usd_bn": r.actual_usd_bn,
                          "gap_usd_bn": r.gap_usd_bn, "inputs": r.inputs, "year": y}
                         for r, y in zip(results, (seq.year or year, bain.year or year, year))])


JPM_FACTS = ("jpm_required_revenue", "jpm_target_return", "jpm_horizon_year")


def _bridges(scenario: Scenario, ds: Dataset, ai_q: pd.Series, wide: pd.DataFrame,
             classes: tuple[capital.AssetClass, ...], requirements: pd.DataFrame, year: int) -> bridge.Bridges:
    """The bridges from Sequoia's, Bain's and J.P. Morgan's bars to R* for ``year`` (:mod:`valuechain.model.bridge`)."""
    cap, be = scenario.demand_gap.capital, scenario.demand_gap.break_even
    spenders = wide.sum(axis=1, min_count=1)

    def tail(rate):
        return bridge.tail(ai_q, spenders, classes, cap.service_lag_quarters, rate, be.margin_before_depreciation, year)

    t = tail(be.target_return)
    req = requirements.set_index("method")
    seq, bain = req.loc["sequoia"], req.loc["capex_to_revenue"]
    jpm_return = ds.fact("jpm_target_return")
    made = (bridge.sequoia_bridge(seq["inputs"]["run_rate_usd_bn"], seq["inputs"]["gpu_share_of_tco"],
                                  seq["inputs"]["end_user_gross_margin"], t, cap.service_lag_quarters, seq["year"]),
            bridge.bain_bridge(bain["inputs"]["capex_usd_bn"], bain["inputs"]["capex_to_revenue_ratio"], t,
                               cap.service_lag_quarters, bain["year"]),
            bridge.jpm_bridge(ds.fact("jpm_required_revenue"), jpm_return, tail(jpm_return).required_usd_bn, t,
                              int(ds.fact("jpm_horizon_year"))))
    facts = ds.facts.set_index("fact_id")
    sources = [s for s in ("sequoia_2023", "sequoia_2024", "bain_2025") if s in set(ds.sources["source_id"])]
    return bridge.Bridges(year, t.required_usd_bn, made,
                          tuple(dict.fromkeys([*sources, *facts.loc[list(JPM_FACTS), "source_id"]])))


def _nvidia_sources(ds: Dataset) -> list[str]:
    fin = ds.financials
    return list(fin.loc[(fin["company_id"] == "nvidia") & (fin["metric"] == "data_center_revenue"), "source_id"])


def _series_sources(ds: Dataset, reg) -> list[str]:
    fin = ds.financials
    companies = {reg.long_series_company, *reg.panel_companies}
    rows = fin[fin["company_id"].isin(companies) & fin["metric"].isin(["cloud_revenue", "capex"])]
    return list(rows["source_id"])


def _method_sources(ds: Dataset) -> list[str]:
    return [s for s in ("sequoia_2023", "sequoia_2024", "bain_2025") if s in set(ds.sources["source_id"])]
