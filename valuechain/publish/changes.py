"""What changed since the previous run: the record of a scenario's run, kept as the previous one when
a new run replaces it, and the lines the index shows (data vintage, parameters, headline figures).

Beside each scenario's outputs:

``record.json``           the latest run's data vintage, resolved parameters and headline figures
``record.previous.json``  the record it replaced (written only when a run changed one of them)

A run that changes nothing writes nothing (and, like the rest of a cached rerun, loads no pandas: the
record is built from the JSON files the runner wrote, and only the index formats it). Both files are
read back as untrusted data (:mod:`valuechain.publish.outputs`): too large, not JSON or not of the
record's shape, a file is ignored with one line on stderr, and the index says nothing about it.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

from valuechain import nested
from valuechain.files import atomic_write_text
from valuechain.publish.outputs import parse_json, stated_vintage, warn
from valuechain.report.notebook import HEADLINES_KEY

RECORD = "record.json"
PREVIOUS = "record.previous.json"
MAX_BYTES = 2_000_000  # a record is some tens of kB; a larger file is not one
MAX_ENTRIES = 5_000  # parameters or figures in one record
MAX_TEXT = 500  # characters of one recorded text (a key, a label, a period, a value)
MAX_LINES = 12  # change lines shown per kind (parameters, figures), then "and N more"
SKIP = ("name", "title", "description", "extends")  # what the parameters' comparison leaves out too


def _years(value) -> bool:
    return isinstance(value, dict) and bool(value) and all(str(k).isdigit() for k in value)


def _scalar(value) -> bool:
    """A value a record keeps: a finite number, a short text, true/false or none."""
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (bool, int)) or (isinstance(value, str) and len(value) <= MAX_TEXT)


def _value(value):
    """A parameter's value as a record keeps it: a scalar, a list of scalars, or a year -> scalar mapping."""
    if isinstance(value, list) and all(_scalar(v) for v in value):
        return value
    if _years(value) and all(_scalar(v) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return value if _scalar(value) else None


def build(folder: Path) -> dict:
    """The record of the run whose outputs are in ``folder``: the data vintage its pages state, its
    resolved parameters (dotted key -> value, rationales and titles left out) and the headline figures
    its notebooks declared (not the details), each with its label, unit, period and value."""
    parameters, _ = parse_json(folder / "parameters.json")
    metrics, _ = parse_json(folder / "metrics.json")
    params = {}
    if isinstance(parameters, dict):
        for path, value in nested.leaves(parameters, _years).items():
            if path and path[0] not in SKIP and "rationale" not in path and value != {}:
                params[".".join(path)] = _value(value)
    figures = []
    for notebook, recorded in sorted(metrics.items()) if isinstance(metrics, dict) else []:
        for h in (recorded.get(HEADLINES_KEY) or []) if isinstance(recorded, dict) else []:
            if isinstance(h, dict) and not h.get("detail") and isinstance(h.get("key"), str) and h["key"] in recorded:
                figures.append({"notebook": notebook, "key": h["key"], "label": str(h.get("label") or h["key"]),
                                "unit": str(h.get("unit", "")), "period": str(h.get("period", "")),
                                "value": recorded[h["key"]] if _scalar(recorded[h["key"]]) else None})
    stems = sorted(p.stem for p in folder.glob("*.inputs"))
    return {"vintage": stated_vintage(folder, stems[0]) if stems else "", "parameters": params, "figures": figures}


def read(path: Path) -> dict | None:
    """The record in ``path``, checked; None if it is missing, and None with one line on stderr if it is
    not a record (too large, not JSON, not of the record's shape)."""
    try:
        if not path.is_file() or path.is_symlink():
            return None
        if path.stat().st_size > MAX_BYTES:
            warn(f"{path}: is larger than the {MAX_BYTES:,} bytes a record takes; it is ignored")
            return None
    except OSError:
        return None
    data, problem = parse_json(path)
    if problem:
        warn(f"{path}: {problem}; it is ignored")
        return None
    why = _problem(data)
    if why:
        warn(f"{path}: not a run's record ({why}); it is ignored")
        return None
    return data


def _problem(data) -> str:
    """Why ``data`` is not a record ("" if it is one)."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if not (isinstance(data.get("vintage"), str) and len(data["vintage"]) <= 40):
        return "no data vintage"
    if not isinstance(data.get("recorded_on", ""), str) or len(data.get("recorded_on", "")) > 40:
        return "its date is not a date"
    params, figures = data.get("parameters"), data.get("figures")
    if not isinstance(params, dict) or len(params) > MAX_ENTRIES:
        return "its parameters are not a mapping of keys to values"
    for key, value in params.items():
        if len(key) > MAX_TEXT or _value(value) != value:
            return f"the parameter {key[:80]!r} is not a key with a value"
    if not isinstance(figures, list) or len(figures) > MAX_ENTRIES:
        return "its figures are not a list"
    for f in figures:
        if not (isinstance(f, dict) and all(isinstance(f.get(k), str) and len(f[k]) <= MAX_TEXT
                                            for k in ("notebook", "key", "label", "unit", "period"))
                and _scalar(f.get("value"))):
            return "a figure is not a notebook, key, label, unit, period and value"
    return ""


def _content(record: dict) -> tuple:
    return record["vintage"], record["parameters"], record["figures"]


def keep(folder: Path, today: dt.date | None = None) -> bool:
    """Record the run whose outputs are in ``folder``; the record it replaces becomes the previous one.

    Writes nothing when the run changed none of the vintage, the parameters and the headline figures
    (so a cached rerun keeps the previous record that says what the last change was). A record that
    cannot be read is replaced, and never kept as the previous one. Returns whether anything was written.
    """
    folder = Path(folder)
    current = build(folder)
    latest = read(folder / RECORD)
    if latest is not None and _content(latest) == _content(current):
        return False
    if latest is not None:
        atomic_write_text(folder / PREVIOUS, json.dumps(latest, indent=1, ensure_ascii=False) + "\n")
    current["recorded_on"] = (today or dt.date.today()).isoformat()
    atomic_write_text(folder / RECORD, json.dumps(current, indent=1, ensure_ascii=False) + "\n")
    return True


# ----------------------------------------------------------------------------- what the index says


def _figure_text(value, unit: str) -> str:
    from valuechain.report import labels

    if value is None or isinstance(value, bool):
        return "not recorded" if value is None else str(value)
    return labels.with_unit(value, unit) if isinstance(value, (int, float)) else str(value)


def _more(lines: list[str], what: str) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    rest = len(lines) - MAX_LINES
    return lines[:MAX_LINES] + [f"and {rest} more {what}{'s' if rest != 1 else ''}"]


def parameter_lines(previous: dict, current: dict) -> list[str]:
    """One line per parameter that changed: its name in words, from its old value to its new one."""
    from valuechain.publish.comparison import parameter_label, show

    old, new = previous["parameters"], current["parameters"]
    lines = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key) or (key in old) != (key in new):
            was = show(old[key]) if key in old else "not set"
            now = show(new[key]) if key in new else "not set"
            lines.append(f"{parameter_label(key)}: from {was} to {now}")
    return _more(lines, "parameter")


def figure_lines(previous: dict, current: dict) -> list[str]:
    """One line per headline figure that moved as the pages show it (its formatted text or its period
    changed), with its old and new values; a figure recorded only before or only now says so."""
    old = {(f["notebook"], f["key"]): f for f in previous["figures"]}
    new = {(f["notebook"], f["key"]): f for f in current["figures"]}
    lines = []
    for key in [*new, *(k for k in old if k not in new)]:
        a, b = old.get(key), new.get(key)
        if a is None:
            lines.append(f"{b['label']}, {b['period']}: {_figure_text(b['value'], b['unit'])} (new)")
        elif b is None:
            lines.append(f"{a['label']}, {a['period']}: no longer recorded (was {_figure_text(a['value'], a['unit'])})")
        else:
            was, now = _figure_text(a["value"], a["unit"]), _figure_text(b["value"], b["unit"])
            if a["period"] != b["period"]:
                lines.append(f"{b['label']}: from {was} ({a['period']}) to {now} ({b['period']})")
            elif was != now:
                lines.append(f"{b['label']}, {b['period']}: from {was} to {now}")
    return _more(lines, "figure")


def change_lines(previous: dict, current: dict) -> list[str]:
    """What changed from ``previous`` to ``current`` (two records): the data vintage, the parameters,
    then the headline figures that moved, each with its old and new value."""
    lines = []
    if previous["vintage"] != current["vintage"]:
        lines.append(f"Data: filed figures through {current['vintage'] or 'an unstated date'} "
                     f"(was {previous['vintage'] or 'an unstated date'})")
    return lines + parameter_lines(previous, current) + figure_lines(previous, current)


def changes(folder: Path) -> tuple[dict, dict, list[str]] | None:
    """(previous record, latest record, what changed) of the scenario in ``folder``; None without both records."""
    if folder.is_symlink():
        return None
    previous, current = read(folder / PREVIOUS), read(folder / RECORD)
    if previous is None or current is None:
        return None
    return previous, current, change_lines(previous, current)
