import pandas as pd
import pytest

from conftest import edit_csv
from valuechain import load_dataset
from valuechain.exceptions import DataValidationError


def test_derived_rows_say_how(ds):
    derived = ds.financials[ds.financials["basis"] == "derived"]
    assert len(derived) > 0
    assert derived["note"].str.len().gt(0).all()


def _rounding_tolerance(values):
    # Half a unit in the last printed decimal place, per value.
    return sum(0.5 * 10 ** -len(f"{v:.6g}".split(".")[-1]) if "." in f"{v:.6g}" else 0.5 for v in values) + 1e-9


def test_quarters_reproduce_fiscal_year_totals(ds):
    fin = ds.financials
    quarters = fin[fin["period_type"] == "quarter"].copy()
    quarters["fy"] = quarters["fiscal_period"].str[:6]
    years = fin[fin["period_type"] == "fiscal_year"].set_index(["company_id", "metric", "fiscal_period"])["value_usd_bn"]
    checked = 0
    for (company, metric, fy), group in quarters.groupby(["company_id", "metric", "fy"]):
        if len(group) == 4 and (company, metric, fy) in years.index:
            total = years[(company, metric, fy)]
            assert group["value_usd_bn"].sum() == pytest.approx(total, abs=_rounding_tolerance([*group["value_usd_bn"], total]))
            checked += 1
    assert checked >= 40


def test_derived_q4_is_year_minus_nine_month_ytd(ds):
    # Alphabet FY2024: 52.535 - (12.012 + 13.186 + 13.061) = 14.276
    fin = ds.financials.set_index(["company_id", "metric", "fiscal_period"])
    assert fin.loc[("alphabet", "capex", "FY2024Q4"), "value_usd_bn"] == pytest.approx(14.276, abs=1e-9)
    assert fin.loc[("alphabet", "capex", "FY2024Q4"), "basis"] == "derived"
    # NVIDIA FY2026 revenue: 215.938 - (44.062 + 46.743 + 57.006) = 68.127, as the Q4 release states.
    assert fin.loc[("nvidia", "revenue", "FY2026Q4"), "value_usd_bn"] == pytest.approx(68.127, abs=1e-9)


def test_coverage_of_the_issue(ds):
    fin = ds.financials
    quarters = fin[fin["period_type"] == "quarter"]
    span = quarters.groupby(["company_id", "metric"])["calendar_quarter"].agg(["min", "max"])
    assert span.loc[("alphabet", "capex"), "min"] == "2015Q1"
    assert span.loc[("amazon", "cloud_revenue"), "min"] == "2015Q1"
    assert span.loc[("nvidia", "data_center_revenue"), "min"] == "2019Q1"  # FY2020 Q1
    assert span.loc[("nvidia", "operating_income"), "max"] == "2026Q2"  # FY2027 Q2
    for company in ("microsoft", "alphabet", "amazon", "meta"):
        assert (company, "capex") in span.index
        years = fin[(fin["company_id"] == company) & (fin["metric"] == "capex") & (fin["period_type"] == "fiscal_year")]
        expected = {f"FY{y}" for y in range(2015, 2025)}
        assert expected <= set(years["fiscal_period"])
    for lab in ("openai", "anthropic"):
        assert len(fin[(fin["company_id"] == lab) & (fin["metric"] == "revenue_run_rate")]) >= 4
    capex = span.xs("capex", level="metric")
    assert capex.loc[["microsoft", "amazon", "meta"], "min"].tolist() == ["2014Q3", "2018Q1", "2020Q1"]
    # Microsoft fiscal 2026 Q4 (10-K) and Alphabet, Amazon and Meta Q2 2026 (10-Qs) reach 2026Q2.
    assert capex.loc[["microsoft", "alphabet", "amazon", "meta"], "max"].to_dict() == {
        "microsoft": "2026Q2", "alphabet": "2026Q2", "amazon": "2026Q2", "meta": "2026Q2"}
    # Oracle: fiscal 2025 Q1 (June-August 2024) to fiscal 2026 Q4 (March-May 2026), and its
    # fiscal-year totals from fiscal 2018, which let the R* path fill its quarters from 2017Q3.
    assert capex.loc["oracle"].tolist() == ["2024Q3", "2026Q2"]
    oracle_years = fin[(fin["company_id"] == "oracle") & (fin["metric"] == "capex") & (fin["period_type"] == "fiscal_year")]
    assert {f"FY{y}" for y in range(2018, 2027)} <= set(oracle_years["fiscal_period"])
    years = fin[fin["period_type"] == "fiscal_year"].set_index(["company_id", "metric", "fiscal_period"])["value_usd_bn"]
    assert years[("amd", "data_center_revenue", "FY2025")] == pytest.approx(16.6)
    assert years[("dell", "operating_income", "FY2026")] >= years[("dell", "isg_operating_income", "FY2026")]


def test_quarters_derived_from_a_year_and_its_other_quarters(ds):
    fin = ds.financials.set_index(["company_id", "metric", "fiscal_period"])
    value = fin["value_usd_bn"]
    # Q4 = the 10-K total minus the three 10-Q quarters: Microsoft fiscal 2019, Amazon 2020.
    assert value[("microsoft", "capex", "FY2019Q4")] == pytest.approx(13.925 - 3.602 - 3.707 - 2.565)
    assert value[("amazon", "capex", "FY2020Q4")] == pytest.approx(40.14 - 6.795 - 7.459 - 11.063)
    # Oracle, from the year-to-date totals its 10-Qs file and the 10-K years (to the million):
    # fiscal 2025 Q2 = first half 6.273 - Q1 2.303; Q3 = nine months 12.135 - first half 6.273;
    # Q4 = year 21.215 - nine months 12.135.
    assert value[("oracle", "capex", "FY2025Q2")] == pytest.approx(6.273 - 2.303)
    assert value[("oracle", "capex", "FY2025Q3")] == pytest.approx(12.135 - 6.273)
    assert value[("oracle", "capex", "FY2025Q4")] == pytest.approx(21.215 - 12.135)
    # Fiscal 2026: Q2 = first half 20.535 - Q1 8.502 (the "about $12B" of the press);
    # Q3 = nine months 39.170 - first half 20.535; Q4 = year 55.663 - nine months 39.170.
    assert value[("oracle", "capex", "FY2026Q2")] == pytest.approx(20.535 - 8.502)
    assert value[("oracle", "capex", "FY2026Q3")] == pytest.approx(39.170 - 20.535)
    assert value[("oracle", "capex", "FY2026Q4")] == pytest.approx(55.663 - 39.170)
    # Each Oracle fiscal year's four quarters give back its 10-K total to the million.
    for fy in ("FY2025", "FY2026"):
        assert sum(value[("oracle", "capex", f"{fy}Q{i}")] for i in (1, 2, 3, 4)) == pytest.approx(
            value[("oracle", "capex", fy)], abs=1e-9)
    # The exact filed figures and the quarters that depend on them:
    # Amazon 2024 Q4 = 82.999 (10-K) - (14.925 + 17.62 + 22.62); Alphabet 2026 Q2 = 80.598 - 35.674;
    # Microsoft fiscal 2026 Q4 = 115.948 - (19.394 + 29.876 + 30.876); Meta 2026 Q2 = 49.113 - 18.997;
    # Amazon 2026 Q2 = 98.411 - 44.203; Meta 2025: Q2 = 29.479 - 12.941, Q3 = 48.308 - 29.479, Q4 = 69.691 - 48.308.
    assert value[("amazon", "capex", "FY2024")] == 82.999
    assert value[("amazon", "capex", "FY2024Q4")] == pytest.approx(82.999 - 14.925 - 17.62 - 22.62)
    assert value[("amazon", "capex", "FY2024Q4")] == pytest.approx(27.834)
    assert value[("alphabet", "capex", "FY2026Q2")] == pytest.approx(80.598 - 35.674)
    assert value[("microsoft", "capex", "FY2026Q4")] == pytest.approx(115.948 - 19.394 - 29.876 - 30.876)
    assert value[("microsoft", "capex", "FY2026Q4")] == pytest.approx(35.802)
    assert value[("meta", "capex", "FY2026Q2")] == pytest.approx(49.113 - 18.997)
    assert value[("amazon", "capex", "FY2026Q2")] == pytest.approx(98.411 - 44.203)
    assert value[("meta", "capex", "FY2025Q2")] == pytest.approx(29.479 - 12.941)
    assert value[("meta", "capex", "FY2025Q3")] == pytest.approx(48.308 - 29.479)
    assert value[("meta", "capex", "FY2025Q4")] == pytest.approx(69.691 - 48.308)
    for company, fy in [("microsoft", "FY2026"), ("meta", "FY2025"), ("amazon", "FY2024")]:
        assert sum(value[(company, "capex", f"{fy}Q{i}")] for i in (1, 2, 3, 4)) == pytest.approx(
            value[(company, "capex", fy)], abs=1e-9)
    # CoreWeave Q4 2025 = 5.13 - (0.982 + 1.213 + 1.365), about $1.6B.
    assert value[("coreweave", "revenue", "FY2025Q4")] == pytest.approx(1.57)
    for key in [("microsoft", "capex", "FY2019Q4"), ("amazon", "capex", "FY2020Q4"), ("oracle", "capex", "FY2025Q3"),
                ("oracle", "capex", "FY2026Q3"), ("oracle", "capex", "FY2026Q4"), ("amazon", "capex", "FY2024Q4"),
                ("alphabet", "capex", "FY2026Q2"), ("microsoft", "capex", "FY2026Q4"), ("meta", "capex", "FY2026Q2"),
                ("coreweave", "revenue", "FY2025Q4")]:
        assert fin.loc[key, "basis"] == "derived"
    # A derived quarter cites the filing of the total it is taken from.
    assert fin.loc[("oracle", "capex", "FY2026Q4"), "source_id"] == fin.loc[("oracle", "capex", "FY2026"), "source_id"]
    assert fin.loc[("amazon", "capex", "FY2024Q4"), "source_id"] == fin.loc[("amazon", "capex", "FY2024"), "source_id"]
    # Fiscal-to-calendar mapping of the new calendars: Oracle's fiscal Q1 ends in August,
    # Supermicro's fiscal 2026 Q2 is October-December 2025.
    assert fin.loc[("oracle", "capex", "FY2026Q1"), "calendar_quarter"] == "2025Q3"
    assert fin.loc[("supermicro", "revenue", "FY2026Q2"), "calendar_quarter"] == "2025Q4"


def test_meta_quarters_from_its_own_reconciliation_reproduce_the_10k_years(ds):
    fin = ds.financials
    meta = fin[(fin["company_id"] == "meta") & (fin["metric"] == "capex")]
    quarters = meta[meta["period_type"] == "quarter"].set_index("fiscal_period")
    years = meta[meta["period_type"] == "fiscal_year"].set_index("fiscal_period")["value_usd_bn"]
    for year, filed, total in [
        ("FY2020", [3.558, 3.255, 3.689, 4.613], 15.115),
        ("FY2021", [4.272, 4.612, 4.313, 5.370], 18.567),
    ]:
        rows = quarters[quarters.index.str.startswith(year)].sort_index()
        assert rows["value_usd_bn"].tolist() == pytest.approx(filed, abs=1e-12)
        assert years[year] == total
        # Filed to the million, so the quarters add up to the 10-K total exactly, not within rounding.
        assert rows["value_usd_bn"].sum() == pytest.approx(years[year], abs=1e-9)
        assert set(rows["basis"]) == {"reported"}
        assert set(rows["source_id"]) == {"meta_q1_2022_deck"}


def test_xbrl_quarters_map_to_calendar_quarters_and_reproduce_the_10k_years(ds):
    fin = ds.financials
    capex = fin[fin["metric"] == "capex"].set_index(["company_id", "fiscal_period"])
    # Microsoft's fiscal 2015 Q1 is July-September 2014; its fiscal Q3 2019 is January-March 2019.
    assert capex.loc[("microsoft", "FY2015Q1"), "calendar_quarter"] == "2014Q3"
    assert capex.loc[("microsoft", "FY2019Q3"), ["calendar_quarter", "value_usd_bn"]].tolist() == ["2019Q1", 2.565]
    assert capex.loc[("amazon", "FY2018Q1"), ["calendar_quarter", "value_usd_bn"]].tolist() == ["2018Q1", 3.098]
    # Three tagged quarters plus the derived fourth give back each 10-K total exactly, as filed to the million.
    for company, first, last in [("microsoft", 2015, 2022), ("amazon", 2018, 2022)]:
        for year in range(first, last + 1):
            fy = f"FY{year}"
            q = [capex.loc[(company, f"{fy}Q{i}")] for i in (1, 2, 3, 4)]
            # Each tagged quarter cites its own 10-Q where that filing's accession was found, and names the extract.
            for r in q[:3]:
                assert r["source_id"] == "sec_xbrl_capex" or ("_10q_" in r["source_id"] and "sec_xbrl_capex" in r["note"])
            assert [r["basis"] for r in q] == ["reported"] * 3 + ["derived"]
            assert sum(r["value_usd_bn"] for r in q) == pytest.approx(capex.loc[(company, fy), "value_usd_bn"], abs=1e-9)
    # Amazon's 2016 is gross of incentives like the later years; 2015 is only at hand net, and says so.
    assert capex.loc[("amazon", "FY2016"), "value_usd_bn"] == 7.804
    assert "net of proceeds" in capex.loc[("amazon", "FY2015"), "note"]
    assert "gross" in capex.loc[("amazon", "FY2017"), "note"]


def test_supermicro_operating_income_and_its_fiscal_quarters(ds):
    fin = ds.financials.set_index(["company_id", "metric", "fiscal_period"])
    value = fin["value_usd_bn"]
    # Fiscal years end in June: income from operations over audited net sales (10-K).
    assert value[("supermicro", "operating_income", "FY2024")] == 1.211
    assert value[("supermicro", "revenue", "FY2024")] == 14.989  # audited; $14.94B was first announced
    assert value[("supermicro", "operating_income", "FY2025")] == 1.253
    # Q1-Q3 from the 10-Qs; Q4 = the 10-K year minus them.
    assert value[("supermicro", "operating_income", "FY2025Q4")] == pytest.approx(1.253 - 0.509 - 0.369 - 0.147)
    assert fin.loc[("supermicro", "operating_income", "FY2025Q4"), "basis"] == "derived"
    quarters = [fin.loc[("supermicro", "operating_income", f"FY2025Q{q}")] for q in range(1, 5)]
    assert [q["calendar_quarter"] for q in quarters] == ["2024Q3", "2024Q4", "2025Q1", "2025Q2"]
    assert sum(q["value_usd_bn"] for q in quarters) == pytest.approx(1.253, abs=1e-9)
    # Income from operations is gross profit minus operating expenses ($ millions, 10-Q).
    assert value[("supermicro", "operating_income", "FY2025Q1")] == pytest.approx((775.58 - 266.38) / 1000, abs=5e-4)
    assert value[("supermicro", "operating_income", "FY2025Q3")] == pytest.approx((440.22 - 293.44) / 1000, abs=5e-4)


def test_coreweave_operating_income_from_its_releases_and_10qs(ds):
    fin = ds.financials.set_index(["company_id", "metric", "fiscal_period"])
    value = fin["value_usd_bn"]
    # Q2 and Q3 2025 as released ($ thousands 19,209 and 51,850); Q1 = nine months (43,589) minus them.
    assert value[("coreweave", "operating_income", "FY2025Q2")] == 0.019209
    assert value[("coreweave", "operating_income", "FY2025Q3")] == 0.05185
    assert value[("coreweave", "operating_income", "FY2025Q1")] == pytest.approx(0.043589 - 0.019209 - 0.05185)
    # Q4: the reported -5.7% operating margin on Q4 revenue; 2024: nine months plus Q4 at 15.1% of $747M.
    assert value[("coreweave", "operating_income", "FY2025Q4")] == pytest.approx(-0.057 * 1.57, abs=0.001)
    assert value[("coreweave", "operating_income", "FY2024")] == pytest.approx(0.2117 + 0.151 * 0.747, abs=1e-4)
    for period in ("FY2024", "FY2025Q1", "FY2025Q4"):
        assert fin.loc[("coreweave", "operating_income", period), "basis"] == "derived"
    quarters = [fin.loc[("coreweave", "operating_income", f"FY2025Q{q}"), "calendar_quarter"] for q in range(1, 5)]
    assert quarters == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]


def test_amd_2025_quarters_reproduce_the_year(ds):
    fin = ds.financials
    amd = fin[(fin["company_id"] == "amd") & (fin["period_type"] == "quarter") & fin["fiscal_period"].str.startswith("FY2025")]
    by_metric = amd.groupby("metric")["value_usd_bn"].sum()
    assert by_metric["revenue"] == pytest.approx(7.438 + 7.685 + 9.246 + 10.27)  # 34.639, the release's $34.6B
    assert by_metric["data_center_revenue"] == pytest.approx(16.614)  # the release's $16.6B
    assert by_metric["data_center_operating_income"] == pytest.approx(0.932 - 0.155 + 1.1 + 1.8)


def test_capex_keeps_one_definition_and_the_headline_measure_sits_beside_it(ds):
    fin = ds.financials
    keys = ["company_id", "period_type", "fiscal_period"]
    cash = fin[fin["metric"] == "capex"].set_index(keys)["value_usd_bn"]
    headline = fin[fin["metric"] == "capex_incl_finance_leases"].set_index(keys)["value_usd_bn"]
    both = headline.to_frame("headline").join(cash.rename("cash"), how="inner")
    assert len(both) >= 6
    assert (both["headline"] >= both["cash"]).all()  # adding finance leases can only raise the figure
    # Meta 2025: 72.215 headline against 69.691 of purchases of property and equipment
    assert both.loc[("meta", "fiscal_year", "FY2025")].tolist() == pytest.approx([72.215, 69.691])
    meta = fin[(fin["company_id"] == "meta") & (fin["metric"] == "capex")]
    assert not meta["note"].str.contains("finance leases").any()


@pytest.mark.parametrize(
    "fact_id, value",
    [
        ("nvidia_quarter_op_profit", 53.5),
        ("dell_orders", 24.4),
        ("dell_ai_server_growth", 7.57),
        ("dell_cash_flow", 4.1),
        ("openai_q1_revenue", 0.57),
        ("openai_loss_per_revenue_dollar", 1.22),
        ("anthropic_run_rate_seed", 30),
        ("openai_run_rate_seed", 24),
        ("anthropic_revenue_per_user", 211),
        ("openai_revenue_per_user", 25),
        ("anthropic_million_dollar_customers", 500),
        ("openai_compute_spend", 120),
        ("anthropic_compute_spend", 30),
        ("ipo_wave_combined_valuation", 3600),
        ("ipo_float_typical_low", 0.15),
        ("ipo_float_needed_high", 0.08),
        ("sp500_forward_pe", 22),
        ("china_chips_mcap_vs_nvidia", 0.04),
        ("china_chips_pe", 70),
        ("nvidia_pe", 40),
    ],
)
def test_seed_claims_are_recorded_as_claims(ds, fact_id, value):
    assert ds.fact(fact_id) == pytest.approx(value)
    row = ds.facts.set_index("fact_id").loc[fact_id]
    assert row["basis"] == "claim"
    assert row["source_id"] in {"seed_briefing", "seed_podcast"}


def test_nvidia_reported_quarter_matches_the_seed_claim(ds):
    fin = ds.financials.set_index(["company_id", "metric", "fiscal_period"])
    # The seed's $53.5B is the filed $53.536B rounded to $0.1B.
    filed = fin.loc[("nvidia", "operating_income", "FY2027Q1"), "value_usd_bn"]
    assert filed == 53.536
    assert ds.fact("nvidia_quarter_op_profit") == pytest.approx(filed, abs=0.05)


def test_source_line_names_publisher_and_date(ds):
    line = ds.source_line(["sequoia_2024", "sequoia_2024", "bain_2025"])
    assert line == ("Source: Sequoia Capital (David Cahn), AI's $600B Question (2024-06-20); "
                    "Bain & Company, Technology Report 2025: $2 trillion in new revenue needed to fund AI's scaling trend (2025-09-23)")


# ------------------------------------------------------------------ refusals, one per rule


def _set(row, column, value):
    def edit(frame):
        frame.loc[row, column] = value
        return frame
    return edit


@pytest.mark.parametrize(
    "file, edit, expected",
    [
        ("financials.csv", _set(3, "value_usd_bn", "12,5"), r"financials.csv row 5, column value_usd_bn: rule 'numeric'"),
        ("financials.csv", _set(0, "value_usd_bn", "n/a"), r"financials.csv row 2, column value_usd_bn: rule 'numeric'"),
        ("financials.csv", _set(7, "company_id", "nvidiaa"), r"row 9, column company_id: rule 'known_company'.*companies.csv"),
        ("financials.csv", _set(2, "source_id", ""), r"row 4, column source_id: rule 'known_source'.*sources.csv"),
        ("financials.csv", _set(2, "source_id", "blog_post"), r"row 4, column source_id: rule 'known_source'"),
        ("financials.csv", _set(5, "basis", "guess"), r"row 7, column basis: rule 'known_basis'"),
        ("financials.csv", _set(5, "metric", "profit"), r"row 7, column metric: rule 'known_metric'.*metrics.yaml"),
        ("companies.csv", _set(0, "layer", "gpus"), r"companies.csv row 2, column layer: rule 'known_layer'.*chips, servers, cloud, labs, apps"),
        ("companies.csv", _set(1, "region", "Mars"), r"companies.csv row 3, column region: rule 'known_region'"),
        ("sources.csv", _set(0, "date_published", "Feb 2026"), r"sources.csv row 2, column date_published: rule 'date_format'"),
        ("sources.csv", _set(0, "accession", "000165204426000018"), r"sources.csv row 2, column accession: rule 'accession_format'"),
        ("sources.csv", _set(0, "via_aggregator", "yes"), r"sources.csv row 2, column via_aggregator: rule 'boolean'"),
        ("sources.csv", _set(0, "accessed", "21/11/2026"), r"sources.csv row 2, column accessed: rule 'date_format'"),
        ("sources.csv", _set(0, "licence", ""), r"sources.csv row 2, column licence: rule 'required'"),
        ("facts.csv", _set(0, "unit", "furlongs"), r"facts.csv row 2, column unit: rule 'known_unit'"),
        ("facts.csv", _set(0, "source_id", "blog_post"), r"facts.csv row 2, column source_id: rule 'known_source'"),
    ],
)
def test_malformed_column_is_refused_naming_file_row_and_rule(data_copy, file, edit, expected):
    edit_csv(data_copy, file, edit)
    with pytest.raises(DataValidationError, match=expected) as info:
        load_dataset(data_copy)
    assert "\n" not in str(info.value)
    assert len(info.value.failures) >= 1


def _find(frame, **where):
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    return frame.index[mask][0]


def test_duplicate_key_is_refused(data_copy):
    def edit(frame):
        return pd.concat([frame, frame.iloc[[10]]], ignore_index=True)
    edit_csv(data_copy, "financials.csv", edit)
    with pytest.raises(DataValidationError, match=r"row \d+, column fiscal_period: rule 'unique_key'"):
        load_dataset(data_copy)


def _set_where(column, value, **where):
    def edit(frame):
        frame.loc[_find(frame, **where), column] = value
        return frame
    return edit


NVIDIA = {"company_id": "nvidia"}


@pytest.mark.parametrize("file, edit, expected", [
    ("financials.csv", _set_where("value_usd_bn", "-13.507", **NVIDIA, metric="revenue", fiscal_period="FY2024Q2"),
     r"rule 'non_negative' failed for -13.507; revenue cannot be negative"),
    ("financials.csv", _set_where("value_usd_bn", "30", **NVIDIA, metric="data_center_revenue", fiscal_period="FY2025Q1"),
     r"segment_within_total.*data_center_revenue 30.0 exceeds revenue 26.044 for nvidia FY2025Q1"),
    ("financials.csv", _set_where("calendar_quarter", "2025Q1", **NVIDIA, metric="revenue", fiscal_period="FY2025Q4"),
     r"quarter_mapping.*FY2025Q4 \(fiscal year ends month 1\) maps to calendar 2024Q4"),
    ("financials.csv", _set_where("period_end", "2024-12-31", **NVIDIA, metric="revenue", fiscal_period="FY2025Q4"),
     r"column period_end: rule 'quarter_mapping' failed for '2024-12-31'; FY2025Q4 of a fiscal year ending in month 1 ends 2025-01-31"),
    ("financials.csv", _set_where("fiscal_period", "FY2025Q5", **NVIDIA, metric="revenue", fiscal_period="FY2025Q4"),
     r"rule 'period_label' failed for 'FY2025Q5'"),
    ("facts.csv", _set_where("value", "15", fact_id="ipo_float_typical_low"),
     r"facts.csv row \d+, column value: rule 'share_in_0_1'"),
    ("financials.csv", lambda f: f.drop(index=_find(f, company_id="alphabet", metric="capex", fiscal_period="FY2019Q2")),
     r"rule 'no_gap' failed for '2019Q2'.*alphabet capex"),
    ("financials.csv", _set_where("value_usd_bn", "9" * 400, **NVIDIA, metric="revenue", fiscal_period="FY2024Q2"),
     r"rule 'plausible' failed for '9{40}'; no company figure exceeds 100,000 USD billions"),
    ("financials.csv", _set_where("value_usd_bn", "100001", **NVIDIA, metric="revenue", fiscal_period="FY2024Q2"),
     r"rule 'plausible' failed for '100001'"),
])
def test_cross_row_rules_refuse_bad_rows(data_copy, file, edit, expected):
    edit_csv(data_copy, file, edit)
    with pytest.raises(DataValidationError, match=expected):
        load_dataset(data_copy)


def test_negative_operating_income_is_allowed(data_copy):
    edit_csv(data_copy, "financials.csv",
             _set_where("value_usd_bn", "-1.0", **NVIDIA, metric="operating_income", fiscal_period="FY2024Q2"))
    assert load_dataset(data_copy).financials["value_usd_bn"].min() == -1.0


def test_extra_column_is_refused(data_copy):
    edit_csv(data_copy, "companies.csv", lambda f: f.assign(colour="red"))
    with pytest.raises(DataValidationError, match=r"companies.csv header.*columns must be exactly"):
        load_dataset(data_copy)


def test_metric_without_a_definition_is_refused(data_copy):
    path = data_copy / "metrics.yaml"
    path.write_text(path.read_text().replace("definition:", "note:", 1))
    with pytest.raises(DataValidationError, match=r"^metrics.yaml: metric '\w+' needs a unit and a one-line definition$"):
        load_dataset(data_copy)


def test_missing_file_is_refused(data_copy):
    (data_copy / "sources.csv").unlink()
    with pytest.raises(DataValidationError, match=r"sources.csv: file not found"):
        load_dataset(data_copy)


# ------------------------------------------------------------------ traceability to the filing


def _reported_share_citing_a_filing(ds) -> float:
    src = ds.sources.set_index("source_id")
    # A filing's accession, or the issuer's own document; SEC's company-facts data file is a pointer, not a filing.
    own_document = src["document_url"].str.len().gt(0) & src["via_aggregator"].eq("false") & ~src["document_url"].str.contains("data.sec.gov/api")
    filing = src["accession"].str.len().gt(0) | own_document
    reported = ds.financials[ds.financials["basis"] == "reported"]
    return float(reported["source_id"].map(filing).mean())


def test_at_least_90_percent_of_reported_rows_cite_a_filing(ds):
    assert _reported_share_citing_a_filing(ds) >= 0.90


def test_sec_sources_carry_an_accession_and_point_at_a_document_not_an_index(ds):
    sec = ds.sources[ds.sources["accession"].str.len().gt(0)]
    assert len(sec) > 0
    assert not sec["document_url"].str.contains("cgi-bin/browse-edgar").any()
    cik_folder = sec["accession"].str.replace("-", "", regex=False)
    on_sec = sec["document_url"].str.contains("sec.gov/Archives", regex=False)
    assert all(folder in url for folder, url in zip(cik_folder[on_sec], sec.loc[on_sec, "document_url"]))


def test_aggregator_source_that_names_no_filing_is_refused(data_copy):
    def strip(frame):
        row = frame.index[frame["source_id"] == "opencap_meta"][0]
        frame.loc[row, ["accession", "covers"]] = ["", "Quarterly capex"]
        return frame
    edit_csv(data_copy, "sources.csv", strip)
    with pytest.raises(DataValidationError, match=r"^sources.csv row \d+, column covers: rule 'aggregator_names_filing' failed for 'opencap_meta'"):
        load_dataset(data_copy)


def test_reported_row_without_accession_or_document_url_is_refused(data_copy):
    def strip(frame):
        frame.loc[frame["source_id"] == "nvda_10q_fy2025q1", ["accession", "document_url"]] = ""
        return frame
    edit_csv(data_copy, "sources.csv", strip)
    with pytest.raises(DataValidationError,
                       match=r"^financials.csv row \d+, column source_id: rule 'reported_cites_document' failed for 'nvda_10q_fy2025q1'; "
                             r"a reported figure must cite a specific filing") as info:
        load_dataset(data_copy)
    assert "\n" not in str(info.value)


def test_estimate_row_may_cite_an_undated_source(data_copy):
    # The rule binds reported figures only; a survey estimate or a claim needs no accession.
    def strip(frame):
        frame.loc[frame["source_id"] == "menlo_2025", ["accession", "document_url"]] = ""
        return frame
    edit_csv(data_copy, "sources.csv", strip)
    fin = load_dataset(data_copy).financials
    cited = fin[fin["source_id"] == "menlo_2025"]
    assert cited["value_usd_bn"].tolist() == [11.5, 37.0, 19.0] and set(cited["basis"]) == {"estimate"}


# ------------------------------------------------------------------ backlog and the companies added for issue 17


def test_backlog_is_a_point_series_at_quarter_ends(ds):
    rpo = ds.financials[ds.financials["metric"] == "remaining_performance_obligations"]
    assert set(rpo["company_id"]) == {"oracle", "microsoft", "amazon", "alphabet", "coreweave"}
    assert (rpo["period_type"] == "point").all()
    assert rpo["period_end"].dt.is_month_end.all() and rpo["period_end"].dt.month.isin([2, 3, 5, 6, 8, 9, 11, 12]).all()
    oracle = rpo[rpo["company_id"] == "oracle"].set_index("fiscal_period")["value_usd_bn"]
    assert oracle["2026-08-31"] == 664.0 and oracle["2025-05-31"] == 138.0


def test_new_chip_and_networking_companies_sit_in_their_layers(ds):
    layer = ds.companies.set_index("company_id")["layer"]
    assert layer[["tsmc", "micron", "arista"]].tolist() == ["chips", "chips", "servers"]
    assert ds.companies.set_index("company_id").loc["micron", "fiscal_year_end_month"] == 8
    fin = ds.financials.set_index(["company_id", "metric", "fiscal_period"])
    # Micron's fiscal 2026 Q4 (June-August, ended 3 September 2026) is calendar 2026Q3.
    assert fin.loc[("micron", "revenue", "FY2026Q4"), "calendar_quarter"] == "2026Q3"
    # TSMC's operating income is its stated operating margin times the US$ revenue it states.
    assert fin.loc[("tsmc", "operating_income", "FY2026Q2"), "value_usd_bn"] == pytest.approx(0.603 * 40.2, abs=1e-3)


def test_a_second_load_of_the_same_bytes_skips_validation_but_not_an_edit(data_copy, monkeypatch):
    from valuechain.dataset import load as dataset

    first = load_dataset(data_copy)
    checks = []
    monkeypatch.setattr(dataset, "check", lambda *args: checks.append(args[2]))
    again = load_dataset(data_copy)
    assert checks == [] and again.data_dir == data_copy
    pd.testing.assert_frame_equal(again.financials, first.financials)
    monkeypatch.undo()
    # an edit makes new bytes, and new bytes are validated again
    edit_csv(data_copy, "financials.csv", lambda f: f.assign(value_usd_bn=f["value_usd_bn"].where(f.index != 0, "-1.0")))
    with pytest.raises(DataValidationError, match="non_negative"):
        load_dataset(data_copy)


def test_editing_a_loaded_frame_leaves_later_loads_alone(data_copy):
    first = load_dataset(data_copy)
    value = first.financials.loc[0, "value_usd_bn"]
    first.financials.loc[0, "value_usd_bn"] = -99.0
    first.metrics[first.financials.loc[0, "metric"]]["unit"] = "changed"
    second = load_dataset(data_copy)
    assert second.financials.loc[0, "value_usd_bn"] == value
    assert second.metrics[second.financials.loc[0, "metric"]]["unit"] == "usd_bn"


def test_series_are_the_rows_of_one_company_and_metric_in_file_order(ds):
    fin = ds.financials
    rows = fin[(fin["company_id"] == "nvidia") & (fin["metric"] == "data_center_revenue")]
    series = ds.series("nvidia", "data_center_revenue")
    assert [r.fiscal_period for r in series] == rows["fiscal_period"].tolist()
    assert [r.value_usd_bn for r in series] == rows["value_usd_bn"].tolist()
    assert ds.series("nvidia", "no_such_metric") == ()


@pytest.mark.parametrize("content", ["", "\n"])
def test_an_empty_table_is_one_line(data_copy, content):
    from conftest import invoke_cli

    (data_copy / "financials.csv").write_text(content)
    with pytest.raises(DataValidationError, match=r"^financials.csv: the file is empty \(not even a header row\)"):
        load_dataset(data_copy)
    proc = invoke_cli("summary", "--data-dir", data_copy, "--out", data_copy.parent / "coverage.csv")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "financials.csv: the file is empty" in proc.stderr
