"""Provenance kinds: every source of a reported row has one kind; the loader refuses a bad
classification with one line naming the file, the row and the fix; the shares add up."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import edit_csv, set_cell
from valuechain.dataset import load_dataset, provenance
from valuechain.exceptions import DataValidationError


def _row_of(frame, source_id):
    return int(frame.index[frame["source_id"] == source_id][0])


def test_every_source_of_a_reported_row_has_exactly_one_kind(ds):
    kinds = ds.source_kinds
    assert kinds["source_id"].is_unique and set(kinds["kind"]) <= set(provenance.KINDS)
    cited = set(ds.financials.loc[ds.financials["basis"] == "reported", "source_id"]) | set(
        ds.facts.loc[ds.facts["basis"] == "reported", "source_id"])
    assert cited <= set(kinds["source_id"])


def test_shares_count_every_reported_row_once_and_sum_to_one(ds):
    shares = provenance.kind_shares(ds)
    reported = int((ds.financials["basis"] == "reported").sum() + (ds.facts["basis"] == "reported").sum())
    assert shares["rows"].sum() == reported
    assert shares["share"].sum() == pytest.approx(1) and shares["share_2025_2026"].sum() == pytest.approx(1)
    recent = provenance.reported_rows(ds)
    assert shares["rows_2025_2026"].sum() == recent["year"].isin([2025, 2026]).sum() > 0


def test_at_most_half_of_the_2025_2026_reported_rows_rest_on_narrative_aggregators(ds):
    # Issue 30's target: moving rows to filings or structured transcriptions keeps it.
    shares = provenance.kind_shares(ds).set_index("kind")
    assert shares.loc["narrative_aggregator", "share_2025_2026"] <= 0.5


def test_the_kinds_follow_their_sources(ds):
    kinds = ds.source_kinds.merge(ds.sources, on="source_id", suffixes=("", "_source"))
    # A filing is read directly; a structured transcription carries its filing's accession (or is SEC's company facts).
    assert (kinds.loc[kinds["kind"] == "filing", "via_aggregator"] == "false").all()
    structured = kinds[kinds["kind"] == "structured_transcription"]
    named = (structured["accession"] + structured["accession_source"]).str.len().gt(0)
    assert (named | structured["document_url"].str.contains("data.sec.gov") | structured["publisher"].str.contains("data.sec.gov")).all()
    assert kinds.set_index("source_id").loc["nvda_10q_fy2025q1", "kind"] == "filing"
    assert kinds.set_index("source_id").loc["goog_filings", "kind"] == "structured_transcription"
    assert kinds.set_index("source_id").loc["nvda_q1_fy2027", "kind"] == "narrative_aggregator"  # Bulios' retelling


def _set_kind(source_id, column, value):
    return set_cell("source_id", source_id, column, value)


@pytest.mark.parametrize("edit, expected", [
    (_set_kind("nvda_q1_fy2027", "kind", "blog"),
     r"^source_kinds.csv row \d+, column kind: rule 'known_kind' failed for 'blog'; kind must be one of filing, "),
    (_set_kind("nvda_q1_fy2027", "source_id", "no_such_source"),
     r"^source_kinds.csv row \d+, column source_id: rule 'known_source' failed for 'no_such_source'; classify a source_id listed in sources.csv"),
    (_set_kind("nvda_q1_fy2027", "kind", "filing"),
     r"^source_kinds.csv row \d+, column kind: rule 'filing_is_read_directly' failed for 'nvda_q1_fy2027'; sources.csv marks"),
    (_set_kind("orcl_filings", "kind", "structured_transcription"),
     r"^source_kinds.csv row \d+, column accession: rule 'transcription_names_accession' failed for 'orcl_filings'"),
    (_set_kind("nvda_q1_fy2027", "accession", "0001045810-26-000099"),
     r"^source_kinds.csv row \d+, column accession: rule 'accession_agrees' failed for '0001045810-26-000099'; sources.csv gives 0001045810-26-000051"),
    (_set_kind("nvda_q1_fy2027", "why", ""), r"^source_kinds.csv row \d+, column why: rule 'required'"),
])
def test_a_bad_classification_is_refused_in_one_line(data_copy, edit, expected):
    edit_csv(data_copy, "source_kinds.csv", edit)
    with pytest.raises(DataValidationError, match=expected) as info:
        load_dataset(data_copy)
    assert "\n" not in str(info.value)


def test_a_source_classified_twice_is_refused(data_copy):
    edit_csv(data_copy, "source_kinds.csv", lambda f: pd.concat([f, f[f["source_id"] == "goog_filings"]]))
    with pytest.raises(DataValidationError, match=r"^source_kinds.csv row \d+, column source_id: rule 'unique'"):
        load_dataset(data_copy)


def test_a_reported_row_whose_source_has_no_kind_is_refused(data_copy):
    edit_csv(data_copy, "source_kinds.csv", lambda f: f[f["source_id"] != "nvda_q1_fy2027"])
    fin = pd.read_csv(data_copy / "financials.csv", dtype=str, keep_default_na=False)
    line = _row_of(fin, "nvda_q1_fy2027") + 2
    with pytest.raises(DataValidationError,
                       match=rf"^financials.csv row {line}, column source_id: rule 'source_has_kind' failed for 'nvda_q1_fy2027'; "
                             r"classify source 'nvda_q1_fy2027' in source_kinds.csv") as info:
        load_dataset(data_copy)
    assert "\n" not in str(info.value)


def _cite(fact_id, source_id, basis="reported"):
    def edit(frame):
        frame.loc[frame["fact_id"] == fact_id, ["source_id", "basis"]] = [source_id, basis]
        return frame
    return edit


def test_a_reported_fact_must_cite_a_document(data_copy):
    # The rule that binds financials.csv binds facts.csv too: msft_10k_2024 points at an EDGAR company
    # page, with no accession and no document, as the row cited before it was traced to the 10-K.
    edit_csv(data_copy, "facts.csv", _cite("microsoft_openai_investment", "msft_10k_2024"))
    facts = pd.read_csv(data_copy / "facts.csv", dtype=str, keep_default_na=False)
    line = int(facts.index[facts["fact_id"] == "microsoft_openai_investment"][0]) + 2
    with pytest.raises(DataValidationError,
                       match=rf"^facts.csv row {line}, column source_id: rule 'reported_cites_document' failed for 'msft_10k_2024'; "
                             r"a reported figure must cite a specific filing") as info:
        load_dataset(data_copy)
    assert "\n" not in str(info.value)


def test_a_claim_fact_needs_no_document_and_no_kind(data_copy):
    edit_csv(data_copy, "facts.csv", _cite("microsoft_openai_investment", "msft_10k_2024", basis="claim"))
    assert load_dataset(data_copy).fact("microsoft_openai_investment") == 13


def test_the_summary_prints_the_shares(ds):
    text = "\n".join(provenance.share_lines(ds))
    shares = provenance.kind_shares(ds)
    for row in shares.itertuples():
        assert f"{row.kind:<25} {row.rows:>4} ({row.share:.1%})" in text
    assert "2025-2026" in text


def test_a_reported_disclosure_whose_source_has_no_kind_is_refused(data_copy):
    from valuechain.dataset import disclosures

    edit_csv(data_copy, "source_kinds.csv", lambda f: f[f["source_id"] != "adbe_q3fy25_8k"])
    with pytest.raises(DataValidationError,
                       match=r"^ai_revenue.csv row \d+, column source_id: rule 'source_has_kind' failed for 'adbe_q3fy25_8k'"):
        disclosures.load(load_dataset(data_copy))
