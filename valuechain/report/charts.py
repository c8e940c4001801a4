"""Charts for memos: each has a title, labelled axes with units, a source line and alt text.

Every function returns a :class:`Chart`. In a notebook it displays as an embedded SVG image with
its alt text (so the exported HTML needs no other file); ``chart.fig`` is the matplotlib figure.

A chart is drawn twice, once as PNG and once as SVG, and never laid out again: its margins are
fitted once when it is built (:func:`fit`), and both formats show the same area, the figure's tight
box measured once (:meth:`Chart.frame`). ``savefig(bbox_inches="tight")`` would lay the figure out
again before each format, a draw each. The SVG keeps its text as text (``svg.fonttype: none``): a
memo can edit it, it is a quarter of the size, and it is cheaper to write than text drawn as paths.
"""
from __future__ import annotations

import base64
import io
import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import rc_context, rcParams
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.cbook import is_math_text
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from valuechain.dataset.load import Dataset
from valuechain.dataset.names import company_name
from valuechain.escape import html_text
from valuechain.layers import CHAIN_ORDER, LAYERS
from valuechain.report.labels import layer_name

# seaborn's "colorblind" palette, written out so that drawing a chart does not import seaborn
LAYER_COLOURS = dict(zip(LAYERS, ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc")))
UPSTREAM_FIRST = LAYERS
PNG_DPI = 110  # the PNG's resolution; the tight box is measured at it
SVG_STYLE = {"svg.fonttype": "none"}  # text as text, in the reader's sans-serif font


@dataclass
class Chart:
    """A rendered chart: the figure, its title and its alt text."""

    fig: Figure
    title: str
    alt: str
    name: str = "chart"  # what it shows, as a file name: "profit-pool-2025"
    source: str = ""  # the source line drawn under it
    main: bool = True  # a main chart (one slide each in the deck) rather than a diagnostic one
    native: tuple = ()  # the plotted series as plain data, one :func:`native` panel each: the deck's editable chart
    method: str = ""  # how the plotted figures are made, in one sentence (the deck's speaker notes)

    def _renderer(self, kind: str):
        """A renderer measuring text as ``savefig`` does for ``kind``, and the figure's resolution for it."""
        width, height = self.fig.get_size_inches()
        if kind == "png":
            return RendererAgg(width * PNG_DPI, height * PNG_DPI, PNG_DPI), PNG_DPI
        return RendererSVG(width * 72, height * 72, io.StringIO()), 72  # savefig sets 72 for a vector format

    def frame(self, kind: str = "png") -> Bbox:
        """The area the PNG (``kind="png"``) or the SVG shows, in inches: the figure's tight box as
        ``savefig(bbox_inches="tight")`` measures it for that format (text measured at the PNG's
        resolution, or in points as a browser lays out the SVG's text), padded as it pads it;
        measured once per format, without a draw."""
        frames = self.__dict__.setdefault("_frames", {})
        if kind not in frames:
            renderer, dpi = self._renderer(kind)
            with _at_dpi(self.fig, dpi), _wrapped(self.fig, renderer, self.fig.bbox):
                frames[kind] = self.fig.get_tightbbox(renderer).padded(rcParams["savefig.pad_inches"])
        return frames[kind]

    def _draw(self, kind: str, buffer, **kwargs) -> None:
        """``savefig`` of the figure's area for ``kind``, its wrapped text wrapped once beforehand."""
        area = self.frame(kind)
        renderer, dpi = self._renderer(kind)
        with _at_dpi(self.fig, dpi), _wrapped(self.fig, renderer, area.transformed(self.fig.dpi_scale_trans)):
            self.fig.savefig(buffer, format=kind, bbox_inches=area, **kwargs)

    def png(self) -> bytes:
        if getattr(self, "_png", None) is None:  # drawn once: the exports, the brief and the deck show the same image
            buffer = io.BytesIO()
            self._draw("png", buffer, dpi=PNG_DPI, metadata={"Software": None})
            self._png = buffer.getvalue()
        return self._png

    def svg(self) -> str:
        if getattr(self, "_svg", None) is None:  # drawn once: the page and the exports show the same image
            buffer = io.StringIO()
            with rc_context(SVG_STYLE):
                self._draw("svg", buffer, metadata={"Date": None})
            self._svg = buffer.getvalue()
        return self._svg

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.svg().encode("utf-8")).decode("ascii")
        return (f'<figure class="vc-chart"><img src="data:image/svg+xml;base64,{data}" alt="{html_text(self.alt)}" '
                f'style="max-width:100%"><figcaption>{html_text(self.alt)}</figcaption></figure>')

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The page shows the HTML; the exports read the chart's files and words from mime.CHART.
        from valuechain import mime

        data = {"name": self.name, "title": self.title, "alt": self.alt, "source": self.source, "main": self.main,
                "native": list(self.native), "method": self.method, "png": base64.b64encode(self.png()).decode("ascii"), "svg": self.svg()}
        return {"text/html": self._repr_html_(), "text/plain": self.title, mime.CHART: data}


@contextmanager
def _at_dpi(fig: Figure, dpi: float):
    """``fig`` at ``dpi`` for the duration (as savefig sets it), then back."""
    before = fig.dpi
    fig.set_dpi(dpi)
    try:
        yield
    finally:
        fig.set_dpi(before)


def _wrap(text: str, limit: float, width) -> str:
    """``text`` wrapped as matplotlib wraps a text with ``wrap=True``: each line takes words while the
    line's ``width`` (whole pixels, rounded up) stays within ``limit``; a word too long stays alone.

    The same greedy rule as ``Text._get_wrapped_text``, with the first word that no longer fits found
    by bisection (a line never gets narrower when a word is added): a handful of measurements per
    line rather than one per word, for each of the two formats.
    """
    lines = []
    for unwrapped in text.split("\n"):
        words = unwrapped.split(" ")
        while words:
            low, high = 2, len(words) + 1  # the first count of words too wide; len + 1 when all fit
            while low < high:
                middle = (low + high) // 2
                if width(" ".join(words[:middle])) > limit:
                    high = middle
                else:
                    low = middle + 1
            taken = max(low - 1, 1)
            lines.append(" ".join(words[:taken]))
            words = words[taken:]
    return "\n".join(lines)


@contextmanager
def _wrapped(fig: Figure, renderer, box):
    """The figure's texts with ``wrap=True`` (left-aligned, horizontal) wrapped once against ``box``
    (display units), their wrapping off while the figure is measured or drawn, then put back.

    matplotlib wraps such a text against the edge of the figure's box each time it lays the text
    out, measuring the line one word longer each time; ``savefig`` lays each text out several times.
    """
    changed = []
    for text in fig.texts:
        if not text.get_wrap() or text.get_rotation() != 0 or text.get_horizontalalignment() != "left" or text.get_usetex():
            continue
        x0, y0 = text.get_transform().transform(text.get_position())
        limit = min(box.x1 - x0, (box.y1 - y0) / math.cos(math.radians(90)))  # as Text._get_wrap_line_width
        prop = text.get_fontproperties()

        def width(line, prop=prop):
            return math.ceil(renderer.get_text_width_height_descent(line, prop, ismath=is_math_text(line))[0])

        changed.append((text, text.get_text()))
        text.set_text(_wrap(text.get_text(), limit, width))
        text.set_wrap(False)
    try:
        yield
    finally:
        for text, original in changed:
            text.set_text(original)
            text.set_wrap(True)


def source_line(ds: Dataset, source_ids, scenario: str | None = None, limit: int = 4) -> str:
    """Short source line: the first publishers cited, a count of the rest, and the scenario."""
    publishers = list(dict.fromkeys(ds.sources.set_index("source_id").loc[list(dict.fromkeys(source_ids)), "publisher"]))
    shown = "; ".join(publishers[:limit])
    rest = f"; +{len(publishers) - limit} more" if len(publishers) > limit else ""
    tail = f" Assumptions: scenario '{scenario}'." if scenario else ""
    return f"Source: {shown}{rest} (valuechain dataset, sources.csv).{tail}"


def subplots(figsize: tuple[float, float]):
    """A figure and its axes, made without pyplot.

    pyplot would register the figure with the session's backend: a notebook would show it twice
    (the backend's copy and the chart's PNG), and drawing in a terminal or a papermill run would
    need a display or a forced backend. A bare :class:`~matplotlib.figure.Figure` renders to PNG
    or SVG on any machine and leaves the user's backend alone.
    """
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _plain(values) -> list:
    """Floats for a native chart's series; None where a value is missing."""
    out = []
    for v in values:
        v = None if v is None else float(v)
        out.append(v if v is not None and np.isfinite(v) else None)
    return out


def native(kind: str, categories, series, axis: str = "", number_format: str = "General", log: bool = False,
           title: str = "", hidden=()) -> dict:
    """One editable chart's data, as plain data the deck draws natively (python-pptx).

    ``kind`` is ``line``, ``column``, ``column_stacked``, ``bar`` or ``bar_stacked``; ``series`` is
    (name, values) pairs, each value one per category; ``hidden`` names series drawn without fill (the
    invisible base of a waterfall); ``number_format`` is Excel's, for the value axis and labels.
    """
    return {"kind": kind, "title": title, "categories": [str(c) for c in categories],
            "series": [{"name": name, "values": _plain(values)} for name, values in series],
            "axis": axis, "number_format": number_format, "log": log, "hidden": list(hidden)}


def legend_outside(ax, **kwargs):
    """The legend to the right of the plot, outside it, so that it never covers data."""
    kwargs.setdefault("fontsize", 8)
    return ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def whole_years(axis) -> None:
    """Ticks on whole years only (no 2028.5)."""
    axis.set_major_locator(MaxNLocator(integer=True))


def log_limits(ax, *arrays) -> None:
    """A log axis spanning the plotted data (a quarter beyond it each way), never a decade further."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    ax.set_ylim(values.min() / 1.25, values.max() * 1.25)


def fit(fig) -> None:
    """The figure's margins fitted to its labels (matplotlib's tight layout), once.

    ``fig.tight_layout()`` computes the same margins but leaves a layout engine on the figure,
    which makes every ``savefig`` lay the figure out again: a draw per format.
    """
    TightLayoutEngine().execute(fig)


def finish(fig, ax, title: str, source: str) -> None:
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    fig.text(0.01, -0.02, source, fontsize=7, color="#555555", ha="left", va="top", wrap=True)
    for axis in fig.axes:
        axis.spines[["top", "right"]].set_visible(False)
    fit(fig)


def profit_pool_chart(layers: pd.DataFrame, year: int, source: str) -> Chart:
    """Gadiesh & Gilbert's profit pool: width = share of chain revenue, height = operating margin.

    The area of each bar is the layer's operating profit as a share of chain revenue; a loss-making
    layer's bar hangs below the axis.
    """
    data = layers[(layers["year"] == year)].set_index("layer").reindex(list(UPSTREAM_FIRST)).dropna(subset=["ai_revenue_usd_bn"])
    fig, ax = subplots(figsize=(8, 4.5))
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
    top = data["profit_share"].idxmax()
    title = (f"The {layer_name(top).lower()} layer earns {data.loc[top, 'profit_share']:.0%} of the AI value chain's operating profit "
             f"on {data.loc[top, 'revenue_share']:.0%} of its revenue ({year})")
    finish(fig, ax, title, source)
    parts = ", ".join(f"{layer} {row['revenue_share']:.0%} of revenue at a {row['operating_margin']:.0%} margin"
                      for layer, row in data.iterrows())
    alt = f"Profit-pool chart for {year}: {parts}. Bar area is operating profit."
    panel = native("column", [layer_name(layer) for layer in data.index],
                   [("Share of chain revenue", data["revenue_share"]),
                    ("Share of chain operating profit", data["profit_share"])],
                   f"Share of the AI value chain, {year}", "0%")
    method = ("Each layer's AI revenue and operating profit are the filed figures of its companies, their AI share set "
              "by the scenario, as a share of the whole chain's.")
    return Chart(fig, title, alt, f"profit-pool-{year}", source, native=(panel,), method=method)


def profit_share_chart(layers: pd.DataFrame, source: str) -> Chart:
    """Each layer's share of chain operating profit by year; projections dashed."""
    fig, ax = subplots(figsize=(8, 4.5))
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
    whole_years(ax.xaxis)
    ax.legend(frameon=False, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    first, last = layers["year"].min(), layers["year"].max()
    end = layers[layers["year"] == last].set_index("layer")["profit_share"]
    top = end.idxmax()
    title = f"The {layer_name(top).lower()} layer captures the largest share of the chain's operating profit in {last}: {end[top]:.0%}"
    finish(fig, ax, title, source)
    alt = (f"Line chart of each layer's share of chain operating profit, {first}-{last}; in {last} "
           + ", ".join(f"{layer} {end[layer]:.0%}" for layer in UPSTREAM_FIRST if layer in end) + ".")
    years = sorted(layers["year"].unique())
    wide = layers.pivot_table(index="year", columns="layer", values="profit_share", aggfunc="first").reindex(years)
    panel = native("line", years, [(layer_name(layer), wide[layer]) for layer in UPSTREAM_FIRST if layer in wide],
                   "Share of chain operating profit (years after the last filed one: scenario projection)", "0%")
    method = ("Each layer's operating profit as a share of the chain's, from filed figures to the last filed year and "
              "from the scenario's growth and margin paths after it.")
    return Chart(fig, title, alt, "profit-share-by-layer", source, native=(panel,), method=method)


def dollar_waterfall(flow: pd.DataFrame, year: int, source: str) -> Chart:
    """Where one dollar of end-user AI spending ends up: profit, loss and outside costs by layer."""
    data = flow[flow["year"] == year].set_index("layer").reindex(list(CHAIN_ORDER))
    fig, ax = subplots(figsize=(8, 4.5))
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
    legend_outside(ax)
    keeper = profit.idxmax()
    title = (f"Of each dollar end users spend on AI in {year}, the {layer_name(keeper).lower()} layer keeps the most: "
             f"{profit[keeper]:.1f} cents")
    finish(fig, ax, title, source)
    alt = (f"Waterfall of one end-user dollar in {year}: "
           + ", ".join(f"{layer} keeps {profit[layer]:+.1f} cents and passes {data.loc[layer, 'passed_upstream_cents']:.1f} upstream"
                       for layer in data.index)
           + f"; {outside.sum():.1f} cents go to costs outside the chain.")
    panel = native("column", [layer_name(layer) for layer in data.index],
                   [("Received from the layer below", data["cents_in"]), ("Profit (or loss) kept", profit),
                    ("Passed upstream", data["passed_upstream_cents"])],
                   "Cents per $1 of end-user AI spending", "0.0")
    method = ("One dollar of end-user spending is followed up the chain at the scenario's pass-through shares; each layer "
              "keeps its operating margin on what it receives.")
    return Chart(fig, title, alt, f"one-dollar-flow-{year}", source, native=(panel,), method=method)


def required_vs_actual_chart(required_by_year: pd.DataFrame, source: str) -> Chart:
    """Each published method's required revenue, year by year on that year's data, against net external AI revenue
    as known then (the vintage: disclosures published by the end of the next year's first quarter) and revised to date."""
    data = required_by_year.set_index("year")
    methods = {"sequoia_usd_bn": "Sequoia (GPU run-rate)", "capex_to_revenue_usd_bn": "Bain (capex-to-revenue ratio)",
               "capital_recovery_usd_bn": "Capital recovery (R*)"}
    fig, ax = subplots(figsize=(8, 4.5))
    for column, label in methods.items():
        ax.plot(data.index, data[column], marker="o", label=f"required: {label}")
    ax.plot(data.index, data["d_vintage_usd_bn"], marker="o", color="black", linewidth=2.2,
            label="net external AI revenue, as known then")
    ax.plot(data.index, data["d_revised_usd_bn"], marker="s", color="black", linewidth=1.2, linestyle="--",
            label="net external AI revenue, revised to date")
    ax.set_xticks(data.index)
    ax.set_yscale("log")
    log_limits(ax, data[[*methods, "d_vintage_usd_bn", "d_revised_usd_bn"]])
    ax.set_xlabel("Calendar year")
    ax.set_ylabel("USD billions a year (log scale)")
    legend_outside(ax)
    last = data.index.max()
    row = data.loc[last]
    above = [label for column, label in methods.items() if row[column] > row["d_revised_usd_bn"]]
    title = (f"In {last} net external AI revenue (USD {row['d_revised_usd_bn']:,.0f}bn) was below "
             + ("every published requirement" if len(above) == len(methods) else
                f"{len(above)} of the {len(methods)} published requirements"))
    finish(fig, ax, title, source)
    alt = (f"Line chart, {data.index.min()}-{last}: in {last} net external AI revenue was "
           f"{row['d_vintage_usd_bn']:,.0f} billion dollars as known on {row['cutoff']} and "
           f"{row['d_revised_usd_bn']:,.0f} billion revised to date, against required revenue of "
           + ", ".join(f"{row[c]:,.0f} ({label})" for c, label in methods.items()) + ".")
    panel = native("line", data.index, [*((f"Required: {label}", data[c]) for c, label in methods.items()),
                                        ("Net external AI revenue, as known then", data["d_vintage_usd_bn"]),
                                        ("Net external AI revenue, revised to date", data["d_revised_usd_bn"])],
                   "USD billions a year (log scale)", "#,##0", log=True)
    method = ("Each published method's required revenue is recomputed year by year on that year's data; net external AI "
              "revenue is end users' payments to the chain, netted, as disclosed by then and as revised since.")
    return Chart(fig, title, alt, "required-vs-actual-revenue-by-method", source, native=(panel,), method=method)


def bridge_chart(bridges, source: str) -> Chart:
    """A waterfall per published bar: from the bar, one named difference at a time, to R* (USD bn a year).

    A step whose inputs the bar's publisher does not give is hatched grey.
    """
    items = bridges.bridges
    fig = Figure(figsize=(9, 2.2 + 0.45 * sum(1 + len(b.steps) + 1 for b in items)))
    axes = fig.subplots(len(items), 1, sharex=True,
                        gridspec_kw={"height_ratios": [len(b.steps) + 2 for b in items]})
    for ax, b in zip(np.atleast_1d(axes), items):
        labels = [f"{b.name} ({b.bar_year})", *(s.name for s in b.steps), f"R* in service, {bridges.year}"]
        y = np.arange(len(labels))[::-1]
        ax.barh(y[0], b.start_usd_bn, color="#555555")
        before = b.start_usd_bn
        for i, s in enumerate(b.steps, start=1):
            colour = "#bbbbbb" if not s.published else ("#d55e00" if s.change_usd_bn > 0 else "#0173b2")
            ax.barh(y[i], s.change_usd_bn, left=before, color=colour, hatch=None if s.published else "//")
            before = s.value_usd_bn
        ax.barh(y[-1], b.end_usd_bn, color="#029e73")
        values = [b.start_usd_bn, *(s.value_usd_bn for s in b.steps), b.end_usd_bn]
        for yi, v in zip(y, values):
            ax.text(v, yi, f" {v:,.0f}", va="center", fontsize=7)
        ax.set_yticks(y, labels, fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlabel("USD billions a year (value after each step; blue lowers, orange raises, hatched: inputs not published)")
    low, high = min(b.multiple for b in items), max(b.multiple for b in items)
    title = (f"The published bars are {low:,.0f} to {high:,.0f} times R* in {bridges.year}: "
             "they price spending or a whole build-out, not the capital in service")
    np.atleast_1d(axes)[0].set_title(title, loc="left", fontsize=11, fontweight="bold", wrap=True)
    fig.text(0.01, -0.02, source, fontsize=7, color="#555555", ha="left", va="top", wrap=True)
    fit(fig)
    alt = "Waterfalls from each published bar to R*: " + "; ".join(
        f"{b.name} ({b.bar_year}) {b.start_usd_bn:,.0f}bn, "
        + ", ".join(f"{s.name.lower()} {s.change_usd_bn:+,.0f}" for s in b.steps) + f", ending at {b.end_usd_bn:,.0f}bn"
        for b in items) + "."
    method = ("Each published bar is recomputed from its publisher's inputs, then one input at a time is replaced by "
              "R*'s (which capex, AI share, margin, capital in service, asset lives, return) until it equals R*.")
    return Chart(fig, title, alt, f"bridge-to-required-revenue-{bridges.year}", source,
                 native=tuple(bridge_panel(b, bridges.year) for b in items), method=method)


def bridge_panel(bridge, year) -> dict:
    """One bridge as a native waterfall: stacked bars over an invisible base, from the bar to R*."""
    labels = [f"{bridge.name} ({bridge.bar_year})", *(s.name for s in bridge.steps), f"R* in service, {year}"]
    base, lowers, raises, totals = [None], [None], [None], [bridge.start_usd_bn]
    before = bridge.start_usd_bn
    for step in bridge.steps:
        base.append(min(before, step.value_usd_bn))
        lowers.append(-step.change_usd_bn if step.change_usd_bn < 0 else None)
        raises.append(step.change_usd_bn if step.change_usd_bn > 0 else None)
        totals.append(None)
        before = step.value_usd_bn
    base, lowers, raises, totals = base + [None], lowers + [None], raises + [None], totals + [bridge.end_usd_bn]
    return native("bar_stacked", labels, [("Base", base), ("Bar and R*", totals), ("Lowers", lowers),
                                          ("Raises", raises)],
                  "USD billions a year", "#,##0", title=f"{bridge.name}: {bridge.multiple:,.0f} times R*",
                  hidden=("Base",))


BASIS_MARKERS = {"reported": "o", "derived": "s", "run_rate": "^", "claim": "v", "estimate": "D"}


def quarter_dates(index) -> pd.DatetimeIndex:
    return pd.PeriodIndex(index, freq="Q").to_timestamp(how="end")


def demand_fan_chart(result, source: str) -> Chart:
    """Net external AI revenue D with its band and the disclosures behind it, against R*, with a fan to the horizon."""
    d, req, proj = result.downstream.d.dropna(subset=["d_usd_bn"]), result.required, result.projection
    band = f"{result.downstream.level:.0%}"
    fig, ax = subplots(figsize=(12, 5))
    x = quarter_dates(d.index)
    ax.plot(x, d["d_usd_bn"], color="#0173b2", linewidth=2.2, label="D: net external AI revenue (smoothed)")
    ladder = result.ladder.levels if result.ladder is not None else pd.DataFrame(index=d.index)
    for scope, style in (("strict", ":"), ("broad", "-.")):
        if scope in ladder:
            ax.plot(quarter_dates(ladder.index), ladder[scope], color="#0173b2", linestyle=style, linewidth=1.0,
                    label=f"D, {scope} scope (the ladder's {'lowest' if scope == 'strict' else 'highest'} rung)")
    ax.fill_between(x, d["low_usd_bn"], d["high_usd_bn"], color="#0173b2", alpha=0.2, label=f"D, {band} band")
    obs = result.downstream.observations
    obs = obs[obs["flow"] == "final_demand"]
    for basis, marker in BASIS_MARKERS.items():
        part = obs[obs["basis"] == basis]
        if len(part):
            ax.scatter(part["as_of"], part["annualized_usd_bn"], marker=marker, s=16, color="#555555", alpha=0.7,
                       label=f"disclosed figure ({basis.replace('_', '-')})")
    r = req["required_usd_bn"].dropna()
    r = r[r > 0]
    ax.plot(quarter_dates(r.index), r, color="#d55e00", linewidth=2.2, label="R*: revenue that recovers AI capital in service")
    px = quarter_dates(proj.index)
    ax.fill_between(px, proj["d_p05"], proj["d_p95"], color="#0173b2", alpha=0.12,
                    label="D projected, 90% (decaying growth below a ceiling, future shocks)")
    ax.fill_between(px, proj["d_p25"], proj["d_p75"], color="#0173b2", alpha=0.22, label="D projected, 50%")
    ax.plot(px, proj["d_p50"], color="#0173b2", linestyle="--", linewidth=1.2)
    ax.plot(px, proj["required_usd_bn"], color="#d55e00", linestyle="--", linewidth=1.5, label="R* projected (scenario capex growth)")
    if "committed_usd_bn" in proj:
        ax.plot(px, proj["committed_usd_bn"], color="#d55e00", linestyle=":", linewidth=1.8,
                label="R*'s committed path (no capex after the guidance year)")
    if result.reach is not None:
        bound = result.reach.bound
        ax.axhline(bound.value_usd_bn, color="#555555", linestyle="-.", linewidth=1.0,
                   label=f"{bound.label}: the bound no band may reach")
    ax.fill_between(px, proj["required_low_usd_bn"], proj["required_high_usd_bn"], color="#d55e00", alpha=0.15,
                    label="R*, asset lives 5-6 and 15-20 years")
    ax.set_yscale("log")
    drawn = [d[["d_usd_bn", "low_usd_bn", "high_usd_bn"]], ladder, obs["annualized_usd_bn"], r,
             proj[[c for c in proj if c.startswith(("d_p", "required", "committed"))]]]
    log_limits(ax, *drawn, [result.reach.bound.value_usd_bn] if result.reach is not None else [])
    ax.set_xlabel("Quarter")
    ax.set_ylabel("USD billions a year (annualized, log scale)")
    legend_outside(ax, fontsize=7)
    if result.ladder is not None:
        low, high = result.ladder_range()
        title = (f"Downstream AI revenue D is {low:.0%}-{high:.0%} of the revenue that recovers AI capital in service "
                 f"(R*) in {result.closing.last_quarter}, over D's scope ladder")
    else:
        title = f"Downstream AI revenue against required revenue, to {proj.index[-1].year}"
    finish(fig, ax, title, source)
    c = result.closing
    alt = (f"Log-scale chart from {d.index[0]} to {proj.index[-1]}: net external AI revenue reached "
           f"{d['d_usd_bn'].iloc[-1]:,.0f} billion dollars a year in {d.index[-1]} ({band} band "
           f"{d['low_usd_bn'].iloc[-1]:,.0f}-{d['high_usd_bn'].iloc[-1]:,.0f}); required revenue was "
           f"{req['required_usd_bn'].loc[c.last_quarter]:,.0f} in {c.last_quarter}.")
    if result.reach is not None:
        a = result.reach
        alt += (f" Projected D in {a.target_quarter}: median {proj['d_p50'].get(a.target_quarter, float('nan')):,.0f}, "
                f"95th percentile {a.p95_at(a.target_quarter):,.0f}, against R*'s committed path of "
                f"{a.path.loc[a.target_quarter, 'committed_usd_bn']:,.0f} and the bound, {a.bound.label}, of "
                f"{a.bound.value_usd_bn:,.0f} billion dollars.")
    return Chart(fig, title, alt, "demand-vs-required-revenue", source, native=(demand_panel(result),),
                 method=("D is what end users pay the chain, each dollar counted once, smoothed by a state-space "
                         "filter on the dated disclosures under three scopes; R* is the revenue that recovers the AI "
                         "capital in service (depreciation and a return), projected on the scenario's capex."))


def demand_panel(result) -> dict:
    """D's scope ladder, R* in service and its committed path, and D's projected median, by quarter (annualized USD bn)."""
    d, req, proj = result.downstream.d["d_usd_bn"].dropna(), result.required["required_usd_bn"], result.projection
    req = req[req > 0]
    ladder = result.ladder.levels if result.ladder is not None else pd.DataFrame({"central": d})
    quarters = sorted(set(d.index) | set(ladder.index) | set(proj.index))
    quarters = [q for q in quarters if q >= min(d.index)]
    series = [(f"D, {scope} scope", ladder[scope].reindex(quarters)) for scope in ladder.columns]
    series += [("R* in service", req.combine_first(proj["required_usd_bn"]).reindex(quarters)),
               ("D projected, median", proj["d_p50"].reindex(quarters))]
    if "committed_usd_bn" in proj:
        series.append(("R*'s committed path", proj["committed_usd_bn"].reindex(quarters)))
    return native("line", quarters, series, "USD billions a year (annualized, log scale)", "#,##0", log=True)


def closing_rate_chart(result, source: str) -> Chart:
    """Bootstrap distribution of the gap's closing rate, with the rates each break-even bar needs."""
    return distribution_chart(result.distributions("closing_rate"), source,
                              "How fast is the gap closing? Bootstrap distribution of the rate",
                              "gap-closing-rate-distribution")


REFERENCE_STYLE = {"zero": ("black", ":"), "proportional": ("#555555", "-."), "prior_mean": ("#029e73", ":"),
                   "beta_star_growth_adjusted": ("#d55e00", "--"), "beta_star_steady": ("#cc78bc", "--")}


def distribution_chart(distributions, source: str,
                       title: str = "The estimates' distributions, with the break-even bars where comparable",
                       name: str = "estimate-distributions") -> Chart:
    """One panel per :class:`~valuechain.model.results.Distribution`: its density, interval and marked values.

    Bootstrap draws are a density histogram (the outer 2% of draws are not binned; every figure
    uses them all); a normal posterior is its density curve. The interval is shaded; the estimate
    is a solid line; each reference is a labelled vertical line whose ``gid`` is its kind. The
    legend under each panel is titled with the panel's subject and its note.
    """
    import textwrap

    from scipy import stats

    dists = list(distributions)
    width, plot, below, line, top, foot = 9.0, 2.3, 0.55, 0.2, 0.45, 0.55  # inches
    wrap = 115  # characters a legend line holds at this width
    blocks = []
    for d in dists:
        heading = "\n".join(textwrap.wrap(d.title, wrap) + textwrap.wrap(d.note, wrap))
        labels = [textwrap.fill(ref.label, wrap) for ref in d.references]
        lines = heading.count("\n") + 1 + 3 + sum(label.count("\n") + 1 for label in labels)
        blocks.append((heading, labels, plot + below + line * lines + 0.1))
    height = top + sum(b[2] for b in blocks) + foot
    fig = Figure(figsize=(width, height))
    parts, y = [], height - top
    axes = []
    for dist, (heading, labels, block) in zip(dists, blocks):
        ax = fig.add_axes((0.8 / width, (y - plot) / height, (width - 1.2) / width, plot / height))
        axes.append(ax)
        y -= block
        if dist.draws is not None:
            finite = dist.draws[np.isfinite(dist.draws)]
            lo, hi = np.percentile(finite, [1, 99])
            ax.hist(finite[(finite >= lo) & (finite <= hi)], bins=60, density=True, color="#0173b2", alpha=0.45,
                    label="bootstrap draws (density; the outer 2% are not binned)", gid="density")
        else:
            mean, sd = dist.normal
            x = np.linspace(mean - 4 * sd, mean + 4 * sd, 400)
            ax.plot(x, stats.norm.pdf(x, mean, sd), color="#0173b2", linewidth=2, label="posterior density", gid="density")
        low, high = dist.interval
        ax.axvspan(low, high, color="#0173b2", alpha=0.12, gid="interval",
                   label=f"{dist.level:.0%} interval {low:+.2f} to {high:+.2f}")
        ax.axvline(dist.estimate, color="black", linewidth=1.8, gid="estimate", label=f"estimate {dist.estimate:+.2f}")
        for ref, label in zip(dist.references, labels):
            colour, style = REFERENCE_STYLE.get(ref.kind, ("#555555", "--"))
            ax.axvline(ref.value, color=colour, linestyle=style, linewidth=1.4, gid=ref.kind, label=label)
        ax.set_xlabel(dist.axis_label, fontsize=9)
        ax.set_ylabel("Density")
        ax.spines[["top", "right"]].set_visible(False)
        legend = ax.legend(frameon=False, fontsize=7.5, loc="upper left", title=heading, alignment="left",
                           title_fontproperties={"size": 8, "weight": "bold"},
                           bbox_to_anchor=(0.0, -below / plot), borderaxespad=0.0)
        legend.set_in_layout(False)
        marks = "; ".join(ref.label for ref in dist.references)
        parts.append(f"{dist.title}: estimate {dist.estimate:+.2f}, {dist.level:.0%} interval {low:+.2f} to {high:+.2f} "
                     f"({dist.method}); marked: {marks}. {dist.note}".strip())
    axes[0].set_title(title, loc="left", fontsize=12, fontweight="bold")
    fig.text(0.01, foot * 0.8 / height, source, fontsize=7, color="#555555", ha="left", va="top", wrap=True)
    return Chart(fig, title, "Distribution chart. " + " ".join(parts), name, source, main=False)


def backlog_chart(backlog, source: str) -> Chart:
    """Each spender's contracted backlog (RPO) against its capex over the four quarters to the same quarter."""
    rows = backlog.headline_rows
    fig, ax = subplots(figsize=(8, 0.8 * len(rows) + 2))
    y = np.arange(len(rows))[::-1]
    ax.barh(y + 0.2, rows["rpo_usd_bn"], height=0.38, color="#0173b2", gid="rpo",
            label="contracted backlog (remaining performance obligations)")
    ax.barh(y - 0.2, rows["capex_ttm_usd_bn"].fillna(0.0), height=0.38, color="#de8f05", gid="capex",
            label="capex over the four quarters to the same quarter")
    for yi, (_, row) in zip(y, rows.iterrows()):
        text = (f"{row['multiple']:.1f}x capex" if pd.notna(row["multiple"]) else "capex for these four quarters not in the data")
        ax.text(row["rpo_usd_bn"], yi + 0.2, f"  {text}", va="center", fontsize=8)
    ax.set_yticks(y, rows["name"])
    ax.set_xlabel(f"USD billions (backlog at the end of {backlog.quarter}; capex over the four quarters to it)")
    ax.set_xlim(0, rows["rpo_usd_bn"].max() * 1.45)
    legend_outside(ax)
    title = (f"Contracted backlog is {backlog.multiple:.1f} times the spenders' capex of the last four quarters "
             f"({backlog.quarter})")
    finish(fig, ax, title, source)
    alt = (f"Bar chart for {backlog.quarter}: " + "; ".join(
        f"{row['name']} backlog {row['rpo_usd_bn']:,.0f} billion dollars"
        + (f" against capex of {row['capex_ttm_usd_bn']:,.0f} ({row['multiple']:.1f} times)" if pd.notna(row["multiple"])
           else ", capex not in the data") for _, row in rows.iterrows())
        + f". Together {backlog.rpo_usd_bn:,.0f} against {backlog.capex_usd_bn:,.0f}, {backlog.multiple:.1f} times.")
    panel = native("bar", rows["name"], [("Contracted backlog (RPO)", rows["rpo_usd_bn"]),
                                         ("Capex over the four quarters to the same quarter", rows["capex_ttm_usd_bn"])],
                   f"USD billions ({backlog.quarter})", "#,##0")
    method = ("Each spender's remaining performance obligations as filed at the quarter's end, against its filed capex "
              "over the four quarters to that quarter.")
    return Chart(fig, title, alt, "backlog-vs-capex", source, native=(panel,), method=method)


def yield_chart(result, source: str) -> Chart:
    """D per dollar of annual AI capex, with the steady-state and growth-adjusted break-even yields."""
    req = result.required
    both = pd.concat([result.downstream.d["d_usd_bn"], req["ai_capex_ttm_usd_bn"], req["beta_star_growth_adjusted"]],
                     axis=1).dropna()
    ratio = both["d_usd_bn"] / both["ai_capex_ttm_usd_bn"]
    fig, ax = subplots(figsize=(8, 4.5))
    x = quarter_dates(both.index)
    ax.plot(x, ratio, marker="o", markersize=3, color="#0173b2", label="D per dollar of annual AI capex")
    ax.plot(x, both["beta_star_growth_adjusted"], color="#d55e00", label="β* growth-adjusted (installed base)")
    ax.axhline(result.beta_star_steady, color="#d55e00", linestyle="--",
               label=f"β* steady state ({result.beta_star_steady:.2f})")
    ax.set_xlabel("Quarter")
    ax.set_ylabel("USD of annual revenue per USD of annual capex")
    legend_outside(ax)
    title = "Revenue per dollar of AI capex against both break-even bars"
    finish(fig, ax, title, source)
    alt = (f"D per dollar of trailing AI capex was {ratio.iloc[-1]:.2f} in {both.index[-1]}, against a growth-adjusted "
           f"break-even of {both['beta_star_growth_adjusted'].iloc[-1]:.2f} and a steady-state one of {result.beta_star_steady:.2f}.")
    return Chart(fig, title, alt, "revenue-per-capex-dollar", source, main=False)


def recursive_chart(recursive: pd.DataFrame, label: str, source: str) -> Chart:
    """Recursive estimate of the growth elasticity with its band."""
    fig, ax = subplots(figsize=(8, 4))
    x = quarter_dates(recursive["calendar_quarter"])
    ax.plot(x, recursive["slope"], color="#0173b2", label="elasticity estimated on data to each quarter")
    ax.fill_between(x, recursive["low"], recursive["high"], color="#0173b2", alpha=0.2, label="90% band")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Last quarter used")
    ax.set_ylabel("Elasticity of revenue growth to lagged capex growth")
    legend_outside(ax)
    title = f"Stability: recursive elasticity, {label}"
    finish(fig, ax, title, source)
    alt = (f"Recursive elasticity from {recursive['calendar_quarter'].iloc[0]} ({recursive['slope'].iloc[0]:.2f}) to "
           f"{recursive['calendar_quarter'].iloc[-1]} ({recursive['slope'].iloc[-1]:.2f}).")
    return Chart(fig, title, alt, "elasticity-stability", source, main=False)


def forest_chart(companies: pd.DataFrame, pooled, names: dict, source: str) -> Chart:
    """Each company's slope with its interval, and the pooled Driscoll-Kraay estimate."""
    fig, ax = subplots(figsize=(8, 0.6 * len(companies) + 2))
    labels = [names.get(c, c) for c in companies["company_id"]] + ["Pooled (Driscoll-Kraay)"]
    est = list(companies["slope"]) + [pooled.estimate]
    lo = list(companies["ci_low"]) + [pooled.interval[0]]
    hi = list(companies["ci_high"]) + [pooled.interval[1]]
    y = np.arange(len(labels))[::-1]
    ax.errorbar(est, y, xerr=[np.subtract(est, lo), np.subtract(hi, est)], fmt="o", color="#0173b2", capsize=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, labels)
    ax.set_xlabel("Elasticity of cloud revenue growth to own lagged capex growth (90% interval)")
    title = "Each cloud's revenue response to its own capex"
    finish(fig, ax, title, source)
    alt = "Forest plot: " + "; ".join(f"{l} {e:.2f} ({a:.2f} to {b:.2f})" for l, e, a, b in zip(labels, est, lo, hi)) + "."
    return Chart(fig, title, alt, "cloud-revenue-response-to-capex", source, main=False)


def break_even_chart(paths: dict, names: dict, source: str) -> Chart:
    """Each lab's projected revenue and cost, with the break-even year marked; ``names`` is the dataset's
    company id -> name."""
    fig, ax = subplots(figsize=(8, 4.5))
    colours = {"openai": "#0173b2", "anthropic": "#d55e00"}
    for lab, be in paths.items():
        colour = colours.get(lab, "#555555")
        ax.plot(be.path["year"], be.path["revenue_usd_bn"], color=colour, marker="o", markersize=3, label=f"{company_name(lab, names)} revenue")
        ax.plot(be.path["year"], be.path["cost_usd_bn"], "--", color=colour, label=f"{company_name(lab, names)} cost")
        if be.year is not None:
            ax.axvline(be.year, color=colour, alpha=0.3)
            ax.text(be.year, ax.get_ylim()[1] * 0.95, f" {company_name(lab, names)}\n break-even {be.year}", color=colour, fontsize=8, va="top")
    ax.set_xlabel("Calendar year (projection)")
    ax.set_ylabel("USD billions a year")
    whole_years(ax.xaxis)
    legend_outside(ax)
    each = [f"{company_name(lab, names)} breaks even in {be.year}" if be.year else
            f"{company_name(lab, names)} does not break even by {int(be.path['year'].max())}" for lab, be in paths.items()]
    title = "On the scenario's paths, " + (", ".join(each[:-1]) + " and " + each[-1] if len(each) > 1 else "".join(each))
    finish(fig, ax, title, source)
    alt = "Projected revenue and cost of " + "; ".join(
        f"{company_name(lab, names)}: break-even in {be.year}" if be.year else f"{company_name(lab, names)}: no break-even within the horizon"
        for lab, be in paths.items()) + "."
    years = sorted({int(y) for be in paths.values() for y in be.path["year"]})
    series = []
    for lab, be in paths.items():
        path = be.path.set_index("year")
        series += [(f"{company_name(lab, names)} revenue", path["revenue_usd_bn"].reindex(years)),
                   (f"{company_name(lab, names)} cost", path["cost_usd_bn"].reindex(years))]
    panel = native("line", years, series, "USD billions a year", "#,##0.0")
    method = ("Each lab's revenue grows from its latest run-rate at the scenario's decaying rate, and its cost per "
              "revenue dollar falls at the scenario's rate; it breaks even in the first year revenue covers cost.")
    return Chart(fig, title, alt, "lab-break-even", source, native=(panel,), method=method)


def ipo_draw_chart(draw: pd.DataFrame, seed_range: tuple, typical: tuple, source: str, names: dict | None = None) -> Chart:
    """Capital the IPO wave draws at each float ratio, against the seed's decade of US IPO proceeds; ``names`` is the
    dataset's company id -> name (the legend names companies, not ids)."""
    fig, ax = subplots(figsize=(8, 4.5))
    ratios = [float(c) for c in draw.columns]
    bottom = np.zeros(len(ratios))
    for company in [c for c in draw.index if c != "total"]:
        values = draw.loc[company].to_numpy(dtype=float)
        ax.bar([f"{r:.0%}" for r in ratios], values, bottom=bottom, label=company_name(company, names or {}))
        bottom += values
    ax.axhspan(seed_range[0], seed_range[1], color="#d62728", alpha=0.12,
               label=f"seed: a decade of US IPO proceeds (${seed_range[0]:,.0f}-{seed_range[1]:,.0f}bn)")
    ax.set_xlabel(f"Share of each company floated (typical: {typical[0]:.0%}-{typical[1]:.0%})")
    ax.set_ylabel("Capital drawn from the market (USD billions)")
    legend_outside(ax)
    total = draw.loc["total"]
    typical_draw = [float(total.iloc[int(np.argmin([abs(r - t) for r in ratios]))]) for t in typical]
    title = (f"Floating the typical {typical[0]:.0%}-{typical[1]:.0%} of the 2026 IPO candidates would draw "
             f"USD {typical_draw[0]:,.0f}-{typical_draw[1]:,.0f}bn, against USD {seed_range[0]:,.0f}-{seed_range[1]:,.0f}bn "
             "of US IPO proceeds in a decade")
    finish(fig, ax, title, source)
    alt = ("Stacked bars of capital drawn by the IPOs at float ratios from "
           f"{ratios[0]:.0%} (${total.iloc[0]:,.0f}bn) to {ratios[-1]:.0%} (${total.iloc[-1]:,.0f}bn), against the seed's "
           f"${seed_range[0]:,.0f}-{seed_range[1]:,.0f}bn decade of US IPO proceeds.")
    panel = native("column_stacked", [f"{r:.0%}" for r in ratios],
                   [(company_name(c, names or {}), draw.loc[c]) for c in draw.index if c != "total"],
                   "Capital drawn from the market (USD billions), by share floated", "#,##0")
    method = ("Each candidate's latest valuation times the share of it floated; the seed's decade of US IPO proceeds "
              "is the comparison.")
    return Chart(fig, title, alt, "ipo-capital-draw", source, native=(panel,), method=method)


def track_record_chart(record, source: str) -> Chart:
    """Each vintage's forecasts of D (lines with their intervals) against D as first disclosed and today's, with
    R*'s pre-registered line (each quarter's earliest recorded R*)."""
    rows = record.rows
    fig, ax = subplots(figsize=(9, 5))
    d_rows = rows[rows["quantity"] == "d_usd_bn"]
    for i, (vintage, own) in enumerate(d_rows.groupby("vintage")):
        x = quarter_dates(own["target_quarter"])
        ax.plot(x, own["forecast"], color="#0173b2", linewidth=1.0, alpha=0.8,
                label="D forecast by a vintage, with its interval" if i == 0 else None)
        ax.fill_between(x, own["low"], own["high"], color="#0173b2", alpha=0.07)
    first = record.scored[record.scored["quantity"] == "d_usd_bn"].drop_duplicates("target_quarter")
    ax.scatter(quarter_dates(first["target_quarter"]), first["realized"], color="#222222", s=22, zorder=3,
               label="D as first disclosed")
    revised = record.scored_revised[record.scored_revised["quantity"] == "d_usd_bn"].drop_duplicates("target_quarter")
    revised = revised.sort_values("target_quarter")
    ax.plot(quarter_dates(revised["target_quarter"]), revised["realized"], color="#555555", linestyle=":",
            label="D today (revised)")
    req = rows[rows["quantity"] == "required_usd_bn"].sort_values("vintage", kind="stable")
    req = req.groupby("target_quarter", as_index=False).first().sort_values("target_quarter")
    ax.plot(quarter_dates(req["target_quarter"]), req["forecast"], color="#d55e00", linewidth=2.0,
            label="R*, pre-registered (earliest vintage's)")
    ax.set_yscale("log")
    log_limits(ax, d_rows[["forecast", "low", "high"]], first["realized"], revised["realized"], req["forecast"])
    ax.set_xlabel("Target quarter")
    ax.set_ylabel("USD billions a year (annualized, log scale)")
    legend_outside(ax, fontsize=7)
    d = record.score("d_usd_bn")
    title = (f"{int(d['inside'])} of {int(d['scored'])} outcomes of D fell inside their forecast's interval; D stayed "
             f"below R*'s pre-registered line in {int((~record.line['above']).sum())} of {len(record.line)} quarters")
    finish(fig, ax, title, source)
    alt = (f"Log-scale chart of the forecast ledger's {len(record.vintages)} vintages: {int(d['inside'])} of "
           f"{int(d['scored'])} outcomes of D as first disclosed fell inside their forecast's interval; D stayed "
           f"below R*'s pre-registered line in {int((~record.line['above']).sum())} of {len(record.line)} quarters.")
    quarters = sorted(set(first["target_quarter"]) | set(revised["target_quarter"]) | set(req["target_quarter"]))
    panel = native("line", quarters, [
        ("D as first disclosed", first.set_index("target_quarter")["realized"].reindex(quarters)),
        ("D today (revised)", revised.set_index("target_quarter")["realized"].reindex(quarters)),
        ("R*, pre-registered", req.set_index("target_quarter")["forecast"].reindex(quarters))],
        "USD billions a year (annualized, log scale)", "#,##0", log=True)
    method = ("Each vintage forecast D and R* for the next four quarters from what was public by its date; each forecast "
              "is scored against D as first disclosed.")
    return Chart(fig, title, alt, "forecast-track-record", source, native=(panel,), method=method)
