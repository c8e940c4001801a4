"""Scenario parameters: YAML files in ``params/`` loaded into typed, frozen records.

A scenario may ``extends:`` another and override only what differs; mappings are merged
key by key, anything else (numbers, lists) is replaced, and so is a prior under
``uncertainty.priors`` (it is one distribution). Unknown keys are errors, not warnings.
Every refusal is a :class:`ParameterError` naming the file, the key path and the fix.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from valuechain import nested, paths
from valuechain.exceptions import ParameterError
from valuechain.layers import CHAIN_ORDER, LayerName
from valuechain.files import safe_load

SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Margin = Annotated[float, Field(ge=-5.0, le=1.0)]
Year = Annotated[int, Field(ge=2010, le=2040)]
Growth = Annotated[float, Field(ge=-0.9, le=5.0)]
MAX_USD_BN = 100_000.0  # USD bn: $100 trillion, about world GDP; no amount in a scenario can be larger


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

    def share_in(self, year: int) -> float | None:
        """AI share for ``year``; None where a per-year mapping has no entry."""
        if isinstance(self.ai_share, dict):
            return self.ai_share.get(year)
        return self.ai_share

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


class BainInputs(_Frozen):
    """Inputs of Bain's capex-to-revenue method."""

    capex_to_revenue: Annotated[float, Field(gt=0, le=1)]  # sustainable capex-to-revenue ratio
    capex_usd_bn: Annotated[float, Field(gt=0, le=MAX_USD_BN)] | None = None  # None: the capex spenders' latest calendar-year capex
    fundable_revenue_usd_bn: Annotated[float, Field(ge=0, le=MAX_USD_BN)] | None = None  # revenue Bain deems fundable; None: not compared


class CapitalRecoveryInputs(_Frozen):
    """Inputs of the capital-recovery method (life, return and margin come from break_even)."""

    capital_base_usd_bn: Annotated[float, Field(gt=0, le=MAX_USD_BN)] | None = None  # None: spenders' capex over the depreciation life


class CapitalInputs(_Frozen):
    """AI capital in service and the revenue that recovers it (notebook 02's required revenue R*)."""

    spenders: tuple[str, ...]  # companies whose capex is AI-relevant, counted in the quarters each has filed
    shown_separately: tuple[str, ...] = ()  # spenders whose capex mainly serves their own products (shown apart)
    ai_share: dict[Year, Share]  # share of the spenders' capex that is AI-relevant, by year (0-1); earlier capex is not AI
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
    level_sd: Annotated[float, Field(gt=0, le=0.5)] = 0.05  # s.d. of quarterly shocks to the level of log revenue
    slope_sd: Annotated[float, Field(gt=0, le=0.5)] = 0.03  # s.d. of quarterly shocks to its growth rate
    band: Annotated[float, Field(ge=0.5, le=0.99)] = 0.90  # coverage of every band and interval shown


class PrimaryTest(_Frozen):
    """The one pre-specified test of the demand gap (see valuechain.stats.closing)."""

    test: Literal["gap_closing"] = "gap_closing"  # H0: the gap is not closing fast enough to close in time
    close_within_years: Annotated[float, Field(gt=0, le=30)] | None = None  # None: the servers' life
    horizon_year: Year = 2030  # year for P(gap closed by then)
    window_quarters: Annotated[int, Field(ge=4, le=40)] = 8  # latest quarterly changes the closing rate is measured on
    min_series: Annotated[int, Field(ge=1, le=20)] = 3  # quarters where D rests on fewer final-demand series are left out
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05  # level of the primary test


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


class DemandGap(_Frozen):
    """Parameters of the demand-gap analysis (notebook 02)."""

    break_even: BreakEven
    sequoia: SequoiaInputs
    bain: BainInputs
    capital_recovery: CapitalRecoveryInputs = CapitalRecoveryInputs()
    capital: CapitalInputs
    downstream: DownstreamInputs = DownstreamInputs()
    primary_test: PrimaryTest = PrimaryTest()
    regression: RegressionInputs


class LabPath(_Frozen):
    """Drivers of one lab's revenue and cost path."""

    base_revenue_usd_bn: Annotated[float, Field(gt=0, le=MAX_USD_BN)] | None = None  # None: base-year revenue from the data
    loss_per_revenue_dollar: Annotated[float, Field(ge=-1, le=20)] | None = None  # None: latest reported loss / revenue
    revenue_growth: Growth | dict[Year, Growth]  # yearly revenue growth (0.5 = +50%); the last value carries on
    cost_decline: Annotated[float, Field(ge=0, lt=1)]  # yearly fall of cost per revenue dollar (0.2 = -20%)
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

    base_year: Year  # first year of the break-even paths
    horizon_years: Annotated[int, Field(ge=1, le=30)]  # years projected
    paths: dict[str, LabPath]  # keyed by lab company id
    investments: tuple[Investment, ...]
    circular_year: Year  # year in which round-tripped revenue is set against cloud AI revenue


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


DISTRIBUTIONS = ("normal", "lognormal", "triangular", "uniform", "beta", "pert")


class Prior(_Frozen):
    """The distribution of one assumption, named by its dotted scenario key.

    normal: ``mean``, ``sd`` (optionally truncated to ``low``-``high``); lognormal: ``median``,
    ``sigma`` (s.d. of the log; optional bounds); triangular and pert: ``low``, ``mode``, ``high``;
    uniform: ``low``, ``high``; beta: ``alpha``, ``beta`` on ``low``-``high`` (default 0-1).
    A zero width (``sd: 0``, ``low`` = ``high``) fixes the value.
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
        return self


class Uncertainty(_Frozen):
    """Priors on the assumptions that matter, their rank correlations, and the Monte Carlo settings."""

    draws: Annotated[int, Field(ge=100, le=1_000_000)] = 5000  # Monte Carlo draws in notebook 05
    seed: Annotated[int, Field(ge=0)] = 0  # the same seed gives the same draws and figures
    sobol_samples: Annotated[int, Field(ge=64, le=65536)] = 512  # Sobol base samples (a power of 2)
    priors: dict[str, Prior]  # keyed by dotted scenario key, e.g. attribution.microsoft.ai_share.2025
    correlations: tuple[tuple[str, str, Annotated[float, Field(ge=-1, le=1)]], ...] = ()  # [key, key, Spearman rank correlation]

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
            for key in self.uncertainty.priors:
                if key not in numbers:
                    raise ValueError(f"uncertainty.priors names '{key}', which is not a number in the scenario; "
                                     f"{closest_key(key, numbers)}")
        return self

    def resolved(self) -> dict:
        """The resolved parameters as plain data (recorded in every output)."""
        return self.model_dump(mode="json")


def closest_key(key: str, valid) -> str:
    """A hint naming the valid key closest to ``key``."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    if not close:  # compare the last parts only: a right name under the wrong section
        tails = {k.rsplit(".", 1)[-1]: k for k in valid}
        close = [tails[c] for c in difflib.get_close_matches(key.rsplit(".", 1)[-1], list(tails), n=1)]
    return f"did you mean '{close[0]}'?" if close else "see the scenario file for the valid keys"


# ----------------------------------------------------------------------------- loading


VARIANTS = "variants"  # sub-folder of params/ holding the variants written by --set


def scenario_path(name_or_path: str | Path, params_dir: Path | None = None) -> Path:
    """File of a scenario given by name (``base``, or a variant in ``params/variants/``) or by path."""
    params_dir = params_dir or paths.PARAMS_DIR
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")):
        path = Path(text)
        check_name(path.stem)
        return path
    check_name(text)
    variant = params_dir / VARIANTS / f"{text}.yaml"
    return variant if variant.exists() and not (params_dir / f"{text}.yaml").exists() else params_dir / f"{text}.yaml"


def check_name(name: str) -> str:
    """Refuse a scenario name that could escape outputs/ or confuse a shell."""
    if not SCENARIO_NAME.match(name):
        raise ParameterError(
            f"scenario name {name!r} is not allowed; use lower-case letters, digits, '-' and '_', starting with a letter or digit")
    return name


def list_scenarios(params_dir: Path | None = None) -> list[str]:
    """Names of the scenario files in ``params/`` and of the variants in ``params/variants/``, sorted."""
    params_dir = params_dir or paths.PARAMS_DIR
    return sorted({p.stem for p in (*params_dir.glob("*.yaml"), *(params_dir / VARIANTS).glob("*.yaml"))})


def load_scenario(name_or_path: str | Path, overrides: dict | None = None, params_dir: Path | None = None,
                  company_ids=None, metric_names=None) -> Scenario:
    """Load, resolve ``extends`` and validate a scenario.

    ``overrides`` is merged over the file: a nested mapping, or dotted keys
    (``{"valuation.discount_rate": 0.3}``, as ``--set`` and the notebooks' ``overrides`` give them),
    each checked against the scenario's keys (:func:`apply_overrides`).
    ``company_ids`` and ``metric_names`` (default: from the bundled dataset) check that every
    company and metric named exists.
    """
    path = scenario_path(name_or_path, params_dir)
    raw = _resolve(path, chain=(), params_dir=params_dir or paths.PARAMS_DIR)
    raw.pop("extends", None)
    nested = {k: v for k, v in (overrides or {}).items() if "." not in str(k) and isinstance(v, dict)}
    dotted = {k: v for k, v in (overrides or {}).items() if k not in nested}
    if nested:
        raw = _merge(raw, nested)
    if dotted:
        raw = apply_overrides(path, raw, dotted, company_ids, metric_names)
    raw["name"] = path.stem
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise _parameter_error(path, exc, raw) from None
    _check_references(path, scenario, company_ids, metric_names)
    return scenario


def apply_overrides(path: Path, raw: dict, dotted: dict, company_ids=None, metric_names=None) -> dict:
    """``raw`` (a resolved scenario file) with each dotted key of ``dotted`` set to its value.

    A key must name a value the scenario has (or a new year in a mapping by year); an unknown key is
    a :class:`ParameterError` suggesting the closest valid key. The title and description say the
    scenario is a variant and list the overrides, so every page shows them.
    """
    try:
        valid = set(nested.dotted(Scenario.model_validate({**raw, "name": path.stem}).model_dump(mode="json")))
    except ValidationError as exc:
        raise _parameter_error(path, exc, raw) from None
    out = copy.deepcopy(raw)
    for key, value in dotted.items():
        parts = str(key).split(".")
        parent = ".".join(parts[:-1])
        new_year = parts[-1].isdigit() and any(k.startswith(parent + ".") and k[len(parent) + 1:].isdigit() for k in valid)
        if key not in valid and not new_year:
            raise ParameterError(f"{path}: override '{key}' names no value of the scenario; {closest_key(key, valid)}")
        node = out
        for part in parts[:-1]:
            part = _existing_key(node, part)
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[_existing_key(node, parts[-1])] = value
    listed = "; ".join(f"{k} = {v}" for k, v in dotted.items())
    out["title"] = f"{out.get('title', path.stem)} (variant)"
    out["description"] = f"Variant of {path.stem} with {listed}. {out.get('description', '')}".strip()
    return out


def _existing_key(node: dict, part: str):
    """``part`` as the mapping spells it: YAML reads a year as a number, a dotted key gives text."""
    if part.isdigit() and int(part) in node:
        return int(part)
    return int(part) if part.isdigit() and any(isinstance(k, int) for k in node) else part


def injected_parameters(history) -> set[str]:
    """Names papermill assigned in a notebook's injected-parameters cell, read from the kernel's input history."""
    import ast

    names: set[str] = set()
    for source in history or ():
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            names |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    return names


def notebook_scenario(namespace: dict, *declared: str) -> Scenario:
    """The scenario a notebook's parameters ask for: ``scenario`` with ``overrides`` applied.

    A parameter papermill injected that the notebook does not declare (``-p discount_rate 0.3``)
    is an error, not papermill's warning: it names the scenario key to set through ``overrides``.
    """
    stray = sorted(injected_parameters(namespace.get("_ih") or namespace.get("In")) - set(declared))
    if stray:
        name = stray[0]
        base = load_scenario(namespace["scenario"])
        hint = closest_key(name, nested.dotted(base.model_dump(mode="json")))
        key = hint.split("'")[1] if "'" in hint else "<dotted.key>"
        raise ParameterError(f"parameter '{name}' is not a parameter of this notebook (it takes {', '.join(declared)}); "
                             f"to change a scenario value pass overrides, e.g. -y '{{overrides: {{{key}: ...}}}}'")
    return load_scenario(namespace["scenario"], namespace.get("overrides") or None)


def parse_assignments(texts) -> dict:
    """``--set key=value`` arguments as a mapping; values are read as YAML (``0.12``, ``[1, 2]``, ``null``)."""
    out = {}
    for text in texts:
        key, sep, value = str(text).partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--set {text!r} is not key=value; write e.g. --set demand_gap.break_even.target_return=0.12")
        try:
            out[key.strip()] = safe_load(value)
        except yaml.YAMLError:
            raise ParameterError(f"--set {key.strip()}: the value {value!r} cannot be read; write a number, text or [list]") from None
    return out


def variant_name(base: str, overrides: dict) -> str:
    """A variant's name: its base and a short hash of its overrides, e.g. ``base-set-1a2b3c4d``."""
    digest = hashlib.sha256(json.dumps(overrides, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{base}-set-{digest}"


def write_variant(base: str, overrides: dict, params_dir: Path | None = None) -> str:
    """Check ``overrides`` on scenario ``base`` and record them as ``params/variants/<name>.yaml``; return the name.

    The file extends ``base`` and lists the overrides, so the variant is rerun, cached and
    published like any scenario.
    """
    params_dir = params_dir or paths.PARAMS_DIR
    if not scenario_path(base, params_dir).exists():
        raise ParameterError(f"unknown scenario '{base}'; choose from: {', '.join(list_scenarios(params_dir))} (files in params/)")
    load_scenario(base, overrides, params_dir)  # every override checked before anything is written
    name = variant_name(base, overrides)
    folder = params_dir / VARIANTS
    folder.mkdir(parents=True, exist_ok=True)
    nested: dict = {}
    for key, value in overrides.items():
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(int(part) if part.isdigit() else part, {})
        node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value
    listed = "; ".join(f"{k} = {v}" for k, v in overrides.items())
    base_sc = load_scenario(base, params_dir=params_dir)
    head = {"extends": base, "title": f"{base_sc.title} (variant)",
            "description": f"Variant of {base} with {listed}. {base_sc.description}"}
    text = (f"# Variant of {base} written by 'valuechain run {base} --set ...'; only the overrides differ.\n"
            + yaml.safe_dump({**head, **nested}, sort_keys=False, allow_unicode=True))
    from valuechain.files import atomic_write_text

    atomic_write_text(folder / f"{name}.yaml", text)
    return name


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        raise ParameterError(f"{path}: scenario file not found; check the name or create it in params/")
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParameterError(f"{path}: YAML syntax error{where}: {problem}; fix the syntax") from None
    if data is None:
        raise ParameterError(f"{path}: the file is empty; write the scenario's keys or 'extends: base' with overrides")
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def _resolve(path: Path, chain: tuple[Path, ...], params_dir: Path | None = None) -> dict:
    if path.resolve() in chain:
        cycle = " -> ".join(p.stem for p in (*chain, path.resolve()))
        raise ParameterError(f"{chain[0]}: key 'extends' forms a cycle ({cycle}); remove one of the extends")
    data = _read_yaml(path)
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ParameterError(f"{path}: key 'extends' must be a scenario name, got {parent!r}")
    try:
        check_name(parent)
    except ParameterError:
        raise ParameterError(f"{path}: key 'extends' names {parent!r}, which is not a scenario name; "
                             f"use the stem of a file in params/, e.g. 'base'") from None
    # The file's own folder first (a family of scenarios kept together), then the scenarios folder
    # given, then the project's params/.
    folders = list(dict.fromkeys(p.resolve() for p in (path.parent, params_dir or paths.PARAMS_DIR, paths.PARAMS_DIR)))
    parent_path = next((folder / f"{parent}.yaml" for folder in folders if (folder / f"{parent}.yaml").exists()), None)
    if parent_path is None:
        choices = ", ".join(sorted({n for folder in folders for n in list_scenarios(folder)})) or "none"
        raise ParameterError(f"{path}: key 'extends' names '{parent}', which does not exist; looked for {parent}.yaml in "
                             f"{' and '.join(map(str, folders))}; use one of: {choices}")
    return _merge(_resolve(parent_path, (*chain, path.resolve()), params_dir), data)


WHOLE = (("uncertainty", "priors"),)  # mappings whose entries an override replaces whole (a prior is one distribution)


def _merge(base: dict, override: dict, path: tuple = ()) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and path not in WHOLE:
            merged[key] = _merge(merged[key], value, (*path, key))
        else:
            merged[key] = value
    return merged


def _parameter_error(path: Path, exc: ValidationError, raw: dict) -> ParameterError:
    """One ParameterError holding every problem of ``exc``, one line per key; its message is the first."""
    problems, seen = [], set()
    for err in exc.errors():
        key, problem = _describe(path, err)
        if key not in seen:  # pydantic reports each branch of a union; one line per key is enough
            seen.add(key)
            problems.append(problem)
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return ParameterError(problems[0] + more, problems)


_UNION_BRANCHES = re.compile(r"^(function-|union\[|tagged-union\[|constrained-|json-or-python\[)|^(float|int|str|bool|none|"
                             r"dict\[.*\]|tuple\[.*\]|list\[.*\]|literal\[.*\]|nullable\[.*\])$")
_RANGE_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number")
_UNITS = (("_usd_bn", "USD billions"), ("_years", "years"), ("year", "a calendar year"), ("share", "a share, 0-1"),
          ("pass_through", "a share, 0-1"), ("margin", "a fraction of revenue, 0.25 = 25%"),
          ("growth", "a yearly rate, 0.2 = +20%"), ("return", "a yearly rate, 0.1 = 10%"),
          ("rate", "a yearly rate, 0.15 = 15%"), ("ratio", "a fraction, 0.25 = 25%"))


def _describe(path: Path, err: dict) -> tuple[str, str]:
    """Key path and one-line description of one pydantic error."""
    loc = [str(part) for part in err["loc"] if not _UNION_BRANCHES.match(str(part))]
    key = ".".join(loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        parent_model = _model_at(loc[:-1])
        fields = list(parent_model.model_fields) if parent_model else []
        close = difflib.get_close_matches(loc[-1], fields, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(fields)}"
        return key, f"{path}: unknown key {key!r}; {hint}"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] in _RANGE_ERRORS:
        unit = next((text for suffix, text in _UNITS if suffix in key.rsplit(".", 1)[-1]), None)
        message += f" ({unit})" if unit else ""
    value = err.get("input")
    got = "" if isinstance(value, (dict, list, tuple)) else f" (got {str(value)[:60]!r})"
    if not loc:
        return key, f"{path}: {message}"
    return key, f"{path}: key {key!r}: {message}{got}"


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
    return annotation is bool or any(_accepts_boolean(a) for a in typing.get_args(annotation))


def _model_at(loc: list[str]):
    model = Scenario
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            # a dict entry (layer or company name): step into the dict's value model
            continue
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not candidates:
            return None
        model = candidates[-1]
    return model


def _reference_names() -> tuple[set[str], set[str]]:
    """Company ids and metric names of the bundled data, read without loading the whole dataset
    (the dataset loader validates those files; here only the names are needed)."""
    import csv

    with open(paths.DATA_DIR / "companies.csv", newline="", encoding="utf-8") as handle:
        ids = {row["company_id"].strip() for row in csv.DictReader(handle)}
    metrics = safe_load((paths.DATA_DIR / "metrics.yaml").read_text(encoding="utf-8")) or {}
    return ids, set(metrics)


def _check_references(path: Path, scenario: Scenario, company_ids, metric_names) -> None:
    if company_ids is None or metric_names is None:
        ids, metrics = _reference_names()
        company_ids = ids if company_ids is None else company_ids
        metric_names = metrics if metric_names is None else metric_names
    problems: list[str] = []
    for layer, spec in scenario.layers.items():
        for i, company in enumerate(spec.companies):
            if company not in company_ids:
                close = difflib.get_close_matches(company, sorted(company_ids), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "use an id from companies.csv"
                problems.append(f"{path}: key 'layers.{layer}.companies[{i}]': unknown company '{company}'; {hint}")
    dg = scenario.demand_gap
    named = [(f"regression.{field}[{i}]", company) for field in ("capex_companies", "panel_companies")
             for i, company in enumerate(getattr(dg.regression, field))]
    named += [("regression.long_series_company", dg.regression.long_series_company)]
    named += [(f"capital.{field}[{i}]", company) for field in ("spenders", "shown_separately")
              for i, company in enumerate(getattr(dg.capital, field))]
    for key, company in named:
        if company not in company_ids:
            problems.append(f"{path}: key 'demand_gap.{key}': unknown company '{company}'; use an id from companies.csv")
    for i, inv in enumerate(scenario.lab_economics.investments):
        for field in ("investor", "lab"):
            if getattr(inv, field) not in company_ids:
                problems.append(f"{path}: key 'lab_economics.investments[{i}].{field}': unknown company "
                                     f"'{getattr(inv, field)}'; use an id from companies.csv")
    for lab in scenario.lab_economics.paths:
        if lab not in company_ids:
            problems.append(f"{path}: key 'lab_economics.paths.{lab}': unknown company '{lab}'; use an id from companies.csv")
    for company, attr in scenario.attribution.items():
        if company not in company_ids:
            problems.append(f"{path}: key 'attribution.{company}': unknown company '{company}'; use an id from companies.csv")
        named = [("revenue_metric", attr.revenue_metric), ("margin_denominator", attr.margin_denominator)]
        named += [(f"margin_metrics[{i}]", m) for i, m in enumerate(attr.margin_metrics)]
        for field, metric in named:
            if metric is not None and metric not in metric_names:
                problems.append(f"{path}: key 'attribution.{company}.{field}': unknown metric '{metric}'; use a metric from metrics.yaml")
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ParameterError(problems[0] + more, problems)
