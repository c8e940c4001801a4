"""Plain-English sentences generated from results; no figure is typed by hand."""
from __future__ import annotations

import re

import numpy as np

from valuechain.stats.inference import format_p
from valuechain.stats.regression import rmse_ratio
from valuechain.stats.size import SIZE_LIMIT
from valuechain.escape import markdown_text
from valuechain.report.labels import probability_text, with_unit
from valuechain.dataset.names import company_name
from valuechain.model.labs import EFFICIENCY
from valuechain.layers import CHAIN_ORDER
from valuechain.model import reach as reach_model
from valuechain.model.profit import ProfitPool, required_end_user_spend


def _name(company_id, names: dict) -> str:
    """A company's name from the data, as Markdown text (escaped: the dataset is user-edited)."""
    return markdown_text(company_name(company_id, names))


def _bn(value: float) -> str:
    return f"${abs(value):,.1f}bn"


def profit_summary(pool: ProfitPool, year: int | None = None) -> str:
    """Executive summary of the profit pool in ``year`` (default: last historical year), as Markdown."""
    year = year or pool.historical_years[-1]
    lay = pool.layers[(pool.layers["year"] == year) & (pool.layers["kind"] == "historical")].set_index("layer")
    lay = lay.dropna(subset=["ai_revenue_usd_bn"])
    top = lay["profit_share"].idxmax()
    lines = [
        f"**In {year} {top} captured {lay.loc[top, 'profit_share']:.0%} of the AI value chain's operating profit "
        f"on {lay.loc[top, 'revenue_share']:.0%} of its revenue** "
        f"({_bn(lay.loc[top, 'operating_profit_usd_bn'])} of operating profit on {_bn(lay.loc[top, 'ai_revenue_usd_bn'])} of AI revenue).",
    ]
    losers = lay[lay["operating_profit_usd_bn"] < 0]
    for layer, row in losers.iterrows():
        lines.append(f"The {layer} layer lost {_bn(row['operating_profit_usd_bn'])} on {_bn(row['ai_revenue_usd_bn'])} of revenue "
                     f"(an operating margin of {row['operating_margin']:.0%}), so the other layers' shares add up to more than 100%.")
    flow = pool.dollar_flow[pool.dollar_flow["year"] == year].set_index("layer")
    if len(flow):
        net = (flow["profit_cents"] - flow["loss_cents"]).reindex(list(CHAIN_ORDER))
        parts = ", ".join(f"{layer} {value:+.1f}" for layer, value in net.items())
        outside = flow["outside_costs_cents"].sum()
        lines.append(f"Of each dollar end users spend on AI applications, the layers keep (cents): {parts}.")
        explain = ("Costs outside the chain are what the layers pay to suppliers that are not one of the five layers: "
                   "staff, power, buildings, and the chip makers' foundries and memory suppliers. ")
        if outside > 100:
            funders = [layer for layer, value in net.items() if value < 0]
            explain += (f"They come to {outside:.1f} cents, more than the dollar itself, because the "
                        f"{' and '.join(funders)} layer{'s' if len(funders) > 1 else ''} spend{'' if len(funders) > 1 else 's'} "
                        f"more than {'they take' if len(funders) > 1 else 'it takes'} in; investors fund that loss.")
        else:
            explain += f"They come to {outside:.1f} cents of the dollar."
        lines.append(explain)
    proj = pool.layers[pool.layers["kind"] == "projection"]
    if len(proj):
        last_year = int(proj["year"].max())
        last = proj[proj["year"] == last_year].set_index("layer")
        lines.append(f"Under the '{markdown_text(pool.scenario.name)}' scenario, by {last_year} the {top} layer's share of operating profit would be "
                     f"{last.loc[top, 'profit_share']:.0%} and the cloud layer's {last.loc['cloud', 'profit_share']:.0%}, "
                     f"with AI capex of {_bn(last.loc[top, 'capex_usd_bn'])} a year.")
    gone = pool.excluded[pool.excluded["year"] == year]
    if len(gone):
        lines.append(f"Left out of {year} for lack of data: {', '.join(_name(c, pool.names) for c in gone['company_id'])}.")
    return "\n\n".join(lines)


def value_added_summary(pool: ProfitPool, year: int | None = None) -> str:
    """What end-user spend a closed chain would need to pay the chips layer its revenue."""
    year = year or pool.historical_years[-1]
    lay = pool.layers[(pool.layers["year"] == year) & (pool.layers["kind"] == "historical")].set_index("layer")
    pass_through = {layer: spec.pass_through for layer, spec in pool.scenario.layers.items()}
    required = required_end_user_spend(lay.loc["chips", "ai_revenue_usd_bn"], pass_through)
    facing = lay.loc[["apps", "labs"], "ai_revenue_usd_bn"].sum()
    return (f"At the scenario's pass-through ratios, paying the chips layer its {year} revenue of "
            f"{_bn(lay.loc['chips', 'ai_revenue_usd_bn'])} out of end-user spending alone would take {_bn(required)} of "
            f"end-user AI spend a year; the application and lab layers took in {_bn(facing)}. The difference is "
            f"paid for by investment (capex and venture funding), not by end users.")


def ttm_summary(pool: ProfitPool) -> str:
    """The profit pool over the latest twelve months, as Markdown (no dollar signs, which start maths)."""
    ttm = pool.ttm
    if ttm is None:
        return (f"The '{markdown_text(pool.scenario.name)}' scenario reports calendar years only; set years.latest: ttm to lead with "
                "the latest twelve months.")
    lay = ttm.layers.set_index("layer").dropna(subset=["ai_revenue_usd_bn"])
    top = lay["profit_share"].idxmax()
    lines = [
        f"**In the twelve months {ttm.period} {top} captured {lay.loc[top, 'profit_share']:.0%} of the operating "
        f"profit of the layers with data, on {lay.loc[top, 'revenue_share']:.0%} of their AI revenue** "
        f"({_usd(lay.loc[top, 'operating_profit_usd_bn'])} of operating profit on "
        f"{_usd(lay.loc[top, 'ai_revenue_usd_bn'])} of AI revenue).",
        "By layer: " + "; ".join(f"{layer} {row['profit_share']:.0%} of profit, {_usd(row['ai_revenue_usd_bn'])} of AI "
                                 f"revenue at a {row['operating_margin']:.0%} margin"
                                 for layer, row in lay.reindex([c for c in reversed(CHAIN_ORDER) if c in lay.index]).iterrows()) + ".",
    ]
    missing = [layer for layer in CHAIN_ORDER if layer not in lay.index]
    if missing:
        lines.append(f"No company in the {' and '.join(missing)} layer{'s' if len(missing) > 1 else ''} has figures for these "
                     "twelve months (their disclosures are annual, half-yearly or run-rates that do not span them), so the "
                     "shares are of the other layers only; the calendar years below cover every layer.")
    if len(ttm.excluded):
        gone = ", ".join(f"{markdown_text(r.company_id)} ({markdown_text(r.reason)})" for r in ttm.excluded.itertuples())
        lines.append(f"Left out for lack of data: {gone}.")
    suppliers = ttm.companies[ttm.companies["company_id"].isin(["tsmc", "micron"])]
    if len(suppliers):
        lines.append(f"The chips layer includes {_usd(suppliers['ai_revenue_usd_bn'].sum())} of TSMC's and Micron's AI revenue, "
                     "most of it paid by the chip designers in the same layer: counted twice in the layer's revenue, "
                     "once in its profit.")
    return "\n\n".join(lines)


def _usd(value: float) -> str:
    """USD billions in words a Markdown renderer leaves alone (no dollar sign, which starts maths)."""
    return f"USD {value:,.0f}bn"


def _when(closing, quarters: float) -> str:
    year = closing.close_year(quarters)
    if quarters == 0:
        return "already closed"
    return f"{int(year)}" if np.isfinite(year) else "never at that rate"


POSITION = {"below": "below the requirement on every rung of its scope ladder",
            "above": "above the requirement on every rung of its scope ladder",
            "spans": "below the requirement on some rungs of its scope ladder and at or above it on others"}


def _half_life_text(v) -> str:
    """P(D >= R*'s committed path) at each half-life of growth the page shows, in words ("" when none)."""
    by = v.probability_by_half_life or {}
    def when(eta):
        if not np.isfinite(eta):
            return "if the pace lasts"
        return "if growth halves every " + {0.5: "half year", 1.0: "year"}.get(eta, f"{eta:g} years")

    parts = [f"{probability_text(p)} {when(eta)}" for eta, p in by.items()]
    return f"; by how fast growth fades: {', '.join(parts)}" if parts else ""


FAST_FADE_YEARS = 1.0  # half-lives up to this the fit's growth noise argues against (see _fading_text)
LOW_GROWTH_NOISE = 0.05  # slope noise a quarter below which the fit leaves little room for growth fading fast


def _fading_text(v) -> str:
    """What the fit says about how fast growth fades, and where the probability was checked."""
    shown = [eta for eta in (v.probability_by_half_life or {}) if eta <= FAST_FADE_YEARS]
    out = ""
    if shown and v.growth_noise is not None and v.growth_noise < LOW_GROWTH_NOISE:
        out = (f"; D's fit shows little noise in its growth ({v.growth_noise:.3f} log points a quarter), which growth "
               "halving within a year would rarely leave, so those half-lives are the least likely")
    return out + ("; on simulated panels this probability and the one if the pace lasts were checked where D grows "
                  "exactly as fast as it needs, not at today's pace, and those at fixed half-lives were not checked")


def _probability_sentence(v) -> str:
    """P(D >= R*'s committed path) with growth's half-life drawn and at each half-life shown, or, where the calibration
    shows it is not calibrated, the model's number with that shown first."""
    stated = (f"**{probability_text(v.probability)}** with how fast growth fades, its long-run rate and D's ceiling "
              "drawn from their priors "
              f"({probability_text(v.probability_range[0])}-{probability_text(v.probability_range[1])} over the scope "
              f"ladder){_half_life_text(v)}. How long the pace lasts rests on a prior{_fading_text(v)}")
    if "calibration" not in v.reasons:
        return f"P(D ≥ R\\*'s committed path at the end of {v.year}) = {stated}. "
    c = v.checks
    return (f"The model's P(D ≥ R\\*'s committed path at the end of {v.year}) is {stated}, and it is **not a calibrated "
            f"probability**: on synthetic panels with the real disclosure pattern, in the world it describes, the "
            f"probabilities it reported averaged {c['probability_reported']:.2f} where the event happened in "
            f"{c['probability_observed']:.0%} of them. ")


NARROW_MARGIN = 0.10  # an MDE within this share of the need below it is "just below"


def _mde_sentence(v) -> str:
    """The MDE, with three decimals and "just below" when it sits within :data:`NARROW_MARGIN` of the need (never
    "+0.29 ... +0.29" with one above the other)."""
    digits = 3 if round(v.mde, 2) == round(v.needed, 2) else 2
    close = np.isfinite(v.mde) and v.mde <= v.needed and v.needed - v.mde <= NARROW_MARGIN * abs(v.needed)
    margin = (f", just below the {v.needed:+.{digits}f} D needs: with noisier disclosures the test could not tell D "
              "growing as fast as it needs from not" if close else "")
    return f"Minimum detectable effect: {v.mde:+.{digits}f} a year{margin} ({v.mde_source}). "


def verdict_sentence(v) -> str:
    """The verdict rule's sentence (:mod:`valuechain.model.verdict`): the case first, then the intervals, then the p-value.

    ``v`` is a :class:`~valuechain.model.verdict.Verdict`. It never says revenue is above the requirement unless
    every rung of the scope ladder is.
    """
    band = f"{v.level:.0%}"
    lo, hi = v.ratio_range
    path = f"R\\*'s committed path by {v.year}"
    if v.case == "cannot_tell":
        why = []
        if "scope" in v.reasons:
            why.append(f"what counts as downstream revenue decides it (D is {lo:.0%}-{hi:.0%} of R\\* over its scope ladder)")
        if "power" in v.reasons:
            digits = 2 if round(v.mde, 2) != round(v.needed, 2) else 3  # never "+0.30 exceeds +0.30"
            why.append(f"the smallest growth the test can detect, {v.mde:+.{digits}f} log points a year (80% power), "
                       f"exceeds the {v.needed:+.{digits}f} a year D needs")
        c = v.checks or {}
        if "size" in v.reasons:
            why.append(f"on synthetic panels with the real disclosure pattern the test rejects a true null in up to "
                       f"{c['size_high']:.0%} of samples, above the 10% a test may have to be read at its level")
        if "coverage" in v.reasons:
            why.append(f"D's {band} pace interval covers the true pace in as few as {c['coverage_low']:.0%} of those "
                       "panels")
        tell = []
        if "power" in v.reasons and np.isfinite(v.more_quarters):
            tell.append(f"about {v.more_quarters:.0f} more quarter{'' if round(v.more_quarters) == 1 else 's'} of "
                        "disclosures at the current pace")
        elif "power" in v.reasons and v.needed > 0:
            tell.append(f"not more quarters alone, since the test's window holds {v.max_window} quarterly changes, but a "
                        "longer window or less noisy disclosures (reported revenue rather than run-rates and claims)")
        if "scope" in v.reasons:
            tell.append("a disclosure that settles D's scope (the clouds' AI revenue from customers outside the chain, "
                        "the labs' payments to the clouds)")
        if {"size", "coverage"} & set(v.reasons):
            tell.append("more quarters of D resting on filed figures, with a test and interval that hold their level on "
                        "the real disclosure pattern")
        tell_text = f" What would tell: {' or '.join(tell)}." if tell else ""
        first = f"**The data cannot tell yet whether D reaches {path}**: {'; and '.join(why)}.{tell_text}"
    elif v.case == "on_course":
        first = (f"**D's recent pace would reach R\\*'s committed path by {v.year} if it lasted; whether it lasts, the "
                 f"data cannot tell**: its pace is above the growth it needs at the {v.alpha:.0%} level, and the "
                 "probability below turns on how fast that growth fades.")
    else:
        first = f"**The data do not show D reaching {path}**: its recent pace is not above the growth it needs at the {v.alpha:.0%} level."
    numbers = (f"Today D is {POSITION[v.position]} ({lo:.0%}-{hi:.0%} of R\\* in service). To reach the path D needs "
               f"{v.needed:+.2f} log points a year ({band} interval {v.needed_interval[0]:+.2f} to {v.needed_interval[1]:+.2f}); "
               f"its pace over the last quarters was {v.growth:+.2f} ({band} interval {v.growth_interval[0]:+.2f} to "
               f"{v.growth_interval[1]:+.2f}). "
               + _probability_sentence(v) + _mde_sentence(v) +
               f"Test (H0: D's pace is at most the growth it needs): p = {format_p(v.p_value)}.")
    return f"{first} {numbers}"


def demand_verdict(result) -> str:
    """The verdict, generated from the numbers: the rule's sentence first (:func:`verdict_sentence`), then D / R*
    over the ladder and rungs, the gap's closing rate and its test."""
    c, band = result.closing, f"{result.closing.level:.0%}"
    lo, hi = c.ratio_interval
    p_text = format_p(c.test.pvalue)
    lines = [verdict_sentence(result.verdict())] if result.reach is not None else []
    lines += [scope_range(result)] if result.ladder is not None else []
    scope = result.downstream.scope
    primary = (f"On the {scope.name.lower()} scope, every flow between the chain's members counted once, net external AI "
               "revenue" if scope is not None else "Net external AI revenue")
    lines.append(f"{primary} was **{c.ratio:.0%} of required revenue** in {c.last_quarter} "
                 f"({band} interval {lo:.0%}-{hi:.0%}); the tests below use this definition.")
    rate = f"{4 * c.trend:+.2f} log points a year ({band} interval {4 * c.trend_interval[0]:+.2f} to {4 * c.trend_interval[1]:+.2f})"
    measured = reach_model.closing_checks()
    unsupported = measured is not None and measured["size_high"] > SIZE_LIMIT
    if unsupported:  # the calibration shows the rate's interval under-covers: the rate alone, no interval, no date range
        rate = f"{4 * c.trend:+.2f} log points a year"
    if c.current_gap < 0:
        first, last = c.close_quarter_interval
        lines.append(f"The gap to R* in service is changing at {rate}. At that rate it closes: "
                     f"{_when(c, c.quarters_to_close)}"
                     + ("." if unsupported else f" ({band} interval: {_when(c, first)} to {_when(c, last)})."))
    else:
        lines.append(f"On that definition revenue is above the requirement; the ratio is changing at {rate}.")
    if c.current_gap < 0:
        null = f"the gap is not closing fast enough to close within {c.horizon_years:g} years, the servers' life"
        verdict = "the data show it closing fast enough" if c.reject else "the data cannot show that it closes in time"
    else:
        null = f"at its current rate revenue falls back below the requirement within {c.horizon_years:g} years"
        verdict = "the data show revenue staying above it" if c.reject else "the data cannot rule that out"
    if unsupported:
        verdict = (f"but on the real disclosure pattern this test rejects a true null in {measured['size_low']:.0%}-"
                   f"{measured['size_high']:.0%} of samples, above the {SIZE_LIMIT:.0%} the project allows, and its "
                   f"{band} interval covers the true rate in {measured['coverage_low']:.0%}-{measured['coverage_high']:.0%} "
                   f"of them ({measured['simulations']:,} simulated panels a world), so neither its p-value nor the "
                   "closing rate's interval is evidence")
    lines.append(f"The gap's closing test (H0: {null}): p = {p_text} on {c.test.nobs} quarterly changes; "
                 + (f"{verdict}." if unsupported else f"at the {c.alpha:.0%} level {verdict}."))
    if result.bridges is not None:
        lines.append(bridge_sentence(result.bridges))
    return " ".join(lines)


def scope_range(result) -> str:
    """D / R* as a range over D's scope ladder and R*'s rungs, in words: the verdict's first sentence."""
    rungs = result.ladder_at_gap()
    low, high = result.ladder_range()
    each = ", ".join(f"{s.name.lower()} {rungs.loc[s.key, 'd_over_required']:.0%}" for s in result.ladder.scopes)
    q = result.closing.last_quarter
    if result.rungs is None:
        return (f"Depending on what counts as downstream revenue, D was **between {low:.0%} and {high:.0%} of required "
                f"revenue R\\*** in {q} ({each}).")
    grid = result.answer_grid()
    later = "; ".join(f"{grid[k].min():.0%}-{grid[k].max():.0%} of {what}" for k, what in
                      (("committed", f"the revenue the capital committed to the end of {result.rungs.guidance_year} "
                                     "will require once in service"),
                       ("steady_state", "the steady-state requirement of today's AI capex")))
    return (f"Depending on what counts as downstream revenue and which capital must be repaid, D was **between "
            f"{grid.min().min():.0%} and {grid.max().max():.0%} of required revenue** in {q}: {low:.0%}-{high:.0%} of "
            f"R\\*, the revenue that repays the AI capital in service ({each}); {later}.")


def scope_ladder(result) -> str:
    """What each rung of D's scope ladder counts, what it rests on, and what the chain nets, in words."""
    rungs = result.ladder_at_gap()
    q = result.closing.last_quarter
    accounting = result.ladder.accounting
    lines = [f"- **{s.name}** ({_usd(rungs.loc[s.key, 'level_usd_bn'])} a year in {q}, "
             f"{rungs.loc[s.key, 'd_over_required']:.0%} of R*): {s.definition}." for s in result.ladder.scopes]
    lines.append(f"- Every rung nets the applications' payments to the labs for models at {accounting.apps_to_labs:.0%} "
                 "of the applications' revenue, and broad nets the labs' payments to the clouds for compute at "
                 f"{accounting.labs_to_clouds:.0%} of the labs' revenue: the profit model's pass-through shares, so both "
                 "notebooks count the same flows. Each flow is capped at the revenue that contains it; where the labs buy "
                 "from clouds whose revenue is not counted, broad nets too much and is low rather than high.")
    cov = result.downstream.coverage
    kept = [(cov.loc[cov["company_id"] == lab, "product"].iloc[0].split(" (")[0], share)
            for lab, share in accounting.partner_share.items() if share > 0 and (cov["company_id"] == lab).any()]
    if kept:
        lines.append("- The labs are on one revenue basis, net of what their cloud partners keep: "
                     + _listed([f"{markdown_text(name)}'s reported revenue less {share:.0%}" for name, share in kept])
                     + ", as OpenAI reports its own.")
    return "\n".join(lines)


def rstar_scope(result, names: dict) -> str:
    """What R* counts (spenders, years, AI share, guidance) and its three rungs in the gap quarter, in words.

    ``names`` maps company ids to names (:attr:`valuechain.dataset.load.Dataset.company_names`).
    """
    cap, r = result.scenario.demand_gap.capital, result.rungs
    kept = [markdown_text(_short(company_name(c, names))) for c in cap.spenders if c not in result.left_out]
    first, last = min(cap.ai_share), max(cap.ai_share)
    lines = [f"R* counts the capex of {_listed(kept)} from {cap.first_quarter}, each in every quarter. "
             f"{cap.ai_share_before:.0%} of the capex built before {first} is taken as AI capital; the AI share then rises "
             f"smoothly, quarter by quarter, to {cap.ai_share[last]:.0%} from mid-{last}."]
    if result.left_out:
        lines.append("Left out of every quarter, rather than entering the sum part-way: "
                     + "; ".join(f"{markdown_text(_short(company_name(c, names)))} ({markdown_text(why)})"
                                 for c, why in result.left_out.items()) + ".")
    guided = result.guidance
    if len(guided):
        said = ", ".join(f"{markdown_text(_short(company_name(row.company_id, names)))} "
                         + (f"USD {row.low_usd_bn:,.0f}-{row.high_usd_bn:,.0f}bn, taken at {_usd(row.capex_usd_bn)}"
                            if row.low_usd_bn != row.high_usd_bn else _usd(row.capex_usd_bn))
                         for row in guided.itertuples())
        lines.append(f"Capex to the end of {r.guidance_year} follows the spenders' own guidance where given ({said}); "
                     "the others, and every spender after it, grow at the scenario's rate.")
    lines.append(f"In {r.quarter} the revenue that recovers the AI capital in service is {_usd(r.in_service_usd_bn)} a year; "
                 f"on the capital committed by the end of {r.guidance_year}, once in service ({r.committed_quarter}), "
                 f"{_usd(r.committed_usd_bn)}; and at the steady state of the last four quarters' AI capex, "
                 f"{_usd(r.steady_state_usd_bn)}. The primary test uses the first: the later rungs are bars the revenue "
                 "will have to clear if the spending already under way is not cut.")
    return "\n\n".join(lines)


def bridge_sentence(bridges) -> str:
    """Why the published bars are many times R*, and which bar answers the question, from the bridges."""
    multiples = [b.multiple for b in bridges.bridges]
    bars = "; ".join(f"{b.name}'s {_usd(b.start_usd_bn)} ({b.bar_year}, {b.multiple:,.0f} times) prices {b.measures}"
                     for b in bridges.bridges)
    return (f"The published bars are {min(multiples):,.0f} to {max(multiples):,.0f} times R* "
            f"({_usd(bridges.required_usd_bn)} in {bridges.year}) because they measure other things: {bars}. "
            "Only R*, the revenue that repays the AI capital in service with its return, answers whether demand is "
            "catching up; the bridge below takes each bar to it one step at a time.")


def demand_summary(result) -> str:
    """Executive summary of the demand gap, generated from a :class:`~valuechain.model.demand.DemandGapResult`."""
    req = result.requirements.set_index("method")
    seq, bain, cap = req.loc["sequoia"], req.loc["capex_to_revenue"], req.loc["capital_recovery"]
    year = result.year
    d = result.downstream
    fundable = result.scenario.demand_gap.bain.fundable_revenue_usd_bn
    bain_against = (f"against Bain's {_usd(fundable)} of revenue it deems fundable by {bain['year']} (both are "
                    f"{bain['year']} figures), a shortfall of {_usd(bain['gap_usd_bn'])}"
                    if fundable is not None else f"against {_usd(bain['actual_usd_bn'])} of net external AI revenue earned in {year}")
    run_rate = (f"Sequoia's figure for NVIDIA's data-center run-rate in {seq['year']}"
                if result.scenario.demand_gap.sequoia.run_rate_usd_bn is not None
                else f"NVIDIA's data-center run-rate at the end of {year}")
    identified = (f"{_usd(seq['actual_usd_bn'])} identified in {seq['year']}, a hole of {_usd(seq['gap_usd_bn'])}"
                  if result.scenario.demand_gap.sequoia.identified_ai_revenue_usd_bn is not None
                  else f"{_usd(seq['actual_usd_bn'])} of net external AI revenue earned in {year}")
    lines = [
        demand_verdict(result),
        f"**Net external AI revenue** D is final demand: what end users and enterprises outside the chain pay the labs "
        f"and AI applications, each dollar counted once (the applications' payments to the labs for models are netted). "
        f"On the {d.scope.name.lower() if d.scope is not None else 'disclosed'} scope it rests on "
        f"{int(d.d['series_present'].iloc[-1])} dated series and reached {_usd(d.d['d_usd_bn'].iloc[-1])} a year in "
        f"{d.quarters[-1]}.",
        f"**Sequoia's method** turns {run_rate} ({_usd(seq['inputs']['run_rate_usd_bn'])}) into "
        f"{_usd(seq['required_usd_bn'])} of required end-user revenue, against {identified}.",
        f"**Bain's method** (capex of {_usd(bain['inputs']['capex_usd_bn'])} at a capex-to-revenue ratio of "
        f"{bain['inputs']['capex_to_revenue_ratio']:.0%}) requires {_usd(bain['required_usd_bn'])} a year in {bain['year']}, {bain_against}.",
        f"**Capital recovery** on the AI capital in service requires {_usd(cap['required_usd_bn'])} in {year}, "
        f"against {_usd(cap['actual_usd_bn'])} earned.",
    ]
    return "\n\n".join(lines)


def labs_summary(result) -> str:
    """Executive summary of notebook 03, generated from a :class:`~valuechain.model.labs.LabEconomicsResult`."""
    ue = result.unit_economics
    eff = ue.loc[EFFICIENCY]
    lines = []
    for lab, be in result.break_even.items():
        start = be.path.iloc[0]
        when = f"breaks even in **{be.year}**" if be.year else "does not break even within the horizon"
        first = result.starts.get(lab)
        origin = (f" (net of cloud partners' share, from a {_bn(first.reported_usd_bn)} "
                  f"{'quarter annualized' if first.kind == 'quarterly_revenue' else 'run-rate'} on {first.as_of:%d %B %Y})"
                  if first is not None else "")
        lines.append(f"**{_name(lab, result.names)}** starts from {_bn(start['revenue_usd_bn'])} of {int(start['year'])} "
                     f"revenue{origin} at ${start['cost_per_revenue_dollar']:.2f} of cost per revenue dollar and, on the "
                     f"scenario's path, {when}.")
    lines.append(f"On the seed's figures Anthropic earns ${eff['anthropic']:.2f} of run-rate revenue per dollar of projected "
                 f"compute against OpenAI's ${eff['openai']:.2f}.")
    split = result.cloud_split
    gap = result.gap_with_round_trip.set_index("method").loc["sequoia"]
    lines.append(f"Of {_bn(split['total_usd_bn'])} of cloud AI revenue in {result.year}, {_bn(split['round_tripped_usd_bn'])} "
                 f"({split['round_tripped_share']:.0%}) is the clouds' own investment in labs coming back as revenue; "
                 f"excluding it, Sequoia's gap widens from {_bn(gap['gap_usd_bn'])} to {_bn(gap['gap_organic_usd_bn'])}.")
    return "\n\n".join(lines)


def valuation_summary(result, scenario) -> str:
    """Executive summary of notebook 04, generated from a :class:`~valuechain.model.valuation.ValuationResult`."""
    s, val = result.summary(), scenario.valuation
    low, high = result.typical_float
    seed_low, seed_high = result.seed_draw
    verdict = "above" if s["ipo_draw_typical_low_usd_bn"] > seed_high else "within or below"
    lines = [
        f"The three IPO candidates are valued at {_bn(s['ipo_total_valuation_usd_bn'])} together. Floating the typical "
        f"{low:.0%}-{high:.0%} would draw {_bn(s['ipo_draw_typical_low_usd_bn'])}-{_bn(s['ipo_draw_typical_high_usd_bn'])} "
        f"from the market, {verdict} the seed's own figure of {_bn(seed_low)}-{_bn(seed_high)} (its 'decade of US IPO proceeds').",
        f"At the seed's run-rates OpenAI is valued at {s['openai_revenue_multiple']:.0f}x revenue and Anthropic at "
        f"{s['anthropic_revenue_multiple']:.0f}x. To earn {val.discount_rate:.0%} a year and be worth "
        f"{val.exit_multiple:g}x revenue in {val.target_year}, the two would need {_bn(s['labs_revenue_needed_usd_bn'])} of "
        f"revenue that year; on the scenario's paths (notebook 03) the two reach {_bn(s['labs_revenue_scenario_path_usd_bn'])}.",
        f"China's chip makers trade at {result.pe_china:.0f}x earnings against NVIDIA's {result.pe_nvidia:.0f}x (seed): to fall to NVIDIA's multiple over "
        f"{val.china_years_to_converge} years with the same return, their earnings would have to grow "
        f"{s['china_implied_earnings_growth']:.0%} a year against NVIDIA's assumed {val.nvidia_earnings_growth:.0%}.",
    ]
    return "\n\n".join(lines)


def demand_regression(result) -> str:
    """The elasticity of D to lagged AI capex and the suppliers' panel in words, each interval first; says first
    when the elasticity is uninformative."""
    s = result.secondary
    ai, p = s.ai_elasticity, s.supplier_panel.pooled
    band = f"{ai.level:.0%}"
    worlds = ai.worlds
    interval = (f"{ai.estimate:.2f}, {band} interval {ai.interval[0]:.2f} to {ai.interval[1]:.2f} "
                f"({ai.nobs} quarterly changes, {ai.df} degrees of freedom)")
    mde = f"{ai.mde:.2f}" if np.isfinite(ai.mde) else "more than 10"
    if ai.informative:
        first = (f"The elasticity of D to AI capex {s.d_forecast_lag} quarters earlier is {interval}; "
                 f"p = {format_p(ai.pvalue)}.")
    else:
        first = (f"**The elasticity of D to AI capex {s.d_forecast_lag} quarters earlier is uninformative with these "
                 f"quarters**: {interval}. The test detects an elasticity of 1 (revenue in proportion to capex) with "
                 f"probability {ai.power_at_one:.2f} at worst and needs {mde} for 80% power, so it cannot tell no "
                 f"response from a proportional one; it is a description, not evidence either way.")
    calibration = (f"The interval is calibrated by rebuilding D through the same smoothing with its series independent "
                   f"of capex, under {len(worlds)} noise settings: the t({ai.df}) interval covers the true 0 in "
                   f"{worlds['t_coverage'].min():.0%} to {worlds['t_coverage'].max():.0%} of those samples, the reported "
                   f"one (critical value {ai.critical:.2f}) in at least {worlds['coverage'].min():.0%}.")
    cal = s.supplier_calibration
    links = s.supplier_world.links
    inside = links[links["series_id"].isin(s.supplier_panel.companies["company_id"])]
    shared = int(inside.groupby("series_id")["supplier_id"].agg(lambda ids: tuple(sorted(ids))).value_counts().iloc[0])
    n_series = inside["series_id"].nunique()
    own, worst = cal.iloc[0], cal.loc[cal["mde"].idxmax()]
    panel = (f"Applications' and labs' revenue on their cloud suppliers' AI capex {s.supplier_world.lag} quarters "
             f"earlier ({len(s.supplier_panel.companies)} series over {s.supplier_panel.quarters} quarters): pooled "
             f"elasticity {p.estimate:.2f}, {band} interval {p.interval[0]:.2f} to {p.interval[1]:.2f} ({p.df} degrees "
             f"of freedom), p = {format_p(p.pvalue)}, Holm-adjusted {format_p(s.holm['supplier_panel'])}; it is in the "
             f"Holm family of secondary tests. With each series drawn independent of capex on its disclosure pattern "
             f"and smoothed as the data are, the test rejects in {cal['size'].min():.0%} to {cal['size'].max():.0%} of "
             f"samples at the nominal 5% and its interval covers the true 0 in {cal['coverage'].min():.0%} to "
             f"{cal['coverage'].max():.0%}; it detects an elasticity of {_elasticity(own['mde'])} with 80% power at the "
             f"scenario's noise levels, but only {_elasticity(worst['mde'])} with {worst['world']}. Most supplier "
             f"links are assumptions (the table says which), and {shared} of the {n_series} series share one "
             f"regressor, so most of what it knows comes from the quarters, not the companies.")
    return " ".join([first, calibration]) + "\n\n" + panel


def _elasticity(value: float) -> str:
    return f"{value:.2f}" if np.isfinite(value) else "none up to 10"


def demand_stability(result) -> str:
    """The break test and the recursive estimates in words."""
    s = result.secondary
    est, first, last = s.break_dates
    return (f"Andrews' sup-Wald test of a break in the elasticity ({markdown_text(s.series_label)}, {s.break_test.nobs} quarters): "
            f"p = {format_p(s.break_test.pvalue)} (Holm-adjusted {format_p(s.holm['break'])}). The most likely break "
            f"date is {est}; the data cannot tell it apart from any date between {first} and {last} (90% set).")


def demand_forecasts(result) -> str:
    """The out-of-sample check in words."""
    f = result.secondary.forecasts
    if f.empty:
        return "Too few quarters for an out-of-sample check."
    ratio = rmse_ratio(f)
    better = "beats" if ratio < 1 else "does not beat"
    return (f"Pseudo-real-time forecasts of {markdown_text(result.secondary.series_label.split(' on ')[0])} four quarters ahead from "
            f"{len(f)} rolling origins ({f['origin'].iloc[0]} to {f['origin'].iloc[-1]}), each using only quarters filed "
            f"by its origin: the capex-growth model's root mean squared error is {ratio:.2f} times the random walk with "
            f"drift's, so it {better} the random walk. With {len(f)} overlapping origins this is a description, not a test.")


def demand_realtime_forecasts(result) -> str:
    """The out-of-sample check of D itself on its real-time vintages, in words, with how few origins there are."""
    s = result.secondary
    f = s.d_forecasts
    if f.empty:
        return "No origin has enough quarters of D in its vintage for an out-of-sample check of D."
    n, steps = len(f), (f["target"].iloc[0] - f["origin"].iloc[0]).n
    ratio = rmse_ratio(f)
    better = "beats" if ratio < 1 else "does not beat"
    latest = f.iloc[-1]
    overlap = (f" and their {steps}-quarter windows overlap" if steps > 1 and n > 1 else "")
    return (f"Pseudo-real-time forecasts of D itself, {steps} quarters ahead, from {n} rolling origins "
            f"({f['origin'].iloc[0]} to {f['origin'].iloc[-1]}). Each origin rebuilds D from the disclosures "
            f"published by its end (at the last origin, {latest['origin']}, the latest one used was published on "
            f"{latest['last_published']:%Y-%m-%d}) and fits D's growth on AI capex growth {s.d_forecast_lag} quarters "
            f"earlier, with capex filed by then (through {latest['capex_through']}). Against the growth of D as every "
            f"disclosure now published shows it, the model's root mean squared error is {ratio:.2f} times the random "
            f"walk with drift's (n = {n} origins), so on these origins it {better} the random walk. Only {n} origins "
            f"are available{overlap}: far too few to tell the two forecasts apart. This is a description, not a test.")


_LEGAL_SUFFIX = re.compile(r"(,? Inc\.|,? Corporation| Platforms| Technologies)$")


def _short(name: str) -> str:
    """A company's name without its legal suffix, for prose ("Amazon.com, Inc." -> "Amazon")."""
    return _LEGAL_SUFFIX.sub("", name).removesuffix(".com")


def _listed(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def backlog(b) -> str:
    """The spenders' contracted backlog against their trailing capex (a :class:`~valuechain.model.backlog.Backlog`),
    and what backlog is not."""
    if b.quarter is None:
        return "No spender has both a contracted backlog and four quarters of capex in the data."
    rows = b.headline_rows
    inside = rows[rows["company_id"].isin(b.companies)]
    names = {c: markdown_text(_short(n)) for c, n in zip(rows["company_id"], rows["name"])}
    ends = inside["period_end"]
    period = (f"quarters ending {ends.min():%Y-%m-%d} to {ends.max():%Y-%m-%d}" if ends.min() != ends.max()
              else f"the quarter ending {ends.max():%Y-%m-%d}")
    lines = [f"In {b.quarter} ({period}), the contracted backlog (remaining performance obligations) of "
             f"{_listed([names[c] for c in inside['company_id']])} was **{_usd(b.rpo_usd_bn)}, {b.multiple:.1f} times their capex over the "
             f"four quarters to then** ({_usd(b.capex_usd_bn)})."]
    lines.append("Backlog is revenue contracted but not yet recognised, to be earned over several years, not revenue "
                 "earned; both figures are company-wide, not AI alone.")
    if b.labs_named:
        named = [f"{_listed([markdown_text(lab) for lab in labs])} in {names.get(c, markdown_text(c))}'s" for c, labs in b.labs_named.items()]
        lines.append(f"Part of it is with the labs, a flow inside the chain that net external revenue leaves out: "
                     f"the filings' notes name {_listed(named)} backlog.")
    else:
        lines.append("Part of it may be with the labs, a flow inside the chain; the filings' notes name none.")
    for company in b.left_out:
        row = rows[rows["company_id"] == company].iloc[0]
        lines.append(f"{names[company]}'s backlog ({_usd(row['rpo_usd_bn'])}) is shown, but its capex for the four "
                     f"quarters to {b.quarter} is not in the data, so it is left out of the multiple.")
    return " ".join(lines)


def known_by_year(result) -> str:
    """The year-by-year comparison in words: it uses revenue as known then, and how far later disclosures moved it."""
    table = result.required_by_year.set_index("year")

    built = table[table["d_vintage_usd_bn"].notna()]
    moves = "; ".join(f"{year} from {with_unit(row['d_vintage_usd_bn'], 'usd_bn')} as known on {row['cutoff']} to "
                      f"{with_unit(row['d_revised_usd_bn'], 'usd_bn')} today, {row['d_revised_over_vintage']:.2f} times"
                      for year, row in built.iterrows())
    lines = ["Each year's requirements are set against net external AI revenue **as known then**: built only from "
             "the disclosures published by the end of the first quarter after the year, when its last quarter was "
             "first public. " + (f"Later disclosures moved it: {moves}." if moves else "No year could be built then.")]
    unbuilt = table.index[table["d_vintage_usd_bn"].isna()]
    if len(unbuilt):
        lines.append("For " + ", ".join(str(y) for y in unbuilt) + " the series public at the time do not cover the "
                     "whole year, so no figure as known then exists; only the revised one is shown.")
    last = table.loc[result.year]
    if np.isfinite(last["d_vintage_usd_bn"]):
        lines.append(f"In {result.year} revenue as known then was {last['capital_recovery_ratio_vintage']:.2f} times "
                     f"capital recovery's requirement ({last['capital_recovery_ratio_revised']:.2f} revised), "
                     f"{last['sequoia_ratio_vintage']:.2f} times Sequoia's and {last['capex_to_revenue_ratio_vintage']:.2f} "
                     f"times Bain's.")
        if last["d_vintage_disclosed_sum_usd_bn"] > last["d_vintage_usd_bn"]:
            lines.append(f"As known on {last['cutoff']} the plain sum of the series then disclosed was "
                         f"{with_unit(last['d_vintage_disclosed_sum_usd_bn'], 'usd_bn')}, above the chain-linked "
                         f"{with_unit(last['d_vintage_usd_bn'], 'usd_bn')}: a series no longer carried by the cutoff (its last figure "
                         f"too old) drops out of the chain-linked level in every quarter, so part of the revision is the "
                         f"chain-linking, not later news.")
    imputed = table["d_revised_imputed_quarters"].fillna(0).astype(int)
    lines.append(f"Chain-linking carries a series back before its first disclosure; {int((imputed > 0).sum())} of "
                 f"{len(table)} years have imputed quarters today. The plain sum of the series disclosed in "
                 f"{result.year} is {with_unit(last['d_revised_disclosed_sum_usd_bn'], 'usd_bn')} against the chain-linked "
                 f"{with_unit(last['d_revised_usd_bn'], 'usd_bn')}.")
    return " ".join(lines)


def market_check(result) -> str:
    """D against Menlo Ventures' enterprise totals, year by year, and why they check D rather than constrain it."""
    check = result.market_check()
    if check.empty:
        return "No market total in the data covers a year with all four quarters of D."
    parts = [f"{row.ratio:.1f} times as large in {row.year} (USD {row.d_usd_bn:,.1f}bn against USD "
             f"{row.total_usd_bn:,.1f}bn)" for row in check.itertuples()]
    lines = [f"Against Menlo Ventures' estimate of {markdown_text(check['product'].iloc[0])}, net external AI revenue D was "
             f"{_listed(parts)}."]
    growth = check.dropna(subset=["d_growth", "total_growth"])
    for row in growth.itertuples():
        lines.append(f"From {row.year - 1} to {row.year}, D grew {row.d_growth:.1f}-fold and the survey's total "
                     f"{row.total_growth:.1f}-fold.")
    thin = check[check["fewest_series"] < result.scenario.demand_gap.primary_test.min_series]
    if len(thin):
        lines.append(f"In {_listed([str(y) for y in thin['year']])} D rests on as few as "
                     f"{int(thin['fewest_series'].min())} series in a quarter and is carried back by chain-linking.")
    lines.append("The two measure different things: the survey counts enterprises' spending only, leaving out "
                 "consumers' subscriptions, which are a large part of the labs' revenue and are in D, and it counts "
                 "vendors outside D's series; D is what the panel's companies disclose, with flows between chain "
                 "members netted only where a figure gives them. The totals are therefore a check on D's scale, not a "
                 "constraint D is scaled to: the primary test and its calibration do not use them.")
    return " ".join(lines)


def _chain_limits(result) -> str:
    """What the chain accounting assumes about the flows between its members, with the figures in the gap quarter."""
    flows = result.flow_table("broad").set_index(["payer", "payee"])["usd_bn"]
    accounting = result.ladder.accounting
    q = result.closing.last_quarter
    return (f"- The flows between the chain's members are not disclosed quarter by quarter, so D nets them at assumed "
            f"shares: in {q} the applications' payments to the labs come to {_usd(flows[('applications', 'labs')])} a year "
            f"({accounting.apps_to_labs:.0%} of their revenue) and the labs' payments to the clouds to "
            f"{_usd(flows[('labs', 'clouds')])} ({accounting.labs_to_clouds:.0%} of theirs). The shares are the profit "
            "model's pass-through assumptions, each with a prior in the scenario; the scope ladder shows how far the "
            "definition moves D.")


def demand_limits(result) -> str:
    """What the data can and cannot show, with the numbers that set the limits."""
    c, d = result.closing, result.downstream
    thin = d.d[d.d["series_present"] < result.scenario.demand_gap.primary_test.min_series]
    lines = [
        f"- The primary test rests on {c.test.nobs} quarterly changes with {c.test.df} effective degrees of freedom; its size was "
        f"measured by simulation (`make calibrate`) and its intervals are wide because the data are few.",
        "- D is built from company disclosures of different kinds (run-rates, ARR, quarterly revenue); run-rates from "
        "press reports carry more noise in the model than filed figures, and no company discloses all of its AI revenue.",
        _chain_limits(result),
        "- R* depends on the scenario's AI share of capex, asset lives and margin, which the data do not pin down; "
        "the fan chart's R* band shows the asset-life range only.",
        "- The regressions describe co-movement of revenue and capex growth; the placebo checks that capex leads do not "
        "'predict' revenue, but none of it identifies a causal effect.",
    ]
    if len(thin):
        lines.append(f"- Before {thin.index[-1] + 1}, D rests on fewer than "
                     f"{result.scenario.demand_gap.primary_test.min_series} series; those quarters are shown but not tested.")
    return "\n".join(lines)


def scenario_header(scenario, ds) -> str:
    """The header every notebook shows under its title, as Markdown: the scenario's title and
    description (user text, escaped) and the data vintage.

    Parameters
    ----------
    scenario : valuechain.scenario.schema.Scenario
        The scenario the notebook runs.
    ds : valuechain.dataset.load.Dataset
        The loaded dataset (its ``vintage`` is the last filed period).
    """
    return (f"**Scenario:** {markdown_text(scenario.title)}. {markdown_text(scenario.description)}\n\n"
            f"**Data vintage:** filed figures through {markdown_text(ds.vintage)}.")


def show_scenario(scenario, ds) -> None:
    """Display :func:`scenario_header` in a notebook, marked as the scenario block.

    A page shows the scenario in its own header, so the site leaves this output out of the page;
    a reader of the notebook in JupyterLab still sees it.
    """
    from IPython.display import Markdown, display

    display(Markdown(scenario_header(scenario, ds)), metadata={"valuechain": {"page": False}})


def downstream_check(check) -> str:
    """The profit pool's labs and applications against the chain's final demand into them, in the latest full year."""
    full = check.dropna(subset=["chain_usd_bn", "pool_usd_bn"])
    if full.empty:
        return "No year has all four quarters of the chain's flows and the profit pool's downstream layers to compare."
    year = int(full["year"].max())
    row = full[full["year"] == year].set_index("layer")
    parts = []
    for layer, name in (("labs", "the labs"), ("apps", "the applications")):
        if layer in row.index:
            r = row.loc[layer]
            parts.append(f"end users paid {name} {_usd(r['chain_usd_bn'])} in D against {_usd(r['pool_usd_bn'])} of "
                         f"the profit pool's AI revenue ({r['chain_over_pool']:.0%})")
    return (f"In {year}, {_listed(parts)}. The labs differ by what the applications pay them for models and what their "
            "cloud partners keep, which D nets; the applications differ because the profit pool takes them from a "
            "survey of all enterprise spending, while D counts only the vendors that disclose an AI figure.")


# ----------------------------------------------------------------------------- the track record (notebook 06)


def track_record(record) -> str:
    """The forecast ledger's track record in words: what it holds, how D's and R*'s forecasts fared
    (error, then coverage with its count and interval), R*'s pre-registered line, and what so few
    scored forecasts cannot show. The limitation comes first when too few forecasts are scored."""
    d, r = record.score("d_usd_bn"), record.score("required_usd_bn")
    dr = record.score("d_usd_bn", revised=True)
    v = record.vintages
    if not v:
        return "The forecast ledger holds no vintage yet: there is no track record to score."
    n_d = int(d["scored"])
    lines = []
    if n_d and d["coverage_low"] <= d["level"] <= d["coverage_high"]:
        lines.append(f"**The track record cannot yet tell whether D's {d['level']:.0%} intervals are calibrated: "
                     f"{int(d['inside'])} of {n_d} outcomes fell inside them, a coverage between {d['coverage_low']:.0%} "
                     f"and {d['coverage_high']:.0%} ({record.level:.0%} interval), which holds the stated "
                     f"{d['level']:.0%} and much less.**")
    elif n_d:
        side = "below" if d["coverage"] < d["level"] else "above"
        lines.append(f"**D's {d['level']:.0%} intervals held {int(d['inside'])} of {n_d} outcomes, a coverage between "
                     f"{d['coverage_low']:.0%} and {d['coverage_high']:.0%} ({record.level:.0%} interval), {side} "
                     "their stated level.**")
    if n_d:
        direction = "below" if d["mean_error_log"] > 0 else "above"
        lines.append(
            f"The ledger records {len(v)} vintages ({v[0].date()} to {v[-1].date()}), each forecasting D and R* for "
            f"the next four quarters from what was public by its date, with the assumptions of scenario "
            f"'{markdown_text(record.scenario)}' (the outcomes use the same, so every scenario's page scores the same "
            f"committed forecasts). Against D as first disclosed, D's forecasts "
            f"were {abs(d['mean_error_log']):.2f} log points {direction} the outcome on average (root mean squared "
            f"error {d['rmse_log']:.2f}); {int(d['inside'])} of {n_d} outcomes fell inside their {d['level']:.0%} "
            f"intervals, a coverage of {d['coverage']:.0%} ({record.level:.0%} interval "
            f"{d['coverage_low']:.0%} to {d['coverage_high']:.0%}, treating the forecasts as independent, which "
            f"forecasts from one vintage are not). Against today's revised D the mean error is "
            f"{dr['mean_error_log']:+.2f} log points and the coverage {int(dr['inside'])} of {int(dr['scored'])}.")
        if d["mean_error_log"] > 0:
            low = int((record.scored.loc[record.scored["quantity"] == "d_usd_bn", "error_log"] > 0).sum())
            lines.append(f"{low} of {n_d} outcomes were above their forecast. A forecast that carries a vintage's "
                         "growth cannot foresee the series that begin to disclose later, which the chain-linked D "
                         "then counts.")
    else:
        lines.append(f"No forecast of D has come due yet in the data (latest publication {record.last_published.date()}).")
    if int(r["scored"]):
        lines.append(f"R*'s forecasts were {r['mean_error_log']:+.3f} log points off on average (root mean squared "
                     f"error {r['rmse_log']:.3f}): the quarters whose capex was already filed are known in advance, and "
                     f"{int(r['inside'])} of {int(r['scored'])} outcomes fell inside the stated range.")
    ln = record.line
    if len(ln):
        above = int(ln["above"].sum())
        lines.append(f"Against R*'s pre-registered line, D as first disclosed was at or above it in {above} of "
                     f"{len(ln)} quarters ({ln['target_quarter'].iloc[0]} to {ln['target_quarter'].iloc[-1]}; D/R* "
                     f"from {ln['d_over_required'].min():.2f} to {ln['d_over_required'].max():.2f}).")
    return "\n\n".join(lines)


def seed_claims_summary(result) -> str:
    """One sentence on the seed documents' claims, generated from a :class:`~valuechain.model.claims.ClaimsResult`'s verdict counts."""
    counts = result.counts()
    words = {"matches": ("matches the data within its tolerance", "match the data within their tolerance"),
             "stale": ("is stale (a later figure supersedes it)", "are stale (a later figure supersedes them)"),
             "differs": ("differs from the data", "differ from the data"),
             "unsupported": ("is not supported by it", "are not supported by it"),
             "untestable": ("cannot be tested on the data", "cannot be tested on the data")}
    parts = [f"{n} {words[v][n != 1]}" for v, n in counts.items() if n]
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
    wrong = result.table[result.table["verdict"].isin(["differs", "unsupported", "stale"])]
    named = "; ".join(f"{markdown_text(r.claim)} ({r.verdict})" for r in wrong.itertuples())
    tail = f": {named}" if named else ""
    return (f"Of the {len(result.table)} quantitative claims of the two seed documents, {listed}; those the data contradict "
            f"or supersede{tail}.")
