"""Which clouds supply each application and lab series of D: ``suppliers.csv``, read and checked.

One row per (series, supplier) pair: a series of ``ai_revenue.csv`` and a company of the cloud layer
whose capacity it runs on, with how the link is known (``basis``: ``reported`` where a filing or a
company statement documents the contract, ``claim`` where a press report does, ``assumption`` where
nothing in the data names the cloud) and its source. An application whose cloud no filing names
is assumed to run on the labs' suppliers, since it buys its models from the labs; that assumption
is written on each of its rows. :func:`valuechain.stats.regression.panel` regresses each series'
revenue growth on its suppliers' lagged AI capex growth.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from valuechain.dataset import disclosures
from valuechain.dataset.load import Dataset
from valuechain.dataset.rules import check, isin, nonempty, raise_if, read_csv, text_column

FILE = "suppliers.csv"
BASES = ("reported", "claim", "assumption")


def load(ds: Dataset, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Read and validate ``suppliers.csv``: known series, cloud suppliers, a source unless assumed, no pair twice."""
    path = Path(data_dir or ds.data_dir) / FILE
    raw = read_csv(path)
    clouds = set(ds.companies.loc[ds.companies["layer"] == "cloud", "company_id"])
    series = set(disclosures.load(ds, data_dir)["series_id"])
    check(pa.DataFrameSchema({
        "series_id": text_column(isin(series, "known_series", "name a series_id of ai_revenue.csv")),
        "supplier_id": text_column(isin(clouds, "cloud_supplier", "name a company_id of the cloud layer in companies.csv")),
        "basis": text_column(isin(BASES, "known_basis", f"use one of: {', '.join(BASES)}")),
        "source_id": pa.Column(str),
        "note": text_column(nonempty()),
    }, strict=True, ordered=True), raw, FILE)
    sources = set(ds.sources["source_id"])
    failures = []
    for idx, row in raw.iterrows():
        if row["source_id"] and row["source_id"] not in sources:
            failures.append({"file": FILE, "row": idx + 2, "column": "source_id", "rule": "known_source",
                             "value": row["source_id"], "fix": "cite a source_id listed in sources.csv"})
        if not row["source_id"] and row["basis"] != "assumption":
            failures.append({"file": FILE, "row": idx + 2, "column": "source_id", "rule": "sourced_unless_assumed",
                             "value": "", "fix": "cite a source, or mark the pair basis=assumption and say why"})
    for idx in raw.index[raw.duplicated(["series_id", "supplier_id"])]:
        failures.append({"file": FILE, "row": idx + 2, "column": "supplier_id", "rule": "one_row_per_pair",
                         "value": raw.loc[idx, "supplier_id"], "fix": "keep one row per series and supplier"})
    raise_if(pd.DataFrame(failures), FILE)
    return raw
