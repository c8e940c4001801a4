"""Names in the data: company names and snake_case ids written as words, and the company ids and
metric names a scenario may refer to."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from valuechain import paths
from valuechain.files import read_yaml

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


def reference_names(data_dir: Path | None = None) -> tuple[set[str], set[str]] | None:
    """Company ids (``companies.csv``) and metric names (``metrics.yaml``) in ``data_dir`` (default: the
    bundled data), read without loading the whole dataset: checking a scenario's references needs only
    these, and listing or validating scenarios should not wait for pandas and the dataset's validation.
    None when either file cannot be read as expected; the dataset loader then says why in one line."""
    folder = Path(data_dir) if data_dir is not None else paths.DATA_DIR
    try:
        with open(folder / "companies.csv", newline="", encoding="utf-8") as handle:
            ids = {row["company_id"].strip() for row in csv.DictReader(handle)}
        metrics = read_yaml(folder / "metrics.yaml") or {}
    except (OSError, ValueError, KeyError, AttributeError, csv.Error, yaml.YAMLError):
        return None
    return (ids, set(metrics)) if isinstance(metrics, dict) else None
