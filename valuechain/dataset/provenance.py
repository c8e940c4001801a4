"""Provenance kinds: how directly each reported figure was read from its filing.

``source_kinds.csv`` gives every source that a ``reported`` row cites exactly one kind:

``filing``
    The filing itself (a document on sec.gov) or the company's own release on its
    investor-relations site or newswire.
``structured_transcription``
    A structured transcription of the filing (SEC's XBRL company facts, or a repository's
    tabulation of the filing) that carries the filing's accession and the figures as filed.
``narrative_aggregator``
    A news or research page that retells the filing: its figures may be rounded or restated,
    and it may not name the filing.

The loader checks the file (:func:`kind_rules`, :func:`coverage_rules`); :func:`kind_shares`
counts the reported rows of ``financials.csv`` and ``facts.csv`` in each kind, overall and for
the periods of 2025-2026, and ``valuechain summary`` prints it (:func:`share_lines`).
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from valuechain.dataset.rules import FAILURE_COLUMNS, isin, matches, nonempty, text_column

FILE = "source_kinds.csv"
KINDS = ("filing", "structured_transcription", "narrative_aggregator")
KIND_LABELS = {"filing": "the filing or the company's own release", "structured_transcription": "a structured transcription",
               "narrative_aggregator": "a narrative aggregator"}
RECENT_YEARS = (2025, 2026)  # the years whose share on narrative aggregators issue 30 bounds (at most half)
COMPANY_FACTS = "data.sec.gov"  # SEC's XBRL company facts: each value carries its own filing's accession


def schema(source_ids) -> pa.DataFrameSchema:
    """The columns of ``source_kinds.csv``: one row per source, a known kind, an accession or blank, and why."""
    return pa.DataFrameSchema(
        {
            "source_id": text_column(isin(source_ids, "known_source", "classify a source_id listed in sources.csv, or remove the row"),
                                     unique=True),
            "kind": text_column(isin(KINDS, "known_kind", f"kind must be one of {', '.join(KINDS)}")),
            "accession": text_column(matches(r"^(\d{10}-\d{2}-\d{6})?$", "accession_format",
                                             "write the SEC accession number as 0001045810-26-000123, or leave it blank")),
            "why": text_column(nonempty()),
        },
        strict=True,
    )


def kind_rules(kinds: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """A kind agrees with its source row: a filing is not read through an aggregator, a structured
    transcription names its filing's accession, and the two files' accessions agree."""
    src = sources.set_index("source_id")
    rows = []

    def fail(idx, column, rule, value, fix):
        rows.append((FILE, int(idx) + 2, column, rule, value, fix))

    for idx, row in zip(kinds.index, kinds.to_dict("records")):
        if row["source_id"] not in src.index:
            continue  # the schema reports an unknown id
        source = src.loc[row["source_id"]]
        accession = row["accession"] or source["accession"]
        if row["kind"] == "filing" and source["via_aggregator"] == "true":
            fail(idx, "kind", "filing_is_read_directly", row["source_id"],
                 "sources.csv marks this source via_aggregator: classify it structured_transcription or narrative_aggregator")
        elif (row["kind"] == "structured_transcription" and not accession
              and COMPANY_FACTS not in source["document_url"] + source["publisher"]):
            fail(idx, "accession", "transcription_names_accession", row["source_id"],
                 "a structured transcription carries its filing's accession: give it here or in sources.csv, "
                 "or classify the source narrative_aggregator")
        if row["accession"] and source["accession"] and row["accession"] != source["accession"]:
            fail(idx, "accession", "accession_agrees", row["accession"],
                 f"sources.csv gives {source['accession']} for this source; make the two agree")
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def coverage_rules(frame: pd.DataFrame, file: str, kinds: pd.DataFrame) -> pd.DataFrame:
    """Every source of a reported row of ``frame`` (``financials.csv`` or ``facts.csv``) has a kind."""
    known = set(kinds["source_id"])
    reported = frame[frame["basis"] == "reported"]
    missing = reported[~reported["source_id"].isin(known)]
    rows = [(file, int(idx) + 2, "source_id", "source_has_kind", sid,
             f"classify source '{sid}' in {FILE} (filing, structured_transcription or narrative_aggregator, and why)")
            for idx, sid in missing["source_id"].items()]
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def reported_rows(ds) -> pd.DataFrame:
    """The reported rows of ``financials.csv`` and ``facts.csv`` with their source's kind and year
    (a period's end, or a fact's as-of date)."""
    kind = ds.source_kinds.set_index("source_id")["kind"]
    fin = ds.financials[ds.financials["basis"] == "reported"]
    facts = ds.facts[ds.facts["basis"] == "reported"]
    rows = pd.concat([
        pd.DataFrame({"file": "financials.csv", "source_id": fin["source_id"], "year": fin["period_end"].dt.year}),
        pd.DataFrame({"file": "facts.csv", "source_id": facts["source_id"], "year": facts["as_of"].str[:4].astype(int)}),
    ], ignore_index=True)
    return rows.assign(kind=rows["source_id"].map(kind))


def kind_shares(ds) -> pd.DataFrame:
    """Reported rows by provenance kind: ``rows`` and ``share`` (0-1) overall and for 2025-2026.

    One row per kind, in the order of :data:`KINDS`; the shares of a scope sum to 1.
    """
    rows = reported_rows(ds)
    recent = rows[rows["year"].isin(RECENT_YEARS)]
    out = pd.DataFrame({
        "kind": list(KINDS),
        "rows": [int((rows["kind"] == k).sum()) for k in KINDS],
        "rows_2025_2026": [int((recent["kind"] == k).sum()) for k in KINDS],
    })
    return out.assign(share=out["rows"] / max(len(rows), 1),
                      share_2025_2026=out["rows_2025_2026"] / max(len(recent), 1))


def share_lines(ds) -> list[str]:
    """The summary's lines: reported rows by provenance kind, overall and for 2025-2026."""
    shares = kind_shares(ds)
    total, recent = int(shares["rows"].sum()), int(shares["rows_2025_2026"].sum())
    lines = [f"Reported rows by provenance kind ({FILE}), all {total} and the {recent} of "
             f"{RECENT_YEARS[0]}-{RECENT_YEARS[-1]}:"]
    for row in shares.itertuples():
        lines.append(f"  {row.kind:<25} {row.rows:>4} ({row.share:.1%})   {RECENT_YEARS[0]}-{RECENT_YEARS[-1]}: "
                     f"{row.rows_2025_2026:>4} ({row.share_2025_2026:.1%})")
    return lines
