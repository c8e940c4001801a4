"""The schema of a scenario file: typed, frozen records (pydantic) whose fields carry their units.

Unknown keys are errors, not warnings; every number is finite and bounded, and no true/false
stands in for one. Reading a file, ``extends`` and overrides are :mod:`valuechain.scenario.load`'s
job; the one-line messages are :mod:`valuechain.scenario.messages`'.
"""
from __future__ import annotations

import difflib
import math
import types
import typing
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from valuechain import nested
from valuechain.layers import CHAIN_ORDER, LayerName

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Margin = Annotated[float, Field(ge=-5.0, le=1.0)]
Year = Annotated[int, Field(ge=2010, le=2040)]
Growth = Annotated[float, Field(ge=-0.9, le=5.0)]
MAX_USD_BN = 100_000.0  # USD bn: $100 trillion, about world GDP; no amount in a scenario can be larger
MAX_DRAWS = 1_000_000  # draws of the priors, or points of a sweep's grid: the one cap, in a file or on the command line
PRIOR_SPREAD = 6.0  # a normal or lognormal prior without bounds ranges over its centre +- this many s.d.


# Values a scenario records that no notebook reads (yet): setting one changes no figure, so ``--set`` refuses it
# (:func:`valuechain.scenario.variants.unread`). tests/test_overrides.py checks that the list is right.
UNREAD = {
    "demand_gap.regression.elasticity_prior_mean": "the regressions estimate the elasticity without a prior",
    "demand_gap.regression.elasticity_prior_sd": "the regressions estimate the elasticity without a prior",
    "demand_gap.capital.shown_separately": "no page shows these spenders apart",
}


class _Frozen(BaseModel):
    # Every number is finite (no .nan or .inf), and no true/false stands in for a number: YAML reads
    # yes/no/on/off/true/false as booleans, and pydantic would otherwise read them as 1 and 0.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value, info):
        annotation = cls.model_fields[info.field_name].annotation
        if _holds_boolean(value, _is_record(annotation)) and not _accepts_boolean(annotation):
            raise ValueError("a true/false value is not allowed here; write a number (or quote the text)")
        return value


class Years(_Frozen):
    """Calendar years of the historical analysis, and the period the headline describes."""

    start: Year  # first calendar year analysed
    end: Year  # last calendar year analysed
    latest: Literal["calendar_year", "ttm"] = "calendar_year"  # headline period: the last calendar year, or the trailing twelve months (four filed quarters)
    ttm_end: Annotated[str, Field(pattern=r"^\d{4}Q[1-4]$")] | None = None  # last calendar quarter of the twelve months, e.g. "2026Q2"; None: the latest quarter at least half the model's companies have filed
    rationale: str = ""  # source or reasoning for the values set here

    @model_validator(mode="after")
    def _ordered(self):
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        if self.ttm_end is not None and not 2010 <= int(self.ttm_end[:4]) <= 2040:
            raise ValueError(f"ttm_end {self.ttm_end} is outside 2010-2040 (a calendar quarter, e.g. 2026Q2)")
        return self


class Attribution(_Frozen):
    """How much of one company's reported figures is AI, and at what operating margin."""

    revenue_metric: str  # metric holding the company's relevant revenue (revenue_run_rate: interpolated)
    ai_share: Share | dict[Year, Share] = 1.0  # share of that revenue attributable to AI, 0-1 (per year allowed)
    margin_metrics: tuple[str, ...] = ()  # income (or *_loss) metrics tried in order for the operating margin
    margin_denominator: str | None = None  # revenue metric the margin is measured against (default: revenue_metric)
    margin: Margin | dict[Year, Margin] | None = None  # assumed margin where margin_metrics give none (fraction)
    rationale: str = ""  # source or reasoning for ai_share and margin

    @model_validator(mode="after")
    def _needs_rationale(self):
        if (self.ai_share != 1.0 or self.margin is not None) and not self.rationale.strip():
            raise ValueError("an assumed ai_share or margin needs a rationale (its source or reasoning)")
        return self

    def margin_in(self, year: int) -> float | None:
        """Assumed margin for ``year``; None where none is given."""
        if isinstance(self.margin, dict):
            return self.margin.get(year)
        return self.margin


class Layer(_Frozen):
    """One layer of the chain."""

    companies: tuple[str, ...]  # company ids from companies.csv
    pass_through: Share  # share of the layer's AI revenue paid to the next layer upstream, 0-1
    margin: Margin | None = None  # operating margin used for a company whose attribution gives none
    rationale: str = ""  # source or reasoning for pass_through and margin


class Projection(_Frozen):
    """Drivers of the projection years."""

    start: Year  # first projected calendar year
    end: Year  # last projected calendar year
    capex_growth: Growth | dict[Year, Growth]  # yearly growth of AI capex (0.2 = +20%)
    end_user_growth: Growth | dict[Year, Growth]  # yearly growth of end-user AI spend
    final_margins: dict[LayerName, Margin]  # operating margin of each layer in the last projected year
    capex_allocation: dict[Literal["chips", "servers", "other"], Share]  # where each capex dollar goes; sums to 1
    rationale: str = ""  # source or reasoning for the drivers

    @model_validator(mode="after")
    def _check(self):
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        total = sum(self.capex_allocation.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"capex_allocation shares sum to {total:.4g}, not 1; adjust them so they add up to 1")
        missing = set(CHAIN_ORDER) - set(self.final_margins)
        if missing:
            raise ValueError(f"final_margins lacks {', '.join(sorted(missing))}")
        for name in ("capex_growth", "end_user_growth"):
            value = getattr(self, name)
            if isinstance(value, dict):
                absent = [y for y in range(self.start, self.end + 1) if y not in value]
                if absent:
                    raise ValueError(f"{name} has no value for {absent[0]}")
        return self

    def growth(self, name: str, year: int) -> float:
        value = getattr(self, name)
        return value[year] if isinstance(value, dict) else value


class BreakEven(_Frozen):
    """What a dollar of AI capex must earn."""

    depreciation_life_years: Annotated[float, Field(gt=0, le=30)]  # years over which AI capex is recovered
    target_return: Annotated[float, Field(ge=0, le=1)]  # annual return required on capital (0.10 = 10%)
    margin_before_depreciation: Annotated[float, Field(gt=0, le=1)]  # share of revenue left to repay capital
    rationale: str = ""  # source or reasoning


class SequoiaInputs(_Frozen):
    """Inputs of Sequoia's required-revenue method."""

    gpu_share_of_tco: Annotated[float, Field(gt=0, le=1)]  # GPU share of data-center total cost of ownership
    end_user_gross_margin: Annotated[float, Field(ge=0, lt=1)]  # gross margin of the end user of AI
    run_rate_usd_bn: Annotated[float, Field(gt=0, le=MAX_USD_BN)] | None = None  # None: NVIDIA's latest filed data-center quarter x 4
    identified_ai_revenue_usd_bn: Annotated[float, Field(ge=0, le=MAX_USD_BN)] | None = None  # None: cloud + lab + app AI revenue from the profit model
    year: Year | None = None  # the year a fixed run-rate and identified revenue describe (an anchor's own year); None: the report year
    rationale: str = ""  # source or reasoning for the values set here


class BainInputs(_Frozen):
    """Inputs of Bain's capex-to-revenue method."""

    capex_to_revenue: Annotated[float, Field(gt=0, le=1)]  # sustainable capex-to-revenue ratio
    capex_usd_bn: Annotated[float, Field(gt=0, le=MAX_USD_BN)] | None = None  # None: the capex spenders' latest calendar-year capex
    fundable_revenue_usd_bn: Annotated[float, Field(ge=0, le=MAX_USD_BN)] | None = None  # revenue Bain deems fundable; None: not compared
    year: Year | None = None  # the year a fixed capex and fundable revenue describe (an anchor's own year); None: the report year
    rationale: str = ""  # source or reasoning for the values set here


class CapitalRecoveryInputs(_Frozen):
    """Inputs of the capital-recovery method (life, return and margin come from break_even)."""

    capital_base_usd_bn: Annotated[float, Field(gt=0, le=MAX_USD_BN)] | None = None  # None: spenders' capex over the depreciation life
    rationale: str = ""  # source or reasoning for the values set here


class CapitalInputs(_Frozen):
    """AI capital in service and the revenue that recovers it (notebook 02's required revenue R*)."""

    spenders: tuple[str, ...]  # companies whose capex is AI-relevant; each in every quarter from first_quarter, or none
    shown_separately: tuple[str, ...] = ()  # spenders whose capex mainly serves their own products (shown apart)
    first_quarter: Annotated[str, Field(pattern=r"^\d{4}Q[1-4]$")] = "2018Q1"  # first quarter of capex counted; capital built earlier is left out
    ai_share: dict[Year, Share]  # AI share of the spenders' capex at each year's centre (0-1), linear by quarter in between
    ai_share_before: Share  # AI share of capex built before the first year of ai_share (0-1), ramping to the first year's
    service_lag_quarters: Annotated[int, Field(ge=2, le=6)]  # quarters from spending to capital in service
    servers_share: Share  # share of AI capex spent on servers and networking (the rest: buildings and power)
    servers_life_years: Annotated[float, Field(ge=3, le=8)]  # life of servers and networking, years (about 5-6)
    buildings_life_years: Annotated[float, Field(ge=10, le=30)]  # life of buildings and power, years (about 15-20)
    rationale: str = ""  # source or reasoning

    @field_validator("ai_share")
    @classmethod
    def _some_years(cls, value):
        if not value:
            raise ValueError("ai_share needs at least one year")
        return value


class DownstreamInputs(_Frozen):
    """How dated AI revenue disclosures become the quarterly series D (net external AI revenue)."""

    start_quarter: Annotated[str, Field(pattern=r"^\d{4}Q[1-4]$")] = "2023Q1"  # first quarter of D
    level_sd: float | Literal["estimate"] = "estimate"  # s.d. of quarterly shocks to the level of log revenue: estimate (maximum likelihood on the disclosures) or a fixed number in (0, 0.5]
    slope_sd: float | Literal["estimate"] = "estimate"  # s.d. of quarterly shocks to its growth rate: estimate or a fixed number in (0, 0.5]
    band: Annotated[float, Field(ge=0.5, le=0.99)] = 0.90  # coverage of every band and interval shown
    rationale: str = ""  # source or reasoning for the values set here

    @field_validator("level_sd", "slope_sd", mode="before")
    @classmethod
    def _estimate_or_number(cls, value):
        if value == "estimate":
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 0.5:
            return float(value)
        raise ValueError("write estimate (from the disclosures) or a fixed number in (0, 0.5] (a quarterly s.d.)")


class Prior(_Frozen):
    """The distribution of one assumption, named by its dotted scenario key.

    normal: ``mean``, ``sd`` (optionally truncated to ``low``-``high``); lognormal: ``median``,
    ``sigma`` (s.d. of the log; optional bounds); triangular and pert: ``low``, ``mode``, ``high``;
    uniform: ``low``, ``high``; beta: ``alpha``, ``beta`` on ``low``-``high`` (default 0-1).
    A zero width (``sd: 0``, ``low`` = ``high``) fixes the value.
    The prior's range (its bounds; for a normal or lognormal prior without them, its centre +- 6 s.d.)
    is finite and lies within the bounds of the value it names: a discount-rate prior from -50 to 50,
    ``sd: 1e308`` or a lognormal median of 1e300 on a multiple of at most 100 is refused.
    """

    dist: Literal["normal", "lognormal", "triangular", "uniform", "beta", "pert"]
    mean: float | None = None
    sd: Annotated[float, Field(ge=0)] | None = None
    median: Annotated[float, Field(gt=0)] | None = None
    sigma: Annotated[float, Field(ge=0)] | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    alpha: Annotated[float, Field(gt=0)] | None = None
    beta: Annotated[float, Field(gt=0)] | None = None
    rationale: str  # why this distribution: its source or reasoning

    @model_validator(mode="after")
    def _complete(self):
        needs = {"normal": ("mean", "sd"), "lognormal": ("median", "sigma"), "triangular": ("low", "mode", "high"),
                 "uniform": ("low", "high"), "beta": ("alpha", "beta"), "pert": ("low", "mode", "high")}[self.dist]
        allowed = set(needs) | {"low", "high"}
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.dist} prior needs {', '.join(needs)}; missing {', '.join(missing)}")
        extra = [name for name in ("mean", "sd", "median", "sigma", "mode", "alpha", "beta")
                 if getattr(self, name) is not None and name not in allowed]
        if extra:
            raise ValueError(f"a {self.dist} prior takes {', '.join(needs)} (and low/high bounds), not {', '.join(extra)}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        if self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode {self.mode} is outside low-high ({self.low}-{self.high})")
        centre = self.mean if self.dist == "normal" else self.median if self.dist == "lognormal" else None
        if centre is not None and ((self.low is not None and centre < self.low) or (self.high is not None and centre > self.high)):
            raise ValueError(f"the centre {centre} is outside the bounds")
        if self.dist == "lognormal" and self.low is not None and self.low < 0:
            raise ValueError("a lognormal prior cannot have a negative lower bound")
        if not self.rationale.strip():
            raise ValueError("a prior needs a rationale (its source or reasoning)")
        low, high = self.range()
        if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(high - low)):
            raise ValueError(f"a {self.dist} prior ranging over {low:g} to {high:g} is not finite; "
                             f"give it a finite centre and spread, or low and high bounds")
        return self

    def range(self) -> tuple[float, float]:
        """The values the prior can draw: its bounds, or for a normal or lognormal prior without them its
        centre +- :data:`PRIOR_SPREAD` s.d. (beyond which a draw is rarer than one in 500 million)."""
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if self.dist == "normal":
            low, high = max(low, self.mean - PRIOR_SPREAD * self.sd), min(high, self.mean + PRIOR_SPREAD * self.sd)
        elif self.dist == "lognormal":
            spread = math.exp(min(PRIOR_SPREAD * self.sigma, 700.0))
            low, high = max(low, self.median / spread), min(high, self.median * spread)
        elif self.dist == "beta":
            low, high = (0.0 if self.low is None else low), (1.0 if self.high is None else high)
        return float(low), float(high)


def _half_life_prior() -> Prior:
    return Prior(dist="lognormal", median=2.0, sigma=0.5, low=0.25, high=10.0,
                 rationale="The growth of a new platform's revenue decays over a few years; a half-life of about two "
                           "years, from one to four.")


def _long_run_prior() -> Prior:
    return Prior(dist="normal", mean=0.07, sd=0.03, low=0.0, high=0.2,
                 rationale="Once diffused, AI spending grows with IT spending: Gartner's worldwide IT spending grew 10% "
                           "in 2025 and is forecast 11% in 2026; longer-run nominal growth is lower.")


def _ceiling_prior() -> Prior:
    return Prior(dist="triangular", low=0.05, mode=0.25, high=0.6,
                 rationale="Software and IT services were 53% of world IT spending in 2025 (Gartner); AI final demand "
                           "may take a share of them, not all of IT.")


class PrimaryTest(_Frozen):
    """The pre-specified question of the demand gap and its test (see valuechain.stats.reach and valuechain.stats.closing).

    The question: does D reach R*'s committed path by the end of ``reach_year``? H0, whatever the data: it
    does not. D's growth after the last quarter decays from its estimate to ``long_run_growth`` with
    half-life ``growth_half_life_years``, scaled by the room left below a ceiling of ``ceiling_share`` of
    world IT spending (stated priors, drawn in the posterior predictive).
    """

    test: Literal["gap_closing"] = "gap_closing"  # H0: the gap is not closing fast enough to close in time
    reach_year: Year = 2030  # the question: does D reach R*'s committed path by the end of this year?
    growth_half_life_years: Prior = Field(default_factory=_half_life_prior)  # half-life of D's growth above its long-run rate, years
    long_run_growth: Prior = Field(default_factory=_long_run_prior)  # D's long-run growth, log points a year
    ceiling_share: Prior = Field(default_factory=_ceiling_prior)  # D's ceiling, share of world IT spending in 2025
    predictive_draws: Annotated[int, Field(ge=1000, le=200_000)] = 20_000  # draws of the posterior predictive
    seed: Annotated[int, Field(ge=0)] = 27  # the same seed gives the same draws
    close_within_years: Annotated[float, Field(gt=0, le=30)] | None = None  # None: the servers' life
    horizon_year: Year = 2030  # year for P(gap closed by then)
    window_quarters: Annotated[int, Field(ge=4, le=40)] = 8  # latest quarterly changes the closing rate is measured on
    min_series: Annotated[int, Field(ge=1, le=20)] = 3  # quarters where D rests on fewer final-demand series are left out
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05  # level of the primary test
    rationale: str = ""  # source or reasoning for the values set here


class RegressionInputs(_Frozen):
    """Series and specification of the secondary regressions (growth and error-correction form)."""

    capex_companies: tuple[str, ...]  # the largest spenders: their capex drives the profit model's projection
    long_series_company: str = "amazon"  # company with the longest cloud revenue and capex pair (bounds, break, forecasts)
    panel_companies: tuple[str, ...]  # clouds in the revenue-on-own-capex panel
    lags: Annotated[int, Field(ge=1, le=8)] = 4  # distributed lags of capex growth, quarters
    placebo_leads: Annotated[int, Field(ge=1, le=8)] = 4  # capex leads in the placebo, quarters
    elasticity_prior_mean: Annotated[float, Field(ge=-5, le=5)] = 1.0  # prior mean of the AI revenue elasticity
    elasticity_prior_sd: Annotated[float, Field(gt=0, le=10)] = 0.5  # prior s.d. of that elasticity
    bootstrap: Annotated[int, Field(ge=99, le=9999)] = 499  # bootstrap draws for the bounds and break tests
    break_trim: Annotated[float, Field(ge=0.1, le=0.3)] = 0.15  # share of quarters kept off each end in the break test
    forecast_horizon: Annotated[int, Field(ge=1, le=4)] = 4  # quarters ahead in the out-of-sample check
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05  # level of the secondary tests (Holm-adjusted)
    rationale: str = ""  # source or reasoning for the values set here


class DemandGap(_Frozen):
    """Parameters of the demand-gap analysis (notebook 02)."""

    break_even: BreakEven
    sequoia: SequoiaInputs
    bain: BainInputs
    capital_recovery: CapitalRecoveryInputs = CapitalRecoveryInputs()
    capital: CapitalInputs
    downstream: DownstreamInputs = DownstreamInputs()
    primary_test: PrimaryTest = Field(default_factory=PrimaryTest)
    regression: RegressionInputs


class LabPath(_Frozen):
    """Drivers of one lab's revenue and cost path."""

    base_revenue_usd_bn: Annotated[float, Field(gt=0, le=MAX_USD_BN)] | None = None  # None: start-year revenue from the latest disclosure
    loss_per_revenue_dollar: Annotated[float, Field(ge=-1, le=20)] | None = None  # None: latest reported loss / revenue
    revenue_growth: Growth | dict[Year, Growth]  # yearly revenue growth (0.5 = +50%); the last value carries on
    cost_decline: Annotated[float, Field(ge=0, lt=1)]  # yearly fall of cost per revenue dollar (0.2 = -20%)
    cloud_partner_share: Annotated[float, Field(ge=0, lt=1)] = 0.0  # share of reported revenue cloud partners keep (0: reported net)
    rationale: str = ""  # source or reasoning


class Investment(_Frozen):
    """A cloud's investment in a lab, part of which comes back as cloud revenue."""

    investor: str  # company id of the cloud
    lab: str  # company id of the lab
    amount_fact: str  # fact_id in facts.csv holding the amount invested (USD bn)
    share_spent_on_investor_cloud: Share  # share of the investment spent on the investor's cloud
    first_year: Year  # first calendar year of spending
    spend_years: Annotated[int, Field(ge=1, le=10)]  # years over which the money is spent, evenly
    rationale: str = ""  # source or reasoning


class LabEconomics(_Frozen):
    """Parameters of notebook 03."""

    base_year: Year  # first year of the break-even paths: the year of the labs' latest disclosed revenue
    horizon_years: Annotated[int, Field(ge=1, le=30)]  # years projected
    paths: dict[str, LabPath]  # keyed by lab company id
    investments: tuple[Investment, ...]
    circular_year: Year  # year in which round-tripped revenue is set against cloud AI revenue
    rationale: str = ""  # source or reasoning for the values set here


class Valuation(_Frozen):
    """Parameters of notebook 04."""

    ipo_valuation_facts: dict[str, str]  # company id -> fact_id of the valuation used for the IPO draw
    float_ratios: tuple[Share, ...]  # shares of each company sold at the IPO
    valuation_year: Year  # year the valuations are dated
    target_year: Year  # year whose revenue must justify the valuation
    exit_multiple: Annotated[float, Field(gt=0, le=100)]  # revenue multiple in the target year
    discount_rate: Annotated[float, Field(ge=0, le=1)]  # required annual return (0.15 = 15%)
    china_years_to_converge: Annotated[int, Field(ge=1, le=30)]  # years for the China P/E to fall to NVIDIA's
    nvidia_earnings_growth: Growth  # NVIDIA's yearly earnings growth in that comparison
    rationale: str = ""  # source or reasoning


class Uncertainty(_Frozen):
    """Priors on the assumptions that matter, their rank correlations, and the Monte Carlo settings."""

    draws: Annotated[int, Field(ge=100, le=MAX_DRAWS)] = 5000  # Monte Carlo draws in notebook 05
    seed: Annotated[int, Field(ge=0)] = 0  # the same seed gives the same draws and figures
    sobol_samples: Annotated[int, Field(ge=64, le=65536)] = 512  # Sobol base samples (a power of 2)
    shapley_permutations: Annotated[int, Field(ge=20, le=5000)] = 400  # random orderings behind the Shapley effects
    priors: dict[str, Prior]  # keyed by dotted scenario key, e.g. attribution.microsoft.ai_share.2025
    correlations: tuple[tuple[str, str, Annotated[float, Field(ge=-1, le=1)]], ...] = ()  # [key, key, Spearman rank correlation]
    rationale: str = ""  # source or reasoning for the values set here

    @model_validator(mode="after")
    def _check(self):
        n = self.sobol_samples
        if n & (n - 1):
            raise ValueError(f"sobol_samples {n} is not a power of 2; use e.g. {1 << n.bit_length()}")
        keys = list(self.priors)
        for a, b, _ in self.correlations:
            for key in (a, b):
                if key not in self.priors:
                    close = difflib.get_close_matches(key, keys, n=1)
                    hint = f"did you mean '{close[0]}'?" if close else "give it a prior first"
                    raise ValueError(f"correlations name '{key}', which has no prior; {hint}")
            if a == b:
                raise ValueError(f"correlations pair '{a}' with itself")
        if self.correlations:
            import numpy as np

            matrix = rank_correlation_matrix(keys, self.correlations)
            lowest = float(np.linalg.eigvalsh(matrix).min())
            if lowest < -1e-9:
                raise ValueError(f"the rank correlations do not form a positive semi-definite matrix (smallest "
                                 f"eigenvalue {lowest:.3f}); weaken the correlations that contradict each other")
        return self


def rank_correlation_matrix(keys, correlations):
    """The full rank-correlation matrix of ``keys`` from ``[key, key, rho]`` pairs (1 on the diagonal, 0 elsewhere)."""
    import numpy as np

    matrix = np.eye(len(keys))
    index = {key: i for i, key in enumerate(keys)}
    for a, b, rho in correlations:
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
    return matrix


class Scenario(_Frozen):
    """A complete, resolved scenario."""

    name: str  # file stem, e.g. "base"
    title: str  # one-line title shown on every page
    description: str  # what the scenario assumes and why
    years: Years
    layers: dict[LayerName, Layer]
    attribution: dict[str, Attribution]  # keyed by company id
    projection: Projection
    demand_gap: DemandGap
    lab_economics: LabEconomics
    valuation: Valuation
    uncertainty: Uncertainty | None = None  # priors for notebook 05 and valuechain sweep

    @field_validator("layers")
    @classmethod
    def _all_layers(cls, layers):
        missing = set(CHAIN_ORDER) - set(layers)
        if missing:
            raise ValueError(f"layers lacks {', '.join(sorted(missing))}")
        return layers

    @model_validator(mode="after")
    def _companies_attributed(self):
        for layer, spec in self.layers.items():
            for company in spec.companies:
                if company not in self.attribution:
                    raise ValueError(f"layers.{layer}.companies names '{company}', which has no attribution entry")
        if self.projection.start != self.years.end + 1:
            raise ValueError(f"projection.start must be the year after years.end ({self.years.end + 1})")
        if self.uncertainty is not None:
            numbers = [key for key, value in nested.dotted(self.model_dump(mode="json", exclude={"uncertainty"})).items()
                       if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))]
            for key, prior in self.uncertainty.priors.items():
                if key not in numbers:
                    raise ValueError(f"uncertainty.priors names '{key}', which is not a number in the scenario; "
                                     f"{closest_key(key, numbers)}")
                low, high = prior.range()
                floor, ceiling = field_bounds(key)
                if low < floor or high > ceiling:
                    raise ValueError(f"uncertainty.priors.{key} ranges over {low:g} to {high:g}, outside the {floor:g} to "
                                     f"{ceiling:g} that {key} allows; narrow the prior (a normal or lognormal one without "
                                     f"low and high spans its centre +- {PRIOR_SPREAD:g} s.d.)")
        return self

    def resolved(self) -> dict:
        """The resolved parameters as plain data (recorded in every output)."""
        return self.model_dump(mode="json")


def field_bounds(key: str) -> tuple[float, float]:
    """The lowest and highest value the scenario's schema allows for the number at dotted ``key``
    (``valuation.discount_rate`` -> (0, 1)); -inf or inf where a side is unbounded or the key names no number."""
    return _bounds(Scenario, (), str(key).split("."))


def _alternatives(annotation, metadata=()) -> list[tuple[object, tuple]]:
    """The types a field may hold, each with the constraints (``annotated_types`` objects) that apply to it."""
    if typing.get_origin(annotation) is Annotated:
        base, *extra = typing.get_args(annotation)
        found = []
        for item in extra:
            found += list(getattr(item, "metadata", None) or [item])
        return _alternatives(base, (*metadata, *found))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(annotation) for alt in _alternatives(arg, metadata)]
    return [] if annotation is type(None) else [(annotation, tuple(metadata))]


def _bounds(annotation, metadata, parts) -> tuple[float, float]:
    for kind, constraints in _alternatives(annotation, metadata):
        if not parts:
            if kind in (int, float):
                floor, ceiling = -math.inf, math.inf
                for c in constraints:
                    for name in ("ge", "gt"):
                        floor = max(floor, float(getattr(c, name))) if getattr(c, name, None) is not None else floor
                    for name in ("le", "lt"):
                        ceiling = min(ceiling, float(getattr(c, name))) if getattr(c, name, None) is not None else ceiling
                return floor, ceiling
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(parts[0])
            if field is not None:
                return _bounds(field.annotation, tuple(field.metadata), parts[1:])
        elif typing.get_origin(kind) is dict:
            return _bounds(typing.get_args(kind)[1], (), parts[1:])
    return -math.inf, math.inf


def closest_key(key: str, valid) -> str:
    """A hint naming the valid key closest to ``key``."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    if not close:  # compare the last parts only: a right name under the wrong section
        tails = {k.rsplit(".", 1)[-1]: k for k in valid}
        close = [tails[c] for c in difflib.get_close_matches(key.rsplit(".", 1)[-1], list(tails), n=1)]
    return f"did you mean '{close[0]}'?" if close else "see the scenario file for the valid keys"


def _holds_boolean(value, record: bool = False) -> bool:
    """Whether ``value`` is a boolean or a list or mapping of scalars holding one (records check their own fields)."""
    if isinstance(value, bool):
        return True
    if record:
        return False
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return any(_holds_boolean(v) for v in items if not isinstance(v, dict))


def _is_record(annotation) -> bool:
    """Whether ``annotation`` is a record type (a pydantic model), or a union with one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and any(
        _is_record(a) for a in typing.get_args(annotation))


def _accepts_boolean(annotation) -> bool:
    """Whether ``annotation`` is ``bool``, or a union with it."""
    return annotation is bool or any(_accepts_boolean(a) for a in typing.get_args(annotation))
