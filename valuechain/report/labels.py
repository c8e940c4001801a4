"""Words for what the data calls by ids: company names, layer and method names, units.

Pages, exports and summaries show these words; the ids stay in the data and the parameters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from valuechain.dataset.names import company_name, ids_to_words, words
from valuechain.model.required import method_name

LAYER_NAMES = {"chips": "Chips", "servers": "Servers", "cloud": "Cloud", "labs": "Labs", "apps": "Apps"}
def file_name(name, default: str = "chart") -> str:
    """``name`` as a file-name part: lower case, each run of other characters one hyphen
    (``d_over_required`` -> ``d-over-required``); ``default`` when nothing is left."""
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or default


def layer_name(layer) -> str:
    return LAYER_NAMES.get(str(layer), words(layer))


@dataclass(frozen=True)
class Unit:
    """How a unit reads: the words after a header, the format of a value on a page and in Excel."""

    suffix: str  # shown in headers as "Label (suffix)"; "" for none
    text: str  # Python format for pages
    excel: str  # Excel number format ("" for text)


UNITS = {
    "usd_bn": Unit("USD bn", "{:,.1f}", "#,##0.0"),
    "usd": Unit("USD", "{:,.2f}", "#,##0.00"),
    "share": Unit("%", "{:.0%}", "0%"),
    # Excel's conditional sections keep the pages' rule (probability_text): never a bare 0 or 1
    "probability": Unit("", "{:.2f}", '[>=0.995]"> 0.99";[<0.005]"< 0.01";0.00'),
    "growth": Unit("% a year", "{:+.0%}", "+0%;-0%"),
    "rate": Unit("log points a year", "{:+.2f}", "+0.00;-0.00"),
    "log_points": Unit("log points", "{:+.3f}", "+0.000;-0.000"),
    "ratio": Unit("", "{:.2f}", "0.00"),
    "multiple": Unit("x", "{:,.1f}x", '#,##0.0"x"'),
    "elasticity": Unit("", "{:.2f}", "0.00"),
    "statistic": Unit("", "{:.3f}", "0.000"),
    "cents": Unit("cents", "{:.1f}", "0.0"),
    "usd_per_usd": Unit("USD", "{:.2f}", "0.00"),
    "count": Unit("", "{:,.0f}", "#,##0"),
    "year": Unit("", "{:.0f}", "0"),
    "years": Unit("years", "{:.1f}", "0.0"),  # a duration, e.g. an asset's life
    "p": Unit("", "", "0.000"),
    "gw": Unit("GW", "{:,.1f}", "#,##0.0"),
    "cny_bn": Unit("CNY bn", "{:,.1f}", "#,##0.0"),
}


def header(label: str, unit: str) -> str:
    """``label`` with its unit, e.g. ``AI revenue (USD bn)``."""
    suffix = UNITS[unit].suffix if unit in UNITS else ""
    return f"{label} ({suffix})" if suffix else label


def missing(value) -> bool:
    """None, NaN or pandas' NA/NaT."""
    import pandas as pd

    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def value_text(value, unit: str, fmt: str | None = None, names: dict | None = None) -> str:
    """``value`` as a page shows it in ``unit`` (``fmt`` overrides the unit's format); "" when missing.
    A company is named from ``names`` (the dataset's :attr:`~valuechain.dataset.load.Dataset.company_names`)."""
    if missing(value):
        return ""
    if unit == "company":
        return company_name(value, names or {})
    if unit == "layer":
        return layer_name(value)
    if unit == "method":
        return method_name(value)
    if unit == "id":
        return words(value)
    if unit == "note":
        return ids_to_words(value)
    if unit in ("text", "quarter", "date") or unit not in UNITS:
        return str(value)[:10] if unit == "date" else str(value)
    if unit == "p":
        from valuechain.stats.inference import format_p

        return format_p(float(value))
    if unit == "probability":
        return probability_text(float(value), fmt)
    try:
        return (fmt or UNITS[unit].text).format(float(value))
    except (TypeError, ValueError):
        return str(value)


def probability_text(p: float, fmt: str | None = None) -> str:
    """A probability as a page shows it: two decimals, but never a bare 0 or 1.

    An estimate of 1.00 or 0.00 (every draw or none) reads "> 0.99" or "< 0.01": the draws bound a
    probability, they do not make it certain.
    """
    if p >= 0.995:
        return "> 0.99"
    if p < 0.005:
        return "< 0.01"
    return (fmt or UNITS["probability"].text).format(p)


def with_unit(value, unit: str) -> str:
    """A value that carries its unit in its text, in a cell of a column mixing units or in a sentence:
    ``USD 997bn``, ``40%``, ``22.0x``, ``2029``, ``+0.16 log points a year``, ``4.3 cents``; "" when missing."""
    if missing(value):
        return ""
    if unit == "usd_bn":
        return f"USD {float(value):,.0f}bn" if abs(float(value)) >= 100 else f"USD {float(value):,.1f}bn"
    if unit == "cny_bn":
        return f"CNY {float(value):,.0f}bn"
    if unit == "usd":
        return f"USD {float(value):,.2f}"
    if unit == "usd_per_usd":
        return f"USD {float(value):,.2f} per USD"
    if unit not in UNITS:
        return value_text(value, "ratio")
    text, suffix = value_text(value, unit), UNITS[unit].suffix
    if suffix.startswith("%"):  # the number already ends in its per cent sign
        suffix = suffix[1:].strip()
    elif suffix == "x":  # and a multiple in its x
        suffix = ""
    return f"{text} {suffix}" if suffix else text


# What a scenario field means, for the assumptions notebook 05 names (dotted keys stay beside the words).
_FIELDS = {
    "ai_share": "AI share of revenue", "margin": "operating margin", "pass_through": "share of price passed upstream",
    "servers_life_years": "server life (years)", "buildings_life_years": "building life (years)",
    "target_return": "target return on capital", "margin_before_depreciation": "margin before depreciation",
    "gpu_share_of_tco": "GPU share of data-center cost", "capex_growth": "capex growth",
    "end_user_growth": "end-user spending growth", "final_margins": "operating margin at the horizon",
    "cost_decline": "yearly decline in cost per dollar of revenue", "loss_per_revenue_dollar": "loss per dollar of revenue",
    "discount_rate": "discount rate", "exit_multiple": "exit multiple",
}


def _field(name: str) -> str:
    return _FIELDS.get(name, ids_to_words(name).replace("_", " "))


def assumption(key: str, names: dict) -> str:
    """A scenario's dotted key in words: ``attribution.amazon.ai_share.2025`` -> ``Amazon.com, Inc.: AI share of revenue, 2025``
    (a company named from ``names``, the dataset's company names)."""
    parts = str(key).split(".")
    year = f", {parts[-1]}" if parts[-1].isdigit() else ""
    core = parts[:-1] if year else parts
    head, rest = core[0], core[1:]
    if head == "attribution" and len(rest) == 2:
        return f"{company_name(rest[0], names)}: {_field(rest[1])}{year}"
    if head == "layers" and len(rest) == 2:
        return f"{layer_name(rest[0])} layer: {_field(rest[1])}{year}"
    if head == "lab_economics" and len(rest) == 3 and rest[0] == "paths":
        return f"{company_name(rest[1], names)}: {_field(rest[2])}{year}"
    if head == "demand_gap" and rest == ["capital", "ai_share"]:
        return f"AI share of the spenders' capex{year}"
    if head == "projection" and len(rest) == 2 and not year:
        return f"{layer_name(rest[1])}: {_field(rest[0])}"
    if head == "valuation" and len(rest) == 1:
        return f"Valuation: {_field(rest[0])}"
    text = _field(rest[-1]) if rest else words(head)
    return text[:1].upper() + text[1:] + year
