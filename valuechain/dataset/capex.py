"""The capex spenders' filed capex, by calendar year, by calendar quarter, or over the four quarters
to each quarter: the one owner of these figures.

The profit model, the demand gap and the backlog comparison all read the spenders' capex here
(:func:`spender_capex`); the model (:mod:`valuechain.model.capital`) applies the scenario's AI share.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from valuechain.dataset.load import Dataset
from valuechain.dataset.yearly import company_year, weakest_basis
from valuechain.exceptions import DataValidationError

CAPEX_COLUMNS = ["period", "company_id", "capex_usd_bn", "method", "basis", "sources"]


def spender_capex(ds: Dataset, companies, frequency: str, years: range | None = None,
                  annualize_partial: bool = False) -> pd.DataFrame:
    """Capex of ``companies``: one row per period x company with its method, basis and sources.

    ``frequency='year'``: calendar years in ``years`` via :func:`~valuechain.dataset.yearly.company_year`
    (calendar-year rows, four quarters, or the fiscal year centred on the year). ``'quarter'``:
    filed calendar quarters (``period`` is a quarterly Period). ``'trailing_year'``: capex over
    the four quarters to each calendar quarter (``period``): four consecutive filed quarters
    summed, else a fiscal or calendar year ending in that quarter (Oracle's fiscal year to May
    stands for the four quarters to calendar Q2). A company-period without a figure has no row.
    """
    rows = []
    if frequency == "year":
        for year in years:
            for company in companies:
                value = company_year(ds, company, "capex", year, annualize_partial)
                if value is not None:
                    rows.append({"period": year, "company_id": company, "capex_usd_bn": value.value,
                                 "method": value.method, "basis": value.basis, "sources": value.sources})
    elif frequency == "quarter":
        fin = ds.financials
        filed = fin[(fin["metric"] == "capex") & (fin["period_type"] == "quarter") & fin["company_id"].isin(list(companies))]
        for _, row in filed.iterrows():
            rows.append({"period": pd.Period(row["calendar_quarter"], freq="Q"), "company_id": row["company_id"],
                         "capex_usd_bn": float(row["value_usd_bn"]), "method": f"filed quarter {row['fiscal_period']}",
                         "basis": row["basis"], "sources": (row["source_id"],)})
    elif frequency == "trailing_year":
        fin = ds.financials
        filed = fin[(fin["metric"] == "capex") & fin["company_id"].isin(list(companies))]
        for company, own in filed.groupby("company_id", sort=False):
            rows += _trailing_year(own, company)
    else:
        raise ValueError(f"frequency must be 'year', 'quarter' or 'trailing_year', not {frequency!r}")
    out = pd.DataFrame(rows, columns=CAPEX_COLUMNS)
    return out.sort_values(["period", "company_id"], kind="stable").reset_index(drop=True)


def _trailing_year(own: pd.DataFrame, company: str) -> list[dict]:
    """Rows of capex over the four quarters to each calendar quarter, from ``company``'s capex rows ``own``."""
    quarters = own[own["period_type"] == "quarter"]
    filed = {pd.Period(q, freq="Q"): (float(v), b, src) for q, v, b, src in
             zip(quarters["calendar_quarter"], quarters["value_usd_bn"], quarters["basis"], quarters["source_id"])}
    out = {}
    for end in sorted(filed):
        window = [end - k for k in (3, 2, 1, 0)]
        if all(q in filed for q in window):
            used = [filed[q] for q in window]
            out[end] = {"capex_usd_bn": sum(u[0] for u in used), "method": f"sum of filed quarters {window[0]}-{end}",
                        "basis": weakest_basis(u[1] for u in used),
                        "sources": tuple(dict.fromkeys(u[2] for u in used))}
    years = own[own["period_type"].isin(["fiscal_year", "calendar_year"])]
    for kind, label, period_end, value, basis, source in zip(years["period_type"], years["fiscal_period"],
                                                            years["period_end"], years["value_usd_bn"],
                                                            years["basis"], years["source_id"]):
        end = pd.Period(period_end, freq="Q")
        if end not in out:
            out[end] = {"capex_usd_bn": float(value),
                        "method": f"{kind.replace('_', ' ')} {label} (ends {period_end:%Y-%m-%d})",
                        "basis": basis, "sources": (source,)}
    return [{"period": end, "company_id": company, **values} for end, values in sorted(out.items())]


def quarterly_wide(capex: pd.DataFrame) -> pd.DataFrame:
    """Quarter x company table of :func:`spender_capex` rows (``frequency='quarter'``), contiguous index."""
    wide = capex.pivot(index="period", columns="company_id", values="capex_usd_bn").sort_index()
    if len(wide):
        wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="Q"))
    wide.index.name = "calendar_quarter"
    return wide


def spenders_by_year(ds: Dataset, companies, years: range, annualize_partial: bool) -> pd.DataFrame:
    """The spenders' calendar-year capex in ``years`` (:func:`spender_capex`), one row per year and company."""
    rows = spender_capex(ds, companies, "year", years, annualize_partial)
    return rows.rename(columns={"period": "year"})[["year", "company_id", "capex_usd_bn", "method", "basis"]]


@dataclass(frozen=True)
class SpenderQuarters:
    """The spenders' capex in every calendar quarter of one span, each spender in all of them or none.

    ``rows`` holds one row per quarter x kept spender (:data:`CAPEX_COLUMNS`); a quarter filled
    from a filed total has ``method`` "filled from <total>" and the total's source. ``left_out``
    names each spender left out of every quarter, with the reason.
    """

    rows: pd.DataFrame
    first: pd.Period
    last: pd.Period
    left_out: dict[str, str] = field(default_factory=dict)

    def wide(self) -> pd.DataFrame:
        """Quarter x kept spender, every quarter from :attr:`first` to :attr:`last`."""
        wide = self.rows.pivot(index="period", columns="company_id", values="capex_usd_bn")
        wide = wide.reindex(pd.period_range(self.first, self.last, freq="Q"))
        wide.index.name = "calendar_quarter"
        return wide

    @property
    def spenders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.rows["company_id"]))

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for row in self.rows["sources"] for s in row))


def consistent_quarters(ds: Dataset, companies, first: pd.Period) -> SpenderQuarters:
    r"""Each spender's capex in every calendar quarter from ``first`` to the last filed quarter, or none.

    A quarter a spender did not file is filled from a filed fiscal- or calendar-year total whose
    four calendar quarters (ending in the quarter of its period end) hold it: the total less the
    quarters filed within it, spread evenly over its missing quarters,

    .. math::

        C_q = \frac{C_{FY} - \sum_{q' \in FY,\ \text{filed}} C_{q'}}{\#\{q \in FY \text{ not filed}\}} .

    The last quarter is the latest any spender filed. A spender with any quarter of the span still
    without a figure is left out of every quarter (:attr:`SpenderQuarters.left_out` says why), so no
    spender enters or leaves the sum within the span.
    """
    first = pd.Period(first, freq="Q")
    filed = spender_capex(ds, companies, "quarter")
    last = filed["period"].max()
    span = pd.period_range(first, last, freq="Q")
    fin = ds.financials
    totals = fin[(fin["metric"] == "capex") & fin["period_type"].isin(["fiscal_year", "calendar_year"])]
    rows, left_out = [], {}
    for company in companies:
        have = {r["period"]: r for r in filed[filed["company_id"] == company].to_dict("records")}
        for total in totals[totals["company_id"] == company].to_dict("records"):
            have.update({r["period"]: r for r in _fill_from_total(total, have, company)})
        missing = [q for q in span if q not in have]
        if missing:
            left_out[company] = (f"no filed quarter or filed year total for {missing[0]}-{missing[-1]}"
                                 if len(missing) > 1 else f"no filed quarter or filed year total for {missing[0]}")
            continue
        rows += [have[q] for q in span]
    out = pd.DataFrame(rows, columns=CAPEX_COLUMNS)
    return SpenderQuarters(out.sort_values(["period", "company_id"], kind="stable").reset_index(drop=True),
                           first, last, left_out)


def _fill_from_total(total: dict, have: dict, company: str) -> list[dict]:
    """Rows filling the quarters of a filed year ``total`` that ``have`` lacks (see :func:`consistent_quarters`)."""
    end = pd.Period(total["period_end"], freq="Q")
    quarters = [end - k for k in (3, 2, 1, 0)]
    missing = [q for q in quarters if q not in have]
    if not missing:
        return []
    rest = float(total["value_usd_bn"]) - sum(have[q]["capex_usd_bn"] for q in quarters if q in have)
    if rest < 0:
        raise DataValidationError(f"financials.csv: {company} capex {total['fiscal_period']} ({total['value_usd_bn']}) is "
                                  "below its filed quarters; check the total and the quarters")
    label = f"{total['period_type'].replace('_', ' ')} {total['fiscal_period']} ({float(total['value_usd_bn']):g})"
    return [{"period": q, "company_id": company, "capex_usd_bn": rest / len(missing),
             "method": f"filled from {label} less its filed quarters, spread over {len(missing)} quarters",
             "basis": "derived", "sources": (total["source_id"],)} for q in missing]


GUIDANCE_METRIC = "capex_guidance_{year}"  # facts.csv metric of a spender's guided capex for a calendar year


def guided_capex(ds: Dataset, companies, year: int) -> pd.DataFrame:
    """The spenders' own capex guidance for calendar ``year`` (facts.csv), one row per company that gave one.

    A range counts at its midpoint (the mean of the company's rows for that year). Columns:
    ``company_id``, ``capex_usd_bn``, ``low_usd_bn``, ``high_usd_bn``, ``as_of``, ``sources``.
    """
    facts = ds.facts
    rows = facts[(facts["metric"] == GUIDANCE_METRIC.format(year=year)) & facts["entity"].isin(list(companies))]
    out = [{"company_id": company, "capex_usd_bn": float(own["value"].mean()), "low_usd_bn": float(own["value"].min()),
            "high_usd_bn": float(own["value"].max()), "as_of": str(own["as_of"].max()),
            "sources": tuple(dict.fromkeys(own["source_id"]))}
           for company, own in rows.groupby("entity", sort=False)]
    return pd.DataFrame(out, columns=["company_id", "capex_usd_bn", "low_usd_bn", "high_usd_bn", "as_of", "sources"])
