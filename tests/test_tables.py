"""The one table formatter: headers with units, numbers by unit, names for ids, no index, no NaN."""
import html
import re

import numpy as np
import pandas as pd
import pytest

from valuechain.report import labels, tables
from valuechain import mime
from valuechain.dataset.load import load_dataset
from valuechain.model.profit import profit_pool
from valuechain.scenario.load import load_scenario

SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


def _frame():
    return pd.DataFrame({"company_id": ["nvidia", "openai", "nobody_here"], "layer": ["chips", "labs", "apps"],
                         "revenue_usd_bn": [193.734, np.nan, 1234.5], "ai_share": [1.0, 0.5, None],
                         "note": ["a_b_c <b>x</b>", "fine", np.nan]}, index=[7, 8, 9])


def _table():
    return tables.present(_frame(), [
        tables.Column("company_id", "Company", "company"), tables.Column("layer", "Layer", "layer"),
        tables.Column("revenue_usd_bn", "AI revenue", "usd_bn"), tables.Column("ai_share", "AI share", "share"),
        tables.Column("note", "Note", missing=""),
    ], "A <title>", source="Source: x & y", names=load_dataset().company_names)


def test_headers_carry_units_and_cells_are_formatted_by_unit():
    table = _table()
    assert [c.header for c in table.columns] == ["Company", "Layer", "AI revenue (USD bn)", "AI share (%)", "Note"]
    assert table.text() == [
        ["NVIDIA Corporation", "Chips", "193.7", "100%", "a_b_c <b>x</b>"],
        ["OpenAI", "Labs", "not disclosed", "50%", "fine"],
        ["Nobody here", "Apps", "1,234.5", "not disclosed", ""],
    ]


def test_html_has_no_index_no_nan_and_escapes_every_text():
    page = _table().html()
    assert "NaN" not in page and "None" not in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "A &lt;title&gt;" in page
    assert "x &amp; y" in page
    first_cells = re.findall(r"<tr><td[^>]*>([^<]*)</td>", page)
    assert first_cells == ["NVIDIA Corporation", "OpenAI", "Nobody here"]  # the frame's index 7, 8, 9 is not shown
    assert not any(SNAKE.search(h) for h in re.findall(r"<th[^>]*>([^<]*)</th>", page))


def test_the_table_travels_as_data_with_raw_numbers():
    bundle = _table()._repr_mimebundle_()
    data = bundle[mime.TABLE]
    assert bundle["text/html"] == _table().html() and "AI revenue (USD bn)" in bundle["text/plain"]
    assert data["rows"][0][2] == pytest.approx(193.734) and data["rows"][1][2] is None
    assert [c["unit"] for c in data["columns"]] == ["company", "layer", "usd_bn", "share", "text"]


def test_a_column_of_mixed_units_carries_each_rows_unit():
    frame = pd.DataFrame({"value": [75000.0, 0.4, 22.0, 5.0], "unit": ["usd_bn", "share", "multiple", "ratio"]})
    table = tables.present(frame, [tables.Column("value", "Value", "@unit")], "Facts")
    assert [row[0] for row in table.text()] == ["USD 75,000bn", "40%", "22.0x", "5.00"]
    assert table.data()["row_units"] == [["usd_bn"], ["share"], ["multiple"], ["ratio"]]


def test_ids_read_as_words(ds):
    assert labels.words("data_center_revenue") == "Data center revenue"
    assert labels.words("sp500_forward_pe") == "S&P 500 forward P/E"
    assert labels.ids_to_words("operating_income / revenue, sum of 2025Q1-Q4") == "operating income / revenue, sum of 2025Q1-Q4"
    names = ds.company_names
    assert labels.company_name("amazon", names) == "Amazon.com, Inc." and labels.company_name("market", names) == "Market"


@pytest.fixture(scope="module")
def pool(base_pool):
    return base_pool


def test_the_layer_table_shows_the_library_values_and_explains_shares_outside_0_1(pool):
    table = tables.layers(pool)
    rows = {(r[0], r[1]): r for r in table.rows}
    lay = pool.layers[(pool.layers["kind"] == "historical")].set_index(["year", "layer"])
    assert rows[(2025, "chips")][6] == pytest.approx(lay.loc[(2025, "chips"), "profit_share"])
    assert table.text()[[k for k in rows].index((2025, "chips"))][6] == f"{lay.loc[(2025, 'chips'), 'profit_share']:.0%}"
    assert lay.loc[(2025, "chips"), "profit_share"] > 1 and "more than 100%" in table.note
    assert [r[1] for r in table.rows[:5]] == ["chips", "servers", "cloud", "labs", "apps"]  # upstream first


def test_every_notebook_table_has_worded_headers_and_no_missing_marker(pool, ds, base_scenario, base_gap, base_econ):
    from valuechain.model import uncertainty, valuation
    from valuechain.report import uncertainty_report

    sc, gap, econ = base_scenario, base_gap, base_econ
    val = valuation.analyse(sc, ds, pool)
    draws = uncertainty.analyse(load_scenario("base", {"uncertainty": {"sobol_samples": 64}}), ds, n=200)
    made = [tables.layers(pool), tables.layers(pool, "projection"), tables.dollar_flow(pool, 2025),
            tables.value_added(pool, 2025), tables.companies(pool, 2025), tables.excluded(pool),
            tables.downstream(gap), tables.closing(gap), tables.required_by_year(gap), tables.known_by_year(gap),
            tables.secondary(gap),
            tables.ai_elasticity(gap), tables.supplier_panel(gap, ds.company_names), tables.supplier_panel_worlds(gap),
            tables.run_rates(econ), tables.losses(econ), tables.unit_economics(econ),
            tables.break_even(econ), tables.investments(econ), tables.cloud_split(econ),
            tables.gap_without_round_trip(econ), tables.ipo_draw(val), tables.lab_valuations(val),
            tables.facts(valuation.market_concentration(ds), "M", ds.company_names),
            tables.facts(valuation.secondary_signals(ds), "S", ds.company_names),
            tables.ttm_layers(pool), tables.lab_backlog(ds), tables.realtime_forecasts(gap), tables.market_check(gap),
            uncertainty_report.priors(draws)]
    assert pool.ttm is not None  # base reports the latest twelve months
    for table in made:
        headers = [c.header for c in table.columns]
        assert not any(SNAKE.search(h) for h in headers), (table.title, headers)
        text = html.unescape(table.html())
        assert "NaN" not in text and "{'" not in text and "…" not in text, table.title
    ipo = tables.ipo_draw(val)
    assert ipo.text()[-1][0] == "Total" and ipo.rows[-1][-1] == pytest.approx(val.draw.iloc[-1, -1])
    assert tables.cloud_split(econ).rows[0][1] == pytest.approx(econ.cloud_split["round_tripped_usd_bn"])


def test_a_probability_never_reads_as_a_bare_0_or_1():
    assert [labels.value_text(p, "probability") for p in (1.0, 0.996, 0.63, 0.004, 0.0)] == [
        "> 0.99", "> 0.99", "0.63", "< 0.01", "< 0.01"]
    table = tables.present(pd.DataFrame({"p": [1.0, 0.5]}), [tables.Column("p", "P(x)", "probability")], "t")
    assert table.text() == [["> 0.99"], ["0.50"]] and table.rows[0][0] == 1.0  # the exports keep the number


@pytest.mark.parametrize("value, unit, text", [
    (997.04, "usd_bn", "USD 997bn"), (51.84, "usd_bn", "USD 51.8bn"), (0.746, "share", "75%"), (2029.0, "year", "2029"),
    (0.164, "rate", "+0.16 log points a year"), (0.12, "growth", "+12% a year"), (4.26, "cents", "4.3 cents"),
    (1.234, "ratio", "1.23"), (0.996, "probability", "> 0.99"), (22.04, "multiple", "22.0x"), (2.04, "gw", "2.0 GW"),
    (1234.0, "count", "1,234"), (float("nan"), "usd_bn", ""),
])
def test_a_figure_in_a_sentence_carries_its_unit_once(value, unit, text):
    assert labels.with_unit(value, unit) == text


@pytest.mark.parametrize("key, text", [
    ("attribution.amazon.ai_share.2025", "Amazon.com, Inc.: AI share of revenue, 2025"),
    ("layers.cloud.pass_through", "Cloud layer: share of price passed upstream"),
    ("lab_economics.paths.openai.cost_decline", "OpenAI: yearly decline in cost per dollar of revenue"),
    ("demand_gap.capital.ai_share.2025", "AI share of the spenders' capex, 2025"),
    ("projection.final_margins.chips", "Chips: operating margin at the horizon"),
    ("projection.capex_growth.2027", "Capex growth, 2027"),
    ("valuation.exit_multiple", "Valuation: exit multiple"),
    ("demand_gap.break_even.target_return", "Target return on capital"),
])
def test_scenario_keys_read_as_words(key, text, ds):
    assert labels.assumption(key, ds.company_names) == text


def test_every_shipped_prior_has_words_without_ids(ds):
    from valuechain.scenario.load import load_scenario
    from valuechain.scenario.names import list_scenarios

    for name in list_scenarios():
        for key in load_scenario(name).uncertainty.priors:
            text = labels.assumption(key, ds.company_names)
            assert not SNAKE.search(text), (name, key, text)


def test_file_names_are_lower_case_with_one_hyphen_per_gap():
    assert labels.file_name("d_over_required") == "d-over-required"
    assert labels.file_name("Profit pool, 2025 (USD bn)") == "profit-pool-2025-usd-bn"
    assert labels.file_name("***") == "chart" and labels.file_name("", default="x") == "x"


def test_companies_are_named_as_the_loaded_dataset_names_them(data_copy, base_scenario, base_gap):
    """A dataset whose companies.csv renames two companies shows the new names in tables, charts,
    sentences and headline labels: none reads the bundled names."""
    from tests.conftest import edit_csv
    from valuechain.model import labs, valuation
    from valuechain.report import charts, narrative

    renamed = {"openai": "Renamed Lab Co.", "microsoft": "Renamed Cloud Co."}
    edit_csv(data_copy, "companies.csv", lambda f: f.assign(name=[renamed.get(c, n) for c, n in zip(f["company_id"], f["name"])]))
    ds = load_dataset(data_copy)
    names = ds.company_names
    assert labels.company_name("openai", names) == "Renamed Lab Co." and labels.company_name("market", names) == "Market"
    pool = profit_pool(base_scenario, ds)
    assert "Renamed Cloud Co." in [row[1] for row in tables.companies(pool, 2024).text()]
    econ = labs.analyse(base_scenario, ds, pool, base_gap)
    assert "Renamed Lab Co." in {row[0] for row in tables.run_rates(econ).text()}
    assert {h.label for h in econ.headlines() if h.key == "openai_break_even_year"} == {"Renamed Lab Co. break-even year"}
    assert "**Renamed Lab Co\\.** starts from" in narrative.labs_summary(econ)  # the name as Markdown text
    chart = charts.break_even_chart(econ.break_even, econ.names, "s")
    assert "Renamed Lab Co.: " in chart.alt and "Renamed Lab Co. revenue" in [t.get_text() for t in chart.fig.axes[0].get_legend().get_texts()]
    val = valuation.analyse(base_scenario, ds, pool)
    assert "Renamed Lab Co." in [row[0] for row in tables.lab_valuations(val).text()]
    assert "Renamed Lab Co." in [row[0] for row in tables.ipo_draw(val).text()]


def test_the_suppliers_panel_table_names_each_series_suppliers_and_ends_with_the_pooled_slope(base_gap, ds):
    table = tables.supplier_panel(base_gap, ds.company_names)
    panel = base_gap.secondary.supplier_panel
    assert len(table.rows) == len(panel.companies) + 1
    assert table.rows[-1][3] == pytest.approx(panel.pooled.estimate) and table.rows[-1][6] == panel.pooled.nobs
    openai = next(row for row in table.rows if row[0] == "openai_revenue")
    assert openai[1] == "Microsoft Corporation, Oracle Corporation, CoreWeave, Inc." and openai[2] == "claim, reported"


def test_text_columns_are_left_aligned_and_numbers_right():
    """JupyterLab right-aligns every cell: a text column carries its alignment with it, a number column its class."""
    from valuechain.report.tables import Column, present

    frame = pd.DataFrame({"name": ["OpenAI"], "value": [12.5]})
    html = present(frame, [Column("name", "Company"), Column("value", "Revenue", "usd_bn")], "T").html()
    assert '<td class="vc-text" style="text-align:left">OpenAI</td><td class="vc-num">' in html
    assert '<th class="vc-text" style="text-align:left">Company</th>' in html
