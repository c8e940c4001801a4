"""Contracted backlog against the spenders' trailing capex."""
import numpy as np
import pytest

from tests.conftest import edit_csv
from valuechain.dataset.capex import spender_capex
from valuechain.model import backlog
from valuechain.report import narrative
from valuechain import load_dataset

SPENDERS = ["microsoft", "alphabet", "amazon", "oracle", "coreweave"]


def test_multiple_is_summed_backlog_over_summed_trailing_capex(ds):
    b = backlog.backlog(ds, SPENDERS)
    fin = ds.financials
    rpo = fin[(fin["metric"] == backlog.METRIC) & (fin["calendar_quarter"] == str(b.quarter))].set_index("company_id")
    capex = spender_capex(ds, SPENDERS, "trailing_year")
    capex = capex[capex["period"] == b.quarter].set_index("company_id")["capex_usd_bn"]
    both = sorted(set(rpo.index) & set(capex.index))
    assert sorted(b.companies) == both and len(both) >= 2
    assert b.rpo_usd_bn == pytest.approx(rpo.loc[both, "value_usd_bn"].sum())
    assert b.capex_usd_bn == pytest.approx(capex.loc[both].sum())
    assert b.multiple == pytest.approx(b.rpo_usd_bn / b.capex_usd_bn)
    # a company with a backlog but no four quarters of capex is named, not filled in
    assert set(b.left_out) == set(rpo.index) - set(capex.index)
    assert b.table.loc[b.table["company_id"].isin(b.left_out) & (b.table["quarter"] == b.quarter), "multiple"].isna().all()
    assert set(b.sources) <= set(ds.sources["source_id"])
    assert set(rpo["source_id"]) <= set(b.sources)


def test_headline_moves_to_the_quarter_with_the_most_companies(data_copy):
    """Without Oracle's fiscal 2026 total and its Q3-Q4, 2026Q2 has three companies with both figures and 2025Q4 four."""
    def drop(frame):
        return frame[~((frame["company_id"] == "oracle") & (frame["metric"] == "capex")
                       & frame["fiscal_period"].isin(["FY2026", "FY2026Q3", "FY2026Q4"]))]

    edit_csv(data_copy, "financials.csv", drop)
    b = backlog.backlog(load_dataset(data_copy), SPENDERS)
    assert str(b.quarter) == "2025Q4"
    assert sorted(b.companies) == ["alphabet", "amazon", "microsoft", "oracle"]


def test_labs_named_in_the_notes_are_found(ds):
    b = backlog.backlog(ds, SPENDERS)
    fin = ds.financials
    notes = fin[(fin["metric"] == backlog.METRIC) & (fin["company_id"] == "amazon")]["note"]
    expected = tuple(lab for lab in ("OpenAI", "Anthropic") if notes.str.contains(lab).any())
    assert b.labs_named.get("amazon", ()) == expected and expected


def test_backlog_sentence_states_period_multiple_and_what_backlog_is_not(ds):
    b = backlog.backlog(ds, SPENDERS)
    text = narrative.backlog(b)
    assert f"In {b.quarter} (" in text and f"{b.multiple:.1f} times their capex over the four quarters" in text
    assert "not yet recognised" in text and "company-wide" in text
    assert "with the labs" in text and "OpenAI" in text
    assert "$" not in text and "USD" in text
    for company in b.left_out:
        assert "left out of the multiple" in text
    assert np.isfinite(b.multiple) and b.multiple > 1
    heads = {h.key: h for h in b.headlines()}
    assert heads["backlog_to_capex"].value == b.multiple and heads["backlog_to_capex"].period == str(b.quarter)
