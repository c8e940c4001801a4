"""The dataset's rule kit: reading a bundled CSV or YAML file, column checks, and raising the first
failure as one line that names the file, the row and the fix (:class:`DataValidationError`).

Every table of the dataset (:mod:`valuechain.dataset.load`, :mod:`valuechain.dataset.disclosures`)
is checked with these, so a failure reads the same wherever it is found.
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from valuechain.exceptions import DataValidationError
from valuechain.files import read_text, safe_load

NUMBER = r"^-?\d+(\.\d+)?$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
FAILURE_COLUMNS = ["file", "row", "column", "rule", "value", "fix"]


def read_csv(path: Path, data: bytes | None = None) -> pd.DataFrame:
    """The CSV at ``path`` (or its bytes ``data``, already read) as text columns, stripped."""
    if data is None and not path.exists():
        raise DataValidationError(f"{path}: file not found; restore it from the repository or point data_dir at a full copy")
    try:
        frame = pd.read_csv(path if data is None else io.BytesIO(data), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path.name}: the file is empty (not even a header row); restore it from the "
                                  f"repository or point data_dir at a full copy") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path.name}: not a readable CSV ({str(exc).splitlines()[0]}); fix the quoting or column count") from None
    return frame.apply(lambda col: col.str.strip())


def read_yaml(path: Path, data: bytes | None = None):
    """A bundled YAML file's content (from its bytes ``data`` when already read); a missing file or
    bad syntax is a one-line DataValidationError."""
    if data is None and not path.exists():
        raise DataValidationError(f"{path}: file not found; restore {path.name} from the repository")
    try:
        return safe_load(read_text(path) if data is None else data.decode())
    except UnicodeDecodeError:
        raise DataValidationError(f"{path.name}: is not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise DataValidationError(f"{path.name}: invalid YAML ({str(exc).splitlines()[0]}); fix the syntax") from exc


def isin(values, name: str, fix: str) -> pa.Check:
    allowed = sorted(values)
    return pa.Check(lambda s: s.isin(allowed), name=name, error=fix)


def matches(pattern: str, name: str, fix: str) -> pa.Check:
    return pa.Check(lambda s: s.str.match(pattern), name=name, error=fix)


def nonempty(name: str = "required") -> pa.Check:
    return pa.Check(lambda s: s.str.len() > 0, name=name, error="fill in this required field")


def text_column(*checks, unique: bool = False) -> pa.Column:
    return pa.Column(str, checks=list(checks), unique=unique, nullable=False, required=True)


def check(schema: pa.DataFrameSchema, frame: pd.DataFrame, file: str) -> None:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise_if(_failures_from_pandera(exc.failure_cases, schema, frame, file), file)


def _failures_from_pandera(cases: pd.DataFrame, schema, frame, file) -> pd.DataFrame:
    rows = []
    for case in cases.itertuples(index=False):
        column = case.column if isinstance(case.column, str) else ""
        index = case.index
        check, fix = _rule_and_fix(schema, column, str(case.check))
        if check == "field_uniqueness":
            check, fix = "unique", f"{column} must be unique; remove or rename the repeated row"
        elif check.startswith("column_in_") or check in ("column_in_schema", "column_in_dataframe"):
            fix = f"the columns must be exactly: {', '.join(schema.columns)}"
        row = int(index) + 2 if pd.notna(index) else None
        rows.append((file, row, column, check, case.failure_case, fix))
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS).sort_values("row", na_position="first", kind="stable")


def _rule_and_fix(schema, column: str, reported: str) -> tuple[str, str]:
    # pandera reports a check by its error text when it has one; map it back to the rule name.
    col = schema.columns.get(column)
    for chk in getattr(col, "checks", []):
        if reported in (chk.name, chk.error):
            return chk.name, chk.error
    return reported, "see the dataset rules in README.md"


def raise_if(failures: pd.DataFrame, file: str) -> None:
    if failures.empty:
        return
    first = failures.iloc[0]
    where = f"row {int(first['row'])}" if pd.notna(first["row"]) else "header"
    column = f", column {first['column']}" if first["column"] else ""
    more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
    value = first["value"]
    shown = repr(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(str(value))
    raise DataValidationError(
        f"{file} {where}{column}: rule '{first['rule']}' failed for {shown}; {first['fix']}{more}",
        failures=failures.reset_index(drop=True),
    )
