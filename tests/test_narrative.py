"""The scenario header: user text shown as text, never as markup."""
import html
import re
from types import SimpleNamespace

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from valuechain import narrative

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
    return markdown2html_mistune(markdown)


@pytest.mark.parametrize("text", PAYLOADS)
def test_escaped_markdown_renders_as_exactly_the_text(text):
    rendered = _render(narrative.escape_markdown(text))
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


@pytest.fixture(scope="module")
def base_results():
    from valuechain import labs, load_dataset
    from valuechain.params import load_scenario
    from valuechain.profit import profit_pool

    ds, sc = load_dataset(), load_scenario("base")
    pool = profit_pool(sc, ds)
    return pool, labs.analyse(sc, ds, pool)


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
