import os
import subprocess
import sys

import pytest

from valuechain import charts, load_dataset
from valuechain.exceptions import ParameterError
from valuechain.params import load_scenario
from valuechain.profit import profit_pool


@pytest.fixture(scope="module")
def setup():
    ds = load_dataset()
    pool = profit_pool(load_scenario("base"), ds)
    return ds, pool, charts.source_line(ds, pool.sources, "base")


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
        assert html.count('src="data:image/png;base64,') == 1 and 'alt="' in html


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


def test_importing_and_drawing_leave_the_users_backend_alone(tmp_path):
    # As in a JupyterLab kernel: the inline backend is chosen before valuechain is imported.
    code = ("import sys, matplotlib\n"
            "matplotlib.use('module://matplotlib_inline.backend_inline')\n"
            "import pandas as pd\n"
            "from valuechain import charts\n"
            "layers = pd.DataFrame([(year, layer, 'historical', share) for year in (2024, 2025)\n"
            "                       for layer, share in zip(charts.LAYERS, (0.5, 0.1, 0.3, -0.2, 0.3))],\n"
            "                      columns=['year', 'layer', 'kind', 'profit_share'])\n"
            "png = charts.profit_share_chart(layers, 'Source: test.').png()\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules, png[:4] == b'\\x89PNG', len(png) > 10_000)\n")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["module://matplotlib_inline.backend_inline", "False", "True", "True"]
