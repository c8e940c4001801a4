"""Generated text: the scenario header shows user text as text; the demand-gap sentences follow the data."""
import html
import re
from types import SimpleNamespace

import pytest

from valuechain.escape import markdown_text
from valuechain.report import narrative

PAYLOADS = [
    "<script>alert('t')</script><img src=x onerror=alert(1)>",
    "[click me](javascript:alert(document.cookie))",
    "<javascript:alert(1)> <a href=\"javascript:alert(1)\">x</a>",
    "# heading\n- list item\n\n```\ncode\n```",
    "*stars* _underscores_ `code` $x^2$ \\(math\\) &amp; &lt; 5 < 6 > 4 & done",
    "![img](x onerror=alert(1)) <style>body{display:none}</style> | a | b |",
    "unicode: Ünïcødé — 株式会社 🚀",
]


def _render(markdown: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune  # the renderer the pages use

    return markdown2html_mistune(markdown)


@pytest.mark.parametrize("text", PAYLOADS)
def test_escaped_markdown_renders_as_exactly_the_text(text):
    rendered = _render(markdown_text(text))
    tags = re.findall(r"<(/?[a-zA-Z][^>]*)>", rendered)
    assert {t.split()[0].strip("/") for t in tags} <= {"p"}, tags  # no element but the paragraph
    assert html.unescape(re.sub(r"</?p>", "", rendered)).strip() == " ".join(text.split())


def test_scenario_header_escapes_title_and_description():
    scenario = SimpleNamespace(title=PAYLOADS[0], description=PAYLOADS[1])
    header = narrative.scenario_header(scenario, SimpleNamespace(vintage="2026Q1"))
    rendered = _render(header)
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "&lt;script&gt;" in rendered
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert f"Scenario: {PAYLOADS[0]}. {PAYLOADS[1]}" in text
    assert "Data vintage: filed figures through 2026Q1." in text
    assert "<strong>Scenario:</strong>" in rendered  # the header's own markup is kept


def test_ttm_summary_leads_with_the_twelve_months_and_says_what_is_missing(ds, base_pool):
    from valuechain.model import profit
    from valuechain.scenario.load import load_scenario

    pool = base_pool
    assert pool.ttm.end == "2026Q2"  # base reports the twelve months to 2026Q2
    text = narrative.ttm_summary(pool)
    lay = pool.ttm.layers.set_index("layer")
    assert text.startswith(f"**In the twelve months 2025Q3-2026Q2 chips captured {lay.loc['chips', 'profit_share']:.0%}")
    assert "$" not in text
    # Anthropic's July 2026 run-rate spans the twelve months; OpenAI's figures do not
    assert "No company in the apps layer has figures for these twelve months" in text
    calendar = profit.profit_pool(load_scenario("base", {"years": {"latest": "calendar_year"}}), ds)
    assert "reports calendar years only" in narrative.ttm_summary(calendar)


@pytest.fixture(scope="module")
def gap(base_gap):
    return base_gap


def test_limits_state_the_chain_s_assumed_flows_with_their_figures(gap):
    text = narrative.demand_limits(gap)
    flows = gap.flow_table("broad").set_index(["payer", "payee"])["usd_bn"]
    q = gap.closing.last_quarter
    assert f"in {q} the applications' payments to the labs come to USD {flows[('applications', 'labs')]:,.0f}bn" in text
    assert f"the labs' payments to the clouds to USD {flows[('labs', 'clouds')]:,.0f}bn (80% of theirs)" in text
    assert "upper bound" not in text and "counted twice" not in text and "$" not in text


def test_d_forecast_sentence_states_how_few_origins(gap):
    from valuechain.stats.regression import rmse_ratio

    f = gap.secondary.d_forecasts
    text = narrative.demand_realtime_forecasts(gap)
    assert len(f) >= 1
    assert f"{rmse_ratio(f):.2f} times the random walk with drift's (n = {len(f)} origins)" in text
    assert f"Only {len(f)} origins" in text and "not a test" in text
    assert (f["last_published"] <= f["origin"].map(lambda q: q.end_time)).all()


def test_market_check_sentence_gives_each_year_and_the_differences(gap):
    text = narrative.market_check(gap)
    for row in gap.market_check().itertuples():
        assert f"{row.ratio:.1f} times as large in {row.year}" in text
    assert "check on D's scale, not a constraint" in text and "consumers' subscriptions" in text
    assert "$" not in text


def test_year_by_year_sentence_says_it_uses_what_was_known_then_and_how_far_revisions_moved_it(gap):
    import dataclasses

    text = narrative.known_by_year(gap)
    assert "**as known then**" in text and "first quarter after the year" in text
    assert "2025 from USD 19.4bn as known on 2026-03-31 to USD 19.2bn today, 0.99 times" in text
    assert "2024 from USD 3.6bn as known on 2025-03-31 to USD 5.6bn today, 1.56 times" in text
    assert "For 2023 the series public at the time do not cover the whole year" in text
    assert "The plain sum of the series disclosed in 2025 is USD 18.9bn against the chain-linked USD 19.2bn" in text
    assert "$" not in text
    # the words follow the table: a year whose vintage exists is not called missing
    table = gap.required_by_year.assign(d_vintage_usd_bn=gap.required_by_year["d_revised_usd_bn"],
                                        d_revised_over_vintage=1.0)
    same = narrative.known_by_year(dataclasses.replace(gap, required_by_year=table))
    assert "do not cover" not in same and "2023 from USD 2.3bn" in same and "1.00 times" in same
    assert "then disclosed was" not in same  # the revised plain sum (18.9) is below the revised chain-linked (19.2)


@pytest.fixture(scope="module")
def base_results(base_pool, base_econ):
    return base_pool, base_econ


def test_summaries_name_companies_and_explain_the_costs_outside_the_chain(base_results):
    pool, econ = base_results
    labs_text = narrative.labs_summary(econ)
    assert "**OpenAI** starts from" in labs_text and "**Anthropic** starts from" in labs_text
    assert "**openai**" not in labs_text
    text = narrative.profit_summary(pool)
    flow = pool.dollar_flow[pool.dollar_flow["year"] == pool.historical_years[-1]]
    outside = flow["outside_costs_cents"].sum()
    assert outside > 100  # the labs' loss: the explanation must say who pays for it
    assert f"They come to {outside:.1f} cents, more than the dollar itself, because the labs layer spends more" in text
    assert "suppliers that are not one of the five layers" in text


def test_a_closing_test_that_over_rejects_on_the_real_pattern_is_not_called_evidence(gap, monkeypatch):
    from valuechain.stats import size

    record = {"size": {"model": 0.22, "t3": 0.19}, "coverage": {"closing_rate_interval": {"model": 0.47, "t3": 0.43}},
              "simulations": 500}
    monkeypatch.setattr(size, "recorded", lambda *a, **k: record)
    text = narrative.demand_verdict(gap)
    assert "closing fast enough." not in text and "data show it closing" not in text
    assert ("rejects a true null in 19%-22% of samples, above the 10% the project allows, and its 90% interval covers "
            "the true rate in 43%-47% of them (500 simulated panels a world)") in text
    assert "At that rate it closes: 20" in text and "interval: 20" not in text  # no date range the data cannot support
    record["size"] = {"model": 0.05}  # a test that holds its size is read at its level as before
    assert "at the 5% level the data" in narrative.demand_verdict(gap)
