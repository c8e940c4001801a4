"""The seed claims' verdicts: the rule on constructed cases (each verdict), the checks of
seed_claims.csv, and on the bundled data the verdicts issue 30 asks for."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import edit_csv, set_cell
from valuechain.dataset import load_dataset, seed_claims
from valuechain.exceptions import DataValidationError
from valuechain.model import claims
from valuechain.model.claims import verdict
from valuechain.report import narrative, tables

JAN, APR, JUL = pd.Timestamp("2026-01-31"), pd.Timestamp("2026-04-30"), pd.Timestamp("2026-07-31")


# ------------------------------------------------------------------ the rule, one case per verdict


def test_no_figure_is_untestable():
    assert verdict(24.4, "point", 0.01, []).verdict == "untestable"


@pytest.mark.parametrize("seed", [24.4, 24.4 * 1.0099, 24.4 * 0.9901])
def test_within_the_tolerance_of_the_latest_figure_matches(seed):
    v = verdict(seed, "point", 0.01, [(24.4, APR)])
    assert (v.verdict, v.best_low, v.best_date) == ("matches", 24.4, APR)


def test_just_outside_the_tolerance_differs():
    assert verdict(24.4 * 1.0101, "point", 0.01, [(24.4, APR)]).verdict == "differs"
    assert verdict(0.57, "point", 0.05, [(5.7, APR)]).verdict == "differs"  # a tenfold slip


def test_matching_only_a_superseded_figure_is_stale():
    v = verdict(30, "point", 0.05, [(65, JUL), (30, JAN), (47, APR)])
    assert (v.verdict, v.best_low, v.best_date, v.matched_date) == ("stale", 65, JUL, JAN)


def test_a_bound_the_best_figure_does_not_reach_is_unsupported():
    v = verdict(75_000, "at_least", 0.05, [(69_340, JAN), (69_500, JAN)])  # two figures of one date: a range
    assert (v.verdict, v.best_low, v.best_high) == ("unsupported", 69_340, 69_500)
    assert verdict(10, "at_most", 0.05, [(12, JAN)]).verdict == "unsupported"


def test_a_bound_the_best_figure_keeps_matches_unless_an_earlier_figure_is_the_claims_own():
    assert verdict(75_000, "at_least", 0.05, [(80_000, JAN)]).verdict == "matches"
    assert verdict(10, "at_most", 0.05, [(8, JAN)]).verdict == "matches"
    # "over 500" still holds at 1,000, but 500 was February's count, which April's supersedes.
    assert verdict(500, "at_least", 0.05, [(500, JAN), (1000, APR)]).verdict == "stale"


def test_a_claim_inside_a_range_of_the_latest_date_matches_and_one_beyond_it_differs():
    assert verdict(0.0284, "point", 0.0, [(0.028, JAN), (0.0287, JAN)]).verdict == "matches"
    assert verdict(0.04, "point", 0.10, [(0.028, JAN), (0.0287, JAN)]).verdict == "differs"


def test_the_best_figure_is_the_latest_whatever_the_order_given():
    figures = [(47, APR), (9, JAN)]
    assert verdict(47, "point", 0.0, figures).verdict == verdict(47, "point", 0.0, figures[::-1]).verdict == "matches"


# ------------------------------------------------------------------ the bundled data


@pytest.fixture(scope="module")
def judged():
    return claims.judge(load_dataset())


@pytest.mark.parametrize("fact_id, expected", [
    ("dell_orders", "matches"),  # Dell's Q1 fiscal 2027 release, not the Q4 fiscal 2026 figure
    ("dell_ai_server_growth", "matches"),
    ("dell_cash_flow", "matches"),
    ("nvidia_quarter_op_profit", "matches"),
    ("openai_q1_revenue", "differs"),  # USD 570 million against about USD 5.7bn
    ("us_market_cap_total", "unsupported"),  # "has surpassed USD 75 trillion" against 69.3-69.5 trillion
    ("china_chips_mcap_vs_nvidia", "differs"),  # 4% against 2.8-2.9%
    ("anthropic_million_dollar_customers", "stale"),  # "over 500" against "over 1,000" in April 2026
    ("anthropic_run_rate_seed", "stale"),
    ("openai_run_rate_seed", "stale"),
    ("spacex_valuation_target_low", "untestable"),
])
def test_the_issue_cases_get_their_verdicts(judged, fact_id, expected):
    assert judged.table.set_index("fact_id").loc[fact_id, "verdict"] == expected


def test_the_figures_behind_the_issue_cases(judged):
    table = judged.table.set_index("fact_id")
    assert table.loc["openai_q1_revenue", "best_low"] == pytest.approx(5.7)
    assert table.loc["us_market_cap_total", ["best_low", "best_high"]].tolist() == [69_340, 69_500]
    assert 0.024 <= table.loc["china_chips_mcap_vs_nvidia", "best_low"] <= table.loc["china_chips_mcap_vs_nvidia", "best_high"] <= 0.032
    assert table.loc["anthropic_million_dollar_customers", "best_low"] == 1000
    assert table.loc["anthropic_million_dollar_customers", "best_date"] == pd.Timestamp("2026-04-07")
    assert table.loc["dell_orders", "best_date"] == pd.Timestamp("2026-04-30")  # fiscal 2027 Q1


def test_the_two_run_rates_say_they_are_on_different_definitions(judged):
    table = judged.table.set_index("fact_id")
    assert "Gross" in table.loc["anthropic_run_rate_seed", "definition"]
    assert "Net of Microsoft" in table.loc["openai_run_rate_seed", "definition"]


def test_every_seed_claim_has_one_row_and_every_untestable_one_a_reason(judged):
    ds = load_dataset()
    seeds = set(ds.facts.loc[ds.facts["source_id"].isin(seed_claims.SEED_SOURCES), "fact_id"])
    assert set(judged.table["fact_id"]) == seeds and judged.table["fact_id"].is_unique
    assert judged.table["reason"].str.len().gt(0).all()
    assert sum(judged.counts().values()) == len(judged.table)


def test_the_sentence_and_the_table_read_the_counts(judged):
    counts = judged.counts()
    sentence = narrative.seed_claims_summary(judged)
    assert f"Of the {len(judged.table)} quantitative claims" in sentence
    assert f"{counts['matches']} match" in sentence and f"{counts['untestable']} cannot be tested" in sentence
    table = tables.seed_claims(judged, "Source: x")
    assert len(table.rows) == len(judged.table)
    verdicts = [row[[c.key for c in table.columns].index("verdict")] for row in table.rows]
    assert verdicts == sorted(verdicts, key=claims.VERDICTS.index)  # the testable claims first


# ------------------------------------------------------------------ the file's checks


def _claims_edit(fact_id, column, value):
    return set_cell("fact_id", fact_id, column, value)


@pytest.mark.parametrize("edit, expected", [
    (_claims_edit("dell_orders", "compared_with", "fact:no_such_fact"),
     r"^seed_claims.csv row \d+, column compared_with: rule 'known_figure' failed for 'fact:no_such_fact'; no row 'no_such_fact' in facts.csv"),
    (_claims_edit("dell_orders", "compared_with", "financials:dell/quarter/FY2031Q1/ai_server_orders"),
     r"^seed_claims.csv row \d+, column compared_with: rule 'known_figure'.*no row dell quarter FY2031Q1 ai_server_orders"),
    (_claims_edit("dell_orders", "compared_with", "fact:dell_ai_server_revenue_growth_fy2027q1"),
     r"^seed_claims.csv row \d+, column compared_with: rule 'same_unit'.*in ratio, the claim in usd_bn"),
    (_claims_edit("dell_orders", "compared_with", "dell orders"), r"^seed_claims.csv row \d+, column compared_with: rule 'comparison_format'"),
    (_claims_edit("dell_orders", "form", "roughly"), r"^seed_claims.csv row \d+, column form: rule 'known_form'"),
    (_claims_edit("dell_orders", "tolerance", "5"), r"^seed_claims.csv row \d+, column tolerance: rule 'share_in_0_1'"),
    (_claims_edit("dell_orders", "fact_id", "sequoia_2024_required"), r"^seed_claims.csv row \d+, column fact_id: rule 'seed_fact'"),
    (lambda f: f[f["fact_id"] != "dell_orders"], r"^seed_claims.csv header, column fact_id: rule 'every_claim' failed for 'dell_orders'"),
])
def test_a_bad_claims_row_is_refused_in_one_line(data_copy, edit, expected):
    edit_csv(data_copy, "seed_claims.csv", edit)
    with pytest.raises(DataValidationError, match=expected) as info:
        claims.judge(load_dataset(data_copy))
    assert "\n" not in str(info.value)


def test_the_verdict_follows_the_data_not_the_file(data_copy):
    # Change the comparison figure and the verdict changes: nothing in seed_claims.csv is a verdict.
    def edit(frame):
        frame.loc[(frame["company_id"] == "dell") & (frame["fiscal_period"] == "FY2027Q1") & (frame["metric"] == "ai_server_orders"),
                  "value_usd_bn"] = "34.1"
        return frame
    edit_csv(data_copy, "financials.csv", edit)
    assert claims.judge(load_dataset(data_copy)).table.set_index("fact_id").loc["dell_orders", "verdict"] == "differs"
