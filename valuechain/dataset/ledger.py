"""The forecast ledger: ``forecast_ledger.csv``, the committed forecasts of :math:`D` and :math:`R^*`.

One row per forecast: the vintage (the cutoff date the forecast was made on, using only what was
published by then), the quantity forecast, the target quarter, the forecast with its interval and
level, the method and the data it was made from. The rows are **pre-registered**: code appends the
rows of a new vintage (:func:`append`) and never rewrites an earlier row, so a forecast cannot be
revised once its outcome is known. :mod:`valuechain.model.ledger` makes the rows and scores them.

This module reads and checks the file; a row with a bad field fails as one line naming the file,
the row and the fix (:mod:`valuechain.dataset.rules`).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from valuechain import paths
from valuechain.dataset.rules import DATE, NUMBER, check, isin, matches, nonempty, raise_if, read_csv, text_column
from valuechain.exceptions import DataValidationError
from valuechain.files import atomic_write_text

FILE = "forecast_ledger.csv"
QUANTITIES = ("d_usd_bn", "required_usd_bn")
"""What a row forecasts: ``d_usd_bn`` net external AI revenue :math:`D` (the primary, central rung),
``required_usd_bn`` the required revenue :math:`R^*` on AI capital in service; both annualized USD bn."""
COLUMNS = ["vintage", "quantity", "target_quarter", "horizon_quarters", "forecast", "low", "high", "level",
           "method", "scenario", "data_vintage"]
KEY = ["vintage", "quantity", "target_quarter"]  # one forecast per vintage, quantity and target
QUARTER = r"^\d{4}Q[1-4]$"


def path(data_dir: str | Path | None = None) -> Path:
    """The ledger's file: beside the bundled dataset unless ``data_dir`` names another folder."""
    return Path(data_dir or paths.DATA_DIR) / FILE


def _schema() -> pa.DataFrameSchema:
    number = matches(NUMBER, "number", "write a plain number in USD billions")
    return pa.DataFrameSchema(
        {
            "vintage": text_column(matches(DATE, "date", "write the cutoff date as YYYY-MM-DD")),
            "quantity": text_column(isin(QUANTITIES, "known_quantity", f"use one of: {', '.join(QUANTITIES)}")),
            "target_quarter": text_column(matches(QUARTER, "quarter", "write the quarter as YYYYQn, e.g. 2026Q3")),
            "horizon_quarters": text_column(matches(r"^[1-9]\d*$", "positive_count",
                                                    "write the quarters from the vintage's quarter to the target (1-4)")),
            "forecast": text_column(number),
            "low": text_column(number),
            "high": text_column(number),
            "level": text_column(matches(r"^(0\.\d+|1\.0+)$", "level",
                                           "write the interval's level as a share, e.g. 0.90 (1.00 for a stated range)")),
            "method": text_column(nonempty()),
            "scenario": text_column(nonempty()),
            "data_vintage": text_column(nonempty()),
        },
        strict=True, ordered=True,
    )


def load(file: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the ledger (default: the bundled one), typed: dates, periods and floats.

    An absent file is an empty ledger (no vintage has been recorded yet).
    """
    file = Path(file) if file is not None else path()
    if not file.exists():
        return typed(pd.DataFrame(columns=COLUMNS))
    raw = read_csv(file)
    check(_schema(), raw, FILE)
    frame = typed(raw)
    raise_if(_rules(frame), FILE)
    return frame


def typed(raw: pd.DataFrame) -> pd.DataFrame:
    """The ledger's text columns as dates, quarters and floats."""
    return raw.assign(vintage=pd.to_datetime(raw["vintage"]),
                      target_quarter=pd.PeriodIndex(raw["target_quarter"], freq="Q") if len(raw) else
                      pd.PeriodIndex([], freq="Q"),
                      horizon_quarters=raw["horizon_quarters"].astype(int),
                      **{c: raw[c].astype(float) for c in ("forecast", "low", "high", "level")})[COLUMNS]


def _rules(frame: pd.DataFrame) -> pd.DataFrame:
    failures = []
    vintage_quarter = frame["vintage"].dt.to_period("Q")
    rules = [
        (frame["forecast"] <= 0, "forecast", "positive", "a revenue forecast is positive"),
        ((frame["low"] > frame["forecast"]) | (frame["forecast"] > frame["high"]), "forecast", "inside_interval",
         "the forecast lies between low and high; check the columns' order"),
        (frame["target_quarter"] <= vintage_quarter, "target_quarter", "after_vintage",
         "a forecast targets a quarter after the vintage's quarter"),
        ((frame["target_quarter"] - vintage_quarter).map(lambda d: getattr(d, "n", 0)) != frame["horizon_quarters"],
         "horizon_quarters", "matches_target", "the horizon is the quarters from the vintage's quarter to the target"),
        (frame.duplicated(KEY, keep="first"), "target_quarter", "one_per_key",
         "one forecast per vintage, quantity and target quarter; drop the repeated row"),
    ]
    for mask, column, rule, fix in rules:
        for idx in frame.index[mask.to_numpy()]:
            value = frame.loc[idx, column]
            failures.append({"file": FILE, "row": idx + 2, "column": column, "rule": rule, "value": str(value), "fix": fix})
    return pd.DataFrame(failures).sort_values("row", kind="stable") if failures else pd.DataFrame()


def text(rows: pd.DataFrame) -> str:
    """Ledger rows as CSV lines (no header), numbers to four decimals, dates and quarters as text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows[COLUMNS].itertuples(index=False):
        writer.writerow([pd.Timestamp(row.vintage).date().isoformat(), row.quantity, str(row.target_quarter),
                         int(row.horizon_quarters), *(f"{float(v):.4f}" for v in (row.forecast, row.low, row.high)),
                         f"{float(row.level):.2f}", row.method, row.scenario, row.data_vintage])
    return out.getvalue()


def append(rows: pd.DataFrame, file: str | Path | None = None) -> pd.DataFrame:
    """Append the forecasts of vintages the ledger does not hold yet; return the rows appended.

    Rows of a vintage already in the ledger are left out (that vintage's forecasts are committed);
    the file's existing bytes are kept as they are and the new lines written after them, so no
    earlier row is ever rewritten. The appended rows are checked like the rest of the file.
    """
    file = Path(file) if file is not None else path()
    existing = load(file)
    new = rows[~rows["vintage"].isin(set(existing["vintage"]))]
    if new.empty:
        return new
    before = file.read_text() if file.exists() else ",".join(COLUMNS) + "\n"
    if not before.endswith("\n"):
        raise DataValidationError(f"{FILE}: the last line has no line end; restore the file from the repository")
    atomic_write_text(file, before + text(new))
    try:
        load(file)
    except DataValidationError:
        atomic_write_text(file, before)  # the file as it was: a bad row is not committed
        raise
    return new
