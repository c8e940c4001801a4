"""Refresh ``financials.csv`` from SEC XBRL company facts (``valuechain data refresh``).

The refresh has two steps with a person in between:

1. :func:`stage_refresh` checks that the dataset validates, fetches the company-facts JSON of
   every SEC filer mapped in ``xbrl_concepts.yaml``, turns its facts into dataset rows and writes a
   *staged change file* comparing them with the bundled rows (their values as written). Each
   row's ``action`` is ``new``, ``changed`` (both values shown: a restatement, or a rounded figure
   the filing gives exactly), ``unchanged`` or ``unmapped`` (a fact that could not be placed, or a
   quarter that could not be derived).
2. :func:`apply_staged` merges only the rows whose ``accept`` column a reviewer set to ``yes``
   into ``financials.csv``, adds one ``sources.csv`` row per filing naming its accession number,
   validates the result with :func:`valuechain.dataset.load.load_dataset` and only then replaces the
   files. A failure changes nothing.

Quarters are built as the dataset builds them by hand. A three-month fact is used directly.
Cash-flow statements in 10-Qs are often year-to-date only, so a missing second or third
quarter is the year-to-date figure minus the previous one, and the fourth quarter is the
fiscal-year total (10-K) minus the nine-month year-to-date:

.. math::

    Q_4 = FY - YTD_9, \\qquad Q_3 = YTD_9 - YTD_6, \\qquad Q_2 = YTD_6 - Q_1

The arithmetic is done on the filed whole-dollar values, so a derived quarter is exact.
A fact's fiscal period comes from its start and end dates, never from the ``fy``/``fp`` fields
(those describe the filing, which also carries prior-year comparatives); where one period was
filed several times, the latest filing's value (which carries any restatement) is used.

The HTTP layer is injected: every function that fetches takes a ``session`` with a
``requests.Session``-like ``get(url, headers=..., timeout=...)``, so tests never touch the network.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from valuechain import paths
from valuechain.dataset import fiscal, provenance
from valuechain.dataset.load import FINANCIAL_KEY, load_dataset
from valuechain.dataset.rules import read_csv, read_yaml
from valuechain.exceptions import (
    DataValidationError,
    SecIdentityError,
    SecRateLimitError,
    SecRequestError,
    SecResponseError,
    StagedChangesError,
)
from valuechain.files import atomic_write_text

COMPANYFACTS_URL = "https://data.sec.gov/api/xbrl/companyfacts/CIK{cik:010d}.json"
FILING_URL = "https://www.sec.gov/Archives/edgar/data/{cik}/{accn_digits}/"
CONCEPTS_FILE = "xbrl_concepts.yaml"
USER_AGENT_ENV = "VALUECHAIN_SEC_USER_AGENT"
USER_AGENT_HELP = (f"set the SEC User-Agent identity with --user-agent \"Your Name you@example.com\" "
                   f"or the environment variable {USER_AGENT_ENV}")
REQUESTS_PER_SECOND = 10  # SEC's fair-access limit for data.sec.gov
TIMEOUT_SECONDS = 30
TAXONOMY = "us-gaap"
UNIT = "USD"
FORMS = ("10-Q", "10-K", "10-Q/A", "10-K/A", "10-KT")
USD_PER_BN = 1_000_000_000
SAME_VALUE_USD_BN = 0.0005  # values equal to the million are the same figure
PLAUSIBLE_USD_BN = 1_000.0  # a quarter's or a year's figure above $1 trillion is flagged for the reviewer
JUMP_FACTOR = 10.0  # a figure more than 10 times (or under a tenth of) the previous period's is flagged
MAX_DIGITS = 20  # digits of an integer in a response: whole dollars up to 10^20, far above any company's figure
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100  # a fact dated outside these years is malformed
CHECK = "check: "  # how a review note that needs the reviewer's judgement begins

# Inclusive day counts of a 3-, 6-, 9- and 12-month period, wide enough for 52/53-week years.
DURATION_DAYS = {3: (80, 100), 6: (170, 190), 9: (260, 285), 12: (350, 380)}
YTD_NAMES = {3: "Q1", 6: "half-year year-to-date", 9: "nine-month year-to-date", 12: "fiscal-year total"}
Q4_NOTE = "Q4 = fiscal-year total (10-K) minus nine-month year-to-date (Q3 10-Q)"

ACTIONS = ("new", "changed", "unchanged", "unmapped")
STAGED_COLUMNS = [
    "action", "accept", "company_id", "period_type", "fiscal_period", "period_end", "calendar_quarter",
    "metric", "value_usd_bn", "bundled_value_usd_bn", "difference_usd_bn", "basis", "bundled_source_id",
    "concept", "cik", "entity_name", "accn", "form", "filed", "note", "review_note",
]
SEC_TERMS = "SEC EDGAR public data; https://www.sec.gov/privacy#dissemination"
KIND_WHY = "SEC's XBRL company facts for the filing, taken by valuechain data refresh: the filed figure to the unit with its accession"


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class CompanyMap:
    """One SEC filer to refresh: its company id, CIK and the us-gaap concepts of each metric."""

    company_id: str
    cik: int
    concepts: dict  # metric -> tuple of us-gaap concept names, in order of preference


@dataclass(frozen=True)
class Fact:
    """One XBRL fact of a duration concept, in whole US dollars."""

    concept: str
    start: dt.date
    end: dt.date
    value_usd: int
    accn: str
    form: str
    filed: str


@dataclass(frozen=True)
class Period:
    """The fiscal placement of a fact: the quarter its period ends with and how many months it spans."""

    fiscal_year: int
    quarter: int  # 1-4: the fiscal quarter the period ends with
    months: int   # 3, 6, 9 or 12 (a year-to-date period when months == 3 * quarter)


@dataclass(frozen=True)
class RefreshSummary:
    """What :func:`stage_refresh` wrote: the staged file and its row count per action."""

    path: Path
    counts: dict
    companies: tuple
    flagged: int = 0  # rows whose review_note begins "check:" (a conflict, an implausible size or jump)

    def describe(self) -> str:
        """One paragraph for the terminal: counts, file and the next step."""
        counts = ", ".join(f"{self.counts.get(a, 0)} {a}" for a in ACTIONS)
        flagged = (f"{self.flagged} rows need a second look: their review_note begins '{CHECK.strip()}'.\n"
                   if self.flagged else "")
        return (f"Staged {counts} rows for {len(self.companies)} companies in {self.path}.\n{flagged}"
                f"Review it, write yes in the accept column of the rows to merge, then run: "
                f"valuechain data refresh --apply {self.path}")


@dataclass(frozen=True)
class ApplySummary:
    """What :func:`apply_staged` merged: rows added and changed, and source rows added."""

    added: int
    changed: int
    sources_added: tuple = field(default_factory=tuple)

    def describe(self) -> str:
        """One line for the terminal."""
        if not (self.added or self.changed):
            return "No row of the staged file is accepted (accept = yes); nothing changed."
        return (f"Merged {self.added} new and {self.changed} changed rows into financials.csv; "
                f"added {len(self.sources_added)} source rows to sources.csv; the dataset validates.")


# ----------------------------------------------------------------------------- configuration


def load_concept_map(data_dir: Path | None = None, company_ids=None) -> list[CompanyMap]:
    """Read ``xbrl_concepts.yaml``: the SEC filers to refresh and the concepts of each metric.

    Parameters
    ----------
    data_dir : Path, optional
        Folder holding the mapping and ``companies.csv`` (default: the bundled data).
    company_ids : iterable of str, optional
        Keep only these companies; an id the mapping lacks is refused.

    Returns
    -------
    list of CompanyMap
        In the order of the file.
    """
    data_dir = Path(data_dir) if data_dir is not None else paths.DATA_DIR
    path = data_dir / CONCEPTS_FILE
    spec = _read_yaml_mapping(path)
    defaults = spec.get("concepts") or {}
    known = set(read_csv(data_dir / "companies.csv")["company_id"])
    maps = [_company_map(path.name, cid, entry, defaults, known) for cid, entry in (spec.get("companies") or {}).items()]
    if company_ids:
        unknown = sorted(set(company_ids) - {m.company_id for m in maps})
        if unknown:
            raise DataValidationError(f"{path.name}: no SEC mapping for {', '.join(unknown)}; "
                                      f"choose from {', '.join(m.company_id for m in maps)} or add the company there")
        maps = [m for m in maps if m.company_id in set(company_ids)]
    return maps


def _read_yaml_mapping(path: Path) -> dict:
    spec = read_yaml(path)
    if not isinstance(spec, dict) or not isinstance(spec.get("companies"), dict):
        raise DataValidationError(f"{path.name}: expected the keys concepts and companies; see the comment at its top")
    return spec


def _company_map(file: str, company_id: str, entry, defaults: dict, known: set) -> CompanyMap:
    if company_id not in known:
        raise DataValidationError(f"{file}: company '{company_id}' is not in companies.csv; fix the id or add the company")
    if not isinstance(entry, dict) or not isinstance(entry.get("cik"), int) or entry["cik"] <= 0:
        raise DataValidationError(f"{file}: company '{company_id}' needs cik: <the SEC central index key, a positive integer>")
    own = entry.get("concepts") or {}
    concepts = {}
    for metric in entry.get("metrics") or []:
        names = own.get(metric) or defaults.get(metric)
        if not names:
            raise DataValidationError(f"{file}: no us-gaap concept for {company_id} {metric}; list it under concepts")
        concepts[metric] = tuple(names)
    return CompanyMap(company_id=company_id, cik=entry["cik"], concepts=concepts)


def check_user_agent(user_agent: str | None) -> str:
    """Return the SEC User-Agent identity, refusing a missing one or one without an e-mail address.

    SEC's fair-access policy asks every automated request to name the requester and an e-mail
    address (``"Jane Analyst jane@example.com"``); requests without one are refused with HTTP 403.
    """
    text = (user_agent or "").strip()
    if not text:
        raise SecIdentityError(f"no SEC User-Agent identity; {USER_AGENT_HELP}")
    if not re.search(r"\S+\s+\S+@\S+\.\S+", text):
        raise SecIdentityError(f"SEC User-Agent {text!r} must give a name and an e-mail address; {USER_AGENT_HELP}")
    return text


# ----------------------------------------------------------------------------- fetching


class Throttle:
    """Spaces calls at least ``1 / rate`` seconds apart (SEC allows 10 requests per second).

    ``clock`` and ``sleep`` are injectable so the spacing can be tested without waiting.
    """

    def __init__(self, rate_per_second: float = REQUESTS_PER_SECOND, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / rate_per_second
        self.clock, self.sleep = clock, sleep
        self._last = None

    def wait(self) -> None:
        """Sleep until the next call is allowed, then record it."""
        if self._last is not None:
            delay = self._last + self.interval - self.clock()
            if delay > 0:
                self.sleep(delay)
        self._last = self.clock()


def new_session():
    """A ``requests.Session`` for data.sec.gov (a function, so tests can replace it)."""
    import requests

    return requests.Session()


def fetch_companyfacts(cik: int, user_agent: str, session, throttle: Throttle | None = None,
                       timeout: float = TIMEOUT_SECONDS) -> dict:
    """Fetch and parse one company-facts JSON document from data.sec.gov.

    Parameters
    ----------
    cik : int
        SEC central index key.
    user_agent : str
        The requester's identity, as :func:`check_user_agent` accepts it.
    session : object
        Anything with ``get(url, headers=..., timeout=...)`` returning an object with
        ``status_code`` and ``text`` (a ``requests.Session``, or a fake in tests).
    throttle : Throttle, optional
        Shared between calls so a run stays within SEC's rate limit.

    Raises
    ------
    SecRequestError
        No network, a timeout, or an HTTP error status.
    SecRateLimitError
        HTTP 429 or 403.
    SecResponseError
        The body is not JSON, or lacks the company-facts structure.
    """
    import requests

    url = COMPANYFACTS_URL.format(cik=cik)
    if throttle is not None:
        throttle.wait()
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
    try:
        response = session.get(url, headers=headers, timeout=timeout)
    except requests.Timeout as exc:
        raise SecRequestError(f"{url}: no answer within {timeout:g} s; retry later") from exc
    except requests.RequestException as exc:
        raise SecRequestError(f"{url}: network error ({type(exc).__name__}: {_first_line(exc)}); "
                              f"check the connection and retry") from exc
    _raise_for_status(url, response.status_code)
    return parse_companyfacts(response.text, url, cik)


def _raise_for_status(url: str, status: int) -> None:
    if status in (403, 429):
        raise SecRateLimitError(f"{url}: SEC refused the request (HTTP {status}: rate limit or unaccepted identity); "
                                f"wait ten minutes and retry with a User-Agent naming you and your e-mail")
    if status == 404:
        raise SecRequestError(f"{url}: HTTP 404, SEC has no company facts for this CIK; check the cik in {CONCEPTS_FILE}")
    if status != 200:
        raise SecRequestError(f"{url}: HTTP {status}; retry later")


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"


def parse_companyfacts(text: str, url: str = "company facts", cik: int | None = None) -> dict:
    """Parse a company-facts body and check the keys the refresh reads (cik, entityName, facts).

    ``NaN`` and ``Infinity``, integers of more than :data:`MAX_DIGITS` digits and nesting too deep to
    parse are malformed JSON; when ``cik`` is given, the response must be that company's.

    Raises
    ------
    SecResponseError
        Naming the URL and what is wrong.
    """
    try:
        payload = json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int)
    except (json.JSONDecodeError, TypeError) as exc:
        raise SecResponseError(f"{url}: malformed JSON ({exc.msg if hasattr(exc, 'msg') else exc}); "
                               f"nothing was changed, retry later") from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else _first_line(exc)
        raise SecResponseError(f"{url}: malformed JSON ({reason}); nothing was changed, retry later") from None
    if not isinstance(payload, dict):
        raise SecResponseError(f"{url}: expected a JSON object with cik, entityName and facts")
    for key in ("cik", "entityName", "facts"):
        if key not in payload:
            raise SecResponseError(f"{url}: the response has no '{key}' key; it is not a company-facts document")
    if not isinstance(payload["facts"], dict):
        raise SecResponseError(f"{url}: 'facts' is not an object of taxonomies")
    if cik is not None:
        got = payload["cik"]
        same = not isinstance(got, bool) and (got == cik or (isinstance(got, str) and got.strip().isdigit() and int(got) == cik))
        if not same:
            raise SecResponseError(f"{url}: the response is for CIK {str(got)[:20]!r}, not the CIK {cik} asked for; "
                                   f"nothing was staged; retry later, and check the cik in {CONCEPTS_FILE}")
    return payload


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits, more than the {MAX_DIGITS} a figure can have")
    return int(text)


def _mapping(value, url: str, where: str) -> dict:
    """``value`` if it is a JSON object (or absent: an empty one); else a one-line SecResponseError."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SecResponseError(f"{url}: {where} is not a JSON object; nothing was changed, retry later")
    return value


def concept_facts(payload: dict, concept: str, url: str = "company facts") -> list[Fact]:
    """The USD duration facts of one us-gaap concept from 10-K and 10-Q filings (empty if untagged).

    Raises
    ------
    SecResponseError
        A fact lacks start, end, val, accn, form or filed, or a date or value is malformed.
    """
    taxonomy = _mapping(payload["facts"].get(TAXONOMY), url, f"facts.{TAXONOMY}")
    entry = _mapping(taxonomy.get(concept), url, concept)
    units = _mapping(entry.get("units"), url, f"{concept} units")
    entries = units.get(UNIT, [])
    if not isinstance(entries, list):
        raise SecResponseError(f"{url}: {concept} units.{UNIT} is not a list of facts")
    facts = []
    for i, item in enumerate(entries):
        if not isinstance(item, dict) or item.get("form") not in FORMS or "start" not in item:
            continue  # instants, 8-Ks and registration statements hold no figures the dataset uses
        try:
            facts.append(Fact(concept=concept, start=_date(item["start"]), end=_date(item["end"]),
                              value_usd=_whole_dollars(item["val"]), accn=str(item["accn"])[:40], form=item["form"],
                              filed=str(_date(item["filed"]))))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise SecResponseError(f"{url}: {concept} fact {i} is malformed ({type(exc).__name__}: {str(exc)[:80]}); "
                                   f"nothing was changed, retry later") from None
    return facts


def _whole_dollars(val) -> int:
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
        raise ValueError(f"val {str(val)[:40]!r} is not a finite number")
    return int(round(val))


def _date(text) -> dt.date:
    day = dt.date.fromisoformat(text)
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValueError(f"the date {day} is outside {EARLIEST_YEAR}-{LATEST_YEAR}")
    return day


# ----------------------------------------------------------------------------- periods


def nominal_month_end(day: dt.date) -> dt.date:
    """The month end a 52/53-week period end stands for: the nearest one (28 Jan -> 31 Jan, 2 Feb -> 31 Jan)."""
    if day.day <= 15:
        first = day.replace(day=1)
        return first - dt.timedelta(days=1)
    return fiscal.month_end(day.year, day.month)


def classify_period(start: dt.date, end: dt.date, fiscal_year_end_month: int) -> Period | str:
    """Place a duration in the company's fiscal calendar, or say why it cannot be placed.

    Returns
    -------
    Period or str
        A :class:`Period` for a quarter or a year-to-date period (3, 6, 9 or 12 months from the
        start of a fiscal year); otherwise the reason, for the staged file's ``unmapped`` rows.
    """
    days = (end - start).days + 1
    months = next((m for m, (low, high) in DURATION_DAYS.items() if low <= days <= high), None)
    if months is None:
        return f"a {days}-day period is neither a quarter nor a year-to-date period"
    nominal = nominal_month_end(end)
    offset = (fiscal_year_end_month - nominal.month) % 12
    if offset % 3:
        return (f"the period ends {end}, not at a fiscal quarter end of a year ending in month {fiscal_year_end_month}")
    quarter = 4 - offset // 3
    fiscal_year = nominal.year + (1 if nominal.month > fiscal_year_end_month else 0)
    if months != 3 and months != 3 * quarter:
        return (f"a {months}-month period ending with fiscal Q{quarter} is not a quarter or a year-to-date period "
                f"(trailing or second-half figure)")
    return Period(fiscal_year=fiscal_year, quarter=quarter, months=months)


def latest_by_period(facts: list[Fact], fiscal_year_end_month: int) -> tuple[dict, list]:
    """Place each fact and keep, per period, the latest-filed one.

    Returns
    -------
    placed : dict
        ``Period -> Fact``: the value of the latest filing (a restatement replaces the first filing).
    unplaced : list of (Fact, reason)
        Facts :func:`classify_period` could not place.
    """
    placed, unplaced = {}, []
    for fact in facts:
        period = classify_period(fact.start, fact.end, fiscal_year_end_month)
        if isinstance(period, str):
            unplaced.append((fact, period))
            continue
        current = placed.get(period)
        if current is None or (fact.filed, fact.accn) > (current.filed, current.accn):
            placed[period] = fact
    return placed, unplaced


def conflicting_periods(facts: list[Fact], fiscal_year_end_month: int) -> dict:
    """Periods whose filings give different values: ``Period -> [Fact, ...]`` (one per distinct value,
    latest filing first). :func:`latest_by_period` stages the latest; the others are told to the reviewer."""
    by_period: dict = {}
    for fact in facts:
        period = classify_period(fact.start, fact.end, fiscal_year_end_month)
        if not isinstance(period, str):
            by_period.setdefault(period, []).append(fact)
    out = {}
    for period, group in by_period.items():
        group = sorted(group, key=lambda f: (f.filed, f.accn), reverse=True)
        distinct = list({f.value_usd: f for f in reversed(group)}.values())[::-1]
        if len(distinct) > 1:
            out[period] = sorted(distinct, key=lambda f: (f.filed, f.accn), reverse=True)
    return out


def _conflict_note(facts: list[Fact]) -> str:
    latest, *others = facts
    same_day = [f for f in others if f.filed == latest.filed]
    listed = "; ".join(f"{format_usd_bn(f.value_usd)} (accession {f.accn}, filed {f.filed})" for f in others[:3])
    if same_day:
        return (f"{CHECK}filings of the same day disagree on this period: {format_usd_bn(latest.value_usd)} "
                f"(accession {latest.accn}, staged) against {listed}; confirm the figure in the filings before accepting")
    return (f"{CHECK}earlier filings gave another value for this period: {listed}; the latest filing's "
            f"{format_usd_bn(latest.value_usd)} (accession {latest.accn}) is staged; confirm it is a restatement")


# ----------------------------------------------------------------------------- rows


def _row(company_id, metric, fye, period_type, fiscal_year, quarter, value_usd, basis, concept, fact, note) -> dict:
    if period_type == "quarter":
        label = f"FY{fiscal_year}Q{quarter}"
        end, cal_q = fiscal.map_fiscal_quarter(label, fye)
    else:
        label, end, cal_q = f"FY{fiscal_year}", fiscal.month_end(fiscal_year, fye), ""
    return {
        "company_id": company_id, "period_type": period_type, "fiscal_period": label,
        "period_end": end.isoformat(), "calendar_quarter": cal_q, "metric": metric,
        "value_usd_bn": format_usd_bn(value_usd), "basis": basis, "concept": concept,
        "accn": fact.accn, "form": fact.form, "filed": fact.filed, "note": note,
    }


def format_usd_bn(value_usd: int) -> str:
    """Whole dollars as a plain USD-billions string, exact to the dollar: 27_851_000_000 -> '27.851'."""
    sign = "-" if value_usd < 0 else ""
    whole, frac = divmod(abs(value_usd), USD_PER_BN)
    return f"{sign}{whole}.{(str(frac).rjust(9, '0').rstrip('0') or '0')}"


def _xbrl_note(concept: str, *derivation: str) -> str:
    return "; ".join([*derivation, f"XBRL {TAXONOMY}:{concept}"])


def _quarter_from_ytd(placed: dict, fiscal_year: int, quarter: int):
    """Value, latest fact and note of a quarter derived from year-to-date facts, or None."""
    later = placed.get(Period(fiscal_year, quarter, 3 * quarter))
    earlier = placed.get(Period(fiscal_year, quarter - 1, 3 * (quarter - 1)))
    if later is None or earlier is None:
        return None
    if quarter == 4:
        note = f"{Q4_NOTE.replace('(Q3 10-Q)', f'(Q3 10-Q, accession {earlier.accn})')}"
    else:
        note = (f"Q{quarter} = {YTD_NAMES[3 * quarter]} (10-Q) minus {YTD_NAMES[3 * (quarter - 1)]} "
                f"(10-Q, accession {earlier.accn})")
    source = max(later, earlier, key=lambda f: (f.filed, f.accn))
    return later.value_usd - earlier.value_usd, source, note


def concept_rows(company_id: str, metric: str, fye: int, placed: dict,
                 conflicts: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Quarter and fiscal-year rows of one concept, and the quarters it cannot give.

    Every fiscal year with any fact yields its fiscal-year row (if filed) and four quarters:
    a three-month fact as ``reported``, else a difference of year-to-date facts as ``derived``.

    Returns
    -------
    rows : list of dict
        Rows in the columns of the staged file.
    missing : list of dict
        One ``unmapped`` row per quarter that has neither.
    """
    rows, missing = [], []
    conflicts = conflicts or {}

    def noted(row: dict, *periods: Period) -> dict:
        notes = [_conflict_note(conflicts[p]) for p in periods if p in conflicts]
        return {**row, "review_note": "; ".join(notes)} if notes else row

    last_end = max(fact.end for fact in placed.values())
    for fiscal_year in sorted({p.fiscal_year for p in placed}):
        annual = placed.get(Period(fiscal_year, 4, 12))
        for quarter in (1, 2, 3, 4):
            direct = placed.get(Period(fiscal_year, quarter, 3))
            if direct is not None:
                rows.append(noted(_row(company_id, metric, fye, "quarter", fiscal_year, quarter, direct.value_usd,
                                       "reported", direct.concept, direct, _xbrl_note(direct.concept)),
                                  Period(fiscal_year, quarter, 3)))
                continue
            derived = _quarter_from_ytd(placed, fiscal_year, quarter) if quarter > 1 else None
            if derived is None:
                if fiscal.fiscal_quarter_end(fiscal_year, quarter, fye) > nominal_month_end(last_end):
                    continue  # not filed yet
                missing.append(_missing_row(company_id, metric, fye, fiscal_year, quarter, placed))
                continue
            value, source, note = derived
            rows.append(noted(_row(company_id, metric, fye, "quarter", fiscal_year, quarter, value, "derived",
                                   source.concept, source, _xbrl_note(source.concept, note)),
                              Period(fiscal_year, quarter, 3 * quarter), Period(fiscal_year, quarter - 1, 3 * (quarter - 1))))
        if annual is not None:
            rows.append(noted(_row(company_id, metric, fye, "fiscal_year", fiscal_year, 4, annual.value_usd, "reported",
                                   annual.concept, annual, _xbrl_note(annual.concept)), Period(fiscal_year, 4, 12)))
    return rows, missing


def _missing_row(company_id, metric, fye, fiscal_year, quarter, placed) -> dict:
    concept = next(iter(placed.values())).concept
    if quarter == 4:
        need = "no three-month fact, nor both the fiscal-year total (10-K) and the nine-month year-to-date (Q3 10-Q)"
    elif quarter == 1:
        need = "no three-month fact (Q1 10-Q)"
    else:
        need = f"no three-month fact, nor both the {YTD_NAMES[3 * quarter]} and the {YTD_NAMES[3 * (quarter - 1)]}"
    row = _row(company_id, metric, fye, "quarter", fiscal_year, quarter, 0, "", concept,
               Fact(concept, dt.date.min, dt.date.min, 0, "", "", ""), "")
    return {**row, "value_usd_bn": "", "action": "unmapped",
            "review_note": f"quarter not derived: the filings give {need}"}


def _unplaced_row(company_id: str, metric: str, fact: Fact, reason: str) -> dict:
    return {"action": "unmapped", "company_id": company_id, "metric": metric, "period_type": "",
            "fiscal_period": "", "period_end": fact.end.isoformat(), "calendar_quarter": "",
            "value_usd_bn": format_usd_bn(fact.value_usd), "concept": fact.concept, "accn": fact.accn,
            "form": fact.form, "filed": fact.filed, "note": "",
            "review_note": f"fact {fact.start} to {fact.end} not placed: {reason}"}


def company_rows(payload: dict, company: CompanyMap, fye: int, url: str = "company facts") -> list[dict]:
    """Every staged row (before comparison) for one company's company-facts document.

    For each metric the concepts are tried in order and, per period, the first concept with a
    row wins; a quarter no concept can give is listed once as ``unmapped``.
    """
    out = []
    for metric, concepts in company.concepts.items():
        chosen, missing, unplaced_rows = {}, {}, []
        for concept in concepts:
            facts = concept_facts(payload, concept, url)
            placed, unplaced = latest_by_period(facts, fye)
            unplaced_rows += [_unplaced_row(company.company_id, metric, f, why) for f, why in unplaced]
            if not placed:
                continue
            rows, gaps = concept_rows(company.company_id, metric, fye, placed, conflicting_periods(facts, fye))
            for row in rows:
                chosen.setdefault((row["period_type"], row["fiscal_period"]), row)
            for row in gaps:
                missing.setdefault(row["fiscal_period"], row)
        gaps = [row for label, row in missing.items() if ("quarter", label) not in chosen]
        out += list(chosen.values()) + gaps + unplaced_rows
    identity = {"cik": str(company.cik), "entity_name": str(payload.get("entityName", ""))}
    return [{**identity, **row} for row in out]


# ----------------------------------------------------------------------------- comparing


def compare_with_bundled(rows: list[dict], financials: pd.DataFrame, since: int | None = None) -> pd.DataFrame:
    """Give each XBRL row its action against the bundled ``financials.csv`` rows (text columns).

    ``new``: no bundled row for the company, period and metric. ``changed``: a bundled row whose
    value differs by more than half a million dollars; both values are shown with the reason.
    ``unchanged``: the same figure. ``unmapped`` rows pass through. ``since`` drops periods
    ending before that calendar year.
    """
    bundled = financials.set_index(FINANCIAL_KEY)
    staged = []
    for row in rows:
        if since is not None and row["period_end"] and int(row["period_end"][:4]) < since:
            continue
        row = {column: "" for column in STAGED_COLUMNS} | row
        if row["action"] != "unmapped":
            row.update(_compare(row, bundled))
            flag = _implausible(row, financials)
            if flag:
                row["review_note"] = "; ".join(filter(None, [CHECK + flag, row["review_note"]]))
        staged.append(row)
    frame = pd.DataFrame(staged, columns=STAGED_COLUMNS)
    order = {action: i for i, action in enumerate(ACTIONS)}
    return frame.sort_values(["action", "company_id", "metric", "period_end", "period_type"],
                             key=lambda s: s.map(order) if s.name == "action" else s, kind="stable").reset_index(drop=True)


def _implausible(row: dict, financials: pd.DataFrame) -> str:
    """Why a staged figure needs a second look, or "": it is above :data:`PLAUSIBLE_USD_BN` in size, or
    more than :data:`JUMP_FACTOR` times away from the figure it replaces or from the latest earlier
    bundled figure of the same company, metric and period type."""
    value = abs(float(row["value_usd_bn"]))
    if not value <= PLAUSIBLE_USD_BN:
        return (f"{row['value_usd_bn'][:30]} USD bn is above the {PLAUSIBLE_USD_BN:,.0f} a company's figure can plausibly "
                f"reach; check the filing's unit and digits")
    if row.get("bundled_value_usd_bn"):
        reference, what = row["bundled_value_usd_bn"], "the bundled figure it replaces"
    else:
        earlier = financials[(financials["company_id"] == row["company_id"]) & (financials["metric"] == row["metric"])
                             & (financials["period_type"] == row["period_type"]) & (financials["period_end"] < row["period_end"])]
        if earlier.empty:
            return ""
        latest = earlier.sort_values("period_end").iloc[-1]
        reference, what = latest["value_usd_bn"], f"the previous figure ({latest['fiscal_period']})"
    try:
        before = abs(float(reference))
    except ValueError:
        return ""
    if before > 0 and value > 0 and not 1 / JUMP_FACTOR <= value / before <= JUMP_FACTOR:
        return (f"{row['value_usd_bn']} is more than {JUMP_FACTOR:g} times away from {what}, {reference}; "
                f"check the filing's unit and the period")
    return ""


def _compare(row: dict, bundled: pd.DataFrame) -> dict:
    key = tuple(row[c] for c in FINANCIAL_KEY)
    if key not in bundled.index:
        return {"action": "new"}
    old = bundled.loc[key]
    old_value, new_value = float(old["value_usd_bn"]), float(row["value_usd_bn"])
    difference = round(new_value - old_value, 9)
    same = {"bundled_value_usd_bn": old["value_usd_bn"], "bundled_source_id": old["source_id"]}
    if abs(difference) <= SAME_VALUE_USD_BN:
        return {**same, "action": "unchanged", "difference_usd_bn": "0"}
    decimals = len(old["value_usd_bn"].partition(".")[2])
    if decimals < 3 and round(new_value, decimals) == old_value:
        why = f"the bundled value is this figure rounded to {decimals} decimals; the filing gives it to the dollar"
    else:
        why = "restated or corrected: the latest filing differs from the bundled figure"
    return {**same, "action": "changed", "difference_usd_bn": repr(difference),
            "note": f"{row['note']}; replaces {old['value_usd_bn']} ({old['source_id']})", "review_note": why}


# ----------------------------------------------------------------------------- staging


def stage_refresh(user_agent: str | None, data_dir: Path | None = None, out: Path | None = None,
                  company_ids=None, since: int | None = None, session=None,
                  throttle: Throttle | None = None) -> RefreshSummary:
    """Fetch company facts for the mapped SEC filers and write the staged change file.

    The dataset must validate first (:func:`valuechain.dataset.load.load_dataset`), and every
    company is fetched before anything is written, so a network or response error leaves the
    previous staged file (and the dataset, which this step never writes) as it was.

    Parameters
    ----------
    user_agent : str or None
        SEC identity, ``"Name email@example.com"``.
    data_dir : Path, optional
        Dataset folder (default: the bundled data).
    out : Path, optional
        Staged file (default: ``outputs/refresh/staged_changes.csv``).
    company_ids : iterable of str, optional
        Refresh only these companies.
    since : int, optional
        Stage only periods ending in this calendar year or later.
    session : object, optional
        HTTP session (default: a new ``requests.Session``).
    throttle : Throttle, optional
        Request spacing (default: 10 per second).

    Returns
    -------
    RefreshSummary
    """
    user_agent = check_user_agent(user_agent)
    data_dir = Path(data_dir) if data_dir is not None else paths.DATA_DIR
    out = Path(out) if out is not None else paths.OUTPUTS_DIR / "refresh" / "staged_changes.csv"
    # Checked before anything is fetched: rows staged against a dataset that does not validate could
    # never be applied (apply_staged validates the merged dataset).
    dataset = load_dataset(data_dir)
    companies = load_concept_map(data_dir, company_ids)
    fye = dict(zip(dataset.companies["company_id"], dataset.companies["fiscal_year_end_month"]))
    session = session if session is not None else new_session()
    throttle = throttle or Throttle()
    rows = []
    for company in companies:
        payload = fetch_companyfacts(company.cik, user_agent, session, throttle)
        rows += company_rows(payload, company, fye[company.company_id], COMPANYFACTS_URL.format(cik=company.cik))
    # The file's text, not the dataset's numbers: a changed row is matched on its value as written.
    financials = read_csv(data_dir / "financials.csv")
    staged = compare_with_bundled(rows, financials, since)
    atomic_write_text(out, staged.to_csv(index=False))
    counts = staged["action"].value_counts().to_dict()
    flagged = int(staged["review_note"].str.contains(CHECK, regex=False).sum())
    return RefreshSummary(path=out, counts=counts, companies=tuple(c.company_id for c in companies), flagged=flagged)


# ----------------------------------------------------------------------------- applying


def read_staged(path: Path) -> pd.DataFrame:
    """Read a staged change file and return its accepted ``new`` and ``changed`` rows.

    Raises
    ------
    StagedChangesError
        The file is missing or unreadable, lacks columns, has an ``accept`` other than yes/no/blank,
        or accepts an ``unmapped`` row.
    """
    path = Path(path)
    if not path.exists():
        raise StagedChangesError(f"{path}: file not found; run valuechain data refresh first to stage changes")
    try:
        staged = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StagedChangesError(f"{path.name}: not a readable CSV ({_first_line(exc)}); restage it") from exc
    missing = [c for c in STAGED_COLUMNS if c not in staged.columns]
    if missing:
        raise StagedChangesError(f"{path.name}: missing columns {', '.join(missing)}; restage it with valuechain data refresh")
    accept = staged["accept"].str.strip().str.lower()
    for idx in staged.index[~accept.isin(["yes", "no", ""])]:
        raise StagedChangesError(f"{path.name} row {idx + 2}, column accept: {staged.at[idx, 'accept']!r}; write yes or leave it blank")
    for idx in staged.index[accept.eq("yes") & ~staged["action"].isin(ACTIONS)]:
        raise StagedChangesError(f"{path.name} row {idx + 2}, column action: {staged.at[idx, 'action']!r} is not one of {', '.join(ACTIONS)}")
    for idx in staged.index[accept.eq("yes") & staged["action"].eq("unmapped")]:
        raise StagedChangesError(f"{path.name} row {idx + 2}: an unmapped row has no figure to merge; clear its accept")
    rows = staged[accept.eq("yes") & staged["action"].isin(["new", "changed"])].copy()
    rows["staged_row"] = rows.index + 2
    return rows.reset_index(drop=True)


def apply_staged(staged_path: Path, data_dir: Path | None = None, today: dt.date | None = None) -> ApplySummary:
    """Merge the accepted rows of a staged change file into ``financials.csv`` and ``sources.csv``
    (each new source classified in ``source_kinds.csv`` as SEC's structured XBRL data).

    The merged files are first written to a scratch copy of the dataset and validated with
    :func:`valuechain.dataset.load.load_dataset`; only if that passes are the real files replaced
    (sources first, so ``financials.csv`` never cites a missing source). Any failure raises
    before a file is touched.

    Parameters
    ----------
    staged_path : Path
        The reviewed staged change file.
    data_dir : Path, optional
        Dataset folder to update (default: the bundled data).
    today : date, optional
        Date accessed, for a ``sources.csv`` column that records it.

    Returns
    -------
    ApplySummary
    """
    data_dir = Path(data_dir) if data_dir is not None else paths.DATA_DIR
    accepted = read_staged(staged_path)
    if accepted.empty:
        return ApplySummary(added=0, changed=0)
    # The files' exact text, kept line for line; parsed from the same bytes as every dataset file is.
    fin_bytes, src_bytes = (data_dir / "financials.csv").read_bytes(), (data_dir / "sources.csv").read_bytes()
    fin_text, src_text = fin_bytes.decode("utf-8"), src_bytes.decode("utf-8")
    financials = read_csv(data_dir / "financials.csv", fin_bytes)
    sources = read_csv(data_dir / "sources.csv", src_bytes)
    new_sources = source_rows(accepted, sources, today or dt.date.today())
    fin_out = merge_financials(fin_text, financials, accepted, Path(staged_path).name)
    src_out = src_text + "".join(_csv_line([row.get(c, "") for c in sources.columns]) for row in new_sources)
    kinds_text = (data_dir / provenance.FILE).read_text(encoding="utf-8")
    kinds_out = kinds_text + "".join(_csv_line([row["source_id"], "structured_transcription", row["accession"], KIND_WHY])
                                     for row in new_sources)
    with tempfile.TemporaryDirectory(prefix="valuechain-refresh-") as scratch:
        shutil.copytree(data_dir, scratch, dirs_exist_ok=True)
        Path(scratch, "financials.csv").write_text(fin_out, encoding="utf-8")
        Path(scratch, "sources.csv").write_text(src_out, encoding="utf-8")
        Path(scratch, provenance.FILE).write_text(kinds_out, encoding="utf-8")
        try:
            load_dataset(scratch)
        except DataValidationError as exc:
            raise DataValidationError(f"the accepted rows were not merged, nothing changed: {exc}",
                                      failures=exc.failures) from exc
    atomic_write_text(data_dir / "sources.csv", src_out)
    atomic_write_text(data_dir / provenance.FILE, kinds_out)
    atomic_write_text(data_dir / "financials.csv", fin_out)
    counts = accepted["action"].value_counts()
    return ApplySummary(added=int(counts.get("new", 0)), changed=int(counts.get("changed", 0)),
                        sources_added=tuple(row["source_id"] for row in new_sources))


def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def source_id_for(accn: str) -> str:
    """The ``sources.csv`` id of one SEC filing: ``'0001652044-26-000012'`` -> ``'sec_000165204426000012'``."""
    return "sec_" + re.sub(r"\D", "", accn)


def source_rows(accepted: pd.DataFrame, sources: pd.DataFrame, today: dt.date) -> list[dict]:
    """One new ``sources.csv`` row per filing the accepted rows cite that is not there yet.

    The row names the form, filing date and accession number, links the filing's own folder on
    EDGAR, and lists what the rows take from it, with the provenance columns of ``sources.csv``:
    the accession, the filing as the exact document, the date accessed, the licence, and
    ``via_aggregator`` false (the figures come from SEC's own data).
    """
    existing = set(sources["source_id"])
    out = []
    for accn, group in accepted.groupby("accn", sort=True):
        sid = source_id_for(accn)
        if not accn or sid in existing:
            continue
        first = group.iloc[0]
        covers = "; ".join(f"{r.metric} {r.fiscal_period} ({r.concept})" for r in group.itertuples())
        row = {
            "source_id": sid,
            "title": f"{first['entity_name']} Form {first['form']} filed {first['filed']} (accession {accn})",
            "publisher": f"{first['entity_name']} (SEC EDGAR)",
            "date_published": first["filed"],
            "url": FILING_URL.format(cik=int(first["cik"]), accn_digits=re.sub(r"\D", "", accn)),
            "covers": f"XBRL company facts taken by valuechain data refresh: {covers}",
        }
        row |= {"accession": accn, "document_url": row["url"], "accessed": today.isoformat(), "licence": SEC_TERMS,
                "via_aggregator": "false"}
        out.append({column: row.get(column, "") for column in sources.columns})
    return out


def merge_financials(text: str, financials: pd.DataFrame, accepted: pd.DataFrame, staged_name: str) -> str:
    """``financials.csv`` text with accepted rows changed in place and new rows added.

    Untouched lines keep their exact bytes. A new row goes after the last row of the same company
    and metric (or at the end). A ``changed`` row must still hold the bundled value it was staged
    against, and a ``new`` row must still be absent.

    Raises
    ------
    StagedChangesError
        The dataset changed since the file was staged.
    """
    lines = text.splitlines(keepends=True)
    if len(lines) != len(financials) + 1:
        raise StagedChangesError("financials.csv: a field spans several lines; rewrite it one row per line")
    index = {tuple(row): i for i, row in enumerate(financials[FINANCIAL_KEY].itertuples(index=False))}
    after: dict = {}
    for row in accepted.to_dict("records"):
        key = tuple(row[c] for c in FINANCIAL_KEY)
        record = {c: row.get(c, "") for c in financials.columns}
        record["source_id"] = source_id_for(row["accn"])
        position = index.get(key)
        if row["action"] == "changed":
            if position is None or financials.at[position, "value_usd_bn"] != row["bundled_value_usd_bn"]:
                raise StagedChangesError(f"{staged_name} row {row['staged_row']}: financials.csv no longer holds "
                                         f"{row['bundled_value_usd_bn']} for {'/'.join(key)}; restage the refresh")
            lines[position + 1] = _csv_line([record[c] for c in financials.columns])
        else:
            if position is not None:
                raise StagedChangesError(f"{staged_name} row {row['staged_row']}: financials.csv already has "
                                         f"{'/'.join(key)}; restage the refresh")
            block = financials.index[(financials["company_id"] == row["company_id"]) & (financials["metric"] == row["metric"])]
            anchor = int(block.max()) + 1 if len(block) else len(financials)
            after.setdefault(anchor, []).append(_csv_line([record[c] for c in financials.columns]))
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for anchor in sorted(after, reverse=True):
        lines[anchor + 1:anchor + 1] = after[anchor]
    return "".join(lines)


__all__ = [
    "ApplySummary", "CompanyMap", "Fact", "Period", "RefreshSummary", "Throttle",
    "apply_staged", "check_user_agent", "classify_period", "company_rows", "compare_with_bundled",
    "concept_facts", "conflicting_periods", "fetch_companyfacts", "format_usd_bn", "latest_by_period", "load_concept_map",
    "merge_financials", "new_session", "nominal_month_end", "parse_companyfacts", "read_staged", "source_id_for",
    "source_rows", "stage_refresh",
]
