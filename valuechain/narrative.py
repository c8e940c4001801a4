"""Plain-English sentences generated from results; no figure is typed by hand."""
from __future__ import annotations

import re

import pandas as pd

from valuechain.params import CHAIN_ORDER
from valuechain.profit import ProfitPool, required_end_user_spend


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
        funded = " (more than the dollar itself: the labs' losses are paid by their investors)" if outside > 100 else ""
        lines.append(f"Of each dollar end users spend on AI applications, the layers keep (cents): {parts}; "
                     f"{outside:.1f} cents pay costs outside the chain{funded}.")
    proj = pool.layers[pool.layers["kind"] == "projection"]
    if len(proj):
        last_year = int(proj["year"].max())
        last = proj[proj["year"] == last_year].set_index("layer")
        lines.append(f"Under the '{pool.scenario.name}' scenario, by {last_year} the {top} layer's share of operating profit would be "
                     f"{last.loc[top, 'profit_share']:.0%} and the cloud layer's {last.loc['cloud', 'profit_share']:.0%}, "
                     f"with AI capex of {_bn(last.loc[top, 'capex_usd_bn'])} a year.")
    gone = pool.excluded[pool.excluded["year"] == year]
    if len(gone):
        lines.append(f"Left out of {year} for lack of data: {', '.join(gone['company_id'])}.")
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


def demand_summary(result) -> str:
    """Executive summary of the demand gap, generated from a :class:`~valuechain.demand.DemandGapResult`."""
    req = result.requirements.set_index("method")
    seq, bain, cap = req.loc["sequoia"], req.loc["capex_to_revenue"], req.loc["capital_recovery"]
    lines = [
        f"**Sequoia's method** turns NVIDIA's data-center run-rate of {_bn(seq['inputs']['run_rate_usd_bn'])} into "
        f"**{_bn(seq['required_usd_bn'])} of required end-user revenue**, against {_bn(seq['actual_usd_bn'])} identified: "
        f"a hole of {_bn(seq['gap_usd_bn'])}.",
        f"**Bain's method** (capex of {_bn(bain['inputs']['capex_usd_bn'])} at a capex-to-revenue ratio of "
        f"{bain['inputs']['capex_to_revenue_ratio']:.0%}) requires {_bn(bain['required_usd_bn'])} a year"
        + (f", against {_bn(bain['actual_usd_bn'])}: a shortfall of {_bn(bain['gap_usd_bn'])}." if pd.notna(bain["actual_usd_bn"]) else "."),
        f"**Capital recovery**: earning {cap['inputs']['target_return']:.0%} on {_bn(cap['inputs']['capital_base_usd_bn'])} of "
        f"installed capital over {cap['inputs']['life_years']:g} years takes {_bn(cap['required_usd_bn'])} of revenue a year"
        + (f" (capex of {', '.join(result.capital_left_out)} left out for missing years)" if result.capital_left_out else "") + ".",
    ]
    proxy = result.tests.get("proxy_yield")
    if proxy is not None:
        lines.append(proxy.verdict("cloud revenue"))
    ai = result.tests.get("ai_yield")
    if ai is not None:
        lines.append(ai.verdict("AI revenue"))
    return "\n\n".join(lines)


def labs_summary(result) -> str:
    """Executive summary of notebook 03, generated from a :class:`~valuechain.labs.LabEconomicsResult`."""
    ue = result.unit_economics
    eff = ue.loc["capital efficiency (run-rate per $ of compute)"]
    lines = []
    for lab, be in result.break_even.items():
        start = be.path.iloc[0]
        when = f"breaks even in **{be.year}**" if be.year else "does not break even within the horizon"
        lines.append(f"**{lab}** starts from {_bn(start['revenue_usd_bn'])} of {int(start['year'])} revenue at "
                     f"${start['cost_per_revenue_dollar']:.2f} of cost per revenue dollar and, on the scenario's path, {when}.")
    lines.append(f"On the seed's figures Anthropic earns ${eff['anthropic']:.2f} of run-rate revenue per dollar of projected "
                 f"compute against OpenAI's ${eff['openai']:.2f}.")
    split = result.cloud_split
    gap = result.gap_with_round_trip.set_index("method").loc["sequoia"]
    lines.append(f"Of {_bn(split['total_usd_bn'])} of cloud AI revenue in {result.year}, {_bn(split['round_tripped_usd_bn'])} "
                 f"({split['round_tripped_share']:.0%}) is the clouds' own investment in labs coming back as revenue; "
                 f"excluding it, Sequoia's gap widens from {_bn(gap['gap_usd_bn'])} to {_bn(gap['gap_organic_usd_bn'])}.")
    return "\n\n".join(lines)


def valuation_summary(result: dict, scenario) -> str:
    """Executive summary of notebook 04, generated from :func:`valuechain.valuation.analyse`."""
    s, val = result["summary"], scenario.valuation
    low, high = result["typical_float"]
    seed_low, seed_high = result["seed_draw"]
    verdict = "above" if s["ipo_draw_typical_low_usd_bn"] > seed_high else "within or below"
    lines = [
        f"The three IPO candidates are valued at {_bn(s['ipo_total_valuation_usd_bn'])} together. Floating the typical "
        f"{low:.0%}-{high:.0%} would draw {_bn(s['ipo_draw_typical_low_usd_bn'])}-{_bn(s['ipo_draw_typical_high_usd_bn'])} "
        f"from the market, {verdict} the seed's own figure of {_bn(seed_low)}-{_bn(seed_high)} (its 'decade of US IPO proceeds').",
        f"At the seed's run-rates OpenAI is valued at {s['openai_revenue_multiple']:.0f}x revenue and Anthropic at "
        f"{s['anthropic_revenue_multiple']:.0f}x. To earn {val.discount_rate:.0%} a year and be worth "
        f"{val.exit_multiple:g}x revenue in {val.target_year}, the two would need {_bn(s['labs_revenue_needed_usd_bn'])} of "
        f"revenue that year; the scenario's labs layer reaches {_bn(s['labs_revenue_scenario_path_usd_bn'])}.",
        f"China's chip makers trade at {result['pe_china']:.0f}x earnings against NVIDIA's {result['pe_nvidia']:.0f}x (seed): to fall to NVIDIA's multiple over "
        f"{val.china_years_to_converge} years with the same return, their earnings would have to grow "
        f"{s['china_implied_earnings_growth']:.0%} a year against NVIDIA's assumed {val.nvidia_earnings_growth:.0%}.",
    ]
    return "\n\n".join(lines)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>\"'=:$])")


def escape_markdown(text) -> str:
    """``text`` as Markdown that renders as exactly that text: no markup, no HTML, no link.

    HTML's ``&``, ``<`` and ``>`` become entities (so no tag can open); every other character
    Markdown gives a meaning to is backslash-escaped (so ``[x](javascript:...)`` stays text); line
    breaks become spaces (so no heading or list can start).
    """
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def scenario_header(scenario, ds) -> str:
    """The header every notebook shows under its title, as Markdown: the scenario's title and
    description (user text, escaped) and the data vintage.

    Parameters
    ----------
    scenario : valuechain.params.Scenario
        The scenario the notebook runs.
    ds : valuechain.dataset.Dataset
        The loaded dataset (its ``vintage`` is the last filed period).
    """
    return (f"**Scenario:** {escape_markdown(scenario.title)}. {escape_markdown(scenario.description)}\n\n"
            f"**Data vintage:** filed figures through {escape_markdown(ds.vintage)}.")
