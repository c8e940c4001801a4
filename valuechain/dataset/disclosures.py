r"""Downstream AI revenue: dated disclosures turned into net external AI revenue :math:`D`.

``ai_revenue.csv`` holds one row per dated disclosure: a company's AI revenue figure (an ARR, a
run-rate, an annual contract value, a quarter's or a year's revenue) with the date it describes
(``as_of``), the date it was made public (``published``), its basis, definition and source.
Each row belongs to one **series** (one company and one product; its points may be of different
kinds, which the annualization and the measurement noise tell apart) and is tagged:

- ``final_demand``: end users and enterprises paying for AI;
- ``intra_chain``: one chain member paying another (a lab paying a cloud, an application paying a
  lab, a neocloud selling to a lab or a hyperscaler). ``netted_from`` names the final-demand
  series whose figures include the flow;
- ``market_total``: survey totals (Menlo Ventures), shown as annual reference points only.

This module reads and checks the file; :mod:`valuechain.model.downstream` builds :math:`D` from it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from valuechain.dataset import provenance
from valuechain.dataset.load import BASES, Dataset
from valuechain.dataset.rules import DATE, NUMBER, check, text_column, isin, matches, nonempty, raise_if, read_csv

FILE = "ai_revenue.csv"
KINDS = ("arr", "run_rate", "quarterly_revenue", "annual_revenue", "acv")
FLOWS = ("final_demand", "intra_chain", "market_total")

def _schema(source_ids) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "disclosure_id": text_column(matches(r"^[a-z0-9_]+$", "snake_case_id", "use lower-case letters, digits and '_'"),
                                  unique=True),
            "series_id": text_column(matches(r"^[a-z0-9_]+$", "snake_case_id", "use lower-case letters, digits and '_'")),
            "company_id": text_column(nonempty()),
            "product": text_column(nonempty()),
            "as_of": text_column(matches(DATE, "date", "write the date as YYYY-MM-DD")),
            "published": text_column(matches(DATE, "date", "write the date as YYYY-MM-DD")),
            "value_usd_bn": text_column(matches(NUMBER, "number", "write a plain positive number in USD billions")),
            "kind": text_column(isin(KINDS, "known_kind", f"use one of: {', '.join(KINDS)}")),
            "flow": text_column(isin(FLOWS, "known_flow", f"use one of: {', '.join(FLOWS)}")),
            "netted_from": pa.Column(str),
            "basis": text_column(isin(BASES, "known_basis", f"use one of: {', '.join(BASES)}")),
            "definition": text_column(nonempty()),
            "source_id": text_column(isin(source_ids, "known_source", "cite a source_id listed in sources.csv")),
            "note": pa.Column(str),
        },
        strict=True, ordered=True,
    )


_CACHE: dict = {}


def load(ds: Dataset, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Read and validate ``ai_revenue.csv`` (default: beside the dataset's other files).

    The validated panel is kept per file version and source list, so a batch of scenarios reads
    it once; callers get a copy.
    """
    path = Path(data_dir or ds.data_dir) / FILE
    key = (str(path), path.stat().st_mtime_ns if path.exists() else None, tuple(ds.sources["source_id"]))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _load(path, ds)
    return _CACHE[key].copy()


def _load(path: Path, ds: Dataset) -> pd.DataFrame:
    raw = read_csv(path)
    check(_schema(set(ds.sources["source_id"])), raw, FILE)
    panel = raw.assign(as_of=pd.to_datetime(raw["as_of"]), published=pd.to_datetime(raw["published"]),
                       value_usd_bn=raw["value_usd_bn"].astype(float))
    raise_if(_rules(panel), FILE)
    if not ds.source_kinds.empty:  # a Dataset built in memory may carry no provenance kinds
        raise_if(provenance.coverage_rules(raw, FILE, ds.source_kinds), FILE)
    return panel


def _rules(panel: pd.DataFrame) -> pd.DataFrame:
    failures = []

    def fail(idx, column, rule, value, fix):
        failures.append({"file": FILE, "row": idx + 2, "column": column, "rule": rule, "value": str(value), "fix": fix})

    finals = set(panel.loc[panel["flow"] == "final_demand", "series_id"])
    intra, named = panel["flow"] == "intra_chain", panel["netted_from"] != ""
    rules = [
        (panel["value_usd_bn"] <= 0, "value_usd_bn", "positive", "revenue must be positive; drop the row if it is not"),
        ((panel["flow"] != "market_total") & (panel["published"] < panel["as_of"]), "published", "no_look_ahead",
         "a figure cannot be published before the date it describes; leave out targets and forecasts"),
        (intra & named & ~panel["netted_from"].isin(finals), "netted_from", "known_final_series",
         "name a final_demand series_id in this file, or leave it blank"),
        (~intra & named, "netted_from", "intra_chain_only", "only intra_chain rows name netted_from"),
    ]
    for mask, column, rule, fix in rules:
        for idx in panel.index[mask]:
            value = panel.loc[idx, column]
            fail(idx, column, rule, value.date() if hasattr(value, "date") else value, fix)
    for series, group in panel.groupby("series_id"):
        for column in ("flow", "company_id"):
            if group[column].nunique() > 1:
                idx = group.index[1]
                fail(idx, column, "one_per_series", ", ".join(sorted(group[column].unique())),
                     f"a series has one {column}; split it into two series_id")
    return pd.DataFrame(failures)
