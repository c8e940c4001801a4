"""Words for what the data calls by ids: company names and snake_case ids written as words."""
from __future__ import annotations

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


def company_name(company_id, names) -> str:
    """The company's name in ``names`` (id -> name, a dataset's :attr:`~valuechain.dataset.load.Dataset.company_names`),
    or the id in words if it has none (a market, a total)."""
    return names.get(str(company_id)) or words(company_id)
