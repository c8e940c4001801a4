"""The earnings calendar: each company's last filed period in the data and when its next report is due.

``earnings_calendar.csv`` holds one row per company with filed (reported or derived) figures:

``last_filed_period``, ``last_period_end``  the latest fiscal period the data hold a filed figure for
    (a quarter row; a fiscal-year row counts as its fourth quarter; a dated balance such as the
    backlog counts as the quarter ending on its date)
``next_period``, ``next_period_end``  the fiscal period after it and its nominal end (the month end
    :func:`valuechain.dataset.fiscal.fiscal_quarter_end` gives; 52/53-week years end a few days earlier)
``usual_lag_days``  the company's usual filing lag, measured on its past filings in the data: the median,
    over its filed periods, of the days from the period end to the first dated source that reports it
    (sources dated to the day only; a source dated more than :data:`LATEST_LAG_DAYS` days after the
    period is a later filing repeating it and is left out). Without one, the SEC deadline of a large
    accelerated filer stands in (:data:`DEADLINE_DAYS`)
``expected_date``, ``basis``, ``source_id``, ``derivation``  the expected date of the next report:
    ``published`` when the company announced it (``source_id`` cites the announcement), else
    ``estimate`` = ``next_period_end + usual_lag_days``, with ``derivation`` saying so

Every column but a published date is derived from the data by :func:`derive`, never typed by hand:
``valuechain data calendar`` rewrites the file (keeping the published dates that still apply), and
:func:`load` refuses a file that no longer agrees with the data, naming the row and that command.
:func:`overdue` lists the reports expected before a given date that the data do not hold yet.
"""
from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from valuechain.dataset import fiscal
from valuechain.dataset.load import Dataset
from valuechain.dataset.rules import DATE, check, isin, matches, nonempty, raise_if, read_csv, text_column
from valuechain.files import atomic_write_text

FILE = "earnings_calendar.csv"
COLUMNS = ["company_id", "last_filed_period", "last_period_end", "next_period", "next_period_end",
           "usual_lag_days", "expected_date", "basis", "source_id", "derivation"]
DERIVED = ["last_filed_period", "last_period_end", "next_period", "next_period_end", "usual_lag_days"]
BASES = ("published", "estimate")
PERIOD = r"^FY\d{4}(Q[1-4])?$"  # a fiscal quarter, or a fiscal year for a company that states only whole years
FILED = ("reported", "derived")
LATEST_LAG_DAYS = 100  # a 10-K is due within 60-90 days; a source dated later repeats the period in a later filing
DEADLINE_DAYS = {"quarter": 40, "fiscal_year": 60}  # Form 10-Q and 10-K deadlines of a large accelerated filer
REWRITE = "run 'valuechain data calendar' to rewrite the derived columns from the data"


def _quarter_end(company_fye: int, label: str) -> dt.date:
    year, quarter = fiscal.parse_quarter_label(label)
    return fiscal.fiscal_quarter_end(year, quarter, company_fye)


def _point_quarter(day: dt.date, fye_month: int) -> str | None:
    """The fiscal quarter (``FY2027Q1``) whose nominal end is ``day``, or None if no quarter ends then."""
    for year in (day.year, day.year + 1):
        for quarter in (1, 2, 3, 4):
            if fiscal.fiscal_quarter_end(year, quarter, fye_month) == day:
                return f"FY{year}Q{quarter}"
    return None


def _filed_periods(ds: Dataset) -> pd.DataFrame:
    """One row per company x fiscal quarter the data hold a filed figure for: company_id, period
    (``FY2027Q2``), period_end, and the date of the first source dated to the day that reports it."""
    fin = ds.financials[ds.financials["basis"].isin(FILED)]
    fye = dict(zip(ds.companies["company_id"], ds.companies["fiscal_year_end_month"].astype(int)))
    published = dict(zip(ds.sources["source_id"], ds.sources["date_published"]))
    rows = []
    for r in fin.itertuples(index=False):
        end = r.period_end.date()
        if r.period_type == "quarter":
            period = r.fiscal_period
        elif r.period_type == "fiscal_year":
            period = f"{r.fiscal_period}Q4"
        elif r.period_type == "point":
            period = _point_quarter(end, fye[r.company_id])
        else:
            period = None
        if period is None:
            continue
        stated = published.get(r.source_id, "")
        filed = dt.date.fromisoformat(stated) if len(stated) == 10 else None
        rows.append({"company_id": r.company_id, "period": period, "period_type": r.period_type,
                     "period_end": _quarter_end(fye[r.company_id], period), "filed": filed})
    frame = pd.DataFrame(rows, columns=["company_id", "period", "period_type", "period_end", "filed"])
    return frame


def _usual_lag(periods: pd.DataFrame) -> tuple[int | None, int]:
    """Median days from period end to first dated filing over a company's periods, and how many periods it rests on."""
    lags = []
    for _, group in periods.groupby("period"):
        dated = [(f - e).days for f, e in zip(group["filed"], group["period_end"]) if f is not None and f >= e]
        if dated and min(dated) <= LATEST_LAG_DAYS:
            lags.append(min(dated))
    return (round(statistics.median(lags)) if lags else None), len(lags)


def _next_period(label: str) -> str:
    year, quarter = fiscal.parse_quarter_label(label)
    return f"FY{year + 1}Q1" if quarter == 4 else f"FY{year}Q{quarter + 1}"


def derive(ds: Dataset, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """The calendar as the data give it, one row per company with filed figures (in companies.csv order).

    ``published`` (rows of the file with ``basis`` published) keeps an announced date and its source
    for a company whose next period is still the one announced; every other row is an estimate,
    ``next_period_end + usual_lag_days``.
    """
    periods = _filed_periods(ds)
    fye = dict(zip(ds.companies["company_id"], ds.companies["fiscal_year_end_month"].astype(int)))
    announced = {}
    if published is not None:
        for r in published[published["basis"] == "published"].itertuples(index=False):
            announced[(r.company_id, r.next_period)] = r
    rows = []
    for company in ds.companies["company_id"]:
        mine = periods[periods["company_id"] == company]
        if mine.empty:
            continue
        last = mine.sort_values(["period_end", "period"]).iloc[-1]
        quarterly = (mine["period_type"] != "fiscal_year").any()
        last_period, next_period = last["period"], _next_period(last["period"])
        next_end = _quarter_end(fye[company], next_period)
        if not quarterly:  # a company that states only whole years (xAI, in SpaceX's filing) is due its next year
            last_period, next_period = last_period[:6], f"FY{int(last_period[2:6]) + 1}"
            next_end = _quarter_end(fye[company], f"{next_period}Q4")
        lag, based_on = _usual_lag(mine)
        if lag is not None:
            how = f"next period end + {lag} days, the median lag from period end to filing over {based_on} of its filed periods in the data"
        else:
            lag = DEADLINE_DAYS["quarter" if quarterly else "fiscal_year"]
            kind = "10-Q" if quarterly else "10-K"
            how = (f"next period end + {lag} days, the {kind} deadline of a large accelerated filer: no filing in the "
                   "data is dated to the day")
        row = {"company_id": company, "last_filed_period": last_period, "last_period_end": last["period_end"].isoformat(),
               "next_period": next_period, "next_period_end": next_end.isoformat(), "usual_lag_days": str(lag),
               "expected_date": (next_end + dt.timedelta(days=lag)).isoformat(), "basis": "estimate",
               "source_id": "", "derivation": how}
        said = announced.get((company, next_period))
        if said is not None:
            row.update(expected_date=said.expected_date, basis="published", source_id=said.source_id,
                       derivation=said.derivation)
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def load(ds: Dataset, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Read and validate ``earnings_calendar.csv``: known companies, dates, a source for a published date,
    one row per company with filed figures, and derived columns that agree with the data."""
    path = Path(data_dir or ds.data_dir) / FILE
    raw = read_csv(path)
    check(pa.DataFrameSchema({
        "company_id": text_column(isin(ds.companies["company_id"], "known_company", "name a company_id of companies.csv"),
                                  unique=True),
        "last_filed_period": text_column(matches(PERIOD, "fiscal_period", "write a fiscal period as FY2027Q2 or FY2026")),
        "last_period_end": text_column(matches(DATE, "date", "write a date as YYYY-MM-DD")),
        "next_period": text_column(matches(PERIOD, "fiscal_period", "write a fiscal period as FY2027Q3 or FY2026")),
        "next_period_end": text_column(matches(DATE, "date", "write a date as YYYY-MM-DD")),
        "usual_lag_days": text_column(matches(r"^\d{1,3}$", "days", "write the lag as whole days")),
        "expected_date": text_column(matches(DATE, "date", "write a date as YYYY-MM-DD")),
        "basis": text_column(isin(BASES, "known_basis", f"use one of: {', '.join(BASES)}")),
        "source_id": pa.Column(str),
        "derivation": text_column(nonempty()),
    }, strict=True, ordered=True), raw, FILE)
    sources = set(ds.sources["source_id"])
    expected = derive(ds, raw).set_index("company_id")
    failures = []

    def fail(idx, column, rule, value, fix):
        failures.append({"file": FILE, "row": idx + 2, "column": column, "rule": rule, "value": value, "fix": fix})

    for idx, row in raw.iterrows():
        if row["basis"] == "published" and row["source_id"] not in sources:
            fail(idx, "source_id", "published_date_sourced", row["source_id"], "cite the announcement's source_id from sources.csv")
        if row["company_id"] not in expected.index:
            fail(idx, "company_id", "has_filed_data", row["company_id"], "remove the row: the data hold no filed figure for it")
            continue
        for column in [*DERIVED, "expected_date", "basis"]:
            if row[column] != expected.loc[row["company_id"], column]:
                fail(idx, column, "agrees_with_data", row[column],
                     f"the data give {expected.loc[row['company_id'], column]!r}; {REWRITE}")
    for company in expected.index.difference(raw["company_id"]):
        failures.append({"file": FILE, "row": None, "column": "company_id", "rule": "every_filer_listed",
                         "value": company, "fix": f"the data hold filed figures for it; {REWRITE}"})
    raise_if(pd.DataFrame(failures, columns=["file", "row", "column", "rule", "value", "fix"]), FILE)
    return raw


def write(ds: Dataset, data_dir: str | Path | None = None) -> Path:
    """Rewrite ``earnings_calendar.csv`` from the data, keeping the published dates that still apply."""
    path = Path(data_dir or ds.data_dir) / FILE
    published = read_csv(path) if path.exists() else None
    atomic_write_text(path, derive(ds, published).to_csv(index=False))
    return path


def table(ds: Dataset) -> pd.DataFrame:
    """The calendar for the data as they are: derived afresh, with the file's published dates where they
    still apply, so a file not yet rewritten after new data never hides a report."""
    path = ds.data_dir / FILE
    return derive(ds, read_csv(path) if path.exists() else None)


def overdue(ds: Dataset, as_of: dt.date | None = None) -> pd.DataFrame:
    """The calendar's rows whose next report was expected before ``as_of`` (default: today) and is not in
    the data, oldest first, with the company's name and ``days_overdue``."""
    as_of = as_of or dt.date.today()
    cal = table(ds)
    late = cal[pd.to_datetime(cal["expected_date"]).dt.date < as_of].copy()
    late.insert(1, "company", late["company_id"].map(ds.company_names))
    late["days_overdue"] = [(as_of - dt.date.fromisoformat(d)).days for d in late["expected_date"]]
    return late.sort_values(["expected_date", "company_id"], kind="stable").reset_index(drop=True)


def period_words(label: str) -> str:
    """``FY2027Q3`` as ``fiscal 2027 Q3``, ``FY2026`` as ``fiscal 2026``."""
    return f"fiscal {label[2:6]}" + (f" {label[6:]}" if len(label) > 6 else "")


def overdue_sentence(late: pd.DataFrame, as_of: dt.date | None = None) -> str:
    """One plain-text sentence naming the overdue reports of :func:`overdue` ("" when none is overdue)."""
    if late.empty:
        return ""
    as_of = as_of or dt.date.today()
    items = [f"{r.company} {period_words(r.next_period)} (expected {r.expected_date}"
             f"{'' if r.basis == 'published' else ', estimated'})" for r in late.itertuples()]
    return (f"Overdue as of {as_of.isoformat()} ({len(items)} expected report{'s' if len(items) > 1 else ''} "
            "not yet in the data): " + "; ".join(items) + ".")
