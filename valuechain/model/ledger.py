r"""The forecast ledger's forecasts and their track record: what each vintage of the data said about
:math:`D` and :math:`R^*` for the next four quarters, and how it fared against what was later disclosed.

Vintages
--------
A vintage is a cutoff date :math:`c` (a quarter's end, from the first at which :math:`D` can be
forecast to the last on or before the latest publication date in the data) and uses only what was
public by :math:`c`:

- :math:`D` is :func:`valuechain.model.downstream.vintages` at :math:`c`: the disclosures of
  ``ai_revenue.csv`` published by :math:`c`, smoothed, netted and chain-linked as today's
  :math:`D`, under the primary rung of the scope ladder;
- :math:`R^*` is built from the capex **filed** by :math:`c` (:func:`filed_by`). A row's filing
  date is its source's publication date where ``sources.csv`` gives the filing's day, else the
  end of the quarter after the period's end (:data:`FILING_LAG_QUARTERS`; a 10-Q is due within
  40 days, a 10-K within 60, so this is late rather than early).

The forecasts (:func:`forecasts`)
---------------------------------
For the four quarters after the vintage's quarter :math:`Q_c`, targets :math:`Q_c + k`,
:math:`k = 1..4`:

- :math:`D`: the vintage's last quarter :math:`O` (the latest a disclosure then covered) carried at
  its smoothed growth, the mean :math:`\hat g` of its last :math:`W` (:data:`GROWTH_WINDOW`)
  quarterly log changes, with :math:`s` their s.d.: with :math:`h = Q_c + k - O`,

  .. math::

      \log \hat D_{O+h} = \log D_O + h \hat g, \qquad
      \log D_{O+h} \in \log \hat D_{O+h} \pm t_{W-1} \, s \sqrt{h + h^2 / W}

  (a random walk with drift: :math:`h` future changes and the drift's own error). A vintage
  without :math:`D` in each of its last :math:`W + 1` quarters gives no forecast, and records no
  row. The primary test's floor on the series :math:`D` rests on is not applied: the ledger
  records what each vintage could forecast, and says on how many series (``data_vintage``).
- :math:`R^*`: the required revenue on capital in service (:mod:`valuechain.model.capital`) on the
  filed capex. With the service lag :math:`L`, :math:`R^*_t` rests on capex to :math:`t - L`,
  so the quarters whose capex is already filed are known in advance; the rest are the same
  quarter a year earlier grown at the spenders' growth over the last four filed quarters,
  :math:`g_c`, and the interval spans growth :math:`0` to :math:`2 g_c` (a stated range, not a
  probability; its level is recorded as 1, and a quarter whose capex is filed has low = high).

These rows are the **pre-registered line**: appended once per vintage (:func:`update`), never
rewritten (:func:`valuechain.dataset.ledger.append`).

Scoring (:func:`score`)
-----------------------
A forecast is scored against the value **as first disclosed**: :math:`D` of the target quarter in
the vintage one quarter after it ends (:data:`valuechain.model.downstream.VINTAGE_LAG_QUARTERS`,
the lag the yearly vintages use), when that cutoff has passed in the data; :math:`R^*` on all the
capex filed to date, when the target's capex is filed. Today's revised :math:`D` is shown beside.
The error is :math:`\log(\text{realized} / \text{forecast})`; the coverage is the share of realized
values inside their intervals, with its count and a Clopper-Pearson interval. Forecasts from
one vintage share its data, so they are not independent: the count overstates the information.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from valuechain.dataset import disclosures, ledger as ledger_file
from valuechain.dataset.capex import consistent_quarters
from valuechain.dataset.load import Dataset
from valuechain.model import capital, chain, downstream
from valuechain.model.results import Headline, rounded

FILING_LAG_QUARTERS = 1
"""Quarters from a period's end to the end of the quarter its capex is taken as filed by, where the
source gives no filing day."""
HORIZON_QUARTERS = 4  # each vintage forecasts the four quarters after its own
GROWTH_WINDOW = 4  # quarterly changes of D whose mean is the growth carried
CAPEX_GROWTH_SPREAD = (0.0, 1.0, 2.0)  # unfiled capex grown at 0, 1 and 2 times the spenders' last growth: low, central, high
D_METHOD = (f"D's smoothed growth carried: mean of the vintage's last {GROWTH_WINDOW} quarterly log changes; interval "
            f"of a random walk with drift (t with {GROWTH_WINDOW - 1} degrees of freedom)")
R_METHOD = ("R* on capital in service from the capex filed by the vintage; capex not yet filed grown at the spenders' "
            "growth over the last four filed quarters (interval: growth 0 to twice that)")


# ----------------------------------------------------------------------------- what was public by a date


def filing_dates(ds: Dataset) -> pd.Series:
    """Each ``financials.csv`` row's filing date (index as ``ds.financials``): its source's day where
    ``sources.csv`` gives one, else the end of the quarter :data:`FILING_LAG_QUARTERS` after its period's end."""
    fin = ds.financials
    published = ds.sources.set_index("source_id")["date_published"]
    day = pd.to_datetime(fin["source_id"].map(published).where(lambda s: s.str.len() == 10), errors="coerce")
    lagged = (fin["period_end"].dt.to_period("Q") + FILING_LAG_QUARTERS).map(lambda q: q.end_time.normalize())
    return day.fillna(lagged).rename("filed")


def filed_by(ds: Dataset, cutoff) -> Dataset:
    """``ds`` with only the financial rows filed by ``cutoff`` (:func:`filing_dates`)."""
    keep = (filing_dates(ds) <= pd.Timestamp(cutoff)).to_numpy()
    return dataclasses.replace(ds, financials=ds.financials[keep].reset_index(drop=True))


def cutoffs(panel: pd.DataFrame) -> list[pd.Timestamp]:
    """The dates a vintage may have: quarter ends from the first disclosure's quarter to the last
    quarter end on or before the latest publication date in ``panel`` (the same for every scenario)."""
    first = panel["published"].min().to_period("Q")
    last = panel["published"].max()
    ends = [q.end_time.normalize() for q in pd.period_range(first, last.to_period("Q"), freq="Q")]
    return [c for c in ends if c <= last]


# ----------------------------------------------------------------------------- the forecasts


def _d_rows(vintage: downstream.Vintage, level: float, scenario_name: str) -> list[dict]:
    """The forecasts of D one vintage makes (see the module docstring), or none."""
    from scipy import stats

    d = vintage.d
    if d.empty:
        return []
    origin = d.index[-1]
    window = d.iloc[-(GROWTH_WINDOW + 1):]
    if len(window) < GROWTH_WINDOW + 1 or not (window["d_usd_bn"] > 0).all():
        return []
    changes = np.diff(np.log(window["d_usd_bn"].to_numpy()))
    g, s = float(changes.mean()), float(changes.std(ddof=1))
    t = stats.t.ppf(0.5 + level / 2, GROWTH_WINDOW - 1)
    quarter = vintage.cutoff.to_period("Q")
    made = (f"{vintage.disclosures} disclosures published by {vintage.cutoff.date()} (latest "
            f"{vintage.last_published.date()}), D to {origin} on {int(d['series_present'].iloc[-1])} series")
    rows = []
    for k in range(1, HORIZON_QUARTERS + 1):
        target = quarter + k
        h = (target - origin).n
        centre = float(np.log(d["d_usd_bn"].iloc[-1])) + h * g
        half = t * s * np.sqrt(h + h * h / GROWTH_WINDOW)
        rows.append({"vintage": vintage.cutoff, "quantity": "d_usd_bn", "target_quarter": target, "horizon_quarters": k,
                     "forecast": np.exp(centre), "low": np.exp(centre - half), "high": np.exp(centre + half),
                     "level": level, "method": D_METHOD, "scenario": scenario_name, "data_vintage": made})
    return rows


def common_quarters(ds: Dataset, spenders) -> Dataset:
    """``ds`` without the spenders' capex after the last quarter every spender with filed quarters has filed.

    On a filing date one spender may have filed a quarter the others have not (Oracle's fiscal year
    ends in May); :func:`valuechain.dataset.capex.consistent_quarters` would then leave out every
    spender without that quarter. Cutting at the common quarter keeps the spenders as today's R* has them.
    """
    fin = ds.financials
    capex = (fin["metric"] == "capex") & fin["company_id"].isin(list(spenders))
    quarters = fin[capex & (fin["period_type"] == "quarter")]
    if quarters.empty:
        return ds
    common = min(pd.Period(q, freq="Q") for q in quarters.groupby("company_id")["calendar_quarter"].max())
    later = capex & (fin["period_end"].dt.to_period("Q") > common)
    return dataclasses.replace(ds, financials=fin[~later.to_numpy()].reset_index(drop=True))


def asset_classes(scenario) -> tuple[capital.AssetClass, ...]:
    """The scenario's two classes of AI capital (servers, buildings), as the demand gap uses them."""
    cap = scenario.demand_gap.capital
    return (capital.AssetClass("servers", cap.servers_share, cap.servers_life_years),
            capital.AssetClass("buildings", 1 - cap.servers_share, cap.buildings_life_years))


def required_paths(scenario, ds: Dataset, end: pd.Period) -> tuple[pd.DataFrame, pd.Period, float]:
    """R* by quarter to ``end`` on ``ds``'s filed capex, the unfiled quarters grown at 0, 1 and 2
    times the spenders' last growth (columns ``low``, ``central``, ``high``); the last filed quarter; the growth."""
    cap, be = scenario.demand_gap.capital, scenario.demand_gap.break_even
    wide = consistent_quarters(common_quarters(ds, cap.spenders), cap.spenders,
                               pd.Period(cap.first_quarter, freq="Q")).wide()
    total = wide.sum(axis=1)
    growth = float(total.iloc[-4:].sum() / total.iloc[-8:-4].sum() - 1) if len(total) >= 8 else 0.0
    paths = {}
    for name, times in zip(("low", "central", "high"), CAPEX_GROWTH_SPREAD):
        spend = capital.projected_spend(wide, pd.DataFrame(), max(end.year, wide.index[-1].year), lambda _: times * growth)
        ai = capital.ai_capex(spend, cap.ai_share, cap.ai_share_before)
        paths[name] = capital.required_revenue(ai, asset_classes(scenario), cap.service_lag_quarters, be.target_return,
                                               be.margin_before_depreciation)["required_usd_bn"]
    frame = pd.DataFrame(paths)
    frame[["low", "high"]] = np.sort(frame[["low", "high"]].to_numpy(), axis=1)
    return frame, wide.index[-1], growth


def _required_rows(scenario, ds: Dataset, cutoff: pd.Timestamp) -> list[dict]:
    """The forecasts of R* one vintage makes, on the capex filed by ``cutoff``."""
    quarter = cutoff.to_period("Q")
    filed = filed_by(ds, cutoff)
    paths, last, growth = required_paths(scenario, filed, quarter + HORIZON_QUARTERS)
    lag = scenario.demand_gap.capital.service_lag_quarters
    made = f"capex filed by {cutoff.date()}: to {last}; spenders' growth over the last four filed quarters {growth:+.1%}"
    rows = []
    for k in range(1, HORIZON_QUARTERS + 1):
        target = quarter + k
        known = target - lag <= last
        row = paths.loc[target]
        rows.append({"vintage": cutoff, "quantity": "required_usd_bn", "target_quarter": target, "horizon_quarters": k,
                     "forecast": row["central"], "low": row["central"] if known else row["low"],
                     "high": row["central"] if known else row["high"], "level": 1.0,
                     "method": R_METHOD + ("; known: its capex is filed" if known else ""),
                     "scenario": scenario.name, "data_vintage": made})
    return rows


def forecasts(scenario, ds: Dataset, dates=None, panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ledger rows of the vintages ``dates`` (default: every vintage the data support, :func:`cutoffs`)."""
    panel = disclosures.load(ds) if panel is None else panel
    dates = cutoffs(panel) if dates is None else [pd.Timestamp(c) for c in dates]
    dg = scenario.demand_gap
    down = dg.downstream
    built = downstream.vintages(panel, dates, down.start_quarter, down.level_sd, down.slope_sd,
                                accounting=chain.chain(scenario, ds, panel), scope=chain.scope(chain.PRIMARY))
    rows = []
    by_cutoff = {v.cutoff: v for v in built}
    for cutoff in dates:
        made = by_cutoff.get(cutoff)
        d_rows = _d_rows(made, down.band, scenario.name) if made is not None else []
        if d_rows:  # a vintage is recorded once D can be forecast: R* alone scores nothing against D
            rows += d_rows + _required_rows(scenario, ds, cutoff)
    frame = pd.DataFrame(rows, columns=ledger_file.COLUMNS)
    return frame


def update(scenario, ds: Dataset, file=None, panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """Append to the ledger the forecasts of every vintage the data support that it does not hold; the rows appended.

    Earlier rows are never rewritten (:func:`valuechain.dataset.ledger.append`).
    """
    panel = disclosures.load(ds) if panel is None else panel
    held = set(ledger_file.load(file)["vintage"])
    dates = [c for c in cutoffs(panel) if c not in held]
    return ledger_file.append(forecasts(scenario, ds, dates, panel), file)


# ----------------------------------------------------------------------------- the track record

REALIZED_COLUMNS = ["quantity", "target_quarter", "realized"]
TOLERANCE_USD_BN = 5e-5  # half the last digit the ledger writes: a value equal to a written bound is inside


def realized(scenario, ds: Dataset, targets, panel: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What was later disclosed for each target quarter: (as first disclosed, today's revised).

    Rows :data:`REALIZED_COLUMNS`. :math:`D` as first disclosed is the target quarter in the vintage one
    quarter after it ends (:data:`valuechain.model.downstream.VINTAGE_LAG_QUARTERS`), where that cutoff is on
    or before the latest publication date in the data; today's :math:`D` is :func:`valuechain.model.downstream.of_scenario`.
    :math:`R^*` (the same in both) is on all the capex filed, where the target's capex (to the target less the
    service lag) is filed.
    """
    panel = disclosures.load(ds) if panel is None else panel
    targets = sorted({pd.Period(t, freq="Q") for t in targets})
    last = panel["published"].max()
    down = scenario.demand_gap.downstream
    first_cut = {t: (t + downstream.VINTAGE_LAG_QUARTERS).end_time.normalize() for t in targets}
    due = sorted({c for c in first_cut.values() if c <= last})
    built = {v.cutoff: v.d for v in downstream.vintages(panel, due, down.start_quarter, down.level_sd, down.slope_sd,
                                                        accounting=chain.chain(scenario, ds, panel),
                                                        scope=chain.scope(chain.PRIMARY))}
    today = downstream.of_scenario(scenario, ds, panel).d["d_usd_bn"]
    paths, filed_to, _ = required_paths(scenario, ds, max(targets) if targets else today.index[-1])
    lag = scenario.demand_gap.capital.service_lag_quarters
    first, revised = [], []
    for t in targets:
        frame = built.get(first_cut[t])
        if frame is not None and t in frame.index and np.isfinite(frame.loc[t, "d_usd_bn"]):
            first.append(("d_usd_bn", t, float(frame.loc[t, "d_usd_bn"])))
        if t in today.index and np.isfinite(today.loc[t]):
            revised.append(("d_usd_bn", t, float(today.loc[t])))
        if t - lag <= filed_to:
            for rows in (first, revised):
                rows.append(("required_usd_bn", t, float(paths.loc[t, "central"])))
    return (pd.DataFrame(first, columns=REALIZED_COLUMNS), pd.DataFrame(revised, columns=REALIZED_COLUMNS))


def score(rows: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    r"""Each ledger row with its outcome: ``realized``, ``error_log`` :math:`= \log(\text{realized}/\text{forecast})`
    and ``inside`` (low :math:`\le` realized :math:`\le` high, to the ledger's written precision). Rows
    without an outcome yet are left out."""
    out = rows.merge(outcomes, on=["quantity", "target_quarter"], how="inner")
    out["error_log"] = np.log(out["realized"] / out["forecast"])
    out["inside"] = (out["realized"] >= out["low"] - TOLERANCE_USD_BN) & (out["realized"] <= out["high"] + TOLERANCE_USD_BN)
    return out.sort_values(["quantity", "vintage", "target_quarter"], kind="stable").reset_index(drop=True)


SCORE_COLUMNS = ["quantity", "forecasts", "scored", "mean_error_log", "rmse_log", "inside", "coverage",
                 "coverage_low", "coverage_high", "level"]


def coverage(scored: pd.DataFrame, rows: pd.DataFrame, level: float = 0.90) -> pd.DataFrame:
    r"""By quantity: forecasts in the ledger, forecasts scored, mean and root-mean-square log error, the count
    inside their intervals, the coverage (that count over the scored) with its Clopper-Pearson interval at
    ``level``, and the intervals' stated level.

    The Clopper-Pearson interval of :math:`k` inside out of :math:`n` is
    :math:`[B(\alpha/2; k, n-k+1),\ B(1-\alpha/2; k+1, n-k)]`, with :math:`B` the beta quantile and
    :math:`\alpha = 1 -` ``level``; it treats the forecasts as independent, which forecasts from one
    vintage are not, so it is narrower than it should be.
    """
    from scipy import stats

    alpha = 1 - level
    out = []
    for quantity in ledger_file.QUANTITIES:
        mine, made = scored[scored["quantity"] == quantity], rows[rows["quantity"] == quantity]
        n, k = len(mine), int(mine["inside"].sum())
        levels = sorted(set(made["level"]))
        out.append({"quantity": quantity, "forecasts": len(made), "scored": n,
                    "mean_error_log": float(mine["error_log"].mean()) if n else np.nan,
                    "rmse_log": float(np.sqrt((mine["error_log"] ** 2).mean())) if n else np.nan,
                    "inside": k, "coverage": k / n if n else np.nan,
                    "coverage_low": float(stats.beta.ppf(alpha / 2, k, n - k + 1)) if 0 < k else 0.0 if n else np.nan,
                    "coverage_high": float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k)) if k < n else 1.0 if n else np.nan,
                    "level": levels[0] if len(levels) == 1 else np.nan})
    return pd.DataFrame(out, columns=SCORE_COLUMNS)


LINE_COLUMNS = ["target_quarter", "vintage", "required_usd_bn", "d_usd_bn", "d_over_required", "above"]


def line(rows: pd.DataFrame, first: pd.DataFrame) -> pd.DataFrame:
    r"""R*'s pre-registered line against each quarter of :math:`D` as first disclosed.

    For each target quarter with :math:`D` as first disclosed: the :math:`R^*` the ledger recorded
    for it from its **earliest** vintage (the longest pre-registered), :math:`D`, their ratio, and
    whether :math:`D` is at or above the line."""
    req = rows[rows["quantity"] == "required_usd_bn"].sort_values("vintage", kind="stable")
    earliest = req.groupby("target_quarter", as_index=False).first()[["target_quarter", "vintage", "forecast"]]
    d = first[first["quantity"] == "d_usd_bn"][["target_quarter", "realized"]]
    out = earliest.merge(d, on="target_quarter").rename(columns={"forecast": "required_usd_bn", "realized": "d_usd_bn"})
    out["d_over_required"] = out["d_usd_bn"] / out["required_usd_bn"]
    out["above"] = out["d_usd_bn"] >= out["required_usd_bn"]
    return out[LINE_COLUMNS].sort_values("target_quarter").reset_index(drop=True)


@dataclass(frozen=True)
class TrackRecord:
    """The forecast ledger scored: what each vintage forecast, what was later disclosed, and how it fared."""

    scenario: str  # the scenario the ledger's forecasts were made with
    rows: pd.DataFrame  # the ledger (:data:`valuechain.dataset.ledger.COLUMNS`)
    scored: pd.DataFrame  # rows with an outcome as first disclosed: realized, error_log, inside
    scored_revised: pd.DataFrame  # rows against today's revised values
    scores: pd.DataFrame  # by quantity, as first disclosed (:func:`coverage`)
    scores_revised: pd.DataFrame  # by quantity, against today's revised values
    line: pd.DataFrame  # R*'s pre-registered line against D as first disclosed (:func:`line`)
    level: float  # the level of the coverage intervals
    last_published: pd.Timestamp  # the latest publication date in the data the outcomes use
    sources: tuple[str, ...] = field(default=())

    @property
    def vintages(self) -> tuple[pd.Timestamp, ...]:
        return tuple(sorted(set(self.rows["vintage"])))

    @property
    def period(self) -> str:
        v = self.vintages
        return f"vintages {v[0].date()} to {v[-1].date()}" if v else "no vintage"

    def score(self, quantity: str, revised: bool = False) -> pd.Series:
        table = self.scores_revised if revised else self.scores
        return table.set_index("quantity").loc[quantity]

    def headlines(self) -> list[Headline]:
        d, r = self.score("d_usd_bn"), self.score("required_usd_bn")
        p = self.period
        return [
            Headline("ledger_vintages", "Vintages in the forecast ledger", "count", p, len(self.vintages)),
            Headline("ledger_d_scored", "Forecasts of D scored against D as first disclosed", "count", p, int(d["scored"])),
            Headline("ledger_d_coverage", f"Share of D as first disclosed inside its forecast's {d['level']:.0%} interval",
                     "share", p, d["coverage"], note=f"{int(d['inside'])} of {int(d['scored'])}"),
            Headline("ledger_d_rmse_log", "Root-mean-square log error of D's forecasts", "log_points", p, d["rmse_log"]),
            Headline("ledger_d_mean_error_log", "Mean log error of D's forecasts (realized over forecast)", "log_points", p,
                     d["mean_error_log"], detail=True),
            Headline("ledger_required_scored", "Forecasts of R* scored", "count", p, int(r["scored"])),
            Headline("ledger_required_coverage", "Share of R* inside its forecast's stated range", "share", p,
                     r["coverage"], note=f"{int(r['inside'])} of {int(r['scored'])}"),
            Headline("ledger_required_rmse_log", "Root-mean-square log error of R*'s forecasts", "log_points", p,
                     r["rmse_log"]),
            Headline("ledger_d_quarters_above_line", "Quarters of D at or above R*'s pre-registered line", "count", p,
                     int(self.line["above"].sum()), note=f"of {len(self.line)} quarters scored"),
        ]

    def summary(self) -> dict:
        """Key figures for the batch comparison table, rounded for presentation."""
        out = {"scenario": self.scenario, "first_vintage": str(self.vintages[0].date()) if self.vintages else None,
               "last_vintage": str(self.vintages[-1].date()) if self.vintages else None}
        for h in self.headlines():
            out[h.key] = rounded(h.value, 4) if h.unit in ("share", "log_points") else int(h.value)
        return out


def track_record(scenario, ds: Dataset, rows: pd.DataFrame | None = None, level: float = 0.90) -> TrackRecord:
    """Score the ledger ``rows`` (default: the bundled ledger) against what the data now disclose.

    The outcomes are built with the assumptions the forecasts were made with (the AI share, the lives,
    the chain): the scenario the ledger's rows name, when they name one other than ``scenario``, so
    every scenario's page scores the same committed forecasts the same way.
    """
    from valuechain.scenario.load import load_scenario

    rows = ledger_file.load() if rows is None else rows
    named = sorted(set(rows["scenario"]))
    if len(named) == 1 and named[0] != scenario.name:
        scenario = load_scenario(named[0])
    panel = disclosures.load(ds)
    first, revised = realized(scenario, ds, rows["target_quarter"], panel)
    scored, scored_revised = score(rows, first), score(rows, revised)
    cap = scenario.demand_gap.capital
    spend = consistent_quarters(ds, cap.spenders, pd.Period(cap.first_quarter, freq="Q"))
    sources = tuple(dict.fromkeys([*panel.loc[panel["flow"] != "market_total", "source_id"], *spend.sources]))
    return TrackRecord(", ".join(named) or scenario.name, rows, scored, scored_revised, coverage(scored, rows, level),
                       coverage(scored_revised, rows, level), line(rows, first), level, panel["published"].max(), sources)
