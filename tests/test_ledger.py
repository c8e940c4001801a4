"""The forecast ledger: its loader, its append-only file, the scoring of its forecasts, and no look-ahead."""
import dataclasses
import shutil

import numpy as np
import pandas as pd
import pytest

from valuechain.dataset import disclosures, ledger as ledger_file
from valuechain.exceptions import DataValidationError
from valuechain.model import ledger

HEADER = ",".join(ledger_file.COLUMNS) + "\n"
GOOD = "2025-03-31,d_usd_bn,2025Q2,1,10.0000,8.0000,12.0000,0.90,m,base,v\n"


def _rows(*rows):
    """Typed ledger rows from (vintage, quantity, target, forecast, low, high) tuples."""
    frame = pd.DataFrame([{"vintage": v, "quantity": q, "target_quarter": t, "horizon_quarters":
                           (pd.Period(t, freq="Q") - pd.Period(v, freq="Q")).n, "forecast": f, "low": lo, "high": hi,
                           "level": 0.90, "method": "m", "scenario": "base", "data_vintage": "v"}
                          for v, q, t, f, lo, hi in rows]).astype(str)
    return ledger_file.typed(frame)


# ----------------------------------------------------------------------------- the loader


@pytest.mark.parametrize("line, fragment", [
    ("2025-03-31,d_usd_bn,2025Q2,1,ten,8,12,0.90,m,base,v\n", "row 3, column forecast: rule 'number' failed for 'ten'"),
    ("2025-03-31,d_usd_bn,2025Q2,1,13.0,8,12,0.90,m,base,v\n", "row 3, column forecast: rule 'inside_interval'"),
    ("2025-03-31,revenue,2025Q2,1,10,8,12,0.90,m,base,v\n", "row 3, column quantity: rule 'known_quantity'"),
    ("2025-03-31,d_usd_bn,2025Q1,1,10,8,12,0.90,m,base,v\n", "row 3, column target_quarter: rule 'after_vintage'"),
    ("2025-03-31,d_usd_bn,2025Q3,1,10,8,12,0.90,m,base,v\n", "row 3, column horizon_quarters: rule 'matches_target'"),
    ("31/03/2025,d_usd_bn,2025Q3,2,10,8,12,0.90,m,base,v\n", "row 3, column vintage: rule 'date'"),
    (GOOD, "row 3, column target_quarter: rule 'one_per_key'"),
])
def test_the_loader_refuses_a_malformed_row_with_one_line_naming_the_file_row_and_fix(tmp_path, line, fragment):
    path = tmp_path / ledger_file.FILE
    path.write_text(HEADER + GOOD + line)
    with pytest.raises(DataValidationError) as err:
        ledger_file.load(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith("forecast_ledger.csv row 3") and fragment in message
    assert "; " in message  # the fix follows the rule


def test_the_bundled_ledger_loads_typed_with_both_quantities_for_every_vintage():
    rows = ledger_file.load()
    assert rows["target_quarter"].dtype == "period[Q-DEC]" and rows["forecast"].dtype == float
    per_vintage = rows.groupby(["vintage", "quantity"]).size()
    assert set(per_vintage) == {ledger.HORIZON_QUARTERS}
    assert set(per_vintage.index.get_level_values("quantity")) == set(ledger_file.QUANTITIES)


# ----------------------------------------------------------------------------- appending


def test_appending_writes_only_new_vintages_after_the_existing_bytes(tmp_path):
    path = tmp_path / ledger_file.FILE
    path.write_text(HEADER + GOOD)
    before = path.read_bytes()
    again = _rows(("2025-03-31", "d_usd_bn", "2025Q2", 99.0, 98.0, 100.0))  # the committed vintage, revised
    assert ledger_file.append(again, path).empty and path.read_bytes() == before
    new = _rows(("2025-06-30", "d_usd_bn", "2025Q3", 11.0, 9.0, 13.0), ("2025-06-30", "required_usd_bn", "2025Q4", 5.0,
                                                                       5.0, 5.0))
    assert len(ledger_file.append(new, path)) == 2
    after = path.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 4
    assert ledger_file.load(path)["forecast"].tolist() == [10.0, 11.0, 5.0]


def test_an_appended_bad_row_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / ledger_file.FILE
    path.write_text(HEADER + GOOD)
    before = path.read_bytes()
    bad = _rows(("2025-06-30", "d_usd_bn", "2025Q3", 20.0, 9.0, 13.0))  # forecast above its interval
    with pytest.raises(DataValidationError, match="inside_interval"):
        ledger_file.append(bad, path)
    assert path.read_bytes() == before


def test_update_on_the_real_data_appends_the_missing_vintages_and_keeps_the_first_rows_byte_for_byte(
        tmp_path, ds, base_scenario):
    path = tmp_path / ledger_file.FILE
    shutil.copy(ledger_file.path(), path)
    lines = path.read_text().splitlines(keepends=True)
    first = lines[1].split(",")[0]
    kept = "".join([lines[0], *(line for line in lines[1:] if line.startswith(first))])
    path.write_text(kept)
    added = ledger.update(base_scenario, ds, path)
    assert first not in {str(v.date()) for v in added["vintage"]} and len(added) > 0
    assert path.read_text().startswith(kept)
    assert ledger.update(base_scenario, ds, path).empty  # every vintage the data support is now held


# ----------------------------------------------------------------------------- scoring


def test_scoring_a_constructed_ledger_gives_the_known_errors_and_coverage():
    rows = _rows(("2025-03-31", "d_usd_bn", "2025Q2", 10.0, 8.0, 12.0),
                 ("2025-03-31", "d_usd_bn", "2025Q3", 10.0, 8.0, 12.0),
                 ("2025-03-31", "d_usd_bn", "2025Q4", 10.0, 8.0, 12.0),  # no outcome yet: not scored
                 ("2025-03-31", "required_usd_bn", "2025Q2", 50.0, 50.0, 50.0))
    outcomes = pd.DataFrame({"quantity": ["d_usd_bn", "d_usd_bn", "required_usd_bn"],
                             "target_quarter": pd.PeriodIndex(["2025Q2", "2025Q3", "2025Q2"], freq="Q"),
                             "realized": [12.0, 20.0, 50.00004]})  # the bound, and a value within the written precision
    scored = ledger.score(rows, outcomes)
    d = scored[scored["quantity"] == "d_usd_bn"]
    np.testing.assert_allclose(d["error_log"], [np.log(1.2), np.log(2.0)])
    assert d["inside"].tolist() == [True, False]
    table = ledger.coverage(scored, rows, level=0.90).set_index("quantity")
    assert table.loc["d_usd_bn", ["forecasts", "scored", "inside"]].tolist() == [3, 2, 1]
    assert table.loc["d_usd_bn", "coverage"] == 0.5
    assert table.loc["d_usd_bn", "mean_error_log"] == pytest.approx((np.log(1.2) + np.log(2.0)) / 2)
    assert table.loc["d_usd_bn", "rmse_log"] == pytest.approx(np.sqrt((np.log(1.2) ** 2 + np.log(2.0) ** 2) / 2))
    # Clopper-Pearson for 1 of 2 at 90%: Beta(0.05; 1, 2) = 1 - sqrt(0.95), Beta(0.95; 2, 1) = sqrt(0.95)
    assert table.loc["d_usd_bn", "coverage_low"] == pytest.approx(1 - np.sqrt(0.95))
    assert table.loc["d_usd_bn", "coverage_high"] == pytest.approx(np.sqrt(0.95))
    assert table.loc["required_usd_bn", ["scored", "inside", "coverage", "coverage_high"]].tolist() == [1, 1, 1.0, 1.0]
    # 1 of 1 inside: the lower bound is 0.05 ** (1/1)
    assert table.loc["required_usd_bn", "coverage_low"] == pytest.approx(0.05)


def test_the_line_takes_each_quarters_earliest_r_star_and_scores_d_above_or_below():
    rows = _rows(("2025-03-31", "required_usd_bn", "2025Q3", 50.0, 50.0, 50.0),
                 ("2025-06-30", "required_usd_bn", "2025Q3", 60.0, 60.0, 60.0),
                 ("2025-06-30", "required_usd_bn", "2025Q4", 70.0, 70.0, 70.0))
    first = pd.DataFrame({"quantity": "d_usd_bn", "target_quarter": pd.PeriodIndex(["2025Q3", "2025Q4"], freq="Q"),
                          "realized": [55.0, 35.0]})
    out = ledger.line(rows, first)
    assert out["required_usd_bn"].tolist() == [50.0, 70.0] and out["above"].tolist() == [True, False]
    assert out["d_over_required"].tolist() == pytest.approx([1.1, 0.5])


# ----------------------------------------------------------------------------- no look-ahead, on the real data


def test_filing_dates_use_the_sources_day_else_the_end_of_the_next_quarter(ds):
    filed = ledger.filing_dates(ds)
    fin = ds.financials
    day = fin["source_id"].map(ds.sources.set_index("source_id")["date_published"])
    full = day.str.len() == 10
    assert (filed[full] == pd.to_datetime(day[full])).all()
    lagged = fin.loc[~full, "period_end"].dt.to_period("Q") + 1
    assert (filed[~full] == lagged.map(lambda q: q.end_time.normalize())).all()


def test_the_first_vintage_uses_only_what_was_published_by_its_cutoff(ds, base_scenario):
    panel = disclosures.load(ds)
    committed = ledger_file.load()
    cutoff = committed["vintage"].min()
    mine = committed[committed["vintage"] == cutoff]
    latest = pd.Timestamp(mine.loc[mine["quantity"] == "d_usd_bn", "data_vintage"].iloc[0].split("latest ")[1][:10])
    assert latest <= cutoff
    # everything published or filed after the cutoff tripled: the vintage's forecasts do not move
    later = panel["published"] > cutoff
    assert later.sum() > 30  # most of the data came after it
    shaken_panel = panel.assign(value_usd_bn=panel["value_usd_bn"].where(~later, panel["value_usd_bn"] * 3))
    after = (ledger.filing_dates(ds) > cutoff).to_numpy()
    fin = ds.financials.assign(value_usd_bn=ds.financials["value_usd_bn"].where(~after, ds.financials["value_usd_bn"] * 3))
    shaken = dataclasses.replace(ds, financials=fin)
    made = ledger.forecasts(base_scenario, shaken, [cutoff], shaken_panel)
    again = ledger.forecasts(base_scenario, ds, [cutoff], panel)
    pd.testing.assert_frame_equal(made, again)


def test_the_track_record_on_the_real_data_declares_the_headlines_it_records(ds, base_scenario):
    record = ledger.track_record(base_scenario, ds)
    summary, heads = record.summary(), record.headlines()
    assert {h.key for h in heads} <= set(summary) and all(h.label and h.unit and h.period for h in heads)
    d = record.score("d_usd_bn")
    assert summary["ledger_d_scored"] == d["scored"] == len(record.scored.query("quantity == 'd_usd_bn'"))
    assert summary["ledger_d_coverage"] == pytest.approx(d["inside"] / d["scored"], abs=1e-4)
    # every outcome scored as first disclosed was public by the latest publication date in the data
    first_release = (record.scored["target_quarter"] + 1).map(lambda q: q.end_time.normalize())
    assert (first_release[record.scored["quantity"] == "d_usd_bn"] <= record.last_published).all()


def test_the_ledger_command_appends_nothing_to_a_full_ledger_and_refuses_a_bad_one_in_one_line(tmp_path):
    from conftest import invoke_cli

    path = tmp_path / ledger_file.FILE
    shutil.copy(ledger_file.path(), path)
    before = path.read_bytes()
    done = invoke_cli("ledger", "--update", "--file", path)
    assert done.returncode == 0 and "nothing appended" in done.stdout and path.read_bytes() == before
    path.write_text(HEADER + GOOD.replace("10.0000", "ten"))
    refused = invoke_cli("ledger", "--file", path)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "forecast_ledger.csv row 2, column forecast: rule 'number'" in refused.stderr


def test_every_scenario_scores_the_committed_forecasts_with_the_ledgers_own_assumptions(ds, base_scenario):
    from valuechain.scenario.load import load_scenario

    base = ledger.track_record(base_scenario, ds)
    bear = ledger.track_record(load_scenario("bear"), ds)
    assert bear.scenario == base.scenario == "base"
    pd.testing.assert_frame_equal(bear.scores, base.scores)
