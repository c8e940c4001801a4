"""Valuations and the 2026 IPO wave: liquidity draw, implied multiples, reverse DCF, China.

Inputs are the seed documents' figures in ``facts.csv`` (claims, kept as claims) and the
scenario's parameters; each function is a closed form with its equation in the docstring.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from valuechain.dataset.load import Dataset
from valuechain.model.formulas import reverse_dcf_revenue
from valuechain.model.inputs import lab_base
from valuechain.model.labs import break_even_path
from valuechain.model.profit import profit_pool
from valuechain.model.results import Headline, rounded


def ipo_draw(valuations: dict[str, float], float_ratios) -> pd.DataFrame:
    r"""Capital each IPO draws from the market: :math:`D = V \times f` for every float ratio :math:`f`.

    Rows are companies plus a ``total`` row; columns are float ratios.
    """
    table = pd.DataFrame({f: {name: value * f for name, value in valuations.items()} for f in float_ratios})
    table.loc["total"] = table.sum()
    table.columns.name = "float_ratio"
    return table


def revenue_multiple(valuation_usd_bn: float, run_rate_usd_bn: float) -> float:
    """Valuation divided by annualized run-rate revenue."""
    return valuation_usd_bn / run_rate_usd_bn


def implied_earnings_growth(pe_high: float, pe_low: float, years: float, growth_low: float) -> float:
    r"""Earnings growth a high-multiple stock needs to converge to a lower multiple with the same return.

    If both prices grow alike and in :math:`N` years the high multiple :math:`P_h` falls to the low
    one :math:`P_l`, the high-multiple company's earnings must grow at

    .. math::

        g_h = (1 + g_l)\left(\frac{P_h}{P_l}\right)^{1/N} - 1 .
    """
    return (1 + growth_low) * (pe_high / pe_low) ** (1 / years) - 1


SIGNAL_FACTS = ("anthropic_secondary_valuation", "anthropic_tokenized_valuation", "anthropic_series_g_valuation",
                "anthropic_series_h_valuation", "openai_valuation_target", "openai_seller_buyer_ratio",
                "revenue_multiple_cited")
CONCENTRATION_FACTS = ("us_market_cap_total", "sp500_top_share", "sp500_2025_gain_top7", "sp500_forward_pe",
                       "ai_infra_spend_bull_low", "ai_infra_spend_bull_high")


def secondary_signals(ds: Dataset) -> pd.DataFrame:
    """Secondary-market and private-mark figures from the seeds and announcements, with their sources."""
    facts = ds.facts.set_index("fact_id").loc[list(SIGNAL_FACTS)]
    out = facts[["entity", "metric", "value", "unit", "as_of", "basis", "source_id", "note"]].reset_index()
    return out


def market_concentration(ds: Dataset) -> pd.DataFrame:
    """The seed's market-concentration and valuation figures, with their sources."""
    return ds.facts.set_index("fact_id").loc[list(CONCENTRATION_FACTS), ["metric", "value", "unit", "basis", "source_id", "note"]].reset_index()


@dataclass(frozen=True)
class ValuationResult:
    """Everything notebook 04 shows, with its sources and its headline figures."""

    draw: pd.DataFrame  # company (and total) x float ratio: capital drawn, USD bn
    labs: pd.DataFrame  # per lab: valuation, run-rate, multiple, revenue needed in the target year
    ipo_valuations_usd_bn: dict[str, float]  # company -> valuation of each IPO candidate
    labs_path_revenue_usd_bn: float  # OpenAI's and Anthropic's revenue in the target year on their break-even paths
    target_year: int  # the year of the reverse DCF's revenue
    china_implied_earnings_growth: float  # a year, for China's chip multiples to fall to NVIDIA's
    pe_china: float  # China's chip makers' price/earnings (seed)
    pe_nvidia: float  # NVIDIA's price/earnings (seed)
    typical_float: tuple[float, float]  # share of a company a typical IPO floats, low and high
    seed_draw: tuple[float, float]  # the seed's own figure for the IPOs' draw, USD bn, low and high
    valuation_year: int  # the year the valuations are of
    sources: tuple[str, ...] = ()
    names: dict = field(default_factory=dict)  # company id -> name, from the dataset analysed

    def summary(self) -> dict:
        """Key figures, rounded for presentation: the IPOs' draw, the labs' multiples and revenue needed, China."""
        total = sum(self.ipo_valuations_usd_bn.values())
        needed = self.labs[f"revenue_needed_{self.target_year}_usd_bn"].sum()
        return {
            "ipo_total_valuation_usd_bn": round(total, 2),
            "ipo_draw_typical_low_usd_bn": round(total * self.typical_float[0], 2),
            "ipo_draw_typical_high_usd_bn": round(total * self.typical_float[1], 2),
            "ipo_draw_seed_low_usd_bn": self.seed_draw[0], "ipo_draw_seed_high_usd_bn": self.seed_draw[1],
            "openai_revenue_multiple": round(float(self.labs.loc[0, "revenue_multiple"]), 2),
            "anthropic_revenue_multiple": round(float(self.labs.loc[1, "revenue_multiple"]), 2),
            "labs_revenue_needed_usd_bn": round(float(needed), 2),
            "labs_revenue_scenario_path_usd_bn": rounded(self.labs_path_revenue_usd_bn, 2),
            "target_year": self.target_year,
            "china_implied_earnings_growth": round(self.china_implied_earnings_growth, 4),
        }

    def headlines(self) -> list[Headline]:
        """The IPO draw at a typical float and what the labs' valuations need, with the figures behind them."""
        s, high = self.summary(), self.typical_float[1]
        target, now = str(self.target_year), str(self.valuation_year)
        return [
            Headline("ipo_draw_typical_high_usd_bn", f"Capital the IPOs draw at a {high:.0%} float", "usd_bn", now,
                     s["ipo_draw_typical_high_usd_bn"]),
            Headline("labs_revenue_needed_usd_bn", "Lab revenue the valuations need", "usd_bn", target,
                     s["labs_revenue_needed_usd_bn"]),
            Headline("labs_revenue_scenario_path_usd_bn", "Lab revenue on the scenario's path", "usd_bn", target,
                     s["labs_revenue_scenario_path_usd_bn"]),
            Headline("ipo_draw_typical_low_usd_bn", f"Capital the IPOs draw at a {self.typical_float[0]:.0%} float",
                     "usd_bn", now, s["ipo_draw_typical_low_usd_bn"], detail=True),
            Headline("openai_revenue_multiple", "OpenAI valuation / run-rate revenue", "multiple", now,
                     s["openai_revenue_multiple"], detail=True),
            Headline("anthropic_revenue_multiple", "Anthropic valuation / run-rate revenue", "multiple", now,
                     s["anthropic_revenue_multiple"], detail=True),
            Headline("china_implied_earnings_growth", "Earnings growth China's chip multiples imply", "growth", now,
                     s["china_implied_earnings_growth"], detail=True),
        ]


FACTS_USED = ("ipo_float_typical_low", "ipo_float_typical_high", "ipo_draw_low", "ipo_draw_high", "openai_run_rate_seed",
              "anthropic_run_rate_seed", "china_chips_pe", "nvidia_pe")


def labs_path_revenue(scenario, ds: Dataset, labs, year: int) -> float:
    r"""The labs' revenue in ``year`` on notebook 03's paths (:func:`valuechain.model.labs.break_even_path`
    from :func:`valuechain.model.inputs.lab_base`), summed: :math:`\sum_i R_{i,t}`, on the net revenue
    basis. NaN when ``year`` lies outside the paths or a lab has no path."""
    le = scenario.lab_economics
    total = 0.0
    for lab in labs:
        if lab not in le.paths:
            return float("nan")
        spec = le.paths[lab]
        revenue, loss = lab_base(le, ds, lab)
        path = break_even_path(le.base_year, revenue, 1 + loss, spec.revenue_growth, spec.cost_decline,
                               le.horizon_years).path.set_index("year")
        if year not in path.index:
            return float("nan")
        total += float(path.loc[year, "revenue_usd_bn"])
    return total


def analyse(scenario, ds: Dataset, pool=None) -> ValuationResult:
    """Notebook 04's tables and figures for ``scenario`` (reusing the profit pool if given)."""
    val = scenario.valuation
    pool = pool or profit_pool(scenario, ds)
    valuations = {company: ds.fact(fact_id) for company, fact_id in val.ipo_valuation_facts.items()}
    draw = ipo_draw(valuations, val.float_ratios)
    typical = (ds.fact("ipo_float_typical_low"), ds.fact("ipo_float_typical_high"))
    decade = (ds.fact("ipo_draw_low"), ds.fact("ipo_draw_high"))
    years = val.target_year - val.valuation_year
    path_revenue = labs_path_revenue(scenario, ds, ("openai", "anthropic"), val.target_year)
    run_rates = {"openai": ds.fact("openai_run_rate_seed"), "anthropic": ds.fact("anthropic_run_rate_seed")}
    labs = pd.DataFrame([{
        "company_id": lab, "valuation_usd_bn": valuations[lab], "run_rate_usd_bn": run_rates[lab],
        "revenue_multiple": revenue_multiple(valuations[lab], run_rates[lab]),
        f"revenue_needed_{val.target_year}_usd_bn": reverse_dcf_revenue(valuations[lab], years, val.discount_rate, val.exit_multiple),
    } for lab in ("openai", "anthropic")])
    pe_china, pe_nvidia = ds.fact("china_chips_pe"), ds.fact("nvidia_pe")
    china = implied_earnings_growth(pe_china, pe_nvidia, val.china_years_to_converge, val.nvidia_earnings_growth)
    facts = ds.facts.set_index("fact_id")
    used = [*val.ipo_valuation_facts.values(), *FACTS_USED, *SIGNAL_FACTS, *CONCENTRATION_FACTS]
    sources = tuple(dict.fromkeys(facts.loc[[f for f in used if f in facts.index], "source_id"]))
    return ValuationResult(draw=draw, labs=labs, ipo_valuations_usd_bn=valuations, labs_path_revenue_usd_bn=path_revenue,
                           target_year=val.target_year, china_implied_earnings_growth=china, pe_china=pe_china,
                           pe_nvidia=pe_nvidia, typical_float=typical, seed_draw=decade,
                           valuation_year=val.valuation_year,
                           sources=tuple(dict.fromkeys([*sources, *pool.sources])), names=ds.company_names)
