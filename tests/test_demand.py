import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from valuechain.model import demand
from valuechain.publish import outputs
from valuechain.report import notebook
from valuechain.scenario.load import load_scenario


@pytest.fixture(scope="module")
def base(base_gap):
    return base_gap


def test_sequoia_headline_equals_the_year_table(base):
    """The headline for year Y uses only year Y's data: NVIDIA's last data-center quarter of Y."""
    row = base.required_by_year.set_index("year").loc[base.year]
    head = base.requirements.set_index("method")
    assert head.loc["sequoia", "required_usd_bn"] == pytest.approx(row["sequoia_usd_bn"])
    assert head.loc["capex_to_revenue", "required_usd_bn"] == pytest.approx(row["capex_to_revenue_usd_bn"])
    assert head.loc["capital_recovery", "required_usd_bn"] == pytest.approx(row["capital_recovery_usd_bn"])
    # 2025's run-rate is NVIDIA's quarter ending January 2026 (calendar 2025Q4), not a 2026 quarter
    assert head.loc["sequoia", "inputs"]["run_rate_usd_bn"] == pytest.approx(row["nvidia_run_rate_usd_bn"])


def test_each_year_is_compared_with_d_as_known_then_and_revised(base):
    """The year table sets each requirement against D (the chain's central scope) as known by the end of the next
    year's first quarter, revised D beside it; 2025: 19.36 (2026-03-31) against 19.24, 2024: 3.59 (2025-03-31)
    against 5.59 (each vintage's noise levels and measurement scale estimated on the disclosures then public)."""
    table = base.required_by_year.set_index("year")
    assert table.loc[2025, "cutoff"] == "2026-03-31" and table.loc[2024, "cutoff"] == "2025-03-31"
    assert table.loc[2025, "d_vintage_usd_bn"] == pytest.approx(19.36, abs=0.005)
    assert table.loc[2025, "d_revised_usd_bn"] == pytest.approx(19.24, abs=0.005)
    assert table.loc[2024, "d_vintage_usd_bn"] == pytest.approx(3.59, abs=0.005)
    assert table.loc[2024, "d_revised_usd_bn"] == pytest.approx(5.59, abs=0.005)
    for method in demand.METHODS:
        for when in ("vintage", "revised"):
            assert table[f"{method}_ratio_{when}"].equals(table[f"d_{when}_usd_bn"] / table[f"{method}_usd_bn"])
    summary = base.summary()
    assert summary["d_vintage_2025_usd_bn"] == pytest.approx(19.36, abs=0.01)
    assert summary["d_revised_2025_usd_bn"] == summary["actual_usd_bn"]
    heads = {h.key: h for h in base.headlines()}
    assert not heads["d_vintage_2025_usd_bn"].detail and heads["d_revised_2025_usd_bn"].detail


def test_actual_revenue_is_net_external_revenue_not_a_double_count(base):
    d = base.downstream.d["d_usd_bn"]
    earned = d[d.index.year == base.year].mean()
    assert base.requirements.set_index("method").loc["capital_recovery", "actual_usd_bn"] == pytest.approx(earned)


def test_no_p_value_is_recorded_as_zero(base):
    # the primary p-value is a Monte Carlo one, (1 + k) / (1 + B) with k of the B null draws at least as large
    from valuechain.stats.closing import BOOTSTRAP_DRAWS

    k = base.summary()["primary_p_value"] * (1 + BOOTSTRAP_DRAWS) - 1
    assert k == pytest.approx(round(k)) and 0 <= round(k) <= BOOTSTRAP_DRAWS
    table = base.secondary.table()
    assert (table["pvalue"] > 0).all()
    # Holm's step-down only raises a p-value, and caps it at 1
    assert (table["pvalue_holm"] >= table["pvalue"]).all() and (table["pvalue_holm"] <= 1).all()
    assert table["nobs"].notna().all()


def test_headlines_declare_labels_units_and_periods(base):
    heads = base.headlines()
    assert len({h.key for h in heads}) == len(heads)
    assert all(h.label and h.unit for h in heads)
    assert set(base.summary()) >= {h.key for h in heads}


def test_results_carry_their_sources(base, ds):
    assert set(base.sources) <= set(ds.sources["source_id"])
    assert set(base.downstream.sources) <= set(base.sources)


@pytest.mark.notebooks  # the slow layer: two more scenarios' whole analyses
def test_scenarios_differ_in_the_projection(ds):
    """Bull's capex keeps compounding, bear's is cut: R* grows faster over the projection in bull, though
    bear's shorter lives, higher return and lower margin put its level higher; each band holds its path."""
    bull = demand.demand_gap(load_scenario("bull"), ds)
    bear = demand.demand_gap(load_scenario("bear"), ds)

    def growth(result):
        return result.projection["required_usd_bn"].iloc[-1] / result.projection["required_usd_bn"].iloc[0]

    assert growth(bull) > growth(bear) > 1
    assert bear.projection["required_usd_bn"].iloc[-1] > bull.projection["required_usd_bn"].iloc[-1]
    for result in (bull, bear):
        p = result.projection
        assert (p["required_low_usd_bn"] <= p["required_usd_bn"]).all() and (p["required_usd_bn"] <= p["required_high_usd_bn"]).all()


def test_demand_notebook_records_what_the_library_returns(executed_outputs, ds):
    out, metrics = executed_outputs / "base" / "02_demand_gap.ipynb", executed_outputs / "base" / "02_demand_gap.json"
    gap = demand.demand_gap(load_scenario("base"), ds)
    expected = json.loads(notebook.to_json(gap.summary()))
    recorded = json.loads(metrics.read_text())
    assert notebook.figures_only(recorded) == expected and recorded == outputs.collect(out)
    assert [h["key"] for h in recorded[notebook.HEADLINES_KEY]] == [h.key for h in gap.headlines()]
    markdown = ["".join(o.get("data", {}).get("text/markdown", "")) for cell in json.loads(out.read_text())["cells"]
                for o in cell.get("outputs", [])]
    assert any(markdown) and not any("$" in text for text in markdown)  # a $ would start maths on the page


def test_every_secondary_test_and_the_primary_share_one_shape(base):
    from valuechain.stats.inference import TestResult

    tests = {**base.secondary.tests(), "primary": base.closing.test}
    assert all(isinstance(t, TestResult) and t.null and t.alternative and t.method for t in tests.values())
    table = base.secondary.table().set_index("key")
    for key, test in base.secondary.tests().items():
        assert table.loc[key, "pvalue"] == test.pvalue and table.loc[key, "nobs"] == test.nobs
    c = base.closing
    assert (c.test.statistic, c.test.pvalue, c.test.nobs, c.test.df) == (c.t_stat, c.p_value, c.n, c.dof)
    assert (table["pvalue_holm"] >= table["pvalue"]).all() and base.secondary.holm == table["pvalue_holm"].to_dict()


def test_bull_and_bear_move_the_demand_gap_the_way_their_titles_claim(ds):
    """Bear ("capex outruns profit") needs more revenue per dollar of capital and so covers less of it;
    bull ("demand catches up") the reverse: D/R* orders bear < base < bull, and R* the other way."""
    from valuechain.model import engine
    from valuechain.model.inputs import build as build_inputs

    ratio, required, d = {}, {}, {}
    for name in ("bear", "base", "bull"):
        inp = build_inputs(load_scenario(name), ds)
        out = engine.evaluate(inp, inp.theta())
        ratio[name], required[name], d[name] = float(out.d_over_required[0]), float(out.capital_recovery[0]), inp.d_last
    assert ratio["bear"] < ratio["base"] < ratio["bull"]
    assert required["bear"] > required["base"] > required["bull"]
    assert d["bear"] == d["base"] == d["bull"]  # the same disclosures: the ratio moves through R* alone


def test_the_elasticity_of_d_on_ai_capex_is_uninformative_on_the_bundled_data(base):
    """Six quarterly changes and two degrees of freedom: the pipeline bootstrap's widest null gives a critical
    value near t(2)'s, and the test detects a proportional response with power well under 0.8."""
    from valuechain.report import narrative

    ai = base.secondary.ai_elasticity
    assert (ai.nobs, ai.df) == (6, 2)
    assert ai.estimate == pytest.approx(-0.1473, abs=1e-3)  # D estimated on the disclosures, held past each series' end
    assert ai.interval[0] < 0 < ai.interval[1]
    assert ai.critical == pytest.approx(ai.worlds["critical"].max())
    assert ai.interval == pytest.approx((ai.estimate - ai.critical * ai.se, ai.estimate + ai.critical * ai.se))
    assert ai.mde > 1.0 and ai.power_at_one < 0.8 and not ai.informative
    assert (ai.worlds["coverage"] >= 0.899).all()  # the reported interval covers 0 in every null world
    text = narrative.demand_regression(base)
    assert text.startswith("**The elasticity of D to AI capex 3 quarters earlier is uninformative")
    assert text.index("interval") < text.index("p = ")  # the interval before any p-value


def test_the_suppliers_panel_is_in_the_holm_family(base):
    s = base.secondary
    p = s.supplier_panel
    assert "supplier_panel" in s.tests() and 0 < s.holm["supplier_panel"] <= 1
    assert set(p.companies["company_id"]) == {"adobe_ai_first_arr", "anthropic_revenue", "cursor_arr", "lovable_arr",
                                              "openai_revenue", "palantir_us_commercial", "salesforce_data_cloud_ai_arr"}
    assert p.quarters == 13 and p.pooled.df == 2 and p.pooled.nobs == int(p.companies["n"].sum())
    assert p.pooled.estimate == pytest.approx(0.2744, abs=1e-3)
    assert p.pooled.interval[0] < 0 < p.pooled.interval[1]
    # every series in the panel has its suppliers, each pair with a basis
    assert set(p.companies["company_id"]) <= set(s.supplier_world.links["series_id"])


def test_the_suppliers_panel_is_measured_on_its_null_worlds(base):
    """499 draws a world: at a true 0.05 the binomial s.e. is 0.010, so 0.10 (the project's bound) is five s.e.
    above. The 90% interval covers 0.89-0.91 across the worlds (binomial s.e. 0.013), within 0.05 of its level in
    every world; the page states the range."""
    from valuechain.model.demand import NULL_WORLDS
    from valuechain.report import narrative

    cal = base.secondary.supplier_calibration
    assert list(cal["world"]) == list(NULL_WORLDS) and (cal["draws"] == 499).all()
    assert (cal["size"] <= 0.10).all() and (cal["size"] > 0).all()
    assert (cal["coverage"] >= 0.85).all() and (cal["coverage"] <= 0.95).all()
    assert f"covers the true 0 in {cal['coverage'].min():.0%} to {cal['coverage'].max():.0%}" in \
        narrative.demand_regression(base)
    # it detects a small elasticity at the scenario's noise levels; three times the growth noise quadruples the MDE
    assert cal.iloc[0]["mde"] == pytest.approx(0.12, abs=0.01) and cal["mde"].max() == pytest.approx(0.53, abs=0.01)
    text = narrative.demand_regression(base)
    panel = text.split("\n\n")[1]
    assert panel.index("interval") < panel.index("p = ")
    assert f"{cal['size'].min():.0%} to {cal['size'].max():.0%}" in panel


def test_the_demand_charts_cite_only_what_they_draw(base, ds):
    """D against R* rests on the disclosures, the spenders' filed and guided capex and the projection's bound: its
    source line names those, not the regressions' or the published bars' sources."""
    assert set(base.demand_sources) < set(base.sources)
    assert set(base.downstream.sources) <= set(base.demand_sources)
    assert not {"sequoia_2023", "sequoia_2024", "bain_2025"} & set(base.demand_sources)


def _pattern_reference(d, series):
    """The disclosure pattern series by series, as :func:`demand._pattern` defines it."""
    obs = d.observations[d.observations["series_id"].isin(list(series))]
    quarters = pd.period_range(min(obs["quarter"].min(), d.series.index[0]), d.series.index[-1], freq="Q")
    position = {q: i for i, q in enumerate(quarters)}
    variance = np.full((len(series), len(quarters)), np.nan)
    windows, levels, slopes = [], [], []
    for i, sid in enumerate(series):
        rows = obs[(obs["series_id"] == sid) & obs["quarter"].isin(quarters)]
        precision = (1.0 / rows["variance"]).groupby(rows["quarter"]).sum()
        variance[i, [position[q] for q in precision.index]] = 1.0 / precision.to_numpy()
        first = rows["quarter"].min()
        windows.append((position[first], position[d.series[sid].last_valid_index()]))
        first_rows = rows[rows["quarter"] == first]
        levels.append(float((first_rows["log_value"] / first_rows["variance"]).sum() / (1 / first_rows["variance"]).sum()))
        growth = np.log(d.series[sid].dropna()).diff().dropna()
        slopes.append(float(growth.mean()) if len(growth) else 0.0)
    return quarters, windows, variance, levels, slopes


def test_the_disclosure_pattern_is_each_series_own_bit_for_bit(base, base_scenario):
    """The pattern the elasticity's and the suppliers' nulls are simulated on, for D's series and for a subset."""
    included = demand._included(base.downstream)
    for series in (included, included[::3]):
        pattern = demand._pattern(base.downstream, series, base_scenario)
        quarters, windows, variance, levels, slopes = _pattern_reference(base.downstream, series)
        assert pattern.quarters.equals(quarters) and pattern.windows == tuple(windows)
        assert np.array_equal(pattern.variance, variance, equal_nan=True)
        assert list(pattern.start_level) == levels and list(pattern.start_slope) == slopes


def test_the_disclosure_pattern_counts_a_missing_value_for_nothing_as_pandas_does(base, base_scenario):
    """A NaN in a disclosure's value or variance, or a smoothed level with no log, counts as pandas' sums count it."""
    d = base.downstream
    obs = d.observations.copy()
    first = obs["quarter"] == obs.groupby("series_id")["quarter"].transform("min")
    openai = obs.index[first & (obs["series_id"] == "openai_revenue")]  # three disclosures in its first quarter
    cursor = obs.index[first & (obs["series_id"] == "cursor_arr")]  # two
    obs.loc[openai[0], "log_value"] = np.nan
    obs.loc[cursor[0], "variance"] = np.nan
    series = d.series.copy()
    anthropic = series["anthropic_revenue"].dropna().index
    series.loc[anthropic[2], "anthropic_revenue"] = -1.0  # no log: the two growths beside it are NaN
    broken = dataclasses.replace(d, observations=obs, series=series)
    included = demand._included(broken)
    with np.errstate(invalid="ignore"):
        pattern = demand._pattern(broken, included, base_scenario)
        quarters, windows, variance, levels, slopes = _pattern_reference(broken, included)
    assert np.isfinite(pattern.start_level).all() and np.isfinite(pattern.start_slope).all()
    assert list(pattern.start_level) == levels and list(pattern.start_slope) == slopes
    assert np.array_equal(pattern.variance, variance, equal_nan=True)
    # the closed forms: a value missing keeps its precision in the weights, a variance missing drops the disclosure
    at = obs.loc[openai]
    want = (at["log_value"] / at["variance"]).iloc[1:].sum() / (1 / at["variance"]).sum()
    assert pattern.start_level[included.index("openai_revenue")] == pytest.approx(want, rel=1e-15)
    at = obs.loc[cursor[1]]
    assert pattern.start_level[included.index("cursor_arr")] == pytest.approx(at["log_value"], rel=1e-15)
    with np.errstate(invalid="ignore"):
        logs = np.log(series["anthropic_revenue"].dropna().to_numpy())
    steps = np.concatenate([logs[1:2] - logs[:1], logs[4:] - logs[3:-1]])
    assert pattern.start_slope[included.index("anthropic_revenue")] == pytest.approx(steps.mean(), rel=1e-14)
