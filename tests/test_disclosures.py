"""The disclosure panel: validation, netting of intra-chain flows, and no look-ahead."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import edit_csv
from valuechain.dataset import disclosures
from valuechain.model import downstream
from valuechain import load_dataset
from valuechain.exceptions import DataValidationError


def test_netting_on_a_small_closed_case():
    """A lab sells 10 to end users and pays 4 of it to a cloud whose AI revenue (6) includes that 4;
    an app sells 3 and pays 1 to the lab. External demand is 10 + 6 + 3 - 4 - 1 = 14."""
    q = pd.period_range("2025Q1", periods=2, freq="Q")
    levels = pd.DataFrame({"lab": [10.0, 10.0], "cloud": [6.0, 6.0], "app": [3.0, 3.0],
                           "lab_to_cloud": [4.0, 4.0], "app_to_lab": [1.0, np.nan], "neocloud": [2.0, 2.0]}, index=q)
    flows = {"lab": "final_demand", "cloud": "final_demand", "app": "final_demand", "lab_to_cloud": "intra_chain",
             "app_to_lab": "intra_chain", "neocloud": "intra_chain"}
    parents = {"lab_to_cloud": "cloud", "app_to_lab": "lab", "neocloud": ""}
    net = downstream.net_external(levels, flows, parents)
    assert list(net["net_usd_bn"]) == [14.0, 15.0]  # the app's payment is netted only where it is disclosed
    assert list(net["final_demand_usd_bn"]) == [19.0, 19.0]


def test_a_flow_never_removes_more_than_the_series_containing_it():
    q = pd.period_range("2025Q1", periods=1, freq="Q")
    levels = pd.DataFrame({"cloud": [3.0], "flow": [5.0]}, index=q)
    net = downstream.net_external(levels, {"cloud": "final_demand", "flow": "intra_chain"}, {"flow": "cloud"})
    assert net["net_usd_bn"].iloc[0] == 0.0


def test_chain_linking_removes_the_jump_when_a_series_enters():
    q = pd.period_range("2025Q1", periods=3, freq="Q")
    levels = pd.DataFrame({"a": [10.0, 11.0, 12.1], "b": [np.nan, np.nan, 50.0]}, index=q)
    index = downstream.chain_linked(levels, pd.Series({"a": 1.0, "b": 1.0}))
    assert index.iloc[-1] == pytest.approx(62.1)
    assert index.iloc[1] / index.iloc[0] == pytest.approx(1.1)  # growth of the series present in both quarters
    assert index.iloc[2] / index.iloc[1] == pytest.approx(1.1)


def test_bundled_panel_covers_ten_companies_from_2023q1_to_2026q2():
    ds = load_dataset()
    d = downstream.downstream(ds, "2023Q1", 0.05, 0.03)
    assert str(d.quarters[0]) == "2023Q1" and str(d.quarters[-1]) == "2026Q2"
    assert len(d.companies) >= 10  # final-demand disclosures from at least ten companies (issue #15)
    assert d.coverage["company_id"].nunique() >= 10
    assert d.d["d_usd_bn"].notna().all() and (d.d["low_usd_bn"] < d.d["d_usd_bn"]).all()
    # every disclosure names its source and basis
    assert d.observations["source_id"].ne("").all() and d.observations["basis"].ne("").all()


def test_real_time_series_uses_only_published_figures():
    """A figure published a year after its quarter cannot move that quarter's real-time value."""
    obs = pd.DataFrame({"series_id": "s", "flow": "final_demand", "netted_from": "",
                        "quarter": pd.PeriodIndex(["2025Q1", "2025Q2", "2025Q3"], freq="Q"),
                        "log_value": np.log([1.0, 2.0, 4.0]), "variance": 0.01,
                        "published": pd.to_datetime(["2025-03-31", "2026-06-30", "2025-09-30"])})
    fit = downstream.fit_series(obs, pd.Period("2025Q3", freq="Q"), 0.05, 0.03)
    # in 2025Q2 only the 2025Q1 figure was public: the real-time value is the prediction from it
    assert np.exp(fit.realtime_log_level[1]) == pytest.approx(1.0, rel=0.05)
    assert np.exp(fit.log_level[1]) == pytest.approx(2.0, rel=0.1)  # the smoothed value uses the late figure


@pytest.mark.parametrize("column, value, rule", [
    ("published", "2020-01-01", "no_look_ahead"),
    ("kind", "forecast", "known_kind"),
    ("source_id", "nowhere", "known_source"),
    ("value_usd_bn", "-1", "positive"),
])
def test_bad_rows_get_one_line_naming_file_row_and_fix(data_copy, column, value, rule):
    def edit(frame):
        frame.loc[frame["flow"] == "final_demand", column] = value
        return frame

    edit_csv(data_copy, "ai_revenue.csv", edit)
    ds = load_dataset(data_copy)
    with pytest.raises(DataValidationError) as err:
        disclosures.load(ds)
    message = str(err.value)
    assert message.startswith(f"ai_revenue.csv row 2, column {column}: rule '{rule}' failed") and "\n" not in message


def test_aggregated_disclosures_name_the_document_they_transcribe():
    """A figure read through an aggregator names the release, filing, call or report it copies."""
    ds = load_dataset()
    panel = disclosures.load(ds)
    sources = ds.sources.set_index("source_id").loc[panel["source_id"].unique()]
    aggregated = sources[sources["via_aggregator"] == "true"]
    assert len(aggregated) > 0
    assert aggregated["covers"].str.contains("Transcribes ").all()
    assert not aggregated["covers"].str.contains("named in the title").any()


def test_each_vintage_is_d_built_from_the_figures_then_published():
    """A vintage equals D rebuilt from the panel cut at its date, and uses nothing published later."""
    ds = load_dataset()
    panel = disclosures.load(ds)
    cutoffs = [pd.Period(q, freq="Q").end_time for q in ("2024Q4", "2025Q2", "2026Q1")]
    vintages = downstream.vintages(panel, cutoffs, "2023Q1", 0.05, 0.03)
    assert [v.cutoff for v in vintages] == cutoffs
    for v in vintages:
        cut = panel[panel["published"] <= v.cutoff]
        rebuilt = downstream.downstream(ds, "2023Q1", 0.05, 0.03, panel=cut).d
        assert v.d.index.equals(rebuilt.index)
        np.testing.assert_allclose(v.d["d_usd_bn"], rebuilt["d_usd_bn"], rtol=1e-10)
        assert list(v.d["series_present"]) == list(rebuilt["series_present"])
        np.testing.assert_allclose(v.d["disclosed_sum_usd_bn"], rebuilt["disclosed_sum_usd_bn"], rtol=1e-10)
        for flag in ("series_linked_back", "series_carried", "imputed"):
            assert list(v.d[flag]) == list(rebuilt[flag]), flag
        assert v.last_published <= v.cutoff
        assert v.disclosures == (cut["flow"] != "market_total").sum()
    # the 2024Q4 vintage ends where the figures then published ended, before the later vintages
    assert vintages[0].d.index[-1] < vintages[1].d.index[-1] < vintages[2].d.index[-1]


def test_market_check_sets_annual_d_against_the_survey_totals():
    """The year's D is the mean of its four annualized quarters; the ratio is D over the total of that year."""
    ds = load_dataset()
    d = downstream.downstream(ds, "2023Q1", 0.05, 0.03)
    check = downstream.market_check(d).set_index("year")
    totals = d.observations[d.observations["flow"] == "market_total"]
    full_years = [y for y, n in d.d.groupby(d.d.index.year).size().items() if n == 4]
    expected_years = sorted(set(totals["as_of"].dt.year) & set(full_years))
    assert list(check.index) == expected_years and expected_years
    for year, row in check.iterrows():
        annual = d.d.loc[d.d.index.year == year, "d_usd_bn"].mean()
        total = totals.loc[totals["as_of"].dt.year == year].sort_values("published")["value_usd_bn"].iloc[-1]
        assert row["d_usd_bn"] == pytest.approx(annual)
        assert row["total_usd_bn"] == pytest.approx(total)
        assert row["ratio"] == pytest.approx(annual / total)
        assert row["fewest_series"] == d.d.loc[d.d.index.year == year, "series_present"].min()
    assert np.isnan(check["d_growth"].iloc[0])
    if len(check) > 1:
        assert check["d_growth"].iloc[1] == pytest.approx(check["d_usd_bn"].iloc[1] / check["d_usd_bn"].iloc[0])


def test_market_totals_never_enter_d():
    """D built with the market totals removed from the panel is the same D."""
    ds = load_dataset()
    panel = disclosures.load(ds)
    with_totals = downstream.downstream(ds, "2023Q1", 0.05, 0.03, panel=panel)
    without = downstream.downstream(ds, "2023Q1", 0.05, 0.03, panel=panel[panel["flow"] != "market_total"])
    pd.testing.assert_series_equal(with_totals.d["d_usd_bn"], without.d["d_usd_bn"])


