"""valuechain data refresh, offline: recorded company-facts responses in tests/fixtures/sec/."""
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import requests
from click.testing import CliRunner

from valuechain.dataset import refresh
from valuechain.cli import main
from valuechain.dataset.load import load_dataset
from conftest import edit_csv
from valuechain.exceptions import (
    DataValidationError,
    SecIdentityError,
    SecRateLimitError,
    SecRequestError,
    SecResponseError,
    StagedChangesError,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sec"
AGENT = "Jane Analyst jane@example.com"
TWO = ["alphabet", "microsoft"]


class Response:
    def __init__(self, status_code=200, text=""):
        self.status_code, self.text = status_code, text


class FixtureSession:
    """Answers company-facts URLs from the recorded files; records every request."""

    def __init__(self, overrides=None):
        self.overrides = overrides or {}
        self.calls = []

    def get(self, url, headers=None, timeout=None):
        self.calls.append((url, headers, timeout))
        name = url.rsplit("/", 1)[1]
        answer = self.overrides.get(name)
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        path = FIXTURES / name
        return Response(200, path.read_text()) if path.exists() else Response(404, "")


def no_wait():
    return refresh.Throttle(rate_per_second=1e9)


def stage(data_dir, tmp_path, session=None, **kwargs):
    out = tmp_path / "staged_changes.csv"
    refresh.stage_refresh(AGENT, data_dir=data_dir, out=out, company_ids=TWO,
                          session=session or FixtureSession(), throttle=no_wait(), **kwargs)
    return out


def row(staged, company, label, period_type="quarter"):
    match = staged[(staged["company_id"] == company) & (staged["fiscal_period"] == label) & (staged["period_type"] == period_type)]
    assert len(match) == 1, (company, label, match)
    return match.iloc[0]


@pytest.fixture
def data_copy(data_copy):
    """The bundled data with Alphabet's and Microsoft's rows as they were when the fixtures were recorded.

    The expectations below (which quarters are new, which changed) are about the recorded
    responses, so they must not move when the bundled data gains a quarter.
    """
    path = data_copy / "financials.csv"
    current = pd.read_csv(path, dtype=str, keep_default_na=False)
    recorded = pd.read_csv(FIXTURES / "bundled_as_recorded.csv", dtype=str, keep_default_na=False)
    kept = current[~current["company_id"].isin(TWO)]
    pd.concat([kept, recorded], ignore_index=True).to_csv(path, index=False)
    return data_copy


@pytest.fixture
def staged(data_copy, tmp_path):
    return pd.read_csv(stage(data_copy, tmp_path), dtype=str, keep_default_na=False)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


# ----------------------------------------------------------------------------- deriving quarters


def test_derived_q4_is_fiscal_year_total_minus_nine_months_exactly(staged):
    q4 = row(staged, "microsoft", "FY2026Q4")
    assert q4["value_usd_bn"] == refresh.format_usd_bn(117_500_000_000 - 80_146_000_000) == "37.354"
    assert (q4["action"], q4["basis"]) == ("new", "derived")
    assert q4["note"].startswith("Q4 = fiscal-year total (10-K) minus nine-month year-to-date (Q3 10-Q, accession 0000950170-26-052290)")
    assert q4["accn"] == "0000950170-26-097431"  # the 10-K that completes the year
    # A year the dataset already holds: Alphabet 2024, 52.535 - 38.259.
    old = row(staged, "alphabet", "FY2024Q4")
    assert (old["value_usd_bn"], old["action"], old["bundled_value_usd_bn"]) == ("14.276", "unchanged", "14.276")


def test_second_and_third_quarters_from_year_to_date_cash_flows(staged):
    # Alphabet's 10-Qs tag only year-to-date capex: Q2 = 6M - Q1, Q3 = 9M - 6M.
    q2 = row(staged, "alphabet", "FY2025Q2")
    assert q2["value_usd_bn"] == refresh.format_usd_bn(39_643_000_000 - 17_197_000_000) == "22.446"
    assert q2["basis"] == "derived" and q2["note"].startswith("Q2 = half-year year-to-date (10-Q) minus Q1")
    assert row(staged, "alphabet", "FY2024Q3")["value_usd_bn"] == "13.061"


def test_new_quarter_is_staged_with_its_calendar_quarter(staged):
    new = row(staged, "alphabet", "FY2026Q2")
    assert (new["action"], new["value_usd_bn"], new["calendar_quarter"], new["period_end"]) == ("new", "41.425", "2026Q2", "2026-06-30")
    assert new["bundled_value_usd_bn"] == ""
    assert new["accn"] == "0001652044-26-000071" and new["form"] == "10-Q" and new["filed"] == "2026-07-29"


def test_restated_value_shows_both_figures(staged):
    # The 2026 Q3 10-Q restates the nine months of 2025 (63.596 -> 63.650): Q3 and Q4 2025 move.
    q3 = row(staged, "alphabet", "FY2025Q3")
    assert (q3["action"], q3["value_usd_bn"], q3["bundled_value_usd_bn"]) == ("changed", "24.007", "23.953")
    assert float(q3["difference_usd_bn"]) == pytest.approx(0.054)
    assert q3["accn"] == "0001652044-26-000095" and "restated" in q3["review_note"]
    q4 = row(staged, "alphabet", "FY2025Q4")
    assert (q4["value_usd_bn"], q4["bundled_value_usd_bn"]) == ("27.797", "27.851")


def test_rounded_bundled_value_is_changed_with_the_exact_figure(staged):
    q2 = row(staged, "microsoft", "FY2026Q2")
    assert (q2["action"], q2["value_usd_bn"], q2["bundled_value_usd_bn"], q2["bundled_source_id"]) == ("changed", "29.876", "29.88", "opencap_msft")
    assert "rounded to 2 decimals" in q2["review_note"]


def test_missing_quarter_is_listed_not_invented(staged, data_copy):
    # Microsoft fiscal 2024: the fixture has the 10-K total but no nine-month figure.
    rows = staged[(staged["company_id"] == "microsoft") & (staged["fiscal_period"] == "FY2024Q4")]
    assert list(rows["action"]) == ["unmapped"] and rows["value_usd_bn"].iloc[0] == ""
    assert "nine-month year-to-date" in rows["review_note"].iloc[0]
    # The bundled row stays the embedded default.
    bundled = load_dataset(data_copy).financials
    kept = bundled[(bundled["company_id"] == "microsoft") & (bundled["fiscal_period"] == "FY2024Q4") & (bundled["metric"] == "capex")]
    assert kept["value_usd_bn"].tolist() == [13.873]
    # Quarters after the latest filing are not yet due, so not listed.
    assert not (staged["fiscal_period"] == "FY2027Q2").any()


def test_fiscal_year_ending_in_june_maps_to_calendar_quarters(staged):
    q1 = row(staged, "microsoft", "FY2025Q1")  # July-September 2024
    assert (q1["period_end"], q1["calendar_quarter"], q1["value_usd_bn"], q1["action"]) == ("2024-09-30", "2024Q3", "14.923", "unchanged")
    assert row(staged, "microsoft", "FY2027Q1")["calendar_quarter"] == "2026Q3"
    year = row(staged, "microsoft", "FY2026", period_type="fiscal_year")
    assert (year["period_end"], year["calendar_quarter"], year["value_usd_bn"]) == ("2026-06-30", "", "117.5")


def test_classify_period_places_dates_not_filing_labels():
    assert refresh.classify_period(dt.date(2025, 7, 1), dt.date(2026, 6, 30), 6) == refresh.Period(2026, 4, 12)
    assert refresh.classify_period(dt.date(2025, 7, 1), dt.date(2026, 3, 31), 6) == refresh.Period(2026, 3, 9)
    # NVIDIA's 52/53-week year ends late January: a quarter ending 28 April 2024 is fiscal 2025 Q1.
    assert refresh.classify_period(dt.date(2024, 1, 29), dt.date(2024, 4, 28), 1) == refresh.Period(2025, 1, 3)
    assert refresh.classify_period(dt.date(2024, 11, 4), dt.date(2025, 2, 2), 10) == refresh.Period(2025, 1, 3)
    assert "trailing" in refresh.classify_period(dt.date(2024, 4, 1), dt.date(2025, 3, 31), 12)
    assert "not at a fiscal quarter end" in refresh.classify_period(dt.date(2024, 2, 1), dt.date(2024, 4, 30), 12)
    assert "neither" in refresh.classify_period(dt.date(2024, 1, 1), dt.date(2024, 1, 31), 12)


def test_unplaceable_fact_is_listed_as_unmapped(staged):
    half = staged[(staged["action"] == "unmapped") & (staged["value_usd_bn"] == "51.804")]
    assert len(half) == 1 and "second-half" in half["review_note"].iloc[0]


def test_counts_and_order(staged):
    counts = staged["action"].value_counts().to_dict()
    assert counts == {"new": 5, "changed": 5, "unchanged": 18, "unmapped": 12}
    assert list(staged.columns) == refresh.STAGED_COLUMNS
    assert staged["action"].tolist() == sorted(staged["action"], key=refresh.ACTIONS.index)


def test_since_drops_older_periods(data_copy, tmp_path):
    staged = pd.read_csv(stage(data_copy, tmp_path, since=2026), dtype=str, keep_default_na=False)
    assert staged["period_end"].str[:4].astype(int).min() == 2026


def test_format_usd_bn_is_exact():
    assert refresh.format_usd_bn(27_851_000_000) == "27.851"
    assert refresh.format_usd_bn(20_000_000_000) == "20.0"
    assert refresh.format_usd_bn(-5_700_123) == "-0.005700123"


def test_bundled_concept_map_names_companies_in_the_dataset():
    maps = {m.company_id: m for m in refresh.load_concept_map()}
    assert maps["microsoft"].cik == 789019 and maps["alphabet"].cik == 1652044
    assert maps["amazon"].concepts["capex"] == ("PaymentsToAcquireProductiveAssets",)
    assert maps["meta"].concepts["capex"] == ("PaymentsToAcquirePropertyPlantAndEquipment",)
    assert maps["nvidia"].concepts["revenue"][0] == "Revenues"


def test_concept_map_refuses_unknown_company(data_copy):
    (data_copy / refresh.CONCEPTS_FILE).write_text("concepts: {capex: [X]}\ncompanies:\n  nobody: {cik: 1, metrics: [capex]}\n")
    with pytest.raises(Exception, match="'nobody' is not in companies.csv"):
        refresh.load_concept_map(data_copy)


def test_staging_refuses_a_dataset_that_does_not_validate_before_any_request(data_copy, tmp_path):
    """Rows staged against a dataset that does not validate could never be applied: nothing is fetched."""
    def month_13(frame):
        frame.loc[frame["company_id"] == "microsoft", "fiscal_year_end_month"] = "13"
        return frame

    edit_csv(data_copy, "companies.csv", month_13)
    session = FixtureSession()
    with pytest.raises(DataValidationError, match=r"^companies.csv.*fiscal_year_end_month"):
        stage(data_copy, tmp_path, session=session)
    assert session.calls == [] and not (tmp_path / "staged_changes.csv").exists()


# ----------------------------------------------------------------------------- the HTTP layer


def test_request_carries_identity_and_is_throttled(data_copy, tmp_path):
    session = FixtureSession()
    stage(data_copy, tmp_path, session=session)
    assert [c[0] for c in session.calls] == ["https://data.sec.gov/api/xbrl/companyfacts/CIK0001652044.json",
                                             "https://data.sec.gov/api/xbrl/companyfacts/CIK0000789019.json"]
    assert all(c[1]["User-Agent"] == AGENT and c[2] == refresh.TIMEOUT_SECONDS for c in session.calls)


def test_throttle_spaces_requests_a_tenth_of_a_second_apart():
    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    throttle = refresh.Throttle(clock=lambda: now[0], sleep=sleep)
    throttle.wait()
    now[0] += 0.03
    throttle.wait()
    throttle.wait()
    assert slept == [pytest.approx(0.07), pytest.approx(0.1)]


@pytest.mark.parametrize("status, error", [(429, SecRateLimitError), (403, SecRateLimitError), (500, SecRequestError), (404, SecRequestError)])
def test_http_error_status_is_refused(data_copy, tmp_path, status, error):
    session = FixtureSession({"CIK0000789019.json": Response(status, "<html>busy</html>")})
    with pytest.raises(error, match=f"HTTP {status}"):
        stage(data_copy, tmp_path, session=session)
    assert not (tmp_path / "staged_changes.csv").exists()


@pytest.mark.parametrize("exc, words", [(requests.ConnectionError("Name or service not known"), "network error"),
                                        (requests.Timeout("read timed out"), "no answer within 30 s")])
def test_network_failures_are_refused(data_copy, tmp_path, exc, words):
    with pytest.raises(SecRequestError, match=words):
        stage(data_copy, tmp_path, session=FixtureSession({"CIK0001652044.json": exc}))


def test_malformed_json_is_refused(data_copy, tmp_path):
    session = FixtureSession({"CIK0000789019.json": Response(200, (FIXTURES / "malformed_truncated.json").read_text())})
    with pytest.raises(SecResponseError, match="malformed JSON"):
        stage(data_copy, tmp_path, session=session)


@pytest.mark.parametrize("payload, words", [
    ({"cik": 789019, "entityName": "MICROSOFT CORPORATION"}, "no 'facts' key"),
    ([1, 2], "expected a JSON object"),
    ({"cik": 789019, "entityName": "M", "facts": {"us-gaap": {"PaymentsToAcquirePropertyPlantAndEquipment": {"units": {"USD": [
        {"start": "2025-07-01", "end": "2025-09-30", "val": "many", "accn": "x", "form": "10-Q", "filed": "2025-10-29"}]}}}}},
     "fact 0 is malformed"),
])
def test_wrong_structure_is_refused(data_copy, tmp_path, payload, words):
    session = FixtureSession({"CIK0000789019.json": Response(200, json.dumps(payload))})
    with pytest.raises(SecResponseError, match=words):
        stage(data_copy, tmp_path, session=session)


@pytest.mark.parametrize("agent", [None, "", "   ", "just-a-name"])
def test_user_agent_must_name_a_person_and_an_email(agent):
    with pytest.raises(SecIdentityError, match="VALUECHAIN_SEC_USER_AGENT"):
        refresh.check_user_agent(agent)
    assert refresh.check_user_agent(f"  {AGENT} ") == AGENT


# ----------------------------------------------------------------------------- the command line


@pytest.fixture
def cli_session(monkeypatch):
    session = FixtureSession()
    monkeypatch.setattr(refresh, "new_session", lambda: session)
    throttle = no_wait()
    monkeypatch.setattr(refresh, "Throttle", lambda: throttle)
    monkeypatch.delenv(refresh.USER_AGENT_ENV, raising=False)
    return session


def invoke(*args, env=None):
    return CliRunner().invoke(main, ["data", "refresh", *args], env=env)


def test_cli_without_user_agent_exits_2_with_one_line(cli_session, data_copy, tmp_path):
    before = snapshot(data_copy)
    result = invoke("--data-dir", str(data_copy), "--out", str(tmp_path / "s.csv"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("valuechain: error: no SEC User-Agent identity; set the SEC User-Agent identity with --user-agent")
    assert cli_session.calls == [] and not (tmp_path / "s.csv").exists() and snapshot(data_copy) == before


def test_cli_stages_with_user_agent_from_environment(cli_session, data_copy, tmp_path):
    before = snapshot(data_copy)
    out = tmp_path / "refresh" / "staged.csv"
    result = invoke("--data-dir", str(data_copy), "--out", str(out), "--company", "alphabet", "--company", "microsoft",
                    env={refresh.USER_AGENT_ENV: AGENT})
    assert result.exit_code == 0, result.output
    assert "Staged 5 new, 5 changed, 18 unchanged, 12 unmapped rows for 2 companies" in result.stdout
    assert cli_session.calls[0][1]["User-Agent"] == AGENT
    assert out.exists() and snapshot(data_copy) == before  # staging never writes the dataset


def test_cli_rate_limit_exits_2_and_keeps_previous_staged_file(cli_session, data_copy, tmp_path):
    out = tmp_path / "s.csv"
    out.write_text("previous staged file\n")
    cli_session.overrides["CIK0000789019.json"] = Response(429, "")
    result = invoke("--user-agent", AGENT, "--data-dir", str(data_copy), "--out", str(out), "--company", "alphabet", "--company", "microsoft")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "HTTP 429" in result.stderr
    assert out.read_text() == "previous staged file\n"


def test_cli_malformed_response_exits_2(cli_session, data_copy, tmp_path):
    cli_session.overrides["CIK0001652044.json"] = Response(200, "{\"cik\": 1652044, \"facts\": {")
    result = invoke("--user-agent", AGENT, "--data-dir", str(data_copy), "--out", str(tmp_path / "s.csv"), "--company", "alphabet")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "malformed JSON" in result.stderr


# ----------------------------------------------------------------------------- --apply


def accept(path, *keys):
    staged = pd.read_csv(path, dtype=str, keep_default_na=False)
    for company, label, period_type in keys:
        hit = (staged["company_id"] == company) & (staged["fiscal_period"] == label) & (staged["period_type"] == period_type)
        assert hit.sum() == 1
        staged.loc[hit, "accept"] = "yes"
    staged.to_csv(path, index=False)


def test_apply_merges_only_accepted_rows(data_copy, tmp_path):
    path = stage(data_copy, tmp_path)
    accept(path, ("microsoft", "FY2026Q4", "quarter"), ("microsoft", "FY2026", "fiscal_year"),
           ("microsoft", "FY2027Q1", "quarter"), ("alphabet", "FY2025Q3", "quarter"))
    old_lines = (data_copy / "financials.csv").read_text().splitlines()
    result = invoke("--apply", str(path), "--data-dir", str(data_copy))
    assert result.exit_code == 0, result.output
    assert "Merged 3 new and 1 changed rows" in result.stdout

    fin = load_dataset(data_copy).financials
    capex = fin[fin["metric"] == "capex"].set_index(["company_id", "period_type", "fiscal_period"])
    assert capex.loc[("microsoft", "quarter", "FY2026Q4"), "value_usd_bn"] == 37.354
    assert capex.loc[("microsoft", "quarter", "FY2026Q4"), "basis"] == "derived"
    assert capex.loc[("microsoft", "fiscal_year", "FY2026"), "value_usd_bn"] == 117.5
    assert capex.loc[("microsoft", "quarter", "FY2027Q1"), "calendar_quarter"] == "2026Q3"
    assert capex.loc[("alphabet", "quarter", "FY2025Q3"), "value_usd_bn"] == 24.007
    assert "replaces 23.953 (goog_filings)" in capex.loc[("alphabet", "quarter", "FY2025Q3"), "note"]
    assert ("alphabet", "quarter", "FY2026Q2") not in capex.index  # staged as new, not accepted
    assert capex.loc[("alphabet", "quarter", "FY2026Q1"), "value_usd_bn"] == 35.7  # changed, not accepted

    sources = pd.read_csv(data_copy / "sources.csv", dtype=str, keep_default_na=False).set_index("source_id")
    ten_k = sources.loc["sec_000095017026097431"]
    assert capex.loc[("microsoft", "quarter", "FY2026Q4"), "source_id"] == "sec_000095017026097431"
    assert ten_k["title"] == "MICROSOFT CORPORATION Form 10-K filed 2026-07-29 (accession 0000950170-26-097431)"
    assert ten_k["url"] == "https://www.sec.gov/Archives/edgar/data/789019/000095017026097431/"
    assert ten_k["date_published"] == "2026-07-29" and "capex FY2026Q4" in ten_k["covers"]
    assert {"sec_000095017026131876", "sec_000165204426000095"} <= set(sources.index)
    kinds = load_dataset(data_copy).source_kinds.set_index("source_id")  # each new filing has its provenance kind
    assert kinds.loc["sec_000095017026097431", ["kind", "accession"]].tolist() == ["structured_transcription", "0000950170-26-097431"]

    # Every line not accepted keeps its exact text; the changed line is replaced in place.
    new_lines = (data_copy / "financials.csv").read_text().splitlines()
    assert len(new_lines) == len(old_lines) + 3
    assert [line for line in old_lines if line not in new_lines] == \
        [line for line in old_lines if line.startswith("alphabet,quarter,FY2025Q3,2025-09-30,2025Q3,capex,")]


def test_apply_leaves_files_untouched_when_validation_fails(data_copy, tmp_path):
    path = stage(data_copy, tmp_path)
    accept(path, ("microsoft", "FY2027Q1", "quarter"))  # without FY2026Q4 the series has a gap at 2026Q2
    before = snapshot(data_copy)
    result = invoke("--apply", str(path), "--data-dir", str(data_copy))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "nothing changed" in result.stderr and "no_gap" in result.stderr and "2026Q2" in result.stderr
    assert snapshot(data_copy) == before


def test_apply_with_nothing_accepted_changes_nothing(data_copy, tmp_path):
    path = stage(data_copy, tmp_path)
    before = snapshot(data_copy)
    summary = refresh.apply_staged(path, data_dir=data_copy)
    assert (summary.added, summary.changed) == (0, 0) and "nothing changed" in summary.describe()
    assert snapshot(data_copy) == before


@pytest.mark.parametrize("edit, words", [
    (lambda f: f.assign(accept=f["accept"].mask(f["action"] == "unmapped", "yes")), "unmapped row has no figure"),
    (lambda f: f.assign(accept="maybe"), "write yes or leave it blank"),
    (lambda f: f.drop(columns="accn"), "missing columns accn"),
])
def test_apply_refuses_a_malformed_staged_file(data_copy, tmp_path, edit, words):
    path = stage(data_copy, tmp_path)
    edit(pd.read_csv(path, dtype=str, keep_default_na=False)).to_csv(path, index=False)
    before = snapshot(data_copy)
    with pytest.raises(StagedChangesError, match=words):
        refresh.apply_staged(path, data_dir=data_copy)
    assert snapshot(data_copy) == before


def test_apply_refuses_a_stale_staged_file(data_copy, tmp_path):
    path = stage(data_copy, tmp_path)
    accept(path, ("alphabet", "FY2025Q3", "quarter"))
    fin = data_copy / "financials.csv"
    fin.write_text(fin.read_text().replace("FY2025Q3,2025-09-30,2025Q3,capex,23.953", "FY2025Q3,2025-09-30,2025Q3,capex,23.950"))
    before = snapshot(data_copy)
    with pytest.raises(StagedChangesError, match="no longer holds 23.953"):
        refresh.apply_staged(path, data_dir=data_copy)
    assert snapshot(data_copy) == before


def test_apply_twice_refuses_the_second_time(data_copy, tmp_path):
    path = stage(data_copy, tmp_path)
    accept(path, ("microsoft", "FY2026Q4", "quarter"))
    refresh.apply_staged(path, data_dir=data_copy)
    with pytest.raises(StagedChangesError, match="already has microsoft/quarter/FY2026Q4/capex"):
        refresh.apply_staged(path, data_dir=data_copy)


def test_source_rows_fill_every_provenance_column_of_sources_csv(data_copy, tmp_path):
    path = stage(data_copy, tmp_path)
    accept(path, ("microsoft", "FY2026Q4", "quarter"), ("microsoft", "FY2026", "fiscal_year"))
    accepted = refresh.read_staged(path)
    sources = load_dataset(data_copy).sources
    rows = refresh.source_rows(accepted, sources, dt.date(2026, 11, 21))
    assert len(rows) == 1  # both rows come from the same 10-K
    row = rows[0]
    assert list(row) == list(sources.columns)
    assert row["accession"] == "0000950170-26-097431" and row["document_url"] == row["url"]
    assert row["accessed"] == "2026-11-21" and "sec.gov" in row["licence"] and row["via_aggregator"] == "false"
    assert "capex FY2026Q4 (PaymentsToAcquirePropertyPlantAndEquipment)" in row["covers"]
    assert "capex FY2026 (PaymentsToAcquirePropertyPlantAndEquipment)" in row["covers"]


# ----------------------------------------------------------------------------- a response is untrusted

MSFT = "CIK0000789019.json"
CAPEX = "PaymentsToAcquirePropertyPlantAndEquipment"


def msft_with(edit) -> Response:
    """Microsoft's recorded response with ``edit(facts_list)`` applied to its capex facts."""
    payload = json.loads((FIXTURES / MSFT).read_text())
    edit(payload["facts"]["us-gaap"][CAPEX]["units"]["USD"])
    return Response(200, json.dumps(payload))


def staged_with(data_copy, tmp_path, response):
    out = stage(data_copy, tmp_path, session=FixtureSession({MSFT: response}))
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def test_a_response_for_another_cik_is_refused(data_copy, tmp_path):
    alphabet = (FIXTURES / "CIK0001652044.json").read_text()
    with pytest.raises(SecResponseError, match="is for CIK '1652044', not the CIK 789019 asked for"):
        stage(data_copy, tmp_path, session=FixtureSession({MSFT: Response(200, alphabet)}))
    assert not (tmp_path / "staged_changes.csv").exists()


def test_conflicting_facts_of_one_filing_day_are_flagged_not_resolved_silently(data_copy, tmp_path):
    def conflict(facts):
        twin = next(f for f in facts if f["start"] == "2026-07-01")  # FY2027 Q1, 34.912
        facts.append({**twin, "val": 36_000_000_000, "accn": "0000950170-26-131999"})

    q1 = row(staged_with(data_copy, tmp_path, msft_with(conflict)), "microsoft", "FY2027Q1")
    assert q1["review_note"].startswith("check: filings of the same day disagree on this period: 36.0 (accession "
                                        "0000950170-26-131999, staged) against 34.912 (accession 0000950170-26-131876")


def test_an_earlier_filings_different_value_is_told(data_copy, tmp_path):
    def earlier(facts):
        first = next(f for f in facts if f["start"] == "2026-07-01")
        facts.append({**first, "val": 30_000_000_000, "accn": "0000950170-26-100000", "filed": "2026-10-01"})

    q1 = row(staged_with(data_copy, tmp_path, msft_with(earlier)), "microsoft", "FY2027Q1")
    assert q1["value_usd_bn"] == "34.912"  # the latest filing's
    assert q1["review_note"].startswith("check: earlier filings gave another value for this period: 30.0 (accession 0000950170-26-100000")


def test_implausible_and_far_off_values_are_flagged(data_copy, tmp_path):
    def inflate(facts):
        for f in facts:
            if f["start"] == "2026-07-01":
                f["val"] = 1e300
            if (f["start"], f["end"]) == ("2025-10-01", "2025-12-31"):
                f["val"] = 400_000_000_000  # over ten times the 29.88 the dataset holds

    staged = staged_with(data_copy, tmp_path, msft_with(inflate))
    huge = row(staged, "microsoft", "FY2027Q1")
    assert huge["review_note"].startswith("check: ") and "above the 1,000 a company's figure can plausibly reach" in huge["review_note"]
    jump = row(staged, "microsoft", "FY2026Q2")
    assert jump["review_note"].startswith("check: 400.0 is more than 10 times away from the bundled figure it replaces, 29.88")
    assert row(staged, "microsoft", "FY2026Q1")["review_note"] == ""  # an ordinary figure is not flagged


def test_summary_counts_the_flagged_rows(data_copy, tmp_path):
    def inflate(facts):
        next(f for f in facts if f["start"] == "2026-07-01")["val"] = 1e300

    out = tmp_path / "staged_changes.csv"
    summary = refresh.stage_refresh(AGENT, data_dir=data_copy, out=out, company_ids=TWO, throttle=no_wait(),
                                    session=FixtureSession({MSFT: msft_with(inflate)}))
    assert summary.flagged == 1 and "1 rows need a second look: their review_note begins 'check:'" in summary.describe()


@pytest.mark.parametrize("body, words", [
    ('{"cik": 789019, "entityName": "M", "facts": {"us-gaap": {"%s": {"units": {"USD": [{"start": "2025-07-01", '
     '"end": "2025-09-30", "val": Infinity, "accn": "x", "form": "10-Q", "filed": "2025-10-29"}]}}}}}' % CAPEX,
     "malformed JSON (Infinity is not a number JSON allows)"),
    ('{"cik": 789019, "entityName": "M", "facts": {"us-gaap": {"%s": [1, 2]}}}' % CAPEX, f"{CAPEX} is not a JSON object"),
    ('{"cik": 789019, "entityName": "M", "facts": {"us-gaap": [1]}}', "facts.us-gaap is not a JSON object"),
    ('{"cik": 789019, "entityName": "M", "facts": {"us-gaap": {"%s": {"units": {"USD": [{"start": "0001-01-01", '
     '"end": "0001-03-31", "val": 5, "accn": "x", "form": "10-Q", "filed": "2025-10-29"}]}}}}}' % CAPEX,
     "the date 0001-01-01 is outside 1990-2100"),
    ('{"cik": 789019, "entityName": "M", "facts": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}", "malformed JSON"),
    ('{"cik": 789019, "entityName": "M", "facts": {}, "n": ' + "9" * 5000 + "}", "an integer of 5000 digits"),
    ('{"cik": 789019, "entityName": "M", "facts": {"us-gaap": {"%s": {"units": {"USD": [{"start": "2025-07-01", '
     '"end": "2025-09-30", "val": 1e999, "accn": "x", "form": "10-Q", "filed": "2025-10-29"}]}}}}}' % CAPEX,
     "is not a finite number"),
])
def test_hostile_responses_are_one_line(cli_session, data_copy, tmp_path, body, words):
    out = tmp_path / "s.csv"
    out.write_text("previous staged file\n")
    cli_session.overrides[MSFT] = Response(200, body)
    result = invoke("--user-agent", AGENT, "--data-dir", str(data_copy), "--out", str(out), "--company", "microsoft")
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert out.read_text() == "previous staged file\n"


def test_a_new_figure_far_from_the_previous_period_is_flagged(data_copy, tmp_path):
    def jump(facts):
        next(f for f in facts if f["start"] == "2026-07-01")["val"] = 400_000_000_000

    q1 = row(staged_with(data_copy, tmp_path, msft_with(jump)), "microsoft", "FY2027Q1")
    assert q1["action"] == "new"
    assert q1["review_note"].startswith("check: 400.0 is more than 10 times away from the previous figure (FY20")
