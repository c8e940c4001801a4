r"""The arithmetic a reader can audit, as named quantities with their formulas: the workbook's live sheets.

A :class:`Calculations` is a list of :class:`Quantity`: an **input** (a figure from the data or an
assumption of the scenario, with its note) or a **formula** over quantities listed before it,
written in spreadsheet syntax with each operand named in braces, for example
``{run_rate} / {gpu_share} / (1 - {gross_margin})``. Every quantity carries the value the library
computed, so a formula can be checked against it (:meth:`Calculations.check`) and a spreadsheet
without a calculation engine shows the numbers.

What is arithmetic is a formula: the published methods (Sequoia's, Bain's), each bar's bridge to
R*, the capital-recovery factor and the steady-state bar, D against each rung of R*, the profit
pool's shares and the one-dollar flow. What rests on quarterly vintages or the smoother (the capital
in service, R* itself, D) is an input, named as computed by the library.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from valuechain.layers import CHAIN_ORDER
from valuechain.model.formulas import capital_recovery_factor

_NAME = re.compile(r"\{([a-z0-9_]+)\}")


@dataclass(frozen=True)
class Quantity:
    """One line of the calculations: an input (``formula`` empty) or a formula over earlier quantities."""

    key: str
    label: str  # in words, for the sheet
    unit: str  # a unit of :data:`valuechain.report.labels.UNITS`
    value: float  # what the library computed
    formula: str = ""  # spreadsheet syntax over ``{key}`` operands; "" for an input
    note: str = ""  # an input's source or rationale; a formula's meaning
    group: str = ""  # the section it belongs to

    @property
    def operands(self) -> list[str]:
        return _NAME.findall(self.formula)

    def record(self) -> dict:
        return {"key": self.key, "label": self.label, "unit": self.unit, "value": self.value,
                "formula": self.formula, "note": self.note, "group": self.group}


@dataclass(frozen=True)
class Calculations:
    """Named inputs and the formulas over them, in the order a sheet lists them."""

    quantities: tuple[Quantity, ...]

    def __post_init__(self):
        seen = set()
        for q in self.quantities:
            missing = [k for k in q.operands if k not in seen]
            if missing:
                raise ValueError(f"calculation {q.key!r} uses {', '.join(missing)} before it is defined")
            if q.key in seen:
                raise ValueError(f"calculation {q.key!r} is defined twice")
            seen.add(q.key)

    def evaluate(self) -> dict[str, float]:
        """Every quantity's value from the inputs through the formulas (``^`` is a power, as in a spreadsheet)."""
        values: dict[str, float] = {}
        for q in self.quantities:
            if not q.formula:
                values[q.key] = float(q.value)
                continue
            expression = _NAME.sub(lambda m: f"({values[m.group(1)]!r})", q.formula).replace("^", "**")
            values[q.key] = float(eval(expression, {"__builtins__": {}}, {"MIN": min, "MAX": max}))  # noqa: S307
        return values

    def check(self, tolerance: float = 0.005) -> list[str]:
        """The formulas whose value differs from the library's by more than ``tolerance`` (empty when all agree)."""
        got = self.evaluate()
        return [f"{q.key}: formula gives {got[q.key]!r}, the library {q.value!r}" for q in self.quantities
                if q.formula and not math.isclose(got[q.key], q.value, abs_tol=tolerance)]

    def record(self) -> list[dict]:
        return [q.record() for q in self.quantities]

    def __add__(self, other: "Calculations") -> "Calculations":
        return Calculations(self.quantities + other.quantities)


def _q(*args, **kwargs) -> Quantity:
    return Quantity(*args, **kwargs)


def demand_gap(result) -> Calculations:
    r"""The demand gap's arithmetic for the report year and the gap quarter
    (a :class:`~valuechain.model.demand.DemandGapResult`).

    Sequoia: :math:`RR / (s_{GPU}(1-g))`; Bain: :math:`K/c`; each bridge step as in
    :mod:`valuechain.model.bridge`; :math:`CRF(r, n) = r / (1 - (1+r)^{-n})`;
    :math:`\beta^*_{ss} = \sum_c w_c n_c CRF(r, n_c) / m`; the steady-state rung
    :math:`\beta^*_{ss} \times` AI capex; D over each rung.
    """
    sc = result.scenario.demand_gap
    req = result.requirements.set_index("method")
    seq, bain = req.loc["sequoia"], req.loc["capex_to_revenue"]
    b = result.bridges
    year = b.year
    by_key = {x.key: x for x in b.bridges}
    sq, bn, jp = by_key["sequoia"], by_key["capex_to_revenue"], by_key["jpm"]
    t_values = [s.value_usd_bn for s in sq.steps]  # which capex, AI share, margin, in service, lives, return
    m = sc.break_even.margin_before_depreciation
    cap, r = sc.capital, sc.break_even.target_return
    g, s = seq["inputs"]["end_user_gross_margin"], seq["inputs"]["gpu_share_of_tco"]
    c = bain["inputs"]["capex_to_revenue_ratio"]
    spenders = t_values[0] * (1 - g)
    ai_capex = t_values[1] * (1 - g)
    entering = t_values[3] * m
    depreciation = t_values[4] * m
    rungs = result.rungs
    q = str(rungs.quarter)
    d = float(result.downstream.d.loc[result.closing.last_quarter, "d_usd_bn"])
    jpm_at_return = jp.steps[0].value_usd_bn
    w = cap.servers_share
    crf = capital_recovery_factor
    beta = rungs.beta_star_steady
    inp, f, bridge, bar = "Inputs", "Published methods", f"Bridge to R* ({year})", f"R*'s rungs and D ({q})"
    items = [
        _q("run_rate", f"NVIDIA data-center run-rate used by Sequoia's method ({seq['year']})", "usd_bn",
           seq["inputs"]["run_rate_usd_bn"], note="NVIDIA's last data-center quarter of the year x 4, or the scenario's",
           group=inp),
        _q("gpu_share", "GPU share of data-center total cost (Sequoia)", "share", s,
           note="demand_gap.sequoia.gpu_share_of_tco", group=inp),
        _q("gross_margin", "End user's gross margin (Sequoia)", "share", g,
           note="demand_gap.sequoia.end_user_gross_margin", group=inp),
        _q("bain_capex", f"Capex Bain's method is applied to ({bain['year']})", "usd_bn", bain["inputs"]["capex_usd_bn"],
           note="the largest spenders' calendar-year capex, or the scenario's", group=inp),
        _q("capex_ratio", "Sustainable capex-to-revenue ratio (Bain)", "share", c,
           note="demand_gap.bain.capex_to_revenue", group=inp),
        _q("spenders_capex", f"R*'s spenders' capex in {year}", "usd_bn", spenders,
           note="filed capex of the spenders counted in every quarter", group=inp),
        _q("ai_capex", f"Their AI capex in {year}", "usd_bn", ai_capex,
           note="capex x the AI share of each quarter (demand_gap.capital.ai_share)", group=inp),
        _q("margin", "Margin before depreciation", "share", m, note="demand_gap.break_even.margin_before_depreciation",
           group=inp),
        _q("entering_service", f"AI capex entering service in {year}", "usd_bn", entering,
           note=f"computed by the library: the AI capex of the quarters {cap.service_lag_quarters} quarters earlier",
           group=inp),
        _q("depreciation", f"Straight-line depreciation of the AI capital in service in {year}", "usd_bn", depreciation,
           note="computed by the library from every vintage in service and the asset lives", group=inp),
        _q("required", f"R*: revenue that recovers the AI capital in service, {year}", "usd_bn", b.required_usd_bn,
           note="computed by the library: capital in service by class x capital-recovery factor / margin", group=inp),
        _q("jpm_published", "J.P. Morgan's published requirement", "usd_bn", jp.start_usd_bn,
           note="facts.csv jpm_required_revenue", group=inp),
        _q("jpm_at_return", f"R* in {year} at J.P. Morgan's return", "usd_bn", jpm_at_return,
           note="computed by the library", group=inp),
        _q("target_return", "Target return on capital", "share", r, note="demand_gap.break_even.target_return", group=inp),
        _q("servers_share", "Servers and networking share of AI capex", "share", w, note="demand_gap.capital.servers_share",
           group=inp),
        _q("servers_life", "Servers' life", "years", cap.servers_life_years, note="demand_gap.capital.servers_life_years",
           group=inp),
        _q("buildings_life", "Buildings' life", "years", cap.buildings_life_years,
           note="demand_gap.capital.buildings_life_years", group=inp),
        _q("ai_capex_ttm", f"AI capex over the four quarters to {q}", "usd_bn", rungs.ai_capex_ttm_usd_bn,
           note="computed by the library", group=inp),
        _q("required_in_service", f"R* on capital in service, {q}", "usd_bn", rungs.in_service_usd_bn,
           note="computed by the library", group=inp),
        _q("required_committed", f"R* on capital committed, {rungs.committed_quarter}", "usd_bn", rungs.committed_usd_bn,
           note="computed by the library: capex spent and guided to the end of the guidance year, once in service",
           group=inp),
        _q("d", f"D, net external AI revenue, {q} (annualized)", "usd_bn", d,
           note="computed by the library: the chain's final demand, central scope", group=inp),
        # the published methods
        _q("sequoia_required", "Sequoia's required revenue", "usd_bn", float(seq["required_usd_bn"]),
           "{run_rate} / {gpu_share} / (1 - {gross_margin})", "run-rate grossed up to data-center cost, then to the "
           "end user's revenue at its gross margin", f),
        _q("bain_required", "Bain's required revenue", "usd_bn", float(bain["required_usd_bn"]),
           "{bain_capex} / {capex_ratio}", "capex at a sustainable capex-to-revenue ratio", f),
        # Sequoia's bridge
        _q("sequoia_which_capex", "Sequoia, after: which capex", "usd_bn", t_values[0],
           "{spenders_capex} / (1 - {gross_margin})", "R*'s spenders' capex instead of NVIDIA's grossed-up run-rate",
           bridge),
        _q("sequoia_ai_share", "Sequoia, after: AI share", "usd_bn", t_values[1], "{ai_capex} / (1 - {gross_margin})",
           "only the AI share of that capex", bridge),
        _q("bain_which_capex", "Bain, after: which capex", "usd_bn", bn.steps[0].value_usd_bn,
           "{spenders_capex} / {capex_ratio}", "R*'s spenders' capex instead of Bain's input", bridge),
        _q("bain_ai_share", "Bain, after: AI share", "usd_bn", bn.steps[1].value_usd_bn, "{ai_capex} / {capex_ratio}",
           "only the AI share of that capex", bridge),
        _q("after_margin", "Both, after: margin", "usd_bn", t_values[2], "{ai_capex} / {margin}",
           "the margin before depreciation instead of the gross margin or the capex ratio", bridge),
        _q("after_in_service", "Both, after: in service versus spent", "usd_bn", t_values[3],
           "{entering_service} / {margin}", "the capex entering service instead of the capex spent", bridge),
        _q("after_lives", "Both, after: asset lives", "usd_bn", t_values[4], "{depreciation} / {margin}",
           "straight-line depreciation of all AI capital in service", bridge),
        _q("sequoia_multiple", "Sequoia's bar / R*", "multiple", sq.multiple, "{sequoia_required} / {required}", "", bridge),
        _q("bain_multiple", "Bain's bar / R*", "multiple", bn.multiple, "{bain_required} / {required}", "", bridge),
        _q("jpm_multiple", "J.P. Morgan's bar / R*", "multiple", jp.multiple, "{jpm_published} / {required}", "", bridge),
        _q("return_step", "Return step: R* less straight-line depreciation over the margin", "usd_bn",
           b.required_usd_bn - t_values[4], "{required} - {after_lives}", "the capital charge at the target return",
           bridge),
        # the rungs
        _q("crf_servers", "Capital-recovery factor, servers", "ratio", crf(r, cap.servers_life_years),
           "{target_return} / (1 - (1 + {target_return}) ^ -{servers_life})", "r / (1 - (1 + r)^-n)", bar),
        _q("crf_buildings", "Capital-recovery factor, buildings", "ratio", crf(r, cap.buildings_life_years),
           "{target_return} / (1 - (1 + {target_return}) ^ -{buildings_life})", "r / (1 - (1 + r)^-n)", bar),
        _q("beta_steady", "Steady-state revenue per dollar of annual AI capex (β*)", "ratio", beta,
           "({servers_share} * {servers_life} * {crf_servers} + (1 - {servers_share}) * {buildings_life} * "
           "{crf_buildings}) / {margin}", "each class's share x life x CRF, over the margin", bar),
        _q("required_steady_state", "Steady-state requirement of today's AI capex", "usd_bn", rungs.steady_state_usd_bn,
           "{beta_steady} * {ai_capex_ttm}", "β* x AI capex over the last four quarters", bar),
        _q("d_over_in_service", "D / R* on capital in service", "ratio", d / rungs.in_service_usd_bn,
           "{d} / {required_in_service}", "the primary test's ratio", bar),
        _q("d_over_committed", "D / R* on capital committed", "ratio", d / rungs.committed_usd_bn,
           "{d} / {required_committed}", "", bar),
        _q("d_over_steady_state", "D / steady-state requirement", "ratio", d / rungs.steady_state_usd_bn,
           "{d} / {required_steady_state}", "", bar),
    ]
    return Calculations(tuple(items))


def profit_pool(pool, year: int) -> Calculations:
    r"""The profit pool's shares and the one-dollar flow for ``year`` (a :class:`~valuechain.model.profit.ProfitPool`).

    Revenue share :math:`R_L / \sum_K R_K`, profit share :math:`P_L / \sum_K P_K`; of one end-user
    dollar, layer :math:`L` receives :math:`d_L = \prod_{K \text{ downstream}} p_K` and keeps
    :math:`m_L d_L` (:mod:`valuechain.model.profit`).
    """
    layers = pool.layers[(pool.layers["year"] == year) & (pool.layers["kind"] == "historical")].set_index("layer")
    layers = layers.reindex(list(CHAIN_ORDER))
    flow = pool.dollar_flow[pool.dollar_flow["year"] == year].set_index("layer")
    pass_through = {layer: pool.scenario.layers[layer].pass_through for layer in CHAIN_ORDER[:-1]}
    inp, shares, dollar = f"Profit pool inputs ({year})", f"Profit pool shares ({year})", f"One end-user dollar ({year})"
    items = []
    for layer in CHAIN_ORDER:
        items.append(_q(f"revenue_{layer}", f"AI revenue, {layer}", "usd_bn", float(layers.loc[layer, "ai_revenue_usd_bn"]),
                        note="sum of the layer's companies' AI revenue (filed revenue x AI share)", group=inp))
        items.append(_q(f"profit_{layer}", f"Operating profit, {layer}", "usd_bn",
                        float(layers.loc[layer, "operating_profit_usd_bn"]),
                        note="sum of the companies' AI revenue x margin (filed, or the scenario's)", group=inp))
    for layer in CHAIN_ORDER[:-1]:
        items.append(_q(f"pass_{layer}", f"Share of its revenue {layer} pays the layer upstream", "share",
                        pass_through[layer], note=f"layers.{layer}.pass_through", group=inp))
    total_r = " + ".join(f"{{revenue_{x}}}" for x in CHAIN_ORDER)
    total_p = " + ".join(f"{{profit_{x}}}" for x in CHAIN_ORDER)
    for layer in CHAIN_ORDER:
        items.append(_q(f"revenue_share_{layer}", f"Revenue share, {layer}", "share",
                        float(layers.loc[layer, "revenue_share"]), f"{{revenue_{layer}}} / ({total_r})", "", shares))
        items.append(_q(f"profit_share_{layer}", f"Profit share, {layer}", "share",
                        float(layers.loc[layer, "profit_share"]), f"{{profit_{layer}}} / ({total_p})", "", shares))
    for layer in CHAIN_ORDER:
        items.append(_q(f"margin_{layer}", f"Operating margin, {layer}", "share", float(layers.loc[layer, "operating_margin"]),
                        f"{{profit_{layer}}} / {{revenue_{layer}}}", "", dollar))
        received = " * ".join(f"{{pass_{x}}}" for x in CHAIN_ORDER[:CHAIN_ORDER.index(layer)]) or "1"
        items.append(_q(f"cents_in_{layer}", f"Cents of an end-user dollar {layer} receives", "cents",
                        float(flow.loc[layer, "cents_in"]), f"100 * {received}", "the product of the pass-through shares "
                        "of the layers below", dollar))
        items.append(_q(f"cents_kept_{layer}", f"Cents {layer} keeps as operating profit (negative: a loss)", "cents",
                        float(flow.loc[layer, "profit_cents"] - flow.loc[layer, "loss_cents"]),
                        f"{{margin_{layer}}} * {{cents_in_{layer}}}", "margin x cents received", dollar))
    return Calculations(tuple(items))
