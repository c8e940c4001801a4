"""The tables an analyst reaches for, built as new frames from a validated :class:`Dataset`."""
from __future__ import annotations

import pandas as pd

from valuechain.dataset import fiscal
from valuechain.dataset.load import Dataset


def quarterly(ds: Dataset, metric: str, companies=None) -> pd.DataFrame:
    """Wide calendar-quarter table of ``metric``: rows are calendar quarters, columns companies.

    Only quarter rows are used; a company with no row for a quarter shows NaN there.
    """
    rows = ds.financials[(ds.financials["metric"] == metric) & (ds.financials["period_type"] == "quarter")]
    if companies is not None:
        rows = rows[rows["company_id"].isin(list(companies))]
    wide = rows.pivot(index="calendar_quarter", columns="company_id", values="value_usd_bn")
    wide.index = pd.PeriodIndex(wide.index, freq="Q", name="calendar_quarter")
    wide.columns.name = "company_id"
    wide = wide.sort_index()
    if len(wide):
        wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="Q", name="calendar_quarter"))
    return wide


def annual(wide: pd.DataFrame) -> pd.DataFrame:
    """Calendar-year sums of a wide quarterly table; a year with fewer than four quarters is NaN."""
    years = wide.index.year
    sums = wide.groupby(years).sum(min_count=4)
    counts = wide.groupby(years).count()
    sums = sums.where(counts == 4)
    sums.index.name = "calendar_year"
    return sums


def fiscal_years(ds: Dataset, metric: str, companies=None) -> pd.DataFrame:
    """Wide table of reported fiscal-year totals (rows: fiscal year label, columns: companies)."""
    rows = ds.financials[(ds.financials["metric"] == metric) & (ds.financials["period_type"] == "fiscal_year")]
    if companies is not None:
        rows = rows[rows["company_id"].isin(list(companies))]
    wide = rows.pivot(index="fiscal_period", columns="company_id", values="value_usd_bn").sort_index()
    wide.columns.name = "company_id"
    return wide


def points(ds: Dataset, metric: str, companies=None) -> pd.DataFrame:
    """Long table of dated point observations (e.g. revenue run-rates), oldest first."""
    rows = ds.financials[(ds.financials["metric"] == metric) & (ds.financials["period_type"] == "point")]
    if companies is not None:
        rows = rows[rows["company_id"].isin(list(companies))]
    return rows[["company_id", "period_end", "value_usd_bn", "basis", "source_id", "note"]].sort_values(
        ["company_id", "period_end"]).reset_index(drop=True)


def coverage(ds: Dataset) -> pd.DataFrame:
    """One row per company x metric x period type: first and last period, row count, bases used."""
    fin = ds.financials
    grouped = fin.groupby(["layer", "company_id", "metric", "period_type"], sort=True)
    table = grouped.agg(
        first=("period_end", "min"),
        last=("period_end", "max"),
        rows=("value_usd_bn", "size"),
        bases=("basis", lambda s: ",".join(sorted(set(s)))),
    ).reset_index()
    table["first"] = table["first"].dt.date
    table["last"] = table["last"].dt.date
    return table


# months a period covers, in quarters: a series of longer periods is due a new row less often
_PERIOD_QUARTERS = {"quarter": 1, "point": 1, "half": 2, "fiscal_year": 4, "calendar_year": 4}
STALE_AFTER_QUARTERS = 2
FILED = ("reported", "derived")


def newest_filed_quarter(ds: Dataset) -> pd.Period:
    """The latest calendar quarter of any filed (reported or derived) quarter row."""
    fin = ds.financials
    filed = fin[(fin["period_type"] == "quarter") & fin["basis"].isin(FILED)]
    return pd.Period(filed["calendar_quarter"].max(), freq="Q")


def _last_quarter(rows: pd.DataFrame) -> pd.PeriodIndex:
    """Calendar quarter of each row's last quarter: a dated point's own quarter; for a period, the
    calendar quarter of its closing three months (by their midpoint, as :mod:`valuechain.dataset.fiscal` maps
    quarters), so NVIDIA's fiscal year ending in January ends in calendar Q4 like its fiscal Q4."""
    quarters = [fiscal.quarter_of_date(end.date()) if kind == "point" else fiscal.calendar_quarter_of(end.date())
                for kind, end in zip(rows["period_type"], rows["period_end"])]
    return pd.PeriodIndex(quarters, freq="Q")


def latest_quarters(ds: Dataset) -> pd.DataFrame:
    """One row per company x metric x period type: the latest calendar quarter and whether it is stale.

    ``quarters_behind`` counts calendar quarters from the series' last quarter to the newest filed
    quarter in the data (:func:`newest_filed_quarter`). A series is ``stale`` when the period after
    its last would have ended more than two quarters before that newest quarter: for a quarterly
    series, when it is more than two quarters behind; for a fiscal-year series, when it is more
    than five behind (its next year would have ended over two quarters earlier).
    """
    newest = newest_filed_quarter(ds)
    fin = ds.financials.assign(quarter=_last_quarter(ds.financials))
    fin = fin.sort_values(["company_id", "metric", "period_type", "quarter", "period_end"], kind="stable")
    last = fin.groupby(["company_id", "metric", "period_type"], sort=True).tail(1)
    first = fin.groupby(["company_id", "metric", "period_type"], sort=True)["quarter"].min()
    names = ds.company_names
    table = pd.DataFrame({
        "layer": last["layer"].to_numpy(),
        "company_id": last["company_id"].to_numpy(),
        "company": last["company_id"].map(names).to_numpy(),
        "metric": last["metric"].to_numpy(),
        "period_type": last["period_type"].to_numpy(),
        "first_quarter": first.loc[list(zip(last["company_id"], last["metric"], last["period_type"]))].astype(str).to_numpy(),
        "last_quarter": last["quarter"].astype(str).to_numpy(),
        "last_period": last["fiscal_period"].to_numpy(),
        "last_value_usd_bn": last["value_usd_bn"].to_numpy(),
        "last_basis": last["basis"].to_numpy(),
        "quarters_behind": [(newest - q).n for q in last["quarter"]],
    })
    length = table["period_type"].map(_PERIOD_QUARTERS)
    table["stale"] = table["quarters_behind"] - (length - 1) > STALE_AFTER_QUARTERS
    order = {layer: i for i, layer in enumerate(("chips", "servers", "cloud", "labs", "apps"))}
    table = table.sort_values(["layer", "company_id", "metric", "period_type"],
                              key=lambda s: s.map(order) if s.name == "layer" else s, kind="stable")
    return table.reset_index(drop=True)


def transcribed_filing(sources: pd.DataFrame) -> pd.Series:
    """For each source read through an aggregator, the filing it transcribes (source_id -> text).

    The accession number where the source gives one, else the document its ``covers`` names
    after 'Transcribes '.
    """
    agg = sources[sources["via_aggregator"].astype(str) == "true"].set_index("source_id")
    named = agg["covers"].str.extract(r"Transcribes (.*)$", expand=False).fillna("").str.rstrip(". ")
    accession = "accession " + agg["accession"]
    quoted = pd.Series([a in n for a, n in zip(agg["accession"], named)], index=agg.index)
    text = named.where(agg["accession"].eq("") | quoted, accession + " (" + named + ")")
    return text.where(named.ne(""), accession)


def aggregated_rows(ds: Dataset, disclosures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows whose source was read through an aggregator, with the filing each aggregator transcribes.

    Covers ``financials.csv``, ``facts.csv`` and, when given, the disclosure panel (``ai_revenue.csv``).
    """
    filings = transcribed_filing(ds.sources)
    fin = ds.financials
    parts = [pd.DataFrame({"file": "financials.csv", "company_id": fin["company_id"], "metric": fin["metric"],
                           "period": fin["fiscal_period"], "value": fin["value_usd_bn"], "source_id": fin["source_id"]})]
    facts = ds.facts
    parts.append(pd.DataFrame({"file": "facts.csv", "company_id": facts["entity"], "metric": facts["metric"],
                               "period": facts["as_of"], "value": facts["value"], "source_id": facts["source_id"]}))
    if disclosures is not None:
        d = disclosures
        parts.append(pd.DataFrame({"file": "ai_revenue.csv", "company_id": d["company_id"], "metric": d["series_id"],
                                   "period": pd.to_datetime(d["as_of"]).dt.strftime("%Y-%m-%d"),
                                   "value": d["value_usd_bn"].astype(float), "source_id": d["source_id"]}))
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[rows["source_id"].isin(filings.index)].copy()
    rows["transcribes"] = rows["source_id"].map(filings)
    return rows.reset_index(drop=True)


LAB_BACKLOG = ("backlog_from_", "backlog_share_")


def lab_backlog(ds: Dataset) -> pd.DataFrame:
    """Backlog a filing or release says is contracted with a lab, beside the company's backlog.

    Reads ``facts.csv`` rows whose metric is ``backlog_from_<lab>`` (USD bn contracted with the lab)
    or ``backlog_share_<lab>`` (share of the company's backlog). The backlog is the company's
    ``remaining_performance_obligations`` point on the statement's date, or else its first one after
    it (the quarter end that includes the contract). The amount is the share times the backlog where
    the share was stated, and the share is the amount over the backlog where the amount was.
    """
    facts = ds.facts[ds.facts["metric"].str.startswith(LAB_BACKLOG)]
    fin = ds.financials
    rpo = fin[fin["metric"] == "remaining_performance_obligations"]
    names = ds.company_names
    rows = []
    for fact in facts.itertuples():
        stated = pd.Timestamp(fact.as_of)
        points = rpo[(rpo["company_id"] == fact.entity) & (rpo["period_end"] >= stated)].sort_values("period_end")
        backlog = points.iloc[0] if len(points) else None
        lab = fact.metric.split("_", 2)[2]
        total = float(backlog["value_usd_bn"]) if backlog is not None else float("nan")
        if fact.metric.startswith("backlog_share_"):
            share, amount = fact.value, fact.value * total
        else:
            amount, share = fact.value, fact.value / total if total else float("nan")
        rows.append({
            "company": names.get(fact.entity, fact.entity), "lab": names.get(lab, lab), "stated": fact.as_of,
            "contracted_with_lab_usd_bn": amount, "backlog_usd_bn": total,
            "backlog_date": backlog["period_end"].date().isoformat() if backlog is not None else "",
            "share_of_backlog": share, "basis": fact.basis, "fact_id": fact.fact_id,
            "sources": tuple(dict.fromkeys([fact.source_id] + ([backlog["source_id"]] if backlog is not None else []))),
            "note": fact.note,
        })
    columns = ["company", "lab", "stated", "contracted_with_lab_usd_bn", "backlog_usd_bn", "backlog_date",
               "share_of_backlog", "basis", "fact_id", "sources", "note"]
    return pd.DataFrame(rows, columns=columns).sort_values(["company", "stated"], kind="stable").reset_index(drop=True)
