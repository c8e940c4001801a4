"""The one table formatter: every table a notebook shows goes through :func:`present`.

A :class:`Table` reads like a table in a sell-side note: headers in words with their units,
numbers formatted by unit, no positional index, company names rather than ids, "not disclosed"
where a value is missing, and a source line. It displays as HTML (every text escaped) and
carries its data under :data:`TABLE_MIME`, so the exports write the same table to Excel with
the raw numbers and the same headers. The notebooks' tables follow the formatter, one function
per table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from valuechain import mime
from valuechain.escape import html_text
from valuechain.dataset import views
from valuechain.layers import CHAIN_ORDER
from valuechain.model import reach as reach_model
from valuechain.report import labels

TABLE_MIME = mime.TABLE
MISSING = "not disclosed"


@dataclass(frozen=True)
class Column:
    """One column: the frame's column ``key``, its ``label`` in words and its ``unit`` (see :data:`labels.UNITS`).

    ``unit`` may be ``"@<column>"``: each row's unit is in that column of the frame (a column of
    facts in mixed units); such a cell carries its unit in the text.
    """

    key: str
    label: str
    unit: str = "text"
    fmt: str | None = None  # page format overriding the unit's, e.g. "{:,.0f}"
    missing: str = MISSING  # what a missing value reads as

    @property
    def header(self) -> str:
        return self.label if self.unit.startswith("@") else labels.header(self.label, self.unit)

    @property
    def numeric(self) -> bool:
        return self.unit.startswith("@") or self.unit in labels.UNITS


def _plain(value):
    """A JSON value for a cell: numbers as floats (None when missing), everything else as text."""
    if labels.missing(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


@dataclass(frozen=True)
class Table:
    """A formatted table: the title, the columns, the rows of raw values, a source line and a note."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    source: str = ""
    note: str = ""
    row_units: tuple[tuple, ...] = field(default=())  # per row, the unit of each "@" column (else "")
    names: dict = field(default_factory=dict)  # company id -> name (the dataset's), for "company" columns

    def cell(self, i: int, j: int) -> str:
        """The text of row ``i``, column ``j`` as a page shows it."""
        column, value = self.columns[j], self.rows[i][j]
        if labels.missing(value):
            return column.missing
        if column.unit.startswith("@"):
            return labels.with_unit(value, self.row_units[i][j])
        return labels.value_text(value, column.unit, column.fmt, self.names)

    def text(self) -> list[list[str]]:
        return [[self.cell(i, j) for j in range(len(self.columns))] for i in range(len(self.rows))]

    def data(self) -> dict:
        """The table as plain data (what the exports read): headers, units, raw values and their text."""
        return {
            "title": self.title, "source": self.source, "note": self.note,
            "columns": [{"key": c.key, "label": c.label, "header": c.header, "unit": c.unit} for c in self.columns],
            "rows": [[_plain(v) for v in row] for row in self.rows],
            "row_units": [list(u) for u in self.row_units],
            "text": self.text(),
        }

    def html(self) -> str:
        e = html_text
        # text left, numbers right, in JupyterLab too (which right-aligns every cell); the pages' sanitizer drops the
        # style attribute and their style sheet aligns by the class
        kind = [' class="vc-num"' if c.numeric else ' class="vc-text" style="text-align:left"' for c in self.columns]
        head = "".join(f"<th{k}>{e(c.header)}</th>" for c, k in zip(self.columns, kind))
        body = "".join("<tr>" + "".join(f"<td{k}>{e(t)}</td>" for k, t in zip(kind, row)) + "</tr>"
                       for row in self.text())
        if not self.rows:
            body = f'<tr><td colspan="{len(self.columns)}">None.</td></tr>'
        foot = "".join(f'<p class="vc-source">{e(t)}</p>' for t in (self.note, self.source) if t)
        return (f'<div class="vc-table"><table><caption>{e(self.title)}</caption><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>{foot}</div>")

    def plain(self) -> str:
        frame = pd.DataFrame(self.text(), columns=[c.header for c in self.columns])
        return f"{self.title}\n{frame.to_string(index=False) if len(frame) else 'None.'}"

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html(), "text/plain": self.plain(), TABLE_MIME: self.data()}


def present(frame: pd.DataFrame, columns: list[Column], title: str, source: str = "", note: str = "",
            names: dict | None = None) -> Table:
    """The table of ``frame``'s ``columns`` (in that order), with no index: the one formatter.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; its index is ignored (reset it first if it holds a column to show).
    columns : list of Column
        What to show, in order, each with its label and unit.
    title, source, note : str
        Shown above (title) and below (note, then source) the table.
    names : dict, optional
        Company id -> name (the dataset's :attr:`~valuechain.dataset.load.Dataset.company_names`), for
        the columns in unit ``company``.
    """
    rows = tuple(tuple(record) for record in frame[[c.key for c in columns]].itertuples(index=False, name=None))
    units = ()
    if any(c.unit.startswith("@") for c in columns):
        units = tuple(tuple(str(frame[c.unit[1:]].iloc[i]) if c.unit.startswith("@") else "" for c in columns)
                      for i in range(len(frame)))
    return Table(title, tuple(columns), rows, source, note, units, dict(names or {}))


def _layer_order(frame: pd.DataFrame, by=("year",)) -> pd.DataFrame:
    """Rows upstream first (chips to apps) within each ``by`` group."""
    order = {layer: i for i, layer in enumerate(reversed(CHAIN_ORDER))}
    return frame.assign(_o=frame["layer"].map(order)).sort_values([*by, "_o"]).drop(columns="_o")


# ----------------------------------------------------------------------------- profit capture (notebook 01)

SHARE_NOTE = ("Shares are of the whole chain's operating profit. A layer that loses money has a negative share, "
              "and the chain's total is then smaller than the profitable layers' profits added up, so their "
              "shares add up to more than 100%.")


def layers(pool, kind: str = "historical", source: str = "") -> Table:
    """Layer x year: AI revenue, operating profit, margin and shares of the chain's totals."""
    data = _layer_order(pool.layers[pool.layers["kind"] == kind])
    years = f"{data['year'].min()}-{data['year'].max()}" if len(data) else ""
    shares = data["profit_share"].dropna()
    note = SHARE_NOTE if ((shares < 0) | (shares > 1)).any() else ""
    title = (f"AI revenue and operating profit by layer, {years}" if kind == "historical"
             else f"The scenario's projection by layer, {years}")
    return present(data, [
        Column("year", "Year", "year"), Column("layer", "Layer", "layer"),
        Column("ai_revenue_usd_bn", "AI revenue", "usd_bn"),
        Column("operating_profit_usd_bn", "Operating profit", "usd_bn"),
        Column("operating_margin", "Operating margin", "share"),
        Column("revenue_share", "Share of chain revenue", "share"),
        Column("profit_share", "Share of chain operating profit", "share"),
    ], title, source, note)


OUTSIDE_NOTE = ("Paid outside the chain: what a layer pays to suppliers that are not one of the five layers "
                "(staff, power, buildings, and the chip makers' foundries and memory suppliers). A layer that "
                "loses money pays out more than it receives; its investors fund the difference, so the column "
                "can add up to more than the dollar.")


def dollar_flow(pool, year: int, source: str = "") -> Table:
    """The $1 flow for one year, in cents: received, kept, lost, passed upstream, paid outside the chain."""
    data = pool.dollar_flow[pool.dollar_flow["year"] == year]
    return present(data, [
        Column("layer", "Layer", "layer"),
        Column("cents_in", "Received", "cents"),
        Column("profit_cents", "Kept as operating profit", "cents"),
        Column("loss_cents", "Lost", "cents"),
        Column("passed_upstream_cents", "Passed to the layer upstream", "cents"),
        Column("outside_costs_cents", "Paid outside the chain", "cents"),
    ], f"Where one dollar of end-user AI spending goes, {year}", source, OUTSIDE_NOTE)


def value_added(pool, year: int, source: str = "") -> Table:
    """Revenue, purchases from the layer upstream and value added per layer for one year."""
    data = pool.value_added[pool.value_added["year"] == year]
    return present(data, [
        Column("layer", "Layer", "layer"),
        Column("revenue_usd_bn", "AI revenue", "usd_bn"),
        Column("purchases_from_upstream_usd_bn", "Purchases from the layer upstream", "usd_bn"),
        Column("value_added_usd_bn", "Value added", "usd_bn"),
    ], f"Value added by layer, {year}", source)


def companies(pool, year: int, source: str = "") -> Table:
    """Company rows used in ``year``: the reported figure, the AI share and margin, and how each was obtained."""
    data = _layer_order(pool.companies[pool.companies["year"] == year])
    return present(data, [
        Column("layer", "Layer", "layer"), Column("company_id", "Company", "company"),
        Column("revenue_metric", "Revenue line", "id"),
        Column("revenue_usd_bn", "Revenue", "usd_bn", "{:,.2f}"),
        Column("revenue_method", "How the revenue was obtained", "note"),
        Column("revenue_basis", "Basis", "id"),
        Column("ai_share", "AI share", "share"),
        Column("operating_margin", "Operating margin", "share"),
        Column("margin_method", "How the margin was obtained", "note"),
    ], f"The company figures behind {year}", source, names=pool.names)


def excluded(pool, source: str = "") -> Table:
    """Companies left out of a year, and why."""
    return present(pool.excluded, [
        Column("year", "Year", "year"), Column("layer", "Layer", "layer"),
        Column("company_id", "Company", "company"), Column("reason", "Why it is left out", "note"),
    ], "Companies left out for lack of data", source, names=pool.names)


def ttm_layers(pool, source: str = "") -> Table | None:
    """The latest twelve months by layer: AI revenue, operating profit, margin and shares (None without a TTM)."""
    if pool.ttm is None:
        return None
    data = _layer_order(pool.ttm.layers, by=())
    shares = data["profit_share"].dropna()
    return present(data, [
        Column("layer", "Layer", "layer"),
        Column("ai_revenue_usd_bn", "AI revenue", "usd_bn"),
        Column("operating_profit_usd_bn", "Operating profit", "usd_bn"),
        Column("operating_margin", "Operating margin", "share"),
        Column("revenue_share", "Share of chain revenue", "share"),
        Column("profit_share", "Share of chain operating profit", "share"),
    ], f"The latest twelve months by layer, {pool.ttm.period}", source,
        SHARE_NOTE if ((shares < 0) | (shares > 1)).any() else "")


def lab_backlog(ds, source: str = "") -> Table:
    """Backlog contracted with the labs, where a filing or release says so, beside each company's backlog."""
    return present(views.lab_backlog(ds), [
        Column("company", "Company", "company"), Column("lab", "Lab", "company"), Column("stated", "Stated"),
        Column("contracted_with_lab_usd_bn", "Contracted with the lab", "usd_bn", "{:,.0f}"),
        Column("backlog_usd_bn", "Company backlog", "usd_bn", "{:,.0f}"),
        Column("backlog_date", "Backlog at", "date"), Column("share_of_backlog", "Share of backlog", "share"),
        Column("basis", "Basis", "id"), Column("note", "What the source says", "note"),
    ], "Backlog contracted with the labs", source, names=ds.company_names)


# ----------------------------------------------------------------------------- demand gap (notebook 02)


def downstream(result, source: str = "") -> Table:
    """Net external AI revenue by quarter: D with its band, the disclosed sum, the real-time value, the netting, and
    D under each scope of the ladder."""
    d = result.downstream.d.join(result.downstream.netting).join(result.required[["required_usd_bn"]])
    scopes = result.ladder.scopes if result.ladder is not None else ()
    if scopes:
        d = d.join(result.ladder.levels.add_prefix("scope_"))
    d = d.reset_index(names="quarter").assign(quarter=lambda f: f["quarter"].astype(str))
    band = f"{result.downstream.level:.0%}"
    return present(d, [
        Column("quarter", "Quarter", "quarter"),
        Column("d_usd_bn", "D, net external AI revenue, annualized", "usd_bn"),
        Column("low_usd_bn", f"D, {band} band, low", "usd_bn"),
        Column("high_usd_bn", f"D, {band} band, high", "usd_bn"),
        Column("final_demand_usd_bn", "Sellers' revenue, one basis", "usd_bn"),
        Column("intra_chain_netted_usd_bn", "Flows between chain members netted", "usd_bn"),
        Column("realtime_usd_bn", "D as known at the time", "usd_bn"),
        Column("series_present", "Final-demand series", "count"),
        Column("required_usd_bn", "R*, required revenue, annualized", "usd_bn"),
        *(Column(f"scope_{s.key}", f"D, {s.name.lower()} scope", "usd_bn") for s in scopes),
    ], "Net external AI revenue (D) against required revenue (R*), by quarter", source,
        note=(f"D is the {result.downstream.scope.name.lower()} scope, chain-linked; the strict, central and broad scopes "
              "are defined in the scope ladder's table." if scopes and result.downstream.scope is not None else ""))


def scope_ladder(result, source: str = "") -> Table:
    """D under each scope of the ladder in the gap quarter: level, D / R*, what the level rests on, the definition."""
    rungs = result.ladder_at_gap()
    frame = pd.DataFrame([{"scope": s.name, "definition": s.definition, **rungs.loc[s.key].to_dict()}
                          for s in result.ladder.scopes])
    q = result.closing.last_quarter
    return present(frame, [
        Column("scope", "Scope of D"),
        Column("level_usd_bn", f"D in {q}, annualized", "usd_bn"),
        Column("d_over_required", f"D / R* in {q}", "ratio"),
        Column("disclosed_share", "Disclosed in the quarter", "share"),
        Column("carried_share", "Carried from earlier disclosures", "share"),
        Column("assumed_share", "Assumed", "share"),
        Column("definition", "What it counts"),
    ], f"The scope ladder of D in {q}: level, D / R* and what each level rests on", source,
        note=("Shares are of the gross amount behind each level: the series disclosed in the quarter, those carried by "
              "the smoother from earlier disclosures, and what is assumed (the flows between chain members netted, "
              "at the shares the chain's flow table states, and any level linked back). The primary test uses the "
              f"{result.downstream.scope.name.lower()} scope."))


def chain_flows(result, scope_key: str = "broad", source: str = "") -> Table:
    """Who pays whom along the chain in the gap quarter, annualized, and which payments are final demand D."""
    table = result.flow_table(scope_key)
    q = result.closing.last_quarter
    frame = table.assign(in_d=table["in_d"].map({True: "yes", False: "no"}), payer=table["payer"].str.capitalize(),
                         payee=table["payee"].str.capitalize())
    return present(frame, [
        Column("payer", "Payer"),
        Column("payee", "Payee"),
        Column("usd_bn", f"Annualized in {q}", "usd_bn"),
        Column("known_as", "How it is known"),
        Column("in_d", "In D"),
    ], f"The chain's flows in {q}: final demand enters from end users, each dollar counted once", source,
        note=("Rows paid by end users and marked in D sum to D on the broad scope before chain-linking; the central "
              "scope, the primary D, leaves out the clouds' row. Assumed flows use the scenario's pass-through shares "
              "(applications to labs, labs to clouds) and the labs' cloud-partner shares; the clouds' AI capex is the "
              "spenders' filed capex times the AI share over the four quarters to the gap quarter."))


def rstar_rungs(result, source: str = "") -> Table:
    """R*'s three rungs in the gap quarter: required revenue, its multiple of R* in service, and D / required."""
    r = result.rungs
    frame = r.table()
    grid = result.answer_grid().T  # rung x D's scope
    for scope in result.ladder.scopes:
        frame[f"d_{scope.key}"] = frame["rung"].map(grid[scope.key])
    return present(frame, [
        Column("name", "Capital the revenue must recover"),
        Column("period", "Quarter"),
        Column("required_usd_bn", "Required revenue, annualized", "usd_bn"),
        Column("over_in_service", "Multiple of R* in service", "multiple"),
        *(Column(f"d_{s.key}", f"D, {s.name.lower()} scope ({r.quarter}) / required", "ratio") for s in result.ladder.scopes),
    ], f"Required revenue R* in {r.quarter}: capital in service, committed and at the steady state", source,
        note=(f"Committed: R* once every dollar spent by {r.quarter}, and the capex to the end of {r.guidance_year} "
              "(the spenders' guidance where given, the scenario's growth for the others), has entered service. "
              f"Steady state: the steady-state β* ({r.beta_star_steady:.2f}) times AI capex over the four quarters to "
              f"{r.quarter}. The primary test uses capital in service."))


def reach_needed(result, source: str = "") -> Table:
    """The growth D needs to reach each rung of R* by the question's year, for each rung of D's scope ladder, with intervals."""
    a = result.reach
    names = {s.key: s.name for s in result.ladder.scopes}
    frame = a.needed.reset_index()
    frame["scope_name"] = frame["scope"].map(names)
    frame["rung_name"] = frame["rung"].map(lambda k: f"R* {_RUNG_WORDS[k]}")
    frame["interval"] = [f"{lo:+.2f} to {hi:+.2f}" for lo, hi in zip(frame["low"], frame["high"])]
    band = f"{a.level:.0%}"
    return present(frame, [
        Column("scope_name", "D's scope"),
        Column("d_usd_bn", f"D in {a.quarter}, annualized", "usd_bn"),
        Column("rung_name", "Requirement"),
        Column("target_usd_bn", f"Requirement in {a.target_quarter}, annualized", "usd_bn"),
        Column("needed", f"Growth D needs to reach it by {a.year}", "rate"),
        Column("interval", f"{band} interval (log points a year)"),
    ], f"The growth D needs to reach R* by the end of {a.year}, by D's scope and R*'s rung", source,
        note=(f"Needed growth = (log requirement in {a.target_quarter} − log D in {a.quarter}) / {a.years:g} years. "
              f"The question is the central scope against the committed path. Intervals: D's {band} band and "
              "the scenario's priors on R*'s and D's assumptions, drawn. D grew "
              f"{a.growth:+.2f} log points a year over its last {a.window} quarterly changes."))


_RUNG_WORDS = {"in_service": "on capital in service (scenario capex growth)",
               "committed": "committed path (no capex after the guidance year)",
               "steady_state": "at the steady state of that year's AI capex"}


def reach(result, source: str = "") -> Table:
    """The question's figures: needed growth, D's growth, the MDE, P(D >= R*'s committed path) and the test, intervals first."""

    a = result.reach
    band = f"{a.level:.0%}"
    central = a.needed.loc[(a.primary, "committed")]
    lo, hi = a.growth_interval
    p_lo, p_hi = a.probability_range
    rows = [
        (f"R*'s committed path in {a.target_quarter}, annualized", float(central["target_usd_bn"]), "usd_bn", ""),
        ("Growth D needs to reach it", a.needed_central, "rate", f"{central['low']:+.2f} to {central['high']:+.2f}"),
        (f"D's pace: its growth over the last {a.window} quarterly changes", a.growth, "rate", f"{lo:+.2f} to {hi:+.2f}"),
        ("Minimum detectable effect at 80% power", a.mde, "rate", a.mde_source),
        (f"P(D ≥ R*'s committed path in {a.target_quarter}), how fast growth fades drawn from its prior",
         a.probability, "probability",
         f"{labels.probability_text(p_lo)} to {labels.probability_text(p_hi)} over D's scope ladder; Monte Carlo s.e. "
         f"{a.probability_se:.3f}"),
        *[(f"P(D ≥ R*'s committed path in {a.target_quarter}) {reach_model.half_life_words(eta)}", p_eta,
           "probability", "six quarters barely inform how long the pace lasts")
          for eta, p_eta in a.probability_by_half_life.items()],
        (f"D projected in {a.target_quarter}, 95th percentile, annualized", a.p95_at(a.target_quarter), "usd_bn",
         f"bound: {a.bound.label}, USD {a.bound.value_usd_bn:,.0f}bn"),
        ("Test p-value (H0: D's pace is at most the growth it needs)", a.p_value, "p", a.test.method),
    ]
    frame = pd.DataFrame(rows, columns=["figure", "estimate", "unit", "interval"])
    priors = "; ".join(f"{name.replace('_', ' ')}: {prior.dist}" for name, prior in a.decay_priors.items())
    return present(frame, [Column("figure", "Figure"), Column("estimate", "Estimate", "@unit"),
                           Column("interval", f"{band} interval or note", missing="")],
                   f"Does D reach R*'s committed path by {a.year}?", source,
                   note=(f"P is a posterior predictive over {a.draws:,} draws: D's band, its pace's sampling "
                         f"distribution, growth decaying to a long-run rate below a ceiling ({priors}; "
                         "primary_test in the scenario) with future shocks, and the scenario's priors on "
                         f"{len(a.prior_keys)} assumptions of R* and of D's scope."))


def closing(result, source: str = "") -> Table:
    """The gap-closing test's figures: gap, trend, time to close and the trend's probabilities, each with its interval."""

    c = result.closing
    test = c.test
    band = f"{c.level:.0%}"
    rows = [
        ("D / R* in " + str(c.last_quarter), c.ratio, "share", f"{c.ratio_interval[0]:.0%} to {c.ratio_interval[1]:.0%}"),
        ("Closing rate", 4 * c.trend, "rate", f"{4 * c.trend_interval[0]:+.2f} to {4 * c.trend_interval[1]:+.2f}"),
        ("Rate needed to close within the asset life", 4 * c.required_trend, "rate", ""),
        ("Quarterly changes used", test.nobs, "count", f"EWC degrees of freedom: {test.df}"),
        ("Closing test p-value", test.pvalue, "p", test.method),
    ] + [(f"P(gap closed by the end of {y}) if the current rate holds", p, "probability",
          "the trend's arithmetic: no future shocks, no parameter uncertainty") for y, p in c.prob_closed_by.items()
         if y <= 2035]
    frame = pd.DataFrame(rows, columns=["figure", "estimate", "unit", "interval"])
    return present(frame, [Column("figure", "Figure"), Column("estimate", "Estimate", "@unit"),
                           Column("interval", f"{band} interval or note", missing="")],
                   "The gap to R* in service: is it closing in time?", source)


NOT_KNOWN = "not known then"  # a year the disclosures public at its vintage's cutoff do not cover whole


def required_by_year(result, source: str = "") -> Table:
    """Each method's required revenue by year on that year's data, against net external AI revenue as known then and today."""
    names = {"sequoia": "Sequoia", "capex_to_revenue": "Bain", "capital_recovery": "capital recovery R*"}
    ratios = [Column(f"{m}_ratio_{when}", f"{label} / required, {name}", "ratio")
              for m, name in names.items()
              for when, label in (("vintage", "Revenue as known then"), ("revised", "Revenue revised to date"))]
    ratios = [Column(c.key, c.label, c.unit, missing=NOT_KNOWN) if "vintage" in c.key else c for c in ratios]
    return present(result.required_by_year, [
        Column("year", "Year", "year"),
        Column("d_vintage_usd_bn", "Net external AI revenue, as known then", "usd_bn", missing=NOT_KNOWN),
        Column("d_revised_usd_bn", "Net external AI revenue, revised to date", "usd_bn"),
        Column("sequoia_usd_bn", "Required, Sequoia", "usd_bn", "{:,.0f}"),
        Column("capex_to_revenue_usd_bn", "Required, Bain", "usd_bn", "{:,.0f}"),
        Column("capital_recovery_usd_bn", "Required, capital recovery R*", "usd_bn"),
        *ratios,
        Column("nvidia_run_rate_usd_bn", "NVIDIA data-center run-rate, last quarter of the year", "usd_bn"),
        Column("spenders_capex_usd_bn", "Spenders' capex", "usd_bn", "{:,.0f}"),
    ], "The published methods, each year on that year's data, against revenue as known then",
        source, note="Revenue as known then uses the disclosures published by the end of the first quarter after the "
                     "year; revised to date uses every disclosure since. Not known then: the series then public did not "
                     "cover the whole year.")


def known_by_year(result, source: str = "") -> Table:
    """Net external AI revenue per year as known then and revised to date, each beside the plain sum of its series."""
    return present(result.required_by_year, [
        Column("year", "Year", "year"),
        Column("cutoff", "Known by (disclosures published by)"),
        Column("d_vintage_usd_bn", "As known then, chain-linked", "usd_bn", missing=NOT_KNOWN),
        Column("d_vintage_disclosed_sum_usd_bn", "As known then, plain sum of the series disclosed", "usd_bn", missing=NOT_KNOWN),
        Column("d_vintage_imputed_quarters", "As known then, quarters imputed (of 4)", "count", missing=NOT_KNOWN),
        Column("d_revised_usd_bn", "Revised to date, chain-linked", "usd_bn"),
        Column("d_revised_disclosed_sum_usd_bn", "Revised to date, plain sum of the series disclosed", "usd_bn"),
        Column("d_revised_imputed_quarters", "Revised to date, quarters imputed (of 4)", "count"),
        Column("d_revised_over_vintage", "Revised / as known then", "ratio", missing=NOT_KNOWN),
    ], "Net external AI revenue by year: as known then and revised to date", source,
        note="A quarter is imputed when its chain-linked level carries back a series not yet disclosed, or carries a "
             "series past its last disclosure; the plain sum adds only the series present in each quarter.")


def bridges(result, source: str = "") -> Table:
    """From each published bar to R*: one row per bar and per named step, with its change and the value after it."""
    b = result.bridges
    return present(b.table(), [
        Column("bar", "Published bar"),
        Column("step", "Step"),
        Column("detail", "What changes"),
        Column("change_usd_bn", "Change", "usd_bn", "{:+,.0f}", missing=""),
        Column("value_usd_bn", "Value after the step", "usd_bn", "{:,.0f}"),
    ], f"From each published bar to R* in {b.year}, one named difference at a time", source, note=b.order)


def secondary(result, source: str = "") -> Table:
    """Secondary tests with n, degrees of freedom, the method, and Holm-adjusted p-values."""
    band = f"{result.closing.level:.0%}"
    na = "not applicable"
    return present(result.secondary.table(), [
        Column("test", "Test"), Column("estimate", "Estimate or statistic", "statistic"),
        Column("ci_low", f"{band} interval, low", "statistic", missing=na),
        Column("ci_high", f"{band} interval, high", "statistic", missing=na),
        Column("pvalue", "p", "p"), Column("pvalue_holm", "p, Holm-adjusted", "p"),
        Column("nobs", "n", "count"), Column("df", "Degrees of freedom", "count", missing=na),
        Column("method", "Method"),
    ], "Secondary tests, Holm-adjusted as a family", source)


def ai_elasticity(result, source: str = "") -> Table:
    """The elasticity of D to lagged AI capex under each null world of its pipeline bootstrap: the critical value,
    the coverage of the reported and the t intervals, the minimum detectable effect and the power against 1."""
    ai = result.secondary.ai_elasticity
    band = f"{ai.level:.0%}"
    return present(ai.worlds, [
        Column("world", "Null world (D independent of capex, rebuilt through the smoothing)", "text"),
        Column("draws", "Draws", "count"), Column("critical", "Critical |t*|", "statistic"),
        Column("coverage", f"Coverage of the reported {band} interval", "share"),
        Column("t_coverage", f"Coverage of the t({ai.df}) {band} interval", "share"),
        Column("mde", "Minimum detectable elasticity (80% power)", "elasticity", missing="above 10"),
        Column("power_at_one", "Power against an elasticity of 1", "share"),
    ], f"Elasticity of D to AI capex {result.secondary.d_forecast_lag} quarters earlier: {ai.estimate:.2f}, "
       f"{band} interval {ai.interval[0]:.2f} to {ai.interval[1]:.2f} (n = {ai.nobs}, {ai.df} degrees of freedom)",
        source, note="Each row is one null world: D's series drawn independent of capex on their real disclosure "
                     "pattern, smoothed and chain-linked as D is, with the scenario's noise levels or wider ones. The "
                     "reported interval uses the largest critical value, so that it covers in every world.")


def supplier_panel(result, names: dict | None = None, source: str = "") -> Table:
    """Each application's and lab's revenue growth on its cloud suppliers' lagged AI capex growth, then the pooled
    Driscoll-Kraay slope; each row names the suppliers and how the link is known."""
    s = result.secondary
    p, links = s.supplier_panel, s.supplier_world.links
    listed = links.groupby("series_id").agg(
        suppliers=("supplier_id", lambda ids: ", ".join((names or {}).get(i, i) for i in ids)),
        basis=("basis", lambda b: ", ".join(sorted(set(b)))))
    rows = p.companies.rename(columns={"company_id": "series_id"}).join(listed, on="series_id")
    pooled = p.pooled
    rows = pd.concat([rows, pd.DataFrame([{
        "series_id": "all (pooled, company intercepts)", "slope": pooled.estimate, "ci_low": pooled.interval[0],
        "ci_high": pooled.interval[1], "n": pooled.nobs, "dof": pooled.df, "suppliers": "", "basis": ""}])],
        ignore_index=True)
    band = f"{pooled.level:.0%}"
    return present(rows, [
        Column("series_id", "Series of D", "id"), Column("suppliers", "Cloud suppliers", "text"),
        Column("basis", "Link known by", "text"),
        Column("slope", "Elasticity to suppliers' AI capex", "elasticity"),
        Column("ci_low", f"{band} interval, low", "elasticity"), Column("ci_high", f"{band} interval, high", "elasticity"),
        Column("n", "n", "count"), Column("dof", "Degrees of freedom", "count"),
    ], f"Applications' and labs' revenue on their cloud suppliers' AI capex {s.supplier_world.lag} quarters earlier",
        source, note=f"Growth form; {pooled.method}. The supplier pairs and their sources are in suppliers.csv; "
                     "'assumption' marks an application whose cloud no filing names, set to the labs' suppliers.")


def supplier_panel_worlds(result, source: str = "") -> Table:
    """The suppliers' panel on each null world: its size at 5%, its interval's coverage, its minimum detectable
    elasticity and its power against 1."""
    band = f"{result.secondary.supplier_panel.pooled.level:.0%}"
    return present(result.secondary.supplier_calibration, [
        Column("world", "Null world (each series independent of capex, smoothed as the data are)", "text"),
        Column("draws", "Draws", "count"), Column("size", "Rejection rate at the nominal 5%", "share"),
        Column("coverage", f"Coverage of the {band} interval", "share"),
        Column("mde", "Minimum detectable elasticity (80% power)", "elasticity", missing="above 10"),
        Column("power_at_one", "Power against an elasticity of 1", "share"),
    ], "The suppliers' panel measured on its null worlds", source,
        note="Power adds the effect to each series' growth after the smoothing; the noise levels are the scenario's "
             "(set by hand) or three times them.")


def realtime_forecasts(result, source: str = "") -> Table:
    """D's out-of-sample check, one row per origin: the vintage used, the outcome and both forecast errors."""
    f = result.secondary.d_forecasts.assign(
        origin=lambda t: t["origin"].astype(str), base=lambda t: t["base"].astype(str),
        target=lambda t: t["target"].astype(str), capex_through=lambda t: t["capex_through"].astype(str))
    return present(f, [
        Column("origin", "Origin", "quarter"), Column("last_published", "Latest disclosure used, published", "date"),
        Column("capex_through", "Capex filed through", "quarter"),
        Column("base", "Last quarter of D in the vintage", "quarter"),
        Column("target", "Target quarter", "quarter"), Column("n", "Quarterly changes fitted (n)", "count"),
        Column("actual", "Growth of D to the target, all disclosures", "log_points"),
        Column("model_error", "Capex-growth model error", "log_points"),
        Column("random_walk_error", "Random walk with drift error", "log_points"),
    ], "D forecast from its own vintages: the capex-growth model against a random walk", source)


def market_check(result, source: str = "") -> Table:
    """Annual D against the market totals in the data (Menlo Ventures' enterprise survey), with the ratio."""
    na = "not applicable"
    return present(result.market_check(), [
        Column("year", "Year", "year"), Column("d_usd_bn", "D, net external AI revenue", "usd_bn"),
        Column("total_usd_bn", "Menlo Ventures, enterprise generative-AI spend", "usd_bn"),
        Column("ratio", "D / Menlo total", "ratio"),
        Column("d_growth", "D, multiple of the year before", "ratio", missing=na),
        Column("total_growth", "Menlo total, multiple of the year before", "ratio", missing=na),
        Column("fewest_series", "Fewest series in D in a quarter of the year", "count"),
        Column("published", "Menlo total published", "date"),
    ], "D against Menlo Ventures' survey of enterprise spending (a check, not a constraint)", source)


# ----------------------------------------------------------------------------- lab economics (notebook 03)


def run_rates(econ, source: str = "") -> Table:
    """Dated run-rates and the annualized growth since the previous observation of the same lab."""
    return present(econ.growth, [
        Column("company_id", "Company", "company"), Column("period_end", "Date", "date"),
        Column("value_usd_bn", "Run-rate revenue", "usd_bn"),
        Column("annualized_growth", "Annualized growth since the previous date", "growth", "{:+,.0%}",
               missing="first observation"),
        Column("basis", "Basis", "id"), Column("source_id", "Source (sources.csv)"),
    ], "Revenue run-rates and their growth", source, names=econ.names)


def losses(econ, source: str = "") -> Table:
    """Every measure of the labs' loss per dollar of revenue, with its basis."""
    return present(econ.losses, [
        Column("company_id", "Company", "company"), Column("measure", "Measure", "note"),
        Column("loss_per_revenue_dollar", "Loss per dollar of revenue", "usd_per_usd"),
        Column("basis", "Basis", "id"), Column("source_id", "Source (sources.csv)"),
    ], "Loss per dollar of revenue", source, names=econ.names)


def unit_economics(econ, source: str = "") -> Table:
    """OpenAI against Anthropic on the seed's figures (each row in its own unit)."""
    data = econ.unit_economics.reset_index()
    return present(data, [
        Column("measure", "Measure"), Column("openai", "OpenAI", "@unit"), Column("anthropic", "Anthropic", "@unit"),
        Column("basis", "Basis", "id"), Column("source_id", "Source (sources.csv)"),
    ], "OpenAI against Anthropic on the seed's figures", source)


def lab_start_note(econ) -> str:
    """What each lab's path starts from, and on which revenue basis, in words."""
    parts = []
    for lab, start in econ.starts.items():
        name = labels.company_name(lab, econ.names)
        if start is None:
            parts.append(f"{name} starts from the scenario's start-year revenue.")
            continue
        what = "a quarter's revenue x 4" if start.kind == "quarterly_revenue" else "run-rate"
        cut = f", less the {start.partner_share:.0%} its cloud partners keep" if start.partner_share else ""
        parts.append(f"{name} starts from {labels.with_unit(start.start_year_revenue_usd_bn, 'usd_bn')} of "
                     f"{start.as_of.year} revenue: its latest disclosure, a "
                     f"{labels.with_unit(start.reported_usd_bn, 'usd_bn')} {what} at {start.as_of:%d %B %Y} "
                     f"(basis: {start.basis.replace('_', '-')}), growing {start.growth:.0%} over the year{cut}.")
    return ("Revenue is net of the cloud partners' share: the partners' cut is the clouds' revenue, which D counts on "
            "the clouds' side. OpenAI reports net of Microsoft's share; Anthropic reports the revenue its cloud partners "
            "resell gross, so the share the scenario assumes its partners keep is taken off. A run-rate RR a fraction f into the start "
            "year gives that year's revenue RR e^(-rf)(e^r - 1)/r, with r = ln(1 + g) and g the year's growth. "
            + " ".join(parts))


def break_even(econ, source: str = "") -> Table:
    """Each lab's projected revenue, cost and operating profit to the horizon, with where each path starts."""
    data = pd.concat([be.path.assign(lab=lab) for lab, be in econ.break_even.items()], ignore_index=True)
    return present(data, [
        Column("lab", "Company", "company"), Column("year", "Year", "year"),
        Column("revenue_usd_bn", "Revenue", "usd_bn"), Column("cost_usd_bn", "Cost", "usd_bn"),
        Column("operating_profit_usd_bn", "Operating profit", "usd_bn"),
        Column("cost_per_revenue_dollar", "Cost per dollar of revenue", "usd_per_usd"),
    ], "The labs' projected path to break-even", source, lab_start_note(econ), names=econ.names)


def investments(econ, source: str = "") -> Table:
    """The clouds' investments in labs and the revenue that comes back to them in the circular year."""
    return present(econ.investments, [
        Column("investor", "Investor", "company"), Column("lab", "Lab", "company"),
        Column("amount_usd_bn", "Amount invested", "usd_bn"),
        Column("share_spent_on_investor_cloud", "Share spent on the investor's cloud", "share"),
        Column("first_year", "First year of spending", "year"), Column("spend_years", "Years of spending", "count"),
        Column("round_trip_usd_bn", f"Coming back as cloud revenue in {econ.year}", "usd_bn", "{:,.2f}"),
        Column("source_id", "Source (sources.csv)"),
    ], "Clouds' investments in labs", source, names=econ.names)


def cloud_split(econ, source: str = "") -> Table:
    """Cloud AI revenue split into round-tripped (investor-funded) and organic (end-user-funded)."""
    return present(pd.DataFrame([econ.cloud_split]), [
        Column("total_usd_bn", f"Cloud AI revenue, {econ.year}", "usd_bn"),
        Column("round_tripped_usd_bn", "Round-tripped (the clouds' own investment)", "usd_bn"),
        Column("organic_usd_bn", "Organic (paid by end users)", "usd_bn"),
        Column("round_tripped_share", "Round-tripped share", "share"),
    ], f"How much cloud AI revenue is the clouds' own money, {econ.year}", source)


def gap_without_round_trip(econ, source: str = "") -> Table:
    """Notebook 02's requirements with round-tripped revenue taken out of actual revenue."""
    return present(econ.gap_with_round_trip, [
        Column("method", "Method", "method"), Column("required_usd_bn", "Required revenue", "usd_bn"),
        Column("actual_usd_bn", "Net external AI revenue", "usd_bn"), Column("gap_usd_bn", "Gap", "usd_bn"),
        Column("actual_organic_usd_bn", "Revenue without round-tripped", "usd_bn"),
        Column("gap_organic_usd_bn", "Gap without round-tripped", "usd_bn"),
    ], "The demand gap without round-tripped revenue", source)


# ----------------------------------------------------------------------------- valuations (notebook 04)


def ipo_draw(val, source: str = "") -> Table:
    """Capital each IPO draws at each float ratio."""
    draw = val.draw
    data = draw.reset_index(names="company")
    data.columns = ["company", *(f"f{i}" for i in range(len(draw.columns)))]
    data["company"] = [labels.company_name(c, val.names) if c != "total" else "Total" for c in data["company"]]
    return present(data, [Column("company", "Company")] + [
        Column(f"f{i}", f"Drawn at a {ratio:.0%} float", "usd_bn") for i, ratio in enumerate(draw.columns)
    ], "Capital drawn by the IPOs at each float ratio", source)


def lab_valuations(val, source: str = "") -> Table:
    """The labs' valuations, revenue multiples and the revenue the reverse DCF needs in the target year."""
    needed = next(c for c in val.labs.columns if c.startswith("revenue_needed_"))
    year = needed.removeprefix("revenue_needed_").removesuffix("_usd_bn")
    return present(val.labs, [
        Column("company_id", "Company", "company"), Column("valuation_usd_bn", "Valuation", "usd_bn", "{:,.0f}"),
        Column("run_rate_usd_bn", "Run-rate revenue", "usd_bn"),
        Column("revenue_multiple", "Valuation / run-rate revenue", "multiple"),
        Column(needed, f"Revenue needed in {year}", "usd_bn"),
    ], "Implied multiples and the reverse DCF", source, names=val.names)


def facts(frame: pd.DataFrame, title: str, names: dict, source: str = "") -> Table:
    """Rows of facts.csv: who, what, the value with its unit, as of when, the basis, the source and the note
    (who named from ``names``, the dataset's company names)."""
    wanted = [Column("entity", "Company or market", "company"), Column("metric", "Figure", "id"),
              Column("value", "Value", "@unit"), Column("as_of", "As of", missing=""),
              Column("basis", "Basis", "id"), Column("source_id", "Source (sources.csv)"),
              Column("note", "Note", missing="")]
    return present(frame, [c for c in wanted if c.key in frame.columns], title, source, names=names)


def downstream_check(check: pd.DataFrame, source: str = "") -> Table:
    """Notebook 01's labs and applications beside the chain's final demand into them (notebook 02's D), by year."""
    frame = check.assign(layer=check["layer"].map({"labs": "Labs", "apps": "Applications"}))
    return present(frame, [
        Column("year", "Year", "year"),
        Column("layer", "Layer"),
        Column("pool_usd_bn", "Profit pool's AI revenue", "usd_bn"),
        Column("chain_usd_bn", "End users' payments in D", "usd_bn"),
        Column("chain_over_pool", "D's part / profit pool", "ratio"),
    ], "The profit pool's downstream layers against the chain's final demand into them", source,
        note=("D (notebook 02) counts what end users pay each layer once: the labs' revenue net of what the applications "
              "pay them for models and of what their cloud partners keep; the applications' disclosed AI revenue. The "
              "profit pool's applications are a share of Menlo Ventures' survey of enterprise generative-AI spend, so the "
              "ratio is how much of that the named vendors' disclosures cover. Both use the same pass-through shares."))


# ----------------------------------------------------------------------------- the track record (notebook 06)

QUANTITY_NAMES = {"d_usd_bn": "D, net external AI revenue", "required_usd_bn": "R*, required revenue on capital in service"}


def track_record_scores(record, source: str = "") -> Table:
    """The ledger's score by quantity, against the value as first disclosed and today's revised value."""
    frame = pd.concat([record.scores.assign(against="as first disclosed"),
                       record.scores_revised.assign(against="today's revised value")], ignore_index=True)
    frame = frame.assign(quantity=frame["quantity"].map(QUANTITY_NAMES)).sort_values(["quantity", "against"], kind="stable")
    return present(frame, [
        Column("quantity", "Forecast of"), Column("against", "Scored against"),
        Column("forecasts", "Forecasts in the ledger", "count"), Column("scored", "Forecasts scored", "count"),
        Column("mean_error_log", "Mean log error (realized over forecast)", "log_points"),
        Column("rmse_log", "Root mean squared log error", "log_points"),
        Column("inside", "Outcomes inside the interval", "count"), Column("coverage", "Coverage", "share"),
        Column("coverage_low", f"Coverage, {record.level:.0%} interval, low", "share"),
        Column("coverage_high", f"Coverage, {record.level:.0%} interval, high", "share"),
        Column("level", "Interval's stated level", "share"),
    ], "The forecast ledger's track record", source,
        note="R*'s interval is a stated range (capex growth 0 to twice the last), recorded at level 1; a quarter whose "
             "capex was filed has no range. The coverage interval treats the forecasts as independent.")


def track_record_forecasts(record, source: str = "") -> Table:
    """Every scored forecast: vintage, target, forecast and interval, outcome as first disclosed, error, inside."""
    s = record.scored.assign(quantity=lambda t: t["quantity"].map(QUANTITY_NAMES),
                             vintage=lambda t: t["vintage"].dt.date.astype(str),
                             target_quarter=lambda t: t["target_quarter"].astype(str),
                             inside=lambda t: t["inside"].map({True: "inside", False: "outside"}))
    return present(s, [
        Column("quantity", "Forecast of"), Column("vintage", "Vintage (cutoff)", "date"),
        Column("target_quarter", "Target quarter", "quarter"), Column("horizon_quarters", "Quarters ahead", "count"),
        Column("forecast", "Forecast", "usd_bn"), Column("low", "Interval, low", "usd_bn"),
        Column("high", "Interval, high", "usd_bn"), Column("realized", "As first disclosed", "usd_bn"),
        Column("error_log", "Log error", "log_points"), Column("inside", "Inside the interval"),
    ], "Each forecast that has come due, against the value as first disclosed", source)


def rstar_line(record, source: str = "") -> Table:
    """R*'s pre-registered line against each quarter of D as first disclosed."""
    ln = record.line.assign(target_quarter=lambda t: t["target_quarter"].astype(str),
                            vintage=lambda t: t["vintage"].dt.date.astype(str),
                            above=lambda t: t["above"].map({True: "above", False: "below"}))
    return present(ln, [
        Column("target_quarter", "Quarter", "quarter"), Column("vintage", "R* recorded on", "date"),
        Column("required_usd_bn", "R*, pre-registered", "usd_bn"), Column("d_usd_bn", "D, as first disclosed", "usd_bn"),
        Column("d_over_required", "D / R*", "ratio"), Column("above", "D against the line"),
    ], "R*'s pre-registered line against each quarter of D as first disclosed", source)


def _claim_note(row) -> str:
    """Why a claim has its verdict: the reason for the comparison, the definition that matters, a stale claim's date."""
    parts = [row["reason"]]
    if row["definition"]:
        parts.append(row["definition"])
    if row["verdict"] == "stale" and not labels.missing(row["matched_date"]):
        parts.append(f"the seed's figure is the one of {row['matched_date'].date()}, which the later figure supersedes")
    return "; ".join(parts)


def seed_claims(result, source: str = "") -> Table:
    """Every quantitative claim of the two seed documents against the best figure of the data, with its computed verdict."""
    order = {v: i for i, v in enumerate(result.VERDICTS)}
    frame = result.table.assign(note=result.table.apply(_claim_note, axis=1))
    frame = frame.sort_values("verdict", key=lambda s: s.map(order), kind="stable")
    return present(frame, [
        Column("claim", "Claim"), Column("document", "Seed document"), Column("where", "Where"),
        Column("seed_value", "Seed's figure", "@unit"),
        Column("compared_with", "Compared with", "note", missing="nothing in the data"),
        Column("best_low", "Best figure (or low end)", "@unit", missing=""),
        Column("best_high", "High end", "@unit", missing=""),
        Column("best_date", "Dated", "date", missing=""), Column("best_basis", "Basis", missing=""),
        Column("tolerance", "Tolerance", "share"), Column("verdict", "Verdict"), Column("note", "Why", missing=""),
    ], "The seed documents' claims against the data", source,
        note=("The best figure is the latest the data hold for the quantity (a range where two figures share its date). A claim "
              "matches within its tolerance of it; it is stale when it matches only an earlier figure; a figure outside the "
              "tolerance differs, and a bound ('has surpassed', 'over') the best figure does not reach is not supported."),
        names=result.names)
