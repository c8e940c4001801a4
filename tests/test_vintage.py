"""D as known at the time (its vintage) beside D revised to date, the plain sums and the imputed quarters."""
import numpy as np
import pandas as pd
import pytest

from valuechain.model import downstream

START = "2023Q1"
SMOOTHING = (0.05, 0.03)  # level and slope s.d. of the local linear trend
# The smoother starts from a large but finite variance, so a constant-growth path comes back within about 1e-4
# of its disclosures; the tolerances (1e-3) are far below any series entering or leaving a year (over 10%).


def _series(series_id, quarters, log_levels, published):
    """A final-demand series disclosed as quarterly revenue: annualized level exp(log_level), published on ``published``."""
    return pd.DataFrame({"series_id": series_id, "company_id": series_id, "product": series_id,
                         "as_of": [q.end_time.normalize() for q in quarters], "published": pd.to_datetime(published),
                         "value_usd_bn": np.exp(log_levels) / 4, "kind": "quarterly_revenue", "flow": "final_demand",
                         "netted_from": "", "basis": "reported", "definition": "d", "source_id": "x", "note": ""})


def _month_after(quarters):
    return [q.end_time.normalize() + pd.Timedelta(days=30) for q in quarters]


# A is disclosed from 2023Q1, a month after each quarter, growing 10% a quarter from 4 a year.
A_QUARTERS = pd.period_range("2023Q1", "2025Q4", freq="Q")
A_LOG = np.log(4.0) + np.log(1.10) * np.arange(len(A_QUARTERS))
# B is disclosed from 2024Q3 (level 20 a year, growing 5% a quarter); its 2024 quarters are first published in
# June 2025, after 2024's cutoff (31 March 2025), its 2025 quarters a month after each.
B_QUARTERS = pd.period_range("2024Q3", "2025Q4", freq="Q")
B_LOG = np.log(20.0) + np.log(1.05) * np.arange(len(B_QUARTERS))
B_PUBLISHED = [pd.Timestamp("2025-06-15")] * 2 + _month_after(B_QUARTERS[2:])


@pytest.fixture(scope="module")
def panel():
    return pd.concat([_series("a", A_QUARTERS, A_LOG, _month_after(A_QUARTERS)),
                      _series("b", B_QUARTERS, B_LOG, B_PUBLISHED)], ignore_index=True)


@pytest.fixture(scope="module")
def revised(panel):
    return downstream.downstream(None, START, *SMOOTHING, panel=panel)


@pytest.fixture(scope="module")
def known(panel, revised):
    return downstream.known_by_year(revised.d, panel, [2024, 2025], START, *SMOOTHING).set_index("year")


def _a(quarter):
    return 4.0 * 1.10 ** (pd.Period(quarter, freq="Q") - A_QUARTERS[0]).n


def _b(quarter):
    return 20.0 * 1.05 ** (pd.Period(quarter, freq="Q") - B_QUARTERS[0]).n


def test_a_years_cutoff_is_the_end_of_the_first_quarter_after_it():
    assert downstream.vintage_cutoff(2025) == pd.Timestamp("2026-03-31")
    assert downstream.vintage_cutoff(2024, lag_quarters=0) == pd.Timestamp("2024-12-31")


def test_a_series_first_published_after_the_cutoff_stays_out_of_the_vintage(known):
    """As known on 31 March 2025, 2024 is A alone: the mean of its four annualized quarters."""
    a_2024 = np.mean([_a(f"2024Q{i}") for i in range(1, 5)])
    assert known.loc[2024, "cutoff"] == "2025-03-31"
    assert known.loc[2024, "d_vintage_usd_bn"] == pytest.approx(a_2024, rel=1e-3)
    assert known.loc[2024, "d_vintage_disclosed_sum_usd_bn"] == pytest.approx(a_2024, rel=1e-3)
    assert known.loc[2024, "d_vintage_imputed_quarters"] == 0  # A was disclosed in every quarter of 2024


def test_the_revised_year_carries_the_late_series_back_by_the_others_growth(known):
    """Revised, 2024Q3-Q4 are A + B; 2024Q1-Q2 are 2024Q3's A + B carried back by A's growth (B not yet disclosed)."""
    q3 = _a("2024Q3") + _b("2024Q3")
    levels = [q3 / 1.10 ** 2, q3 / 1.10, q3, _a("2024Q4") + _b("2024Q4")]
    plain = [_a("2024Q1"), _a("2024Q2"), q3, _a("2024Q4") + _b("2024Q4")]
    assert known.loc[2024, "d_revised_usd_bn"] == pytest.approx(np.mean(levels), rel=1e-3)
    assert known.loc[2024, "d_revised_disclosed_sum_usd_bn"] == pytest.approx(np.mean(plain), rel=1e-3)
    assert known.loc[2024, "d_revised_imputed_quarters"] == 2
    assert known.loc[2024, "d_revised_over_vintage"] == pytest.approx(np.mean(levels) / np.mean(plain[:2] + [
        _a("2024Q3"), _a("2024Q4")]), rel=1e-3)


def test_a_year_whose_figures_were_all_public_by_its_cutoff_is_not_revised(known):
    both = np.mean([_a(f"2025Q{i}") + _b(f"2025Q{i}") for i in range(1, 5)])
    assert known.loc[2025, "d_vintage_usd_bn"] == pytest.approx(both, rel=1e-3)
    assert known.loc[2025, "d_revised_usd_bn"] == pytest.approx(both, rel=1e-3)
    assert known.loc[2025, "d_revised_over_vintage"] == pytest.approx(1.0, rel=1e-9)


def test_the_imputed_flag_marks_exactly_the_quarters_linked_back(revised):
    d = revised.d
    before_b = d.index < B_QUARTERS[0]
    assert list(d["imputed"]) == list(before_b)
    assert list(d["series_linked_back"]) == list(before_b.astype(int))
    assert (d["series_carried"] == 0).all()
    # where nothing is imputed the chain-linked level is the plain sum
    np.testing.assert_allclose(d.loc[~before_b, "d_usd_bn"], d.loc[~before_b, "disclosed_sum_usd_bn"], rtol=1e-9)
    assert (d.loc[before_b, "d_usd_bn"] > d.loc[before_b, "disclosed_sum_usd_bn"]).all()


def test_the_plain_sum_is_the_sum_of_the_disclosed_annualized_values(panel, revised):
    obs = downstream.observations(panel)
    disclosed = obs.groupby("quarter")["annualized_usd_bn"].sum()
    np.testing.assert_allclose(revised.d["disclosed_sum_usd_bn"], disclosed.reindex(revised.d.index), rtol=1e-3)


def test_a_series_past_its_last_disclosure_is_flagged_carried(panel):
    """C stops after 2025Q2: its filter prediction carries it through 2025Q3-Q4, which are imputed."""
    quarters = pd.period_range("2023Q1", "2025Q2", freq="Q")
    c = _series("c", quarters, np.log(2.0) + 0.02 * np.arange(len(quarters)), _month_after(quarters))
    d = downstream.downstream(None, START, *SMOOTHING, panel=pd.concat([panel, c], ignore_index=True)).d
    carried = d.index > pd.Period("2025Q2", freq="Q")
    assert list(d["series_carried"]) == list(carried.astype(int))
    assert list(d["imputed"]) == list(carried | (d.index < B_QUARTERS[0]))


def test_a_year_the_public_series_do_not_cover_has_no_vintage(panel, revised):
    """On 31 March 2024 no series covers 2022, so 2022's vintage does not exist; the revised value is NaN too."""
    known = downstream.known_by_year(revised.d, panel, [2022, 2023], START, *SMOOTHING).set_index("year")
    assert np.isnan(known.loc[2022, "d_vintage_usd_bn"]) and np.isnan(known.loc[2022, "d_revised_over_vintage"])
    assert known.loc[2023, "d_vintage_usd_bn"] == pytest.approx(np.mean([_a(f"2023Q{i}") for i in range(1, 5)]),
                                                               rel=1e-3)


def test_bundled_data_2025_and_2024_as_known_then_and_revised(ds):
    """The panel as disclosed (every final-demand series, only the disclosed flows netted): 2025 is USD 27.4bn as
    known on 2026-03-31 and 50.3bn on every disclosure to date. 2024 is 13.0bn as known on 2025-03-31, anchored in
    2024Q4, the vintage's widest quarter (OpenAI's last public figure then was June 2024, so the vintage's 2025Q1
    holds neither lab and OpenAI is held flat in its third and fourth quarters), and 16.0bn to date."""
    from valuechain.dataset import disclosures

    panel = disclosures.load(ds)
    revised = downstream.downstream(ds, START, *SMOOTHING, panel=panel)
    known = downstream.known_by_year(revised.d, panel, [2023, 2024, 2025], START, *SMOOTHING).set_index("year")
    assert list(known["cutoff"]) == ["2024-03-31", "2025-03-31", "2026-03-31"]
    assert known.loc[2025, "d_vintage_usd_bn"] == pytest.approx(27.35, abs=0.05)
    assert known.loc[2025, "d_revised_usd_bn"] == pytest.approx(50.35, abs=0.05)
    assert known.loc[2024, "d_vintage_usd_bn"] == pytest.approx(13.01, abs=0.05)
    assert known.loc[2024, "d_revised_usd_bn"] == pytest.approx(15.96, abs=0.05)
    assert np.isnan(known.loc[2023, "d_vintage_usd_bn"])  # Palantir and OpenAI's run-rate do not link through 2023
    later = downstream.known_by_year(revised.d, panel, [2024], START, *SMOOTHING, lag_quarters=5)
    assert later["cutoff"].iloc[0] == "2026-03-31" and later["d_vintage_usd_bn"].iloc[0] == pytest.approx(9.56, abs=0.05)


def test_the_chain_s_central_d_as_known_then_and_revised(ds, base_scenario):
    """The primary D (the chain's central scope): 2024 is USD 3.6bn as known on 2025-03-31 (OpenAI held flat after
    June 2024) and 5.6bn to date; 2025 is 19.4bn as known on 2026-03-31 and 19.2bn to date (the labs' run-rates published by then already
    covered the year)."""
    from valuechain.dataset import disclosures

    panel = disclosures.load(ds)
    d = downstream.of_scenario(base_scenario, ds, panel)
    known = downstream.known_by_year(d.d, panel, [2024, 2025], START, *SMOOTHING, accounting=d.accounting,
                                     scope=d.scope).set_index("year")
    assert known.loc[2024, "d_vintage_usd_bn"] == pytest.approx(3.58, abs=0.005)
    assert known.loc[2024, "d_revised_usd_bn"] == pytest.approx(5.59, abs=0.005)
    assert known.loc[2025, "d_vintage_usd_bn"] == pytest.approx(19.37, abs=0.005)
    assert known.loc[2025, "d_revised_usd_bn"] == pytest.approx(19.24, abs=0.005)


def test_the_chain_link_anchors_at_the_quarter_with_the_most_revenue_present():
    """A vintage whose last quarter lost a series (A, 10 then gone) is anchored where coverage is widest: 2024Q2
    holds A and B (10 + 2); 2024Q3 moves by B's growth alone (2 -> 3), not rescaled to B's level."""
    levels = pd.DataFrame({"a": [8.0, 10.0, np.nan], "b": [1.0, 2.0, 3.0]},
                          index=pd.period_range("2024Q1", "2024Q3", freq="Q"))
    index = downstream.chain_linked(levels, pd.Series({"a": 1.0, "b": 1.0}))
    assert list(index) == pytest.approx([9.0, 12.0, 12.0 * 3.0 / 2.0])
