"""Notebook 05's charts, tables and sentences, from an :class:`~valuechain.model.uncertainty.UncertaintyResult`.

Every sentence is generated from the draws; user text (rationales, keys) is escaped.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from valuechain.report.charts import Chart, finish, legend_outside, log_limits, native, quarter_dates, subplots, whole_years
from valuechain.report.labels import assumption, file_name, probability_text, with_unit
from valuechain.escape import markdown_text
from valuechain.report.tables import Column, present
from valuechain.model.uncertainty import UncertaintyResult, label, quantile

BLUE, ORANGE, GREY = "#0173b2", "#d55e00", "#555555"


def _format(value: float, unit: str) -> str:
    """A figure in a sentence, as every page writes one (``USD 997bn``, ``74%``, ``4.3 cents``)."""
    if value is None or not np.isfinite(value):
        return "not within the horizon" if unit == "year" else "not available"
    return with_unit(value, unit)


def _fan(ax, x, fan: pd.DataFrame, colour: str, name: str, prefix: str = "") -> None:
    ax.fill_between(x, fan[f"{prefix}p05"], fan[f"{prefix}p95"], color=colour, alpha=0.15, label=f"{name}, 90% of draws")
    ax.fill_between(x, fan[f"{prefix}p25"], fan[f"{prefix}p75"], color=colour, alpha=0.3, label=f"{name}, 50% of draws")
    ax.plot(x, fan[f"{prefix}p50"], color=colour, linewidth=2, label=f"{name}, median")


METHOD = ("The scenario's priors are drawn jointly (rank-correlated) and the engine recomputes each figure on every "
          "draw; the bands hold 50% and 90% of the draws.")


def _fan_panel(fan: pd.DataFrame, name: str, number_format: str, prefix: str = "", log: bool = False) -> dict:
    """A fan's 5th, 50th and 95th percentiles as a native line chart's series."""
    return native("line", fan.index, [(f"{name}, {label}", fan[f"{prefix}{p}"]) for p, label in
                                      (("p05", "5th percentile"), ("p50", "median"), ("p95", "95th percentile"))],
                  "", number_format, log=log)


def chips_share_fan(result: UncertaintyResult, source: str) -> Chart:
    """The chips layer's share of chain operating profit, filed years and projection, over the draws."""
    fan = result.fan("chips_share")
    fig, ax = subplots(figsize=(8, 4.5))
    _fan(ax, fan.index, fan, BLUE, "Chips share")
    ax.axhline(0.5, color=GREY, linestyle=":", linewidth=1, label="Half of chain profit")
    ax.axvline(result.inputs.years[-1] + 0.5, color=GREY, linewidth=0.8)
    ax.text(result.inputs.years[-1] + 0.6, ax.get_ylim()[1], "projection", fontsize=8, color=GREY, va="top")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("Calendar year")
    ax.set_ylabel("Share of chain operating profit")
    whole_years(ax.xaxis)
    legend_outside(ax)
    end = fan.index[-1]
    title = (f"The chips layer's median share of chain operating profit is {fan.loc[end, 'p50']:.0%} in {end} over the "
             f"priors (90% of draws {fan.loc[end, 'p05']:.0%}-{fan.loc[end, 'p95']:.0%})")
    finish(fig, ax, title, source)
    alt = (f"Fan chart: the chips layer's median share of chain operating profit is {fan['p50'].iloc[0]:.0%} in "
           f"{fan.index[0]} and {fan.loc[end, 'p50']:.0%} in {end} (90% of draws {fan.loc[end, 'p05']:.0%}-"
           f"{fan.loc[end, 'p95']:.0%}). Shares above 100% mean other layers lose money in total.")
    return Chart(fig, title, alt, "chips-share-fan", source, native=(_fan_panel(fan, "Chips share", "0%"),),
                 method=METHOD)


def demand_gap_fan(result: UncertaintyResult, source: str) -> Chart:
    """Required revenue R* over the draws against net external AI revenue D (central estimate)."""
    inp = result.inputs
    fan = result.fan("required")
    fan = fan[fan["p50"] > 0]
    d = inp.d_quarterly
    fig, ax = subplots(figsize=(8, 4.5))
    _fan(ax, quarter_dates(fan.index), fan, ORANGE, "R*")
    ax.plot(quarter_dates(d.index), d.to_numpy(), color=BLUE, linewidth=2, label="D: net external AI revenue (smoothed)")
    ax.set_yscale("log")
    log_limits(ax, fan[["p05", "p95"]], d.to_numpy())
    ax.set_xlabel("Quarter")
    ax.set_ylabel("USD billions a year (annualized, log scale)")
    legend_outside(ax)
    q = inp.quarters[inp.gap_quarter]
    ratio = result.draws.quantiles().loc["d_over_required"]
    title = (f"Over the priors, D is {ratio['p05']:.0%}-{ratio['p95']:.0%} of required revenue R* in {q} "
             f"(90% of draws; median {ratio['p50']:.0%})")
    finish(fig, ax, title, source)
    alt = (f"Fan chart of required revenue R* to {fan.index[-1]}; in {q} D was {inp.d_last:,.0f} billion dollars a year "
           f"and D/R* had a median of {ratio['p50']:.2f} over the draws (90%: {ratio['p05']:.2f}-{ratio['p95']:.2f}).")
    panel = _fan_panel(fan, "R*", "#,##0", log=True)
    panel["series"].append({"name": "D: net external AI revenue (smoothed)",
                            "values": [float(v) if pd.notna(v) else None for v in d.reindex(fan.index).to_numpy()]})
    return Chart(fig, title, alt, "required-revenue-fan", source, native=(panel,), method=METHOD)


def labs_fan(result: UncertaintyResult, source: str) -> Chart:
    """The labs' combined revenue and cost paths over the draws."""
    fan = result.fan("labs")
    fig, ax = subplots(figsize=(8, 4.5))
    _fan(ax, fan.index, fan, BLUE, "Revenue", "revenue_")
    _fan(ax, fan.index, fan, ORANGE, "Cost", "cost_")
    ax.set_xlabel("Calendar year")
    ax.set_ylabel("USD billions")
    whole_years(ax.xaxis)
    legend_outside(ax)
    cross = fan.index[fan["revenue_p50"] >= fan["cost_p50"]]
    when = f"the medians cross in {cross[0]}" if len(cross) else "the medians do not cross within the horizon"
    title = f"Over the priors, the labs' median revenue and cost: {when}"
    finish(fig, ax, title, source)
    alt = f"Fan chart of the labs' revenue and cost from {fan.index[0]} to {fan.index[-1]}; {when}."
    revenue, cost = _fan_panel(fan, "Revenue", "#,##0", prefix="revenue_"), _fan_panel(fan, "Cost", "#,##0", prefix="cost_")
    revenue["series"] += cost["series"]
    return Chart(fig, title, alt, "labs-revenue-cost-fan", source, native=(revenue,), method=METHOD)


def tornado_chart(result: UncertaintyResult, headline: str, source: str, top: int = 10) -> Chart:
    """One-at-a-time swings of ``headline`` with each prior at its 10th and 90th percentiles.

    Priors that do not move the headline at all (it does not depend on them) are left out, and
    the caption says how many; at most ``top`` bars are drawn, the largest swing at the top.
    """
    text, unit = label(headline, result.inputs, result.names)
    every = result.tornado[result.tornado["headline"] == headline]
    base = float(every["baseline"].iloc[0])
    moves = (every["at_low"] - base).abs() + (every["at_high"] - base).abs() > 1e-9 * max(1.0, abs(base))
    rows = every[moves].head(top).iloc[::-1]
    if rows.empty:
        rows = every.head(1)  # nothing moves it: one empty bar keeps the axis, the caption says why
    fig, ax = subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    y = np.arange(len(rows))
    ax.barh(y, rows["at_low"] - base, left=base, color=BLUE, label="Prior at its 10th percentile")
    ax.barh(y, rows["at_high"] - base, left=base, color=ORANGE, alpha=0.8, label="Prior at its 90th percentile")
    ax.axvline(base, color=GREY, linewidth=1)
    ax.set_yticks(y, [assumption(k, result.names) for k in rows["key"]], fontsize=8)
    ax.set_xlabel(f"{text} ({'share' if unit == 'share' else unit.replace('usd_bn', 'USD bn')})")
    legend_outside(ax)
    title = f"What moves it: {text}"
    finish(fig, ax, title, source)
    first = rows.iloc[-1]
    if not moves.any():
        alt = (f"Tornado chart for {text}: none of the {len(every)} priors moves it; it stays {_format(base, unit)} "
               f"with each prior at its 10th and 90th percentiles.")
    else:
        alt = (f"Tornado chart for {text}: at the scenario's values it is {_format(base, unit)}; the largest swing comes "
               f"from {assumption(first['key'], result.names)} ({first['key']}), from {_format(first['at_low'], unit)} to "
               f"{_format(first['at_high'], unit)}."
               + (f" {int((~moves).sum())} of the {len(every)} priors do not move it and are not shown." if (~moves).any() else ""))
    return Chart(fig, title, alt, f"tornado-{file_name(headline)}", source, main=False)


def shapley_chart(result: UncertaintyResult, headline: str, source: str, top: int = 8) -> Chart:
    """Shapley effects of ``headline`` for its most influential priors, with the copula the draws have."""
    text, _ = label(headline, result.inputs, result.names)
    rows = (result.shapley[result.shapley["headline"] == headline].sort_values("shapley", ascending=False)
            .head(top).iloc[::-1])
    fig, ax = subplots(figsize=(8, 0.4 * len(rows) + 1.5))
    y = np.arange(len(rows))
    ax.barh(y, rows["shapley"], height=0.6, color=BLUE, xerr=1.96 * rows["shapley_se"])
    ax.set_yticks(y, [assumption(k, result.names) for k in rows["key"]], fontsize=8)
    ax.set_xlabel("Shapley effect: share of the variance over the correlated priors (95% bars over the orderings)")
    title = f"What drives it: {text}"
    finish(fig, ax, title, source)
    first = rows.iloc[-1]
    alt = (f"Shapley effects for {text}: {assumption(first['key'], result.names)} ({first['key']}) explains the largest "
           f"share of its variance over the draws, {first['shapley']:.2f}.")
    return Chart(fig, title, alt, f"shapley-{file_name(headline)}", source, main=False)


# ----------------------------------------------------------------------------- text and tables


def probabilities(result: UncertaintyResult) -> str:
    """The probabilities as Markdown bullets."""
    n = len(result.draws.values)
    lines = [f"- P({markdown_text(text)}) {_probability(p, n)}" for text, p in result.probabilities()]
    return "\n".join(lines) + f"\n\nEach probability is the share of {n:,} draws of the priors (seed {result.scenario.uncertainty.seed})."


def _probability(p: float, n: int) -> str:
    """``= 0.63``; near the ends as every page shows a probability (:func:`labels.probability_text`);
    at the ends, the bound ``n`` draws allow (never a bare 0 or 1)."""
    if p >= 1:
        return f"> {1 - 1 / n:.4f} (every draw)"
    if p <= 0:
        return f"< {1 / n:.4f} (no draw)"
    text = probability_text(p)
    return text if text[0] in "<>" else f"= {text}"


def summary(result: UncertaintyResult) -> str:
    """Executive summary: each headline's median and 90% interval beside its value at the scenario's assumptions."""
    q = result.draws.quantiles()
    lines = []
    for key, fixed in result.deterministic.items():
        text, unit = label(key, result.inputs, result.names)
        row = q.loc[key]
        lines.append(f"- **{markdown_text(text)}**: {_format(fixed, unit)} at the scenario's values; median "
                     f"{_format(row['p50'], unit)} over the draws (90%: {_format(row['p05'], unit)} to {_format(row['p95'], unit)}).")
    return "\n".join(lines)


def drivers(result: UncertaintyResult) -> str:
    """One sentence per headline naming the assumption that drives it (largest Shapley effect, with the copula),
    and the largest total-order Sobol index beside it where the two disagree."""
    sobol = result.sobol.loc[result.sobol.groupby("headline", sort=False)["ST"].idxmax()].set_index("headline") \
        if len(result.sobol) else None
    lines = []
    for row in result.drivers().itertuples():
        text, _ = label(row.headline, result.inputs, result.names)
        line = (f"- {markdown_text(text)} depends most on **{markdown_text(assumption(row.key, result.names))}** "
                f"(scenario key {markdown_text(row.key)}): its Shapley effect is {row.shapley:.0%} of the variance "
                f"over the draws (± {1.96 * row.shapley_se:.0%}), counting what it moves through the assumptions "
                "correlated with it.")
        if sobol is not None and row.headline in sobol.index and sobol.loc[row.headline, "key"] != row.key:
            other = sobol.loc[row.headline]
            line += (f" Taken as independent, the Sobol indices would name "
                     f"{markdown_text(assumption(other['key'], result.names))} instead ({other['ST']:.0%} total order).")
        lines.append(line)
    return "\n".join(lines)


def shapley_table(result: UncertaintyResult, source: str = ""):
    """Every headline's Shapley effects, largest first, with their standard errors and the Sobol indices beside."""
    frame = result.shapley.merge(result.sobol[["headline", "key", "S1", "ST"]], on=["headline", "key"], how="left")
    frame = frame.assign(result=[label(h, result.inputs, result.names)[0] for h in frame["headline"]],
                         assumption=[assumption(k, result.names) for k in frame["key"]])
    frame = frame.sort_values(["headline", "shapley"], ascending=[True, False], kind="stable")
    return present(frame, [
        Column("result", "Result"),
        Column("assumption", "Assumption"),
        Column("shapley", "Shapley effect (share of variance)", "share"),
        Column("shapley_se", "Its standard error", "share"),
        Column("ST", "Sobol total order, independent priors", "share"),
        Column("S1", "Sobol first order, independent priors", "share"),
    ], "Shapley effects of every assumption on every result, with the Sobol indices beside", source,
        note=(f"Shapley effects over {result.scenario.uncertainty.shapley_permutations} random orderings of the priors, "
              "drawn with their rank correlations; they sum to 1 for each result. Sobol indices treat the priors as "
              "independent, so they describe draws the page does not make."))


def priors_table(result: UncertaintyResult) -> pd.DataFrame:
    """The priors: key, scenario value, distribution, 10th/50th/90th percentiles, rationale."""
    inp, rows = result.inputs, []
    for key, prior in zip(result.draws.plan.keys, result.draws.plan.priors):
        p10, p50, p90 = quantile(prior, [0.1, 0.5, 0.9])
        rows.append({"assumption": assumption(key, result.names), "key": key, "value": inp.values[inp.column(key)], "dist": prior.dist,
                     "p10": p10, "p50": p50, "p90": p90, "rationale": prior.rationale})
    return pd.DataFrame(rows, columns=["assumption", "key", "value", "dist", "p10", "p50", "p90", "rationale"])


def priors(result: UncertaintyResult, source: str = ""):
    """The priors table through the one formatter (:func:`valuechain.report.tables.present`)."""
    number = "{:,.3g}"  # the priors mix shares, years, rates and multiples: three significant digits
    return present(priors_table(result), [
        Column("assumption", "Assumption"), Column("key", "Scenario key"),
        Column("value", "Scenario value", "ratio", number),
        Column("dist", "Distribution"), Column("p10", "10th percentile", "ratio", number),
        Column("p50", "Median", "ratio", number), Column("p90", "90th percentile", "ratio", number),
        Column("rationale", "Rationale"),
    ], "The priors: each assumption's distribution and its reason", source)
