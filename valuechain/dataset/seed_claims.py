"""The seed documents' quantitative claims and the figures of the data each is set against.

``seed_claims.csv`` has one row per claim: the claim's row in ``facts.csv`` (``fact_id``, whose
value, unit, date and source, one of the two seed documents, are the claim's), where in the
document it is made, the claim in words, its ``form`` (``point``: a figure; ``at_least`` or
``at_most``: a bound such as "has surpassed"), the data's figures it is compared with, the
relative tolerance, what the seed's figure measures where that matters (``definition``), and why
the comparison is the one chosen or why there is none (``reason``).

A comparison names a row of the data:

- ``fact:<fact_id>``: a row of ``facts.csv``;
- ``financials:<company_id>/<period_type>/<fiscal_period>/<metric>``: a row of ``financials.csv``;
- ``disclosure:<disclosure_id>``: a row of ``ai_revenue.csv``.

Several, separated by spaces, are the same quantity at different dates (a later one supersedes an
earlier one) or, on the same date, the ends of a range. This module reads and checks the file
and resolves the comparisons (:func:`figures`); :mod:`valuechain.model.claims` judges each claim.
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from valuechain.dataset import disclosures
from valuechain.dataset.load import Dataset
from valuechain.dataset.rules import FAILURE_COLUMNS, NUMBER, check, isin, matches, nonempty, raise_if, read_csv, text_column
from valuechain.exceptions import DataValidationError

FILE = "seed_claims.csv"
SEED_SOURCES = ("seed_briefing", "seed_podcast")
DOCUMENTS = {"seed_briefing": "Briefing", "seed_podcast": "Podcast"}
FORMS = ("point", "at_least", "at_most")
REF = r"(fact:[a-z0-9_]+|financials:[a-z0-9_]+/[a-z_]+/[A-Za-z0-9-]+/[a-z0-9_]+|disclosure:[a-z0-9_]+)"
FIGURE_COLUMNS = ["ref", "value", "unit", "date", "basis", "source_id", "label"]


def _schema(seed_fact_ids) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "fact_id": text_column(isin(seed_fact_ids, "seed_fact",
                                        "name a row of facts.csv whose source is seed_briefing or seed_podcast"), unique=True),
            "where": text_column(nonempty()),
            "claim": text_column(nonempty()),
            "form": text_column(isin(FORMS, "known_form", f"form must be one of {', '.join(FORMS)}")),
            "compared_with": text_column(matches(rf"^({REF}( {REF})*)?$", "comparison_format",
                                                 "name figures as fact:<id>, financials:<company>/<period_type>/<fiscal_period>/<metric> "
                                                 "or disclosure:<id>, separated by spaces, or leave it blank")),
            "tolerance": text_column(matches(NUMBER, "numeric", "write the tolerance as a share, e.g. 0.05")),
            "definition": text_column(),
            "reason": text_column(nonempty()),
        },
        strict=True,
    )


def load(ds: Dataset) -> pd.DataFrame:
    """Read and check ``seed_claims.csv`` beside the dataset's files: every seed claim of
    ``facts.csv`` has one row, every comparison names a row of the data in the claim's unit."""
    raw = read_csv(ds.data_dir / FILE)
    seed_facts = ds.facts[ds.facts["source_id"].isin(SEED_SOURCES)]
    check(_schema(set(seed_facts["fact_id"])), raw, FILE)
    claims = raw.assign(tolerance=raw["tolerance"].astype(float))
    raise_if(_rules(claims, seed_facts, ds), FILE)
    return claims


def _rules(claims: pd.DataFrame, seed_facts: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    rows = []
    unit = seed_facts.set_index("fact_id")["unit"]
    for idx, claim in zip(claims.index, claims.to_dict("records")):
        if not 0 <= claim["tolerance"] < 1:
            rows.append((FILE, int(idx) + 2, "tolerance", "share_in_0_1", claim["tolerance"], "a tolerance is a share from 0 to 1 (0.05, not 5)"))
        for ref in claim["compared_with"].split():
            try:
                figure = figure_of(ds, ref)
            except DataValidationError as exc:
                rows.append((FILE, int(idx) + 2, "compared_with", "known_figure", ref, str(exc)))
                continue
            if figure["unit"] != unit[claim["fact_id"]]:
                rows.append((FILE, int(idx) + 2, "compared_with", "same_unit", ref,
                             f"{ref} is in {figure['unit']}, the claim in {unit[claim['fact_id']]}; compare figures in one unit"))
    missing = sorted(set(seed_facts["fact_id"]) - set(claims["fact_id"]))
    rows += [(FILE, None, "fact_id", "every_claim", fact_id,
              f"the seed claim '{fact_id}' of facts.csv has no row; add it (with a reason if nothing in the data compares)")
             for fact_id in missing]
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def figure_of(ds: Dataset, ref: str) -> dict:
    """One comparison figure: its value, unit, date, basis, source and a label in words."""
    kind, _, key = ref.partition(":")
    if kind == "fact":
        match = ds.facts[ds.facts["fact_id"] == key]
        if match.empty:
            raise DataValidationError(f"no row '{key}' in facts.csv; add it with its source or fix the id")
        row = match.iloc[0]
        return {"ref": ref, "value": float(row["value"]), "unit": row["unit"], "date": _date(row["as_of"]),
                "basis": row["basis"], "source_id": row["source_id"], "label": f"{row['metric']} ({row['as_of']})"}
    if kind == "financials":
        company, period_type, period, metric = key.split("/")
        fin = ds.financials
        match = fin[(fin["company_id"] == company) & (fin["period_type"] == period_type) & (fin["fiscal_period"] == period)
                    & (fin["metric"] == metric)]
        if match.empty:
            raise DataValidationError(f"no row {company} {period_type} {period} {metric} in financials.csv; fix the key")
        row = match.iloc[0]
        return {"ref": ref, "value": float(row["value_usd_bn"]), "unit": "usd_bn", "date": row["period_end"],
                "basis": row["basis"], "source_id": row["source_id"], "label": f"{metric} {period}"}
    panel = disclosures.load(ds)
    match = panel[panel["disclosure_id"] == key]
    if match.empty:
        raise DataValidationError(f"no row '{key}' in ai_revenue.csv; fix the id")
    row = match.iloc[0]
    return {"ref": ref, "value": float(row["value_usd_bn"]), "unit": "usd_bn", "date": row["as_of"],
            "basis": row["basis"], "source_id": row["source_id"], "label": f"{row['kind']} ({row['as_of'].date()})"}


def _date(as_of: str) -> pd.Timestamp:
    """A fact's date: the end of the year or month it names when it names no day."""
    return pd.Period(as_of, freq={4: "Y", 7: "M"}.get(len(as_of), "D")).end_time.normalize()


def figures(ds: Dataset, claims: pd.DataFrame) -> pd.DataFrame:
    """Every comparison figure of every claim: ``fact_id`` plus :data:`FIGURE_COLUMNS`."""
    rows = [{"fact_id": claim.fact_id, **figure_of(ds, ref)} for claim in claims.itertuples() for ref in claim.compared_with.split()]
    return pd.DataFrame(rows, columns=["fact_id", *FIGURE_COLUMNS])
