import base64
import io
import os
import re
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from valuechain.report import charts
from valuechain import load_dataset
from valuechain.exceptions import ParameterError


@pytest.fixture(scope="module")
def setup(ds, base_pool):
    return ds, base_pool, charts.source_line(ds, base_pool.sources, "base")


def _axes_text(chart):
    ax = chart.fig.axes[0]
    return ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel(), " ".join(t.get_text() for t in chart.fig.texts)


def test_every_chart_has_title_units_source_and_alt(setup):
    ds, pool, source = setup
    made = [charts.profit_pool_chart(pool.layers, 2025, source), charts.profit_share_chart(pool.layers, source),
            charts.dollar_waterfall(pool.dollar_flow, 2025, source)]
    for chart in made:
        title, xlabel, ylabel, footer = _axes_text(chart)
        assert title == chart.title and title
        assert "(%)" in ylabel or "Cents" in ylabel
        assert xlabel
        assert footer.startswith("Source: ") and "scenario 'base'" in footer
        assert len(chart.alt) > 40
        html = chart._repr_html_()
        assert html.count('src="data:image/svg+xml;base64,') == 1 and 'alt="' in html
        embedded = base64.b64decode(re.search(r'data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html).group(1)).decode()
        assert embedded == chart.svg()  # the page shows the SVG the exports write


def test_profit_pool_alt_text_states_the_numbers(setup):
    _, pool, source = setup
    chart = charts.profit_pool_chart(pool.layers, 2025, source)
    row = pool.layers.set_index(["year", "layer"]).loc[(2025, "chips")]
    assert f"chips {row['revenue_share']:.0%} of revenue at a {row['operating_margin']:.0%} margin" in chart.alt


def test_profit_pool_bar_widths_are_revenue_shares(setup):
    _, pool, source = setup
    chart = charts.profit_pool_chart(pool.layers, 2025, source)
    bars = chart.fig.axes[0].patches
    assert sum(b.get_width() for b in bars) == pytest.approx(100.0)
    labs = pool.layers.set_index(["year", "layer"]).loc[(2025, "labs")]
    assert any(b.get_height() == pytest.approx(labs["operating_margin"] * 100) and b.get_height() < 0 for b in bars)


def test_year_not_analysed_is_refused(setup):
    _, pool, _ = setup
    with pytest.raises(ParameterError, match="parameter 'year' = 2019 was not analysed"):
        pool.check_year(2019)
    assert pool.check_year(0) == 2025


@pytest.fixture(scope="module")
def gap(ds, base_gap):
    return base_gap, charts.source_line(ds, base_gap.sources, "base")


def _lines(ax):
    """x position of each vertical line, by the gid the chart gave it."""
    return {line.get_gid(): line.get_xdata()[0] for line in ax.lines if line.get_gid() not in (None, "density")}


def _span(ax):
    patch = next(p for p in ax.patches if p.get_gid() == "interval")
    return patch.get_x(), patch.get_x() + patch.get_width()  # axvspan draws a Rectangle


def test_closing_rate_chart_marks_both_break_even_bars_at_the_library_values(gap):
    result, source = gap
    chart = charts.closing_rate_chart(result, source)
    ax = chart.fig.axes[0]
    c = result.closing
    horizon = c.horizon_years
    beta = result.required.loc[c.last_quarter, "beta_star_growth_adjusted"]
    steady_gap = c.current_gap + np.log(beta / result.beta_star_steady)  # D against steady-state beta* x AI capex
    lines = _lines(ax)
    assert lines["estimate"] == pytest.approx(4 * c.trend)
    assert lines["beta_star_growth_adjusted"] == pytest.approx(-c.current_gap / horizon)
    assert lines["beta_star_growth_adjusted"] == pytest.approx(4 * c.required_trend)
    assert lines["beta_star_steady"] == pytest.approx(-steady_gap / horizon)
    assert lines["zero"] == 0.0
    assert _span(ax) == pytest.approx((4 * c.trend_interval[0], 4 * c.trend_interval[1]))
    # the histogram is a density of the bootstrap draws of the annual rate
    bars = [p for p in ax.patches if p.get_gid() == "density"]
    assert sum(b.get_height() * b.get_width() for b in bars) == pytest.approx(1.0)
    centre = np.median(4 * c.trend_draws)
    assert min(b.get_x() for b in bars) < centre < max(b.get_x() + b.get_width() for b in bars)
    assert f"{result.beta_star_steady:.2f}" in chart.alt and f"{beta:.2f}" in chart.alt


def test_elasticity_chart_shows_the_pipeline_draws_and_the_bootstrap_without_beta_star(gap):
    result, source = gap
    chart = charts.distribution_chart(result.distributions("ai_elasticity", "elasticity"), source)
    ai_ax, boot_ax = chart.fig.axes
    ai, s = result.secondary.ai_elasticity, result.secondary
    lines = _lines(ai_ax)
    assert lines["estimate"] == pytest.approx(ai.estimate)
    assert lines["proportional"] == 1.0 and lines["zero"] == 0.0
    assert _span(ai_ax) == pytest.approx(ai.interval)
    if not ai.informative:  # the panel says so under it
        assert "Uninformative" in chart.alt or "Uninformative" in result.distributions("ai_elasticity")[0].note
    boot = _lines(boot_ax)
    assert boot["estimate"] == pytest.approx(s.elasticity.estimate)
    assert _span(boot_ax) == pytest.approx(s.elasticity.interval)
    # beta* is a level; it is marked on neither elasticity, and the chart says why
    assert not any(k.startswith("beta_star") for k in {**lines, **boot})
    assert "Neither β* is marked here" in chart.alt


def test_distribution_chart_has_title_axes_source_and_alt(gap):
    result, source = gap
    chart = charts.distribution_chart(result.distributions(), source)
    title, xlabel, ylabel, footer = _axes_text(chart)
    assert title == chart.title and xlabel and ylabel == "Density"
    assert footer.startswith("Source: ") and "scenario 'base'" in footer
    assert len(chart.fig.axes) == 3 and "$" not in chart.alt


def test_backlog_chart_bars_are_the_backlog_and_trailing_capex(gap):
    from valuechain.model import backlog

    result, source = gap
    b = backlog.backlog(load_dataset(), result.scenario.demand_gap.capital.spenders)
    chart = charts.backlog_chart(b, source)
    ax = chart.fig.axes[0]
    rows = b.headline_rows
    rpo = [p.get_width() for p in ax.patches if p.get_gid() == "rpo"]
    capex = [p.get_width() for p in ax.patches if p.get_gid() == "capex"]
    assert rpo == pytest.approx(list(rows["rpo_usd_bn"]))
    assert capex == pytest.approx(list(rows["capex_ttm_usd_bn"].fillna(0.0)))
    assert f"{b.multiple:.1f} times" in chart.title and str(b.quarter) in chart.title
    assert "billion dollars" in chart.alt and "$" not in chart.alt
def test_importing_and_drawing_leave_the_users_backend_alone(tmp_path):
    # As in a JupyterLab kernel: the inline backend is chosen before valuechain is imported.
    code = ("import sys, matplotlib\n"
            "matplotlib.use('module://matplotlib_inline.backend_inline')\n"
            "import pandas as pd\n"
            "from valuechain.report import charts\n"
            "layers = pd.DataFrame([(year, layer, 'historical', share) for year in (2024, 2025)\n"
            "                       for layer, share in zip(charts.LAYERS, (0.5, 0.1, 0.3, -0.2, 0.3))],\n"
            "                      columns=['year', 'layer', 'kind', 'profit_share'])\n"
            "png = charts.profit_share_chart(layers, 'Source: test.').png()\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules, png[:4] == b'\\x89PNG', len(png) > 10_000)\n")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["module://matplotlib_inline.backend_inline", "False", "True", "True"]


def test_required_vs_actual_chart_draws_revenue_as_known_then_and_revised(gap):
    result, source = gap
    chart = charts.required_vs_actual_chart(result.required_by_year, source)
    lines = {line.get_label(): line for line in chart.fig.axes[0].lines}
    table = result.required_by_year
    then = lines["net external AI revenue, as known then"]
    revised = lines["net external AI revenue, revised to date"]
    np.testing.assert_array_equal(np.asarray(then.get_ydata(), float), table["d_vintage_usd_bn"].to_numpy(float))
    np.testing.assert_array_equal(np.asarray(revised.get_ydata(), float), table["d_revised_usd_bn"].to_numpy(float))
    last = table.set_index("year").iloc[-1]
    assert f"{last['d_vintage_usd_bn']:,.0f} billion dollars as known on {last['cutoff']}" in chart.alt


# Charts ready for a memo: axes that fit the data, whole years, legends off the data, names not ids,
# titles that state the finding.

@pytest.fixture(scope="module")
def memo(ds, base_pool, base_gap, base_econ):
    from valuechain.model import valuation

    val = valuation.analyse(base_gap.scenario, ds, base_pool)
    s = "Source: test."
    return {"pool": charts.profit_pool_chart(base_pool.layers, 2025, s), "share": charts.profit_share_chart(base_pool.layers, s),
            "dollar": charts.dollar_waterfall(base_pool.dollar_flow, 2025, s), "demand": charts.demand_fan_chart(base_gap, s),
            "required": charts.required_vs_actual_chart(base_gap.required_by_year, s),
            "backlog": charts.backlog_chart(base_gap.backlog, s) if getattr(base_gap, "backlog", None) is not None else None,
            "labs": charts.break_even_chart(base_econ.break_even, base_econ.names, s),
            "ipo": charts.ipo_draw_chart(val.draw, val.seed_draw, val.typical_float, s, val.names), "val": val}


def _plotted_max(ax):
    values = [np.asarray(line.get_ydata(), dtype=float) for line in ax.lines if len(line.get_ydata()) > 1]
    values += [np.asarray(c.get_offsets())[:, 1] for c in ax.collections if len(np.asarray(c.get_offsets()))]
    values += [c.get_paths()[0].vertices[:, 1] for c in ax.collections if c.get_paths()]
    flat = np.concatenate([v.ravel() for v in values])
    flat = flat[np.isfinite(flat) & (flat > 0)]
    return flat.min(), flat.max()


def test_log_axes_end_within_a_quarter_of_the_data(memo):
    for key in ("demand", "required"):
        ax = memo[key].fig.axes[0]
        low, high = ax.get_ylim()
        data_low, data_high = _plotted_max(ax)
        assert ax.get_yscale() == "log"
        assert high <= data_high * 1.25 * (1 + 1e-9) and low >= data_low / 1.25 * (1 - 1e-9), key
        assert np.log10(high) - np.log10(data_high) < 1  # no decade beyond the data (it ran to 10^6)


def test_year_axes_tick_whole_years(memo):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for key in ("share", "labs"):
        fig = memo[key].fig
        FigureCanvasAgg(fig).draw()
        ax = fig.axes[0]
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert ticks and all(float(t).is_integer() for t in ticks), (key, ticks)
        shown = [label.get_text() for label in ax.get_xticklabels() if label.get_text()]
        assert shown and all(text.isdigit() for text in shown), (key, shown)  # 2028, never 2028.5


def test_legends_never_cover_the_plot(memo):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for key, chart in memo.items():
        if key == "val" or chart is None:
            continue
        FigureCanvasAgg(chart.fig).draw()
        renderer = chart.fig.canvas.get_renderer()
        for ax in chart.fig.axes:
            legend = ax.get_legend()
            if legend is None:
                continue
            box, plot = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
            assert not box.overlaps(plot), key


def test_the_ipo_legend_names_companies(memo):
    labels = [t.get_text() for t in memo["ipo"].fig.axes[0].get_legend().get_texts()]
    names = memo["val"].names
    ids = [c for c in memo["val"].draw.index if c != "total"]
    assert {names[c] for c in ids} <= set(labels) and len(labels) == len(ids) + 1  # the companies and the seed's band
    assert "openai" not in labels and "OpenAI" in labels


def test_titles_state_the_finding_from_the_numbers(memo, base_pool, base_gap, base_econ):
    layers = base_pool.layers[base_pool.layers["year"] == 2025].set_index("layer")
    top = layers["profit_share"].idxmax()
    assert memo["pool"].title == (f"The {top} layer earns {layers.loc[top, 'profit_share']:.0%} of the AI value chain's "
                                  f"operating profit on {layers.loc[top, 'revenue_share']:.0%} of its revenue (2025)")
    low, high = base_gap.ladder_range()
    assert memo["demand"].title.startswith(f"Downstream AI revenue D is {low:.0%}-{high:.0%} of the revenue")
    for lab, be in base_econ.break_even.items():
        assert f"{base_econ.names.get(lab, lab)} breaks even in {be.year}" in memo["labs"].title
    assert memo["demand"].fig.axes[0].get_title(loc="left") == memo["demand"].title


# Each format drawn once: the figure keeps no layout engine and both formats show the area savefig's
# "tight" would, so the pictures are those a tight savefig draws, without its extra layout draws.

def _size_pt(svg: str) -> tuple[str, str]:
    return re.search(r'<svg[^>]* width="([0-9.]+)pt" height="([0-9.]+)pt"', svg).groups()


def test_each_chart_is_drawn_as_a_tight_savefig_draws_it_with_no_layout_left_to_redo(memo):
    for key in ("pool", "dollar", "demand", "required", "labs", "ipo"):
        chart = memo[key]
        assert chart.fig.get_layout_engine() is None, key  # savefig lays out again only under an engine
        tight = io.BytesIO()
        chart.fig.savefig(tight, format="png", dpi=charts.PNG_DPI, bbox_inches="tight", metadata={"Software": None})
        assert chart.png() == tight.getvalue(), key  # the same picture, byte for byte
        svg = io.StringIO()
        with matplotlib.rc_context(charts.SVG_STYLE):
            chart.fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})
        assert _size_pt(chart.svg()) == _size_pt(svg.getvalue()), key  # the same area, measured as text in points
        assert chart.png() is chart.png() and chart.svg() is chart.svg()  # drawn once each


def test_a_long_source_line_wraps_where_matplotlib_wraps_it(base_pool):
    # The source line is wrapped once per format (charts._wrapped) rather than by matplotlib at every layout:
    # the same lines, so the same pictures.
    source = "Source: " + " ".join(f"Publisher{i} (a release of {i} March 2025);" for i in range(40)) + " Assumptions: 'base'."
    chart = charts.profit_share_chart(base_pool.layers, source)
    tight = io.BytesIO()
    chart.fig.savefig(tight, format="png", dpi=charts.PNG_DPI, bbox_inches="tight", metadata={"Software": None})
    assert chart.png() == tight.getvalue()
    svg = io.StringIO()
    with matplotlib.rc_context(charts.SVG_STYLE):
        chart.fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", chart.svg())
    assert texts == re.findall(r"<text[^>]*>([^<]*)</text>", svg.getvalue())
    first = next(i for i, t in enumerate(texts) if t.startswith("Source: "))
    lines = next(texts[first:end] for end in range(first + 1, len(texts) + 1) if " ".join(texts[first:end]) == source)
    assert len(lines) >= 3  # wrapped at spaces, every word kept
    footer = next(t for t in chart.fig.texts if t.get_text().startswith("Source:"))
    assert footer.get_text() == source and footer.get_wrap()  # the figure is left as it was


def test_the_svg_keeps_its_text_as_text(memo):
    chart = memo["pool"]
    svg = chart.svg()
    escaped = chart.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f">{escaped}</text>" in svg
    assert "Source: test.</text>" in svg
    assert "<use xlink:href=\"#DejaVuSans" not in svg  # no glyph drawn as a path
    assert "font-family: 'DejaVu Sans'" in svg and "sans-serif" in svg  # the reader's sans-serif when DejaVu is missing
