"""Plain-text and CSV summaries of the dataset."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from valuechain import views
from valuechain.dataset import load_dataset
from valuechain.iorw import atomic_write_text


def write_data_summary(data_dir=None, out: Path | None = None) -> str:
    """Validate the dataset, write its coverage table to ``out`` and return a short text summary."""
    ds = load_dataset(data_dir)
    table = views.coverage(ds)
    if out is not None:
        atomic_write_text(out, table.to_csv(index=False))
    fin = ds.financials
    by_basis = fin["basis"].value_counts().to_dict()
    lines = [
        f"Dataset: {len(fin)} financial rows, {len(ds.facts)} facts, {len(ds.companies)} companies, "
        f"{len(ds.sources)} sources; every row cites a source.",
        f"Filed data through {ds.vintage}.",
        "Rows by basis: " + ", ".join(f"{k} {v}" for k, v in sorted(by_basis.items())),
        "",
        "Quarterly coverage (first to last calendar quarter):",
    ]
    quarterly = fin[fin["period_type"] == "quarter"]
    spans = quarterly.groupby(["layer", "company_id", "metric"])["calendar_quarter"].agg(["min", "max", "size"])
    with pd.option_context("display.width", 120):
        lines.append(spans.rename(columns={"min": "first", "max": "last", "size": "quarters"}).to_string())
    if out is not None:
        lines += ["", f"Coverage table written to {out}"]
    return "\n".join(lines)
