"""The capex spenders' filed capex, by calendar year, by calendar quarter, or over the four quarters
to each quarter: the one owner of these figures.

The profit model, the demand gap and the backlog comparison all read the spenders' capex here
(:func:`spender_capex`); the model (:mod:`valuechain.model.capital`) applies the scenario's AI share.
"""
from __future__ import annotations

import pandas as pd

from valuechain.dataset.load import Dataset
from valuechain.dataset.yearly import company_year, weakest_basis

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
