"""Charts for memos: each has a title, labelled axes with units, a source line and alt text.

Every function returns a :class:`Chart`. In a notebook it displays as an embedded PNG with its
alt text (so the exported HTML needs no other file); ``chart.fig`` is the matplotlib figure.
"""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from valuechain.dataset import Dataset  # noqa: E402
from valuechain.params import CHAIN_ORDER  # noqa: E402

# seaborn's "colorblind" palette, written out so that drawing a chart does not import seaborn
LAYER_COLOURS = dict(zip(("chips", "servers", "cloud", "labs", "apps"), ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc")))
UPSTREAM_FIRST = tuple(reversed(CHAIN_ORDER))


@dataclass
class Chart:
    """A rendered chart: the figure, its title and its alt text."""

    fig: plt.Figure
    title: str
    alt: str

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        return buffer.getvalue()

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png()).decode("ascii")
        plt.close(self.fig)
        return (f'<figure class="vc-chart"><img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}" '
                f'style="max-width:100%"><figcaption>{html.escape(self.alt)}</figcaption></figure>')


def source_line(ds: Dataset, source_ids, scenario: str | None = None, limit: int = 4) -> str:
    """Short source line: the first publishers cited, a count of the rest, and the scenario."""
    publishers = list(dict.fromkeys(ds.sources.set_index("source_id").loc[list(dict.fromkeys(source_ids)), "publisher"]))
    shown = "; ".join(publishers[:limit])
    rest = f"; +{len(publishers) - limit} more" if len(publishers) > limit else ""
    tail = f" Assumptions: scenario '{scenario}'." if scenario else ""
    return f"Source: {shown}{rest} (valuechain dataset, sources.csv).{tail}"


def _finish(fig, ax, title: str, source: str) -> None:
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    fig.text(0.01, -0.02, source, fontsize=7, color="#555555", ha="left", va="top", wrap=True)
    for axis in fig.axes:
        axis.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()


def profit_pool_chart(layers: pd.DataFrame, year: int, source: str) -> Chart:
    """Gadiesh & Gilbert's profit pool: width = share of chain revenue, height = operating margin.

    The area of each bar is the layer's operating profit as a share of chain revenue; a loss-making
    layer's bar hangs below the axis.
    """
    data = layers[(layers["year"] == year)].set_index("layer").reindex(list(UPSTREAM_FIRST)).dropna(subset=["ai_revenue_usd_bn"])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    left = 0.0
    for layer, row in data.iterrows():
        width, margin = row["revenue_share"] * 100, row["operating_margin"] * 100
        ax.bar(left, margin, width=width, align="edge", color=LAYER_COLOURS[layer], edgecolor="white")
        ax.text(left + width / 2, margin + (3 if margin >= 0 else -3), f"{layer}\n{margin:.0f}%",
                ha="center", va="bottom" if margin >= 0 else "top", fontsize=8)
        left += width
    ax.axhline(0, color="black", linewidth=0.8)
    margins = data["operating_margin"] * 100
    ax.set_ylim(min(0.0, margins.min()) * 1.25 - 10, max(0.0, margins.max()) * 1.3 + 10)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of AI value-chain revenue (%)")
    ax.set_ylabel("Operating margin (%)")
    title = f"AI value-chain profit pool, {year}"
    _finish(fig, ax, title, source)
    parts = ", ".join(f"{layer} {row['revenue_share']:.0%} of revenue at a {row['operating_margin']:.0%} margin"
                      for layer, row in data.iterrows())
    return Chart(fig, title, f"Profit-pool chart for {year}: {parts}. Bar area is operating profit.")


def profit_share_chart(layers: pd.DataFrame, source: str) -> Chart:
    """Each layer's share of chain operating profit by year; projections dashed."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for layer in UPSTREAM_FIRST:
        sub = layers[layers["layer"] == layer].sort_values("year")
        for kind, style in (("historical", "-"), ("projection", "--")):
            part = sub[sub["kind"] == kind]
            if kind == "projection" and len(part):
                part = pd.concat([sub[sub["kind"] == "historical"].tail(1), part])
            ax.plot(part["year"], part["profit_share"] * 100, style, color=LAYER_COLOURS[layer], marker="o",
                    markersize=3, label=layer if kind == "historical" else None)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Calendar year (dashed: scenario projection)")
    ax.set_ylabel("Share of chain operating profit (%)")
    ax.legend(frameon=False, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    title = "Who captures the AI profit: share of chain operating profit by layer"
    _finish(fig, ax, title, source)
    first, last = layers["year"].min(), layers["year"].max()
    end = layers[layers["year"] == last].set_index("layer")["profit_share"]
    alt = (f"Line chart of each layer's share of chain operating profit, {first}-{last}; in {last} "
           + ", ".join(f"{layer} {end[layer]:.0%}" for layer in UPSTREAM_FIRST if layer in end) + ".")
    return Chart(fig, title, alt)


def dollar_waterfall(flow: pd.DataFrame, year: int, source: str) -> Chart:
    """Where one dollar of end-user AI spending ends up: profit, loss and outside costs by layer."""
    data = flow[flow["year"] == year].set_index("layer").reindex(list(CHAIN_ORDER))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = np.arange(len(data))
    outside = data["outside_costs_cents"]
    profit = data["profit_cents"] - data["loss_cents"]
    ax.bar(x, data["cents_in"], color="#dddddd", label="received from the layer below (cents)")
    ax.bar(x - 0.2, profit, width=0.35, color=[LAYER_COLOURS[layer] for layer in data.index], label="profit (or loss) kept")
    ax.bar(x + 0.2, data["passed_upstream_cents"], width=0.35, color="#7f7f7f", label="passed upstream")
    for i, value in enumerate(profit):
        ax.text(i - 0.2, value + (1 if value >= 0 else -1), f"{value:+.1f}", ha="center",
                va="bottom" if value >= 0 else "top", fontsize=8)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, data.index)
    ax.set_xlabel("Layer, from end user (left) to chip makers (right)")
    ax.set_ylabel("Cents per $1 of end-user AI spending")
    ax.legend(frameon=False, fontsize=8)
    title = f"The $1 of end-user AI spending, {year}"
    _finish(fig, ax, title, source)
    alt = (f"Waterfall of one end-user dollar in {year}: "
           + ", ".join(f"{layer} keeps {profit[layer]:+.1f} cents and passes {data.loc[layer, 'passed_upstream_cents']:.1f} upstream"
                       for layer in data.index)
           + f"; {outside.sum():.1f} cents go to costs outside the chain.")
    return Chart(fig, title, alt)


def required_vs_actual_chart(required_by_year: pd.DataFrame, source: str) -> Chart:
    """Required revenue by each method against actual AI revenue, with the gap to the lowest requirement shaded."""
    data = required_by_year.set_index("year")
    methods = {"sequoia_usd_bn": "Sequoia (GPU run-rate)", "capex_to_revenue_usd_bn": "Bain (capex / capex-to-revenue ratio)",
               "capital_recovery_usd_bn": "Capital recovery"}
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for column, label in methods.items():
        ax.plot(data.index, data[column], marker="o", label=f"required: {label}")
    ax.plot(data.index, data["actual_ai_revenue_usd_bn"], marker="o", color="black", linewidth=2.2, label="actual AI revenue")
    lowest = data[list(methods)].min(axis=1)
    ax.fill_between(data.index, data["actual_ai_revenue_usd_bn"], lowest, color="#d62728", alpha=0.15,
                    label="gap to the lowest requirement")
    ax.set_xticks(data.index)
    ax.set_xlabel("Calendar year")
    ax.set_ylabel("USD billions a year")
    ax.legend(frameon=False, fontsize=8)
    title = "Required versus actual AI revenue"
    _finish(fig, ax, title, source)
    last = data.index.max()
    alt = (f"Line chart, {data.index.min()}-{last}: in {last} actual AI revenue was ${data.loc[last, 'actual_ai_revenue_usd_bn']:,.0f}bn "
           f"against required revenue of " + ", ".join(f"${data.loc[last, c]:,.0f}bn ({label})" for c, label in methods.items()) + ".")
    return Chart(fig, title, alt)


def yield_scatter_chart(revenue: pd.Series, capex: pd.Series, test, source: str, what: str = "cloud revenue") -> Chart:
    """Annualized revenue against trailing capex, the fitted yield with its 95% band, and the break-even line."""
    frame = pd.concat({"revenue": revenue, "capex": capex}, axis=1).dropna()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.scatter(frame["capex"], frame["revenue"], s=18, color="#1f77b4", label=f"quarters (n = {test.n})")
    grid = np.linspace(0, frame["capex"].max() * 1.05, 50)
    from scipy import stats as _stats

    q = _stats.t.ppf(0.975, df=test.result.df_resid)
    ax.plot(grid, test.beta * grid, color="#1f77b4", label=f"predicted: β = {test.beta:.2f}")
    ax.fill_between(grid, (test.beta - q * test.std_err) * grid, (test.beta + q * test.std_err) * grid,
                    color="#1f77b4", alpha=0.15, label="95% confidence band")
    ax.plot(grid, test.beta_star * grid, "--", color="#d62728", label=f"required: break-even β* = {test.beta_star:.2f}")
    ax.set_xlabel("Trailing four-quarter capex (USD billions)")
    ax.set_ylabel(f"Annualized {what} (USD billions)")
    ax.legend(frameon=False, fontsize=8)
    title = f"Revenue yield of capex: {what}"
    _finish(fig, ax, title, source)
    alt = (f"Scatter of annualized {what} against trailing capex for {test.n} quarters; fitted yield {test.beta:.2f} dollars "
           f"of revenue per dollar of capex against a break-even of {test.beta_star:.2f}; one-sided p = {test.p_one_sided:.3f}.")
    return Chart(fig, title, alt)


def rolling_yield_chart(rolling: pd.DataFrame, beta_star: float, window: int, source: str) -> Chart:
    """Rolling revenue yield of capex with its 95% band, against the break-even yield."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = rolling["calendar_quarter"].dt.to_timestamp() if hasattr(rolling["calendar_quarter"], "dt") else rolling["calendar_quarter"]
    ax.plot(x, rolling["beta"], marker="o", markersize=3, label=f"yield, {window}-quarter window")
    ax.fill_between(x, rolling["ci_low"], rolling["ci_high"], alpha=0.2, label="95% band")
    ax.axhline(beta_star, color="#d62728", linestyle="--", label=f"break-even β* = {beta_star:.2f}")
    ax.set_xlabel("Last quarter of the window")
    ax.set_ylabel("USD of annual revenue per USD of annual capex")
    ax.legend(frameon=False, fontsize=8)
    title = "Rolling revenue yield of capex"
    _finish(fig, ax, title, source)
    first, last = rolling.iloc[0], rolling.iloc[-1]
    alt = (f"Rolling {window}-quarter yield from {first['calendar_quarter']} ({first['beta']:.2f}) to "
           f"{last['calendar_quarter']} ({last['beta']:.2f}), against a break-even of {beta_star:.2f}.")
    return Chart(fig, title, alt)


def residual_chart(result, source: str, title: str = "Residual diagnostics") -> Chart:
    """Residuals over time, their autocorrelation (a pattern means the errors are not independent) and distribution."""
    import seaborn as sns
    from statsmodels.tsa.stattools import acf

    resid = pd.Series(np.asarray(result.resid))
    fig, (left, right, dist) = plt.subplots(1, 3, figsize=(11, 4))
    left.plot(resid.index, resid.values, marker="o", markersize=3)
    left.axhline(0, color="black", linewidth=0.8)
    left.set_xlabel("Observation (quarter order)")
    left.set_ylabel("Residual (model units)")
    nlags = max(1, min(8, len(resid) // 2 - 1))
    values = acf(resid, nlags=nlags, fft=False)
    right.bar(range(len(values)), values, color="#7f7f7f")
    band = 1.96 / np.sqrt(len(resid))
    right.axhspan(-band, band, color="#1f77b4", alpha=0.15)
    right.set_xlabel("Lag (quarters)")
    right.set_ylabel("Autocorrelation of residuals")
    sns.histplot(resid, kde=len(resid) >= 8, ax=dist, color="#7f7f7f")
    dist.set_xlabel("Residual (model units)")
    dist.set_ylabel("Number of quarters")
    _finish(fig, left, title, source)
    alt = (f"Residuals of {len(resid)} observations over time, their autocorrelation (first lag {values[1]:.2f} against "
           f"a ±{band:.2f} band) and their distribution.")
    return Chart(fig, title, alt)


def break_even_chart(paths: dict, source: str) -> Chart:
    """Each lab's projected revenue and cost, with the break-even year marked."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = {"openai": "#0173b2", "anthropic": "#d55e00"}
    for lab, be in paths.items():
        colour = colours.get(lab, "#555555")
        ax.plot(be.path["year"], be.path["revenue_usd_bn"], color=colour, marker="o", markersize=3, label=f"{lab} revenue")
        ax.plot(be.path["year"], be.path["cost_usd_bn"], "--", color=colour, label=f"{lab} cost")
        if be.year is not None:
            ax.axvline(be.year, color=colour, alpha=0.3)
            ax.text(be.year, ax.get_ylim()[1] * 0.95, f" {lab}\n break-even {be.year}", color=colour, fontsize=8, va="top")
    ax.set_xlabel("Calendar year (projection)")
    ax.set_ylabel("USD billions a year")
    ax.legend(frameon=False, fontsize=8)
    title = "When do the labs break even? Revenue against cost"
    _finish(fig, ax, title, source)
    alt = "Projected revenue and cost of " + "; ".join(
        f"{lab}: break-even in {be.year}" if be.year else f"{lab}: no break-even within the horizon" for lab, be in paths.items()) + "."
    return Chart(fig, title, alt)


def ipo_draw_chart(draw: pd.DataFrame, seed_range: tuple, typical: tuple, source: str) -> Chart:
    """Capital the IPO wave draws at each float ratio, against the seed's decade of US IPO proceeds."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ratios = [float(c) for c in draw.columns]
    bottom = np.zeros(len(ratios))
    for company in [c for c in draw.index if c != "total"]:
        values = draw.loc[company].to_numpy(dtype=float)
        ax.bar([f"{r:.0%}" for r in ratios], values, bottom=bottom, label=company)
        bottom += values
    ax.axhspan(seed_range[0], seed_range[1], color="#d62728", alpha=0.12,
               label=f"seed: a decade of US IPO proceeds (${seed_range[0]:,.0f}-{seed_range[1]:,.0f}bn)")
    ax.set_xlabel(f"Share of each company floated (typical: {typical[0]:.0%}-{typical[1]:.0%})")
    ax.set_ylabel("Capital drawn from the market (USD billions)")
    ax.legend(frameon=False, fontsize=8)
    title = "The 2026 IPO wave: capital drawn at each float ratio"
    _finish(fig, ax, title, source)
    total = draw.loc["total"]
    alt = ("Stacked bars of capital drawn by the IPOs at float ratios from "
           f"{ratios[0]:.0%} (${total.iloc[0]:,.0f}bn) to {ratios[-1]:.0%} (${total.iloc[-1]:,.0f}bn), against the seed's "
           f"${seed_range[0]:,.0f}-{seed_range[1]:,.0f}bn decade of US IPO proceeds.")
    return Chart(fig, title, alt)
