"""Words for what the data calls by ids: company names and snake_case ids written as words."""
from __future__ import annotations

import functools
import re

# Words whose spelling is not the id's: acronyms and names.
_WORDS = {"ai": "AI", "us": "US", "usd": "USD", "cny": "CNY", "ipo": "IPO", "pe": "P/E", "sp500": "S&P 500",
          "arr": "ARR", "gw": "GW", "vc": "VC", "genai": "generative-AI", "dc": "data-center", "cy": "CY",
          "mcap": "market cap", "1m": "$1M", "h1": "H1", "h2": "H2", "nvidia": "NVIDIA", "openai": "OpenAI"}
_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def words(identifier) -> str:
    """``data_center_revenue`` -> ``Data center revenue``; acronyms keep their capitals."""
    text = str(identifier)
    parts = [_WORDS.get(part, part) for part in text.split("_")]
    out = " ".join(parts)
    return out[:1].upper() + out[1:] if out[:1].islower() else out


def ids_to_words(text) -> str:
    """Every snake_case id inside ``text`` written as words (lower case), the rest unchanged."""
    return _ID.sub(lambda m: " ".join(_WORDS.get(p, p) for p in m.group(0).split("_")), str(text))


@functools.lru_cache(maxsize=1)
def _bundled_names() -> dict[str, str]:
    import csv

    from valuechain import paths

    with open(paths.DATA_DIR / "companies.csv", newline="", encoding="utf-8") as handle:
        return {row["company_id"]: row["name"] for row in csv.DictReader(handle)}


def company_name(company_id, names: dict | None = None) -> str:
    """The company's name from companies.csv (``names`` if given), or the id in words if it has none."""
    names = _bundled_names() if names is None else names
    return names.get(str(company_id)) or words(company_id)
