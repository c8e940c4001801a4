"""Load and validate the bundled AI value-chain dataset.

Files (in ``valuechain/data/`` unless another folder is given):

``companies.csv``   one row per company: layer, region, listing, fiscal year-end month.
``financials.csv``  one row per company x period x metric, in USD billions, with basis and source.
``facts.csv``       dated claims and ratios in other units (valuations, P/E, per-user revenue).
``sources.csv``     every document a row cites.
``source_kinds.csv`` the provenance kind of every source a reported row cites (:mod:`valuechain.dataset.provenance`).
``metrics.yaml``    unit and one-line definition of every metric.

Raw files are never edited by code: validation reads them, and every derived table is a
new frame. A rule that fails raises :class:`DataValidationError` whose one-line message names
the file, the row (as the line number in the file) and the fix; ``.failures`` holds every
failure as a table.
"""
from __future__ import annotations

import collections
import copy
import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from valuechain import paths
from valuechain.dataset import fiscal, provenance
from valuechain.exceptions import DataValidationError, FiscalCalendarError
from valuechain.layers import LAYERS
from valuechain.dataset.rules import (DATE, FAILURE_COLUMNS, NUMBER, check, text_column, isin, matches, nonempty, raise_if, read_csv,
                                     read_yaml)

REGIONS = ("US", "China", "Other")
MAX_VALUE_USD_BN = 100_000.0  # $100 trillion, about world GDP: no company's figure for a period is larger
BASES = ("reported", "derived", "estimate", "run_rate", "claim")
PERIOD_TYPES = ("quarter", "half", "fiscal_year", "calendar_year", "point")
UNITS = ("usd_bn", "cny_bn", "usd", "usd_per_usd", "share", "ratio", "multiple", "count", "gw", "year")
MARKET_ENTITY = "market"

FINANCIAL_KEY = ["company_id", "period_type", "fiscal_period", "metric"]
LABEL_PATTERNS = {
    "quarter": r"^FY\d{4}Q[1-4]$",
    "fiscal_year": r"^FY\d{4}$",
    "calendar_year": r"^CY\d{4}$",
    "half": r"^H[12]-\d{4}$",
    "point": r"^\d{4}-\d{2}-\d{2}$",
}


@dataclass(frozen=True)
class Dataset:
    """The validated dataset: frames with typed columns, plus metric definitions."""

    companies: pd.DataFrame
    financials: pd.DataFrame
    facts: pd.DataFrame
    sources: pd.DataFrame
    metrics: dict
    data_dir: Path
    source_kinds: pd.DataFrame = field(default_factory=pd.DataFrame)  # source_id, kind, accession, why

    def series(self, company: str, metric: str) -> tuple:
        """The rows of ``financials`` for one company and metric, in file order, as named tuples
        (fields are the column names). Built on first use from the frame as it then is, like
        everything read from a Dataset: its frames are not to be edited in place."""
        return self._series.get((company, metric), ())

    @functools.cached_property
    def _series(self) -> dict:
        series: dict[tuple[str, str], list] = {}
        for row in self.financials.itertuples(index=False):
            series.setdefault((row.company_id, row.metric), []).append(row)
        return {key: tuple(rows) for key, rows in series.items()}

    @property
    def company_names(self) -> dict[str, str]:
        """Company id -> name, as this dataset's ``companies.csv`` gives them: every label, table,
        chart and sentence names a company from here, so a dataset with other names shows those."""
        return dict(zip(self.companies["company_id"], self.companies["name"]))

    @property
    def vintage(self) -> dt.date:
        """Latest period end among filed (reported or derived) figures."""
        filed = self.financials[self.financials["basis"].isin(["reported", "derived"])]
        return filed["period_end"].max().date()

    def fact(self, fact_id: str) -> float:
        """Value of one row of ``facts.csv``."""
        match = self.facts.loc[self.facts["fact_id"] == fact_id, "value"]
        if match.empty:
            raise DataValidationError(f"facts.csv: no fact '{fact_id}'; add a row with that fact_id and its source")
        return float(match.iloc[0])

    def source_line(self, source_ids) -> str:
        """'Source: publisher, title (date); ...' for the given source ids, in order, without repeats."""
        parts = []
        for sid in dict.fromkeys(source_ids):
            row = self.sources.loc[self.sources["source_id"] == sid].iloc[0]
            parts.append(f"{row['publisher']}, {row['title']} ({row['date_published']})")
        return "Source: " + "; ".join(parts)


TABLES = ("sources", "companies", "financials", "facts", "source_kinds")  # the CSV files, in the order they are checked
FILES = (*(f"{name}.csv" for name in TABLES), "metrics.yaml")

# Datasets already validated in this process, by the bytes of their files: a notebook, the batch
# runner and the site load the same files several times, and validating them takes most of the load.
_VALIDATED: collections.OrderedDict[str, Dataset] = collections.OrderedDict()
_KEEP = 8


def load_dataset(data_dir: str | Path | None = None) -> Dataset:
    """Read, validate and type the dataset in ``data_dir`` (default: the bundled data).

    Files whose exact bytes were already validated in this process (wherever they lie) are not
    checked again; the caller gets its own copy of the frames either way, so editing one never
    changes what a later call returns.
    """
    data_dir = Path(data_dir) if data_dir is not None else paths.DATA_DIR
    try:
        content = {name: (data_dir / name).read_bytes() for name in FILES}
    except OSError:
        return _load(data_dir)  # which names the file that cannot be read
    digest = hashlib.blake2b(digest_size=20)
    for name in FILES:
        digest.update(name.encode() + b"\0" + content[name] + b"\0")
    key = digest.hexdigest()
    if key in _VALIDATED:
        _VALIDATED.move_to_end(key)
    else:  # validated from the very bytes the key was made of
        _VALIDATED[key] = _load(data_dir, content)
        while len(_VALIDATED) > _KEEP:
            _VALIDATED.popitem(last=False)
    known = _VALIDATED[key]
    return Dataset(companies=known.companies.copy(), financials=known.financials.copy(), facts=known.facts.copy(),
                   sources=known.sources.copy(), metrics=copy.deepcopy(known.metrics), data_dir=data_dir,
                   source_kinds=known.source_kinds.copy())


def _load(data_dir: Path, content: dict[str, bytes] | None = None) -> Dataset:
    """Read (from ``content``, the files' bytes by name, when given), validate and type the dataset."""
    content = content or {}
    metrics = _read_metrics(data_dir / "metrics.yaml", content.get("metrics.yaml"))
    raw = {name: read_csv(data_dir / f"{name}.csv", content.get(f"{name}.csv")) for name in TABLES}

    check(_schema_sources(), raw["sources"], "sources.csv")
    raise_if(_source_rules(raw["sources"]), "sources.csv")
    check(_schema_companies(), raw["companies"], "companies.csv")
    source_ids = set(raw["sources"]["source_id"])
    company_ids = set(raw["companies"]["company_id"])
    check(_schema_financials(company_ids, metrics, source_ids), raw["financials"], "financials.csv")
    check(_schema_facts(company_ids, source_ids), raw["facts"], "facts.csv")
    check(provenance.schema(source_ids), raw["source_kinds"], provenance.FILE)
    raise_if(provenance.kind_rules(raw["source_kinds"], raw["sources"]), provenance.FILE)

    companies = raw["companies"].assign(
        listed=raw["companies"]["listed"].eq("true"),
        fiscal_year_end_month=raw["companies"]["fiscal_year_end_month"].astype(int),
    )
    financials = raw["financials"].assign(
        value_usd_bn=raw["financials"]["value_usd_bn"].astype(float),
        period_end=pd.to_datetime(raw["financials"]["period_end"]),
    )
    financials = financials.merge(companies[["company_id", "layer", "fiscal_year_end_month"]], on="company_id")
    raise_if(_financial_rules(raw["financials"], financials, metrics), "financials.csv")
    raise_if(_traceability_rules(raw["financials"], raw["sources"], "financials.csv"), "financials.csv")
    raise_if(provenance.coverage_rules(raw["financials"], "financials.csv", raw["source_kinds"]), "financials.csv")
    facts = raw["facts"].assign(value=raw["facts"]["value"].astype(float))
    raise_if(_fact_rules(facts), "facts.csv")
    raise_if(_traceability_rules(raw["facts"], raw["sources"], "facts.csv"), "facts.csv")
    raise_if(provenance.coverage_rules(raw["facts"], "facts.csv", raw["source_kinds"]), "facts.csv")
    return Dataset(
        companies=companies,
        financials=financials.drop(columns="fiscal_year_end_month"),
        facts=facts,
        sources=raw["sources"],
        metrics=metrics,
        data_dir=data_dir,
        source_kinds=raw["source_kinds"],
    )


# ----------------------------------------------------------------------------- reading


def _read_metrics(path: Path, data: bytes | None = None) -> dict:
    metrics = read_yaml(path, data)
    if not isinstance(metrics, dict):
        raise DataValidationError(f"{path.name}: expected a mapping of metric name to definition")
    for name, spec in metrics.items():
        if not isinstance(spec, dict) or not spec.get("unit") or not spec.get("definition"):
            raise DataValidationError(f"{path.name}: metric '{name}' needs a unit and a one-line definition")
        if spec.get("parent") and spec["parent"] not in metrics:
            raise DataValidationError(f"{path.name}: metric '{name}' has unknown parent '{spec['parent']}'; define it or remove parent")
    return metrics


# ----------------------------------------------------------------------------- column schemas


def _schema_sources() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "source_id": text_column(matches(r"^[a-z0-9_]+$", "source_id_format", "use lower-case letters, digits and _"), unique=True),
            "title": text_column(nonempty()),
            "publisher": text_column(nonempty()),
            "date_published": text_column(matches(r"^\d{4}(-\d{2}(-\d{2})?)?$", "date_format", "write the date as YYYY, YYYY-MM or YYYY-MM-DD")),
            "url": text_column(),
            "covers": text_column(nonempty()),
            "accession": text_column(matches(r"^(\d{10}-\d{2}-\d{6})?$", "accession_format",
                                       "write the SEC accession number as 0001045810-26-000123, or leave it blank for a non-SEC document")),
            "document_url": text_column(matches(r"^(https?://\S+)?$", "url_format",
                                          "give the exact document's URL (https://...), or leave it blank")),
            "accessed": text_column(matches(r"^(\d{4}-\d{2}-\d{2})?$", "date_format", "write the date accessed as YYYY-MM-DD, or leave it blank for an undated seed")),
            "licence": text_column(nonempty()),
            "via_aggregator": text_column(isin({"true", "false"}, "boolean", "write true or false")),
        },
        strict=True,
    )


def _schema_companies() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "company_id": text_column(matches(r"^[a-z0-9_]+$", "company_id_format", "use lower-case letters, digits and _"), unique=True),
            "name": text_column(nonempty()),
            "ticker": text_column(),
            "layer": text_column(isin(LAYERS, "known_layer", f"layer must be one of {', '.join(LAYERS)}")),
            "region": text_column(isin(REGIONS, "known_region", f"region must be one of {', '.join(REGIONS)}")),
            "listed": text_column(isin({"true", "false"}, "boolean", "write true or false")),
            "fiscal_year_end_month": text_column(matches(r"^(1[0-2]|[1-9])$", "month", "give the fiscal year-end month as 1-12")),
            "note": text_column(),
        },
        strict=True,
    )


def _schema_financials(company_ids, metrics, source_ids) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "company_id": text_column(isin(company_ids, "known_company", "add the company to companies.csv or fix the id")),
            "period_type": text_column(isin(PERIOD_TYPES, "known_period_type", f"period_type must be one of {', '.join(PERIOD_TYPES)}")),
            "fiscal_period": text_column(nonempty()),
            "period_end": text_column(matches(DATE, "date_format", "write period_end as YYYY-MM-DD")),
            "calendar_quarter": text_column(),
            "metric": text_column(isin(metrics, "known_metric", "define the metric in metrics.yaml or fix its name")),
            "value_usd_bn": text_column(matches(NUMBER, "numeric", "write the value as a plain number in USD billions, e.g. 12.345")),
            "basis": text_column(isin(BASES, "known_basis", f"basis must be one of {', '.join(BASES)}")),
            "source_id": text_column(isin(source_ids, "known_source", "cite a source_id listed in sources.csv (add the document there first)")),
            "note": text_column(),
        },
        strict=True,
    )


def _schema_facts(company_ids, source_ids) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "fact_id": text_column(matches(r"^[a-z0-9_]+$", "fact_id_format", "use lower-case letters, digits and _"), unique=True),
            "entity": text_column(isin(set(company_ids) | {MARKET_ENTITY}, "known_entity", "use a company_id from companies.csv or 'market'")),
            "metric": text_column(nonempty()),
            "value": text_column(matches(NUMBER, "numeric", "write the value as a plain number")),
            "unit": text_column(isin(UNITS, "known_unit", f"unit must be one of {', '.join(UNITS)}")),
            "as_of": text_column(matches(r"^\d{4}(-\d{2}(-\d{2})?)?$", "date_format", "write as_of as YYYY, YYYY-MM or YYYY-MM-DD")),
            "basis": text_column(isin(BASES, "known_basis", f"basis must be one of {', '.join(BASES)}")),
            "source_id": text_column(isin(source_ids, "known_source", "cite a source_id listed in sources.csv (add the document there first)")),
            "note": text_column(),
        },
        strict=True,
    )


# ----------------------------------------------------------------------------- cross-row rules


def _rows(frame: pd.DataFrame):
    """(index, row as a dict) for every row: what ``iterrows`` gives, without building a Series per row."""
    return zip(frame.index, frame.to_dict("records"))


def _financial_rules(raw: pd.DataFrame, fin: pd.DataFrame, metrics: dict) -> pd.DataFrame:
    failures = []

    def fail(idx, column, rule, value, fix):
        failures.append(("financials.csv", int(idx) + 2, column, rule, value, fix))

    for idx in raw.index[raw.duplicated(FINANCIAL_KEY, keep="first")]:
        fail(idx, "fiscal_period", "unique_key", "/".join(raw.loc[idx, FINANCIAL_KEY]),
             "each company x period x metric may appear once; remove the repeated row")
    for idx, row in _rows(fin):
        _period_rules(idx, row, fail)
        spec = metrics[row["metric"]]
        if not abs(row["value_usd_bn"]) <= MAX_VALUE_USD_BN:  # also catches inf, from a number too long for a float
            fail(idx, "value_usd_bn", "plausible", raw.at[idx, "value_usd_bn"][:40],
                 f"no company figure exceeds {MAX_VALUE_USD_BN:,.0f} USD billions ($100 trillion); check the unit and the digits")
        elif row["value_usd_bn"] < 0 and not spec.get("signed"):
            fail(idx, "value_usd_bn", "non_negative", row["value_usd_bn"],
                 f"{row['metric']} cannot be negative; check the sign (losses are stated as positive net_loss)")
    _segment_rules(fin, metrics, fail)
    _gap_rules(fin, fail)
    return pd.DataFrame(failures, columns=FAILURE_COLUMNS).sort_values("row", kind="stable")


def _period_rules(idx, row, fail) -> None:
    ptype, label, end = row["period_type"], row["fiscal_period"], row["period_end"].date()
    if not re.match(LABEL_PATTERNS[ptype], label):
        fail(idx, "fiscal_period", "period_label", label,
             f"a {ptype} period is labelled like {LABEL_PATTERNS[ptype].strip('^$')}; fix the label or the period_type")
        return
    fye = int(row["fiscal_year_end_month"])
    if ptype == "quarter":
        try:
            expected_end, expected_q = fiscal.map_fiscal_quarter(label, fye)
        except FiscalCalendarError as exc:
            fail(idx, "fiscal_period", "quarter_mapping", label, str(exc))
            return
        if end != expected_end:
            fail(idx, "period_end", "quarter_mapping", end.isoformat(),
                 f"{label} of a fiscal year ending in month {fye} ends {expected_end}; fix period_end or the label")
        elif row["calendar_quarter"] != expected_q:
            fail(idx, "calendar_quarter", "quarter_mapping", row["calendar_quarter"],
                 f"{label} (fiscal year ends month {fye}) maps to calendar {expected_q}")
    elif ptype == "fiscal_year":
        expected_end = fiscal.month_end(int(label[2:]), fye)
        if end != expected_end:
            fail(idx, "period_end", "fiscal_year_end", end.isoformat(),
                 f"{label} of a fiscal year ending in month {fye} ends {expected_end}")
    elif ptype == "point":
        if label != end.isoformat():
            fail(idx, "period_end", "point_date", end.isoformat(), "a point observation's label is its period_end date")
        elif row["calendar_quarter"] != fiscal.quarter_of_date(end):
            fail(idx, "calendar_quarter", "point_quarter", row["calendar_quarter"],
                 f"{end} lies in calendar {fiscal.quarter_of_date(end)}")
    if ptype != "quarter" and ptype != "point" and row["calendar_quarter"]:
        fail(idx, "calendar_quarter", "quarter_only", row["calendar_quarter"], "leave calendar_quarter blank for a period longer than a quarter")


def _segment_rules(fin: pd.DataFrame, metrics: dict, fail) -> None:
    parents = {metric: spec["parent"] for metric, spec in metrics.items() if spec.get("parent")}
    totals = {(row.company_id, row.period_type, row.fiscal_period, row.metric): row.value_usd_bn
              for row in fin[fin["metric"].isin(set(parents.values()))].itertuples()}
    for row in fin[fin["metric"].isin(list(parents))].itertuples():
        parent = parents[row.metric]
        total = totals.get((row.company_id, row.period_type, row.fiscal_period, parent))
        if total is not None and row.value_usd_bn > total + 1e-9:
            fail(row.Index, "value_usd_bn", "segment_within_total", row.value_usd_bn,
                 f"{row.metric} {row.value_usd_bn} exceeds {parent} {total} for {row.company_id} {row.fiscal_period}")


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def _gap_rules(fin: pd.DataFrame, fail) -> None:
    """Each company's quarterly series of a metric runs without a missing calendar quarter. Rows whose
    calendar_quarter is malformed are left out here: the quarter-mapping rule reports them."""
    series: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for row in fin[fin["period_type"] == "quarter"].itertuples():
        match = _QUARTER.match(row.calendar_quarter)
        if match:
            number = int(match[1]) * 4 + int(match[2]) - 1
            series.setdefault((row.company_id, row.metric), []).append((number, row.Index))
    for (company, metric), rows in sorted(series.items()):
        held = {number for number, _ in rows}
        missing = next((n for n in range(min(held), max(held) + 1) if n not in held), None)
        if missing is not None:
            quarter = f"{missing // 4}Q{missing % 4 + 1}"
            fail(max(idx for _, idx in rows), "calendar_quarter", "no_gap", quarter,
                 f"{company} {metric} has no row for {quarter} inside its series; add the quarter or trim the series")


def _source_rules(sources: pd.DataFrame) -> pd.DataFrame:
    # An aggregator's figure is only as good as the filing it copies, so that filing must be named.
    rows = []
    aggregated = sources[sources["via_aggregator"] == "true"]
    for idx, row in _rows(aggregated):
        if not (row["accession"] or "Transcribes " in row["covers"]):
            rows.append(("sources.csv", int(idx) + 2, "covers", "aggregator_names_filing", row["source_id"],
                         "a source read through an aggregator must give the accession of the filing it transcribes, "
                         "or name that document in covers ('Transcribes ...')"))
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def _traceability_rules(frame: pd.DataFrame, sources: pd.DataFrame, file: str) -> pd.DataFrame:
    """A ``reported`` figure (of ``financials.csv`` or ``facts.csv``) must cite a specific document: an
    accession number or a document URL."""
    traced = sources.set_index("source_id")
    traced = traced["accession"].str.len().gt(0) | traced["document_url"].str.len().gt(0)
    rows = []
    for idx, row in _rows(frame[frame["basis"] == "reported"]):
        if not traced.get(row["source_id"], False):
            rows.append((file, int(idx) + 2, "source_id", "reported_cites_document", row["source_id"],
                         f"a reported figure must cite a specific filing: give source '{row['source_id']}' an accession "
                         "or document_url in sources.csv, cite a per-filing source, or change the basis"))
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def _fact_rules(facts: pd.DataFrame) -> pd.DataFrame:
    bad = facts[(facts["unit"] == "share") & ~facts["value"].between(0, 1)]
    rows = [("facts.csv", int(i) + 2, "value", "share_in_0_1", v, "a share is written as 0-1 (0.25, not 25)")
            for i, v in bad["value"].items()]
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)
