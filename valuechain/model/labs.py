"""Lab unit economics, the break-even year, and circular financing.

Figures come from the dataset: dated run-rates and reported losses in ``financials.csv``, and
the seed documents' claims (revenue per user, $1M customers, compute spend, loss per revenue
dollar) in ``facts.csv``, each kept with its basis so a claim is never shown as a filing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from valuechain.dataset import views
from valuechain.dataset.load import Dataset
from valuechain.dataset.names import company_name
from valuechain.model.demand import requirements
from valuechain.model.formulas import break_even_years
from valuechain.model.inputs import lab_base, lab_start
from valuechain.model.profit import profit_pool
from valuechain.model.required import method_name
from valuechain.model.results import Headline, rounded


def run_rate_growth(ds: Dataset, labs) -> pd.DataFrame:
    r"""Dated run-rates with the annualized growth since the previous observation of the same lab.

    .. math::

        g = \left(\frac{RR_2}{RR_1}\right)^{365.25 / \Delta t_{days}} - 1
    """
    points = views.points(ds, "revenue_run_rate", labs)
    frames = []
    for _, group in points.groupby("company_id", sort=False):
        group = group.sort_values("period_end").copy()
        days = group["period_end"].diff().dt.days
        group["annualized_growth"] = (group["value_usd_bn"] / group["value_usd_bn"].shift()) ** (365.25 / days) - 1
        frames.append(group)
    return pd.concat(frames, ignore_index=True)[["company_id", "period_end", "value_usd_bn", "annualized_growth", "basis", "source_id"]]


def _fact(ds: Dataset, fact_id: str):
    row = ds.facts.set_index("fact_id").loc[fact_id]
    return float(row["value"]), row["basis"], row["source_id"]


def loss_per_revenue_dollar(ds: Dataset, lab: str) -> pd.DataFrame:
    """Every measure of a lab's loss per dollar of revenue: from reported periods and from claims."""
    fin = ds.financials[ds.financials["company_id"] == lab]
    keys = ["period_type", "fiscal_period"]
    revenue = fin[fin["metric"] == "revenue"]
    rows = []
    for metric in ("operating_loss", "net_loss"):
        pairs = fin[fin["metric"] == metric].merge(revenue, on=keys, suffixes=("", "_rev"))
        for pair in pairs.itertuples():
            rows.append({"company_id": lab, "measure": f"{metric} / revenue, {pair.fiscal_period}",
                         "loss_per_revenue_dollar": pair.value_usd_bn / pair.value_usd_bn_rev,
                         "basis": pair.basis, "source_id": pair.source_id})
    claims = ds.facts[(ds.facts["entity"] == lab) & (ds.facts["metric"] == "loss_per_revenue_dollar")]
    for claim in claims.itertuples():
        rows.append({"company_id": lab, "measure": "as stated in the seed", "loss_per_revenue_dollar": claim.value,
                     "basis": claim.basis, "source_id": claim.source_id})
    return pd.DataFrame(rows)


def unit_economics(ds: Dataset) -> pd.DataFrame:
    r"""OpenAI against Anthropic on the figures the seeds cite, with capital efficiency.

    Capital efficiency is run-rate revenue per dollar of projected compute spend,
    :math:`RR / C`, both as the seed states them. Each row carries its unit (``unit``).
    """
    pairs = {
        "run-rate revenue": ("openai_run_rate_seed", "anthropic_run_rate_seed", "usd_bn"),
        "revenue per user": ("openai_revenue_per_user", "anthropic_revenue_per_user", "usd"),
        "projected compute spend": ("openai_compute_spend", "anthropic_compute_spend", "usd_bn"),
    }
    rows = []
    for label, (openai, anthropic, unit) in pairs.items():
        (o, ob, osrc), (a, ab, asrc) = _fact(ds, openai), _fact(ds, anthropic)
        rows.append({"measure": label, "openai": o, "anthropic": a, "unit": unit, "basis": ob if ob == ab else f"{ob}/{ab}",
                     "source_id": osrc if osrc == asrc else f"{osrc}; {asrc}"})
    customers, basis, src = _fact(ds, "anthropic_million_dollar_customers")
    rows.append({"measure": "customers paying over $1M a year", "openai": np.nan, "anthropic": customers, "unit": "count",
                 "basis": basis, "source_id": src})
    table = pd.DataFrame(rows).set_index("measure")
    efficiency = table.loc["run-rate revenue", ["openai", "anthropic"]] / table.loc["projected compute spend", ["openai", "anthropic"]]
    table.loc[EFFICIENCY, ["openai", "anthropic"]] = efficiency.values
    table.loc[EFFICIENCY, ["unit", "basis", "source_id"]] = ["ratio", "derived", "from the rows above"]
    return table


EFFICIENCY = "capital efficiency (run-rate per $ of compute)"


# ----------------------------------------------------------------------------- break-even


@dataclass(frozen=True)
class BreakEven:
    """A projected revenue and cost path and the first year operating profit is not negative."""

    path: pd.DataFrame  # year, revenue, cost, operating_profit, cost_per_revenue_dollar
    year: int | None  # None: no break-even within the horizon


def break_even_path(base_year: int, base_revenue_usd_bn: float, cost_per_revenue_dollar: float,
                    revenue_growth, cost_decline: float, horizon: int) -> BreakEven:
    r"""Project revenue and cost and find the year operating profit turns non-negative.

    .. math::

        R_t = R_{t-1}(1 + g_t), \qquad c_t = c_0 (1 - d)^{t - t_0}, \qquad C_t = c_t R_t,
        \qquad t^* = \min\{t : R_t - C_t \ge 0\}

    :math:`c_0` is cost per dollar of revenue in the base year (1 + the loss per revenue dollar)
    and :math:`d` the yearly decline of cost per revenue dollar. With a constant :math:`d`,
    :math:`t^* - t_0 = \lceil \ln c_0 / -\ln(1 - d) \rceil`.
    """
    rows, revenue = [], base_revenue_usd_bn
    for step in range(horizon + 1):
        year = base_year + step
        if step:
            growth = revenue_growth.get(year, revenue_growth[max(revenue_growth)]) if isinstance(revenue_growth, dict) else revenue_growth
            revenue *= 1 + growth
        cost_ratio = cost_per_revenue_dollar * (1 - cost_decline) ** step
        rows.append({"year": year, "revenue_usd_bn": revenue, "cost_usd_bn": revenue * cost_ratio,
                     "operating_profit_usd_bn": revenue * (1 - cost_ratio), "cost_per_revenue_dollar": cost_ratio})
    steps = float(break_even_years(cost_per_revenue_dollar, cost_decline, horizon))
    return BreakEven(pd.DataFrame(rows), None if np.isnan(steps) else base_year + int(steps))


# ----------------------------------------------------------------------------- circular financing


def round_trip(investments: pd.DataFrame, year: int) -> pd.DataFrame:
    r"""Cloud revenue each investor books in ``year`` from money it invested in a lab.

    .. math::

        RT_{i,t} = \frac{I_i \, s_i}{n_i} \quad \text{for } t \in [t_i, t_i + n_i)

    ``investments`` columns: investor, lab, amount_usd_bn (:math:`I`), share_spent_on_investor_cloud
    (:math:`s`), first_year (:math:`t_i`), spend_years (:math:`n`).
    """
    inv = investments.copy()
    active = (inv["first_year"] <= year) & (year < inv["first_year"] + inv["spend_years"])
    inv["round_trip_usd_bn"] = np.where(active, inv["amount_usd_bn"] * inv["share_spent_on_investor_cloud"] / inv["spend_years"], 0.0)
    return inv


def split_cloud_revenue(total_cloud_ai_revenue_usd_bn: float, round_tripped_usd_bn: float) -> dict:
    """Split cloud AI revenue into round-tripped (investor-funded) and organic (end-user-funded).

    Round-tripped revenue cannot exceed the total; ``round_tripped + organic = total`` always.
    """
    round_tripped = min(round_tripped_usd_bn, total_cloud_ai_revenue_usd_bn)
    return {"total_usd_bn": total_cloud_ai_revenue_usd_bn, "round_tripped_usd_bn": round_tripped,
            "organic_usd_bn": total_cloud_ai_revenue_usd_bn - round_tripped,
            "round_tripped_share": round_tripped / total_cloud_ai_revenue_usd_bn if total_cloud_ai_revenue_usd_bn else np.nan}


@dataclass(frozen=True)
class LabEconomicsResult:
    """Everything notebook 03 shows."""

    growth: pd.DataFrame
    losses: pd.DataFrame
    unit_economics: pd.DataFrame
    break_even: dict  # lab -> BreakEven
    investments: pd.DataFrame  # with round_trip_usd_bn in the circular year
    cloud_split: dict  # total / round-tripped / organic cloud AI revenue
    gap_with_round_trip: pd.DataFrame  # demand-gap requirements with and without round-tripped revenue
    year: int
    names: dict = field(default_factory=dict)  # company id -> name, from the dataset analysed
    starts: dict = field(default_factory=dict)  # lab -> LabStart (valuechain.model.inputs), None where the scenario gives the base


    def summary(self) -> dict:
        out = {"year": self.year}
        for lab, be in self.break_even.items():
            out[f"{lab}_break_even_year"] = be.year
            out[f"{lab}_cost_per_revenue_dollar_base"] = round(float(be.path["cost_per_revenue_dollar"].iloc[0]), 4)
            out[f"{lab}_revenue_start_usd_bn"] = round(float(be.path["revenue_usd_bn"].iloc[0]), 2)
        for key, value in self.cloud_split.items():
            out[f"cloud_{key}"] = rounded(value, 4 if key.endswith("share") else 2)
        eff = self.unit_economics.loc[EFFICIENCY]
        out["openai_capital_efficiency"] = round(float(eff["openai"]), 4)
        out["anthropic_capital_efficiency"] = round(float(eff["anthropic"]), 4)
        gap = self.gap_with_round_trip.set_index("method")
        for method, row in gap.iterrows():
            out[f"{method}_gap_organic_usd_bn"] = round(float(row["gap_organic_usd_bn"]), 2)
        return out

    def headlines(self) -> list[Headline]:
        """Each lab's break-even year, the round-tripped share of cloud AI revenue, and the figures behind them."""
        figures = self.summary()
        out = []
        for lab, be in self.break_even.items():
            first, last = int(be.path["year"].iloc[0]), int(be.path["year"].iloc[-1])
            out.append(Headline(f"{lab}_break_even_year", f"{company_name(lab, self.names)} break-even year", "year",
                                f"{first}-{last}", be.year, "" if be.year else f"No break-even by {last} on this path."))
        out.append(Headline("cloud_round_tripped_share", "Round-tripped share of cloud AI revenue", "share", str(self.year),
                            figures["cloud_round_tripped_share"]))
        for lab in self.break_even:
            out.append(Headline(f"{lab}_cost_per_revenue_dollar_base", f"{company_name(lab, self.names)} cost per dollar of revenue",
                                "usd_per_usd", str(self.break_even[lab].path["year"].iloc[0]),
                                figures[f"{lab}_cost_per_revenue_dollar_base"], detail=True))
            out.append(Headline(f"{lab}_revenue_start_usd_bn", f"{company_name(lab, self.names)} revenue at the path's start, "
                                "net of cloud partners' share", "usd_bn", str(self.break_even[lab].path["year"].iloc[0]),
                                figures[f"{lab}_revenue_start_usd_bn"], detail=True))
        for method in self.gap_with_round_trip["method"]:
            out.append(Headline(f"{method}_gap_organic_usd_bn", f"Gap without round-tripped revenue, {method_name(method)}",
                                "usd_bn", str(self.year), figures[f"{method}_gap_organic_usd_bn"], detail=True))
        return out

    @property
    def sources(self) -> tuple[str, ...]:
        """The source rows (sources.csv ids) of every table in this result."""
        ids = [*self.growth["source_id"], *self.losses["source_id"], *self.investments["source_id"],
               *(start.source_id for start in self.starts.values() if start is not None)]
        for cell in self.unit_economics["source_id"]:
            ids += [part.strip() for part in str(cell).split(";")]
        return tuple(dict.fromkeys(i for i in ids if i and i != "from the rows above"))


def analyse(scenario, ds: Dataset, pool=None, gap=None) -> LabEconomicsResult:
    """Run notebook 03's analyses for ``scenario`` (reusing the profit pool and demand gap if given).

    Of the demand gap it needs only the requirements (:func:`valuechain.model.demand.requirements`), not its inference."""
    le = scenario.lab_economics
    pool = pool or profit_pool(scenario, ds)
    labs = list(le.paths)
    paths = {}
    for lab, spec in le.paths.items():
        revenue, loss = lab_base(le, ds, lab)
        paths[lab] = break_even_path(le.base_year, revenue, 1 + loss, spec.revenue_growth, spec.cost_decline,
                                     le.horizon_years)
    investments = pd.DataFrame([{
        "investor": inv.investor, "lab": inv.lab, "amount_usd_bn": ds.fact(inv.amount_fact),
        "share_spent_on_investor_cloud": inv.share_spent_on_investor_cloud, "first_year": inv.first_year,
        "spend_years": inv.spend_years, "source_id": ds.facts.set_index("fact_id").loc[inv.amount_fact, "source_id"],
    } for inv in le.investments])
    investments = round_trip(investments, le.circular_year)
    layers = pool.layers[(pool.layers["year"] == le.circular_year) & (pool.layers["kind"] == "historical")].set_index("layer")
    cloud_total = float(layers.loc["cloud", "ai_revenue_usd_bn"])
    split = split_cloud_revenue(cloud_total, float(investments["round_trip_usd_bn"].sum()))
    req = (gap.requirements if gap is not None else requirements(scenario, ds, pool)).copy()
    req["actual_organic_usd_bn"] = req["actual_usd_bn"] - split["round_tripped_usd_bn"]
    req["gap_organic_usd_bn"] = req["required_usd_bn"] - req["actual_organic_usd_bn"]
    return LabEconomicsResult(
        growth=run_rate_growth(ds, labs), losses=pd.concat([loss_per_revenue_dollar(ds, lab) for lab in labs], ignore_index=True),
        unit_economics=unit_economics(ds), break_even=paths, investments=investments, cloud_split=split,
        gap_with_round_trip=req[["method", "required_usd_bn", "actual_usd_bn", "gap_usd_bn", "actual_organic_usd_bn", "gap_organic_usd_bn"]],
        year=le.circular_year, names=ds.company_names, starts={lab: lab_start(le, ds, lab) for lab in le.paths},
    )
