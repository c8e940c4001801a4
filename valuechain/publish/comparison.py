"""The index's comparison of scenarios, built from plain data under ``outputs/``.

The rows are the headline figures each notebook's results declared (key, label, unit, period,
note) and recorded beside their figures (:func:`valuechain.report.notebook.record`); no list of keys is
kept here, and each figure is dated by the period its scenario declared. Rows are grouped by the
question each notebook answers (its title), one column per scenario. A value that differs from
``base`` is highlighted; a figure that reads the same in every scenario leaves the
table for one "all scenarios" line. Everything a user wrote is escaped.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from valuechain import nested
from valuechain.escape import html_text
from valuechain.publish.outputs import read_json_mapping
from valuechain.report import labels
from valuechain.report.notebook import HEADLINES_KEY

BASE = "base"
NOT_RECORDED = "not recorded"
MISSING = "n/a"


@dataclass(frozen=True)
class Figure:
    """One comparison column: a notebook's declared headline figure."""

    notebook: str
    key: str
    label: str
    unit: str
    period: str
    note: str = ""


def load(outputs: Path, scenarios=None, notebooks=None) -> dict[str, dict]:
    """Each scenario's recorded figures by notebook (``metrics.json``), limited to those that still exist."""
    out = {}
    for path in sorted(outputs.glob("*/metrics.json")):
        name = path.parent.name
        if (scenarios is not None and name not in scenarios) or path.parent.is_symlink():
            continue  # a scenario that no longer exists, or a link out of the folder (never read)
        data = read_json_mapping(path, "scenario's metrics file")
        if data is None:
            continue  # an unreadable file is left out (with one line); the next run rewrites it
        out[name] = {nb: figs for nb, figs in data.items() if isinstance(figs, dict) and (notebooks is None or nb in notebooks)}
    return out


def scenario_order(names) -> list[str]:
    """``base`` first, then the others in name order."""
    return sorted(names, key=lambda n: (n != BASE, n))


def figures(data: dict[str, dict]) -> list[Figure]:
    """Every headline figure any scenario declared for the comparison, in notebook then declaration order.

    The label, unit, period and note come from ``base`` where it declares the figure (else the
    first scenario that does; each scenario's own period is read by :func:`period`). A figure
    declared by one scenario and missing from another stays a row: the scenario without it reads
    "not recorded".
    """
    found: dict[tuple[str, str], Figure] = {}
    for name in scenario_order(data):
        for notebook in sorted(data[name]):
            for h in data[name][notebook].get(HEADLINES_KEY) or []:
                if not isinstance(h, dict) or h.get("detail") or "key" not in h:
                    continue
                found.setdefault((notebook, h["key"]), Figure(notebook, h["key"], h.get("label") or h["key"],
                                                              h.get("unit", ""), h.get("period", ""), h.get("note", "")))
    return sorted(found.values(), key=lambda f: f.notebook)  # stable: declaration order within a notebook


def cell(data: dict, scenario: str, figure: Figure) -> str:
    """The text of ``figure`` for ``scenario``."""
    recorded = data.get(scenario, {}).get(figure.notebook)
    if recorded is None or figure.key not in recorded:
        return NOT_RECORDED
    value = recorded[figure.key]
    return labels.value_text(value, figure.unit) if not labels.missing(value) else MISSING


def period(data: dict, scenario: str, figure: Figure) -> str:
    """The period ``scenario`` declared for ``figure`` (an anchor scenario dates Sequoia's figure 2023, say),
    else the figure's own."""
    for h in (data.get(scenario, {}).get(figure.notebook) or {}).get(HEADLINES_KEY) or []:
        if isinstance(h, dict) and h.get("key") == figure.key and isinstance(h.get("period"), (str, int)):
            return str(h["period"])
    return figure.period


@dataclass(frozen=True)
class Comparison:
    """The comparison's parts: scenarios (columns), figures that differ (rows), figures the same everywhere."""

    scenarios: list[str]
    rows: list[Figure]
    same: list[Figure]
    text: dict  # (scenario, notebook, key) -> cell text
    periods: dict  # (scenario, notebook, key) -> the period that scenario's figure describes

    def value(self, scenario: str, figure: Figure) -> str:
        return self.text[(scenario, figure.notebook, figure.key)]

    def period(self, scenario: str, figure: Figure) -> str:
        return self.periods[(scenario, figure.notebook, figure.key)]


def compare(data: dict[str, dict]) -> Comparison:
    """Split the declared figures into rows (value or period differ somewhere) and the "all scenarios" line."""
    names = scenario_order(data)
    every = figures(data)
    text = {(s, f.notebook, f.key): cell(data, s, f) for s in names for f in every}
    periods = {(s, f.notebook, f.key): period(data, s, f) for s in names for f in every}
    same, rows = [], []
    for f in every:
        values = {(text[(s, f.notebook, f.key)], periods[(s, f.notebook, f.key)]) for s in names}
        (same if len(names) > 1 and len(values) == 1 and NOT_RECORDED not in {v for v, _ in values} else rows).append(f)
    return Comparison(names, rows, same, text, periods)


def _marks(figures_with_notes: list[Figure]) -> dict[tuple[str, str], int]:
    return {(f.notebook, f.key): i for i, f in enumerate(figures_with_notes, start=1)}


def row_period(comp: Comparison, figure: Figure) -> str:
    """The period a row states: the one most scenarios' figures describe (base's on a tie); a cell
    whose figure describes another period states its own."""
    periods = [comp.period(s, figure) for s in comp.scenarios]
    first = {p: i for i, p in reversed(list(enumerate(periods)))}
    return max(first, key=lambda p: (periods.count(p), -first[p])) if periods else figure.period


def comparison_html(data: dict[str, dict], titles: dict[str, str], scenario_titles: dict | None = None) -> str:
    """The comparison table (``#comparison``), the "all scenarios" line and the notes, as HTML.

    One row per figure that differs somewhere, grouped under the question its notebook answers
    (``titles``: notebook stem -> title); one column per scenario (``scenario_titles``: scenario name
    -> title, linked to its card), base first. The table sits in a scroll container whose first
    column stays in view, so any number of scenarios reads without a word broken: the columns are
    as wide as their longest word or number. Each row states its figure's period and unit, and a
    cell whose figure describes another period (an anchor scenario's year) states its own.
    """
    scenario_titles = scenario_titles or {}
    comp = compare(data)
    if not comp.scenarios:
        return ""
    noted = [f for f in comp.rows + comp.same if f.note]
    marks = _marks(noted)

    def mark(f: Figure) -> str:
        n = marks.get((f.notebook, f.key))
        return f'<sup class="vc-mark">{n}</sup>' if n else ""

    parts = []
    if comp.rows:
        base = BASE if BASE in comp.scenarios else None
        heads = "".join(f'<th scope="col" class="vc-scenario"><a href="#scenario-{html_text(s)}">'
                        f"{html_text(scenario_titles.get(s) or s)}</a></th>" for s in comp.scenarios)
        body, notebook = [], None
        for f in comp.rows:
            if f.notebook != notebook:
                notebook = f.notebook
                body.append(f'<tr class="vc-group"><th colspan="{len(comp.scenarios) + 1}" scope="colgroup" '
                            f'class="vc-question"><span>{html_text(titles.get(notebook, labels.words(notebook)))}</span></th></tr>')
            stated = row_period(comp, f)
            suffix = labels.UNITS[f.unit].suffix if f.unit in labels.UNITS else ""
            cells = []
            for s in comp.scenarios:
                value, own = comp.value(s, f), comp.period(s, f)
                differs = base is not None and s != base and (value, own) != (comp.value(base, f), comp.period(base, f))
                kind = " vc-diff" if differs else " vc-missing" if value == NOT_RECORDED else ""
                when = f'<span class="vc-period">{html_text(own)}</span>' if own != stated and value != NOT_RECORDED else ""
                cells.append(f'<td class="vc-num{kind}">{html_text(value)}{when}</td>')
            body.append(f'<tr><th scope="row">{html_text(f.label)}{mark(f)}<span class="vc-period">'
                        f'{html_text(" · ".join(p for p in (stated, suffix) if p))}</span></th>{"".join(cells)}</tr>')
        legend = (f'<p class="vc-meta">Highlighted: differs from <strong>{html_text(scenario_titles.get(BASE) or BASE)}'
                  "</strong>. Each row states the period of its figure and its unit; a value dated otherwise states "
                  "its own period.</p>") if base else ""
        parts.append(f'<div class="vc-scroll vc-compare-scroll"><table class="vc vc-compare" id="comparison"><thead><tr>'
                     f'<th scope="col" class="vc-first">Figure</th>{heads}</tr></thead><tbody>{"".join(body)}</tbody>'
                     f"</table></div>{legend}")
    if comp.same:
        by_notebook: dict[str, list[str]] = {}
        for f in comp.same:
            stated = comp.period(comp.scenarios[0], f)
            when = f", {stated}" if stated else ""
            value = data[comp.scenarios[0]][f.notebook][f.key]  # the same in every scenario, and recorded
            text = labels.with_unit(value, f.unit) or MISSING
            by_notebook.setdefault(f.notebook, []).append(f"{html_text(f.label)}{html_text(when)}: <strong>{html_text(text)}</strong>{mark(f)}")
        items = " ".join(f'<span class="vc-question">{html_text(titles.get(nb, labels.words(nb)))}</span> — ' + "; ".join(v) + "."
                         for nb, v in by_notebook.items())
        parts.append(f'<p id="all-scenarios"><strong>All scenarios</strong> (the same in each). {items}</p>')
    if noted:
        notes = "".join(f'<li id="note-{i}">{html_text(f.label)}: {html_text(f.note)}</li>' for i, f in enumerate(noted, start=1))
        parts.append(f'<ol class="vc-notes">{notes}</ol>')
    return "".join(parts)


# ----------------------------------------------------------------------------- scenario differences

SKIP = ("name", "title", "description", "extends")


def _is_years(value) -> bool:
    return isinstance(value, dict) and bool(value) and all(str(k).isdigit() for k in value)


def show(value) -> str:
    """A parameter value in one line: years as "2026: 0.75, 2027: 0.35", lists comma-separated."""
    if value is None:
        return "none"
    if _is_years(value):
        return ", ".join(f"{k}: {show(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(show, value)) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items())
    return f"{value:g}" if isinstance(value, float) else str(value)


def leaves(params: dict) -> dict[tuple, object]:
    """Key path -> value of a resolved scenario's parameters, a year-keyed mapping kept whole; the
    title and such (:data:`SKIP`), the rationales and empty mappings left out."""
    return {path: value for path, value in nested.leaves(params, _is_years).items()
            if path[0] not in SKIP and "rationale" not in path and value != {}}


def rationale(params: dict, path: tuple) -> str:
    """The rationale written nearest to ``path`` in ``params`` (its own block, then the blocks above it)."""
    for depth in range(len(path) - 1, 0, -1):
        block = params
        for key in path[:depth]:
            block = block.get(key) if isinstance(block, dict) else None
        if isinstance(block, dict) and str(block.get("rationale") or "").strip():
            return str(block["rationale"])
    return ""


def differences(base: dict, other: dict) -> list[dict]:
    """Parameters of ``other`` that differ from ``base``: the key, both values and ``other``'s rationale."""
    a, b = leaves(base), leaves(other)
    rows = []
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            rows.append({"key": ".".join(path), "base": show(a.get(path)) if path in a else "not set",
                         "value": show(b.get(path)) if path in b else "not set", "rationale": rationale(other, path)})
    return rows


def parameter_label(key: str) -> str:
    """A parameter's key in words: ``projection.final_margins.labs`` -> ``Final margins, labs``."""
    parts = key.split(".")
    if len(parts) >= 3:
        return f"{labels.words(parts[-2])}, {labels.ids_to_words(parts[-1]).replace('_', ' ')}"
    return labels.words(parts[-1])


def differences_html(name: str, base: dict, other: dict) -> str:
    """Side-by-side table of the parameters ``name`` changes from base, with the rationales (columns by title)."""
    rows = differences(base, other)
    if not rows:
        return f'<p class="vc-meta">Same parameters as {BASE}.</p>'
    body = []
    for i, r in enumerate(rows):
        # One rationale cell for the rows of a block that share it.
        if i and r["rationale"] == rows[i - 1]["rationale"]:
            why = ""
        else:
            span = next((j for j in range(i + 1, len(rows)) if rows[j]["rationale"] != r["rationale"]), len(rows)) - i
            why = f'<td rowspan="{span}">{html_text(r["rationale"])}</td>' if span > 1 else f'<td>{html_text(r["rationale"])}</td>'
        key = html_text(r["key"]).replace(".", ".\u200b")  # a long key wraps at its dots, never inside a word
        body.append(f'<tr><td>{html_text(parameter_label(r["key"]))} <span class="vc-key">{key}</span></td>'
                    f'<td>{html_text(r["base"])}</td><td class="vc-diff">{html_text(r["value"])}</td>{why}</tr>')
    body = "".join(body)
    return (f'<table class="vc vc-params"><caption>{len(rows)} parameter{"s" if len(rows) != 1 else ""} '
            f"differ from {BASE}</caption><thead><tr><th>Parameter</th><th>{html_text(base.get('title') or BASE)}</th>"
            f"<th>{html_text(other.get('title') or name)}</th>"
            f"<th>Rationale</th></tr></thead><tbody>{body}</tbody></table>")
