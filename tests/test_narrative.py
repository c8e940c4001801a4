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


def test_ttm_summary_leads_with_the_twelve_months_and_says_what_is_missing():
    from valuechain import load_dataset, profit
    from valuechain.params import load_scenario

    ds = load_dataset()
    pool = profit.profit_pool(load_scenario("base", {"years": {"latest": "ttm", "ttm_end": "2026Q2"}}), ds)
    text = narrative.ttm_summary(pool)
    lay = pool.ttm.layers.set_index("layer")
    assert text.startswith(f"**In the twelve months 2025Q3-2026Q2 chips captured {lay.loc['chips', 'profit_share']:.0%}")
    assert "$" not in text
    assert "No company in the apps and labs layers has figures for these twelve months" in text
    calendar = profit.profit_pool(load_scenario("base", {"years": {"latest": "calendar_year"}}), ds)
    assert "reports calendar years only" in narrative.ttm_summary(calendar)
