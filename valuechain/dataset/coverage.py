"""Plain-text and CSV summaries of the dataset."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from valuechain.dataset import calendar, disclosures, provenance, views
from valuechain.dataset.load import Dataset, load_dataset
from valuechain.files import atomic_write_text


def write_data_summary(data_dir=None, out: Path | None = None) -> str:
    """Validate the dataset, write its coverage table to ``out`` and return a short text summary.

    The summary gives the reports the earnings calendar says are overdue, the latest quarter of every company's series, flags the series more than
    two quarters behind the newest filed quarter, gives the share of reported rows in each provenance
    kind (overall and for 2025-2026), and lists the rows read through an aggregator
    with the filing each aggregator transcribes.
    """
    ds = load_dataset(data_dir)
    panel = disclosures.load(ds) if (ds.data_dir / disclosures.FILE).exists() else None
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
        overdue_line(ds),
        "",
        *provenance.share_lines(ds),
        "",
        *latest_lines(ds),
        "",
        *aggregator_lines(ds, panel),
    ]
    if out is not None:
        lines += ["", f"Coverage table written to {out}"]
    return "\n".join(lines)


def overdue_line(ds: Dataset, as_of=None) -> str:
    """The reports the earnings calendar expected before ``as_of`` (default: today) that the data lack, in a sentence."""
    late = calendar.overdue(ds, as_of)
    if late.empty:
        return f"No report is overdue as of {(as_of or dt.date.today()).isoformat()} (earnings calendar: {calendar.FILE})."
    return calendar.overdue_sentence(late, as_of)


def latest_lines(ds: Dataset) -> list[str]:
    """The latest quarter per company and series, with the stale ones marked and listed."""
    newest = views.newest_filed_quarter(ds)
    latest = views.latest_quarters(ds)
    shown = latest.assign(
        periods=latest["period_type"].str.replace("_", " "),
        value=latest["last_value_usd_bn"].map(lambda v: f"{v:,.3f}".rstrip("0").rstrip(".")),
        behind=latest["quarters_behind"].astype(str) + latest["stale"].map({True: " *", False: ""}),
    )
    columns = {"layer": "layer", "company": "company", "metric": "metric", "periods": "periods",
               "first_quarter": "first", "last_quarter": "latest", "last_period": "latest period",
               "value": "value (USD bn)", "last_basis": "basis", "behind": "quarters behind"}
    with pd.option_context("display.width", 200, "display.max_rows", None, "display.max_colwidth", 40):
        body = shown[list(columns)].rename(columns=columns).to_string(index=False)
    stale = latest[latest["stale"]]
    lines = [f"Latest quarter per company and series (newest filed quarter in the data: {newest}; "
             f"* = more than two quarters behind it, or a longer period's next one overdue by as much):", body, ""]
    if stale.empty:
        lines.append(f"No series is more than two quarters behind {newest}.")
    else:
        lines.append(f"{len(stale)} series more than two quarters behind {newest}:")
        lines += [f"  {r.company} {r.metric} ({r.period_type.replace('_', ' ')}): latest {r.last_quarter} "
                  f"({r.last_period}), {r.quarters_behind} quarters behind" for r in stale.itertuples()]
    return lines


def aggregator_lines(ds: Dataset, panel: pd.DataFrame | None = None) -> list[str]:
    """Rows read through an aggregator, grouped by source, each source with the filing it transcribes."""
    rows = views.aggregated_rows(ds, panel)
    if rows.empty:
        return ["No row is read through an aggregator."]
    lines = [f"Rows read through an aggregator: {len(rows)} rows from {rows['source_id'].nunique()} sources "
             f"(each source names the filing it transcribes):"]
    for source_id, group in rows.groupby("source_id", sort=True):
        lines.append(f"  {source_id} -> {group['transcribes'].iloc[0]}")
        for file, sub in group.groupby("file", sort=False):
            items = ", ".join(f"{r.company_id} {r.metric} {r.period}" for r in sub.itertuples())
            lines.append(f"      {file}: {items}")
    return lines
