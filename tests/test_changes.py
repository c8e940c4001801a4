"""What changed since the previous run: the run's record, the previous one, and the index's lines."""
import datetime as dt
import json

import pytest

from valuechain.publish import changes, site


def _declared(key, label, unit, period, detail=False):
    return {"key": key, "label": label, "unit": unit, "period": period, "note": "", "detail": detail}


def _run(folder, vintage="2026-05-31", discount=0.15, chips=0.61, close=2029.4, sequoia_year="2025", extra=None):
    """What a run leaves in a scenario folder that the record reads: parameters, figures, a page stating the vintage."""
    folder.mkdir(exist_ok=True)
    params = {"name": "base", "title": "Base case", "valuation": {"discount_rate": discount, "rationale": "Why."},
              "projection": {"capex_growth": {"2026": 0.75, "2027": 0.35}}}
    figures = {"01_profit_capture": {"chips_profit_share": chips, "chips_operating_profit_usd_bn": 132.9, "headlines": [
        _declared("chips_profit_share", "Chips share of chain operating profit", "share", "2025"),
        _declared("chips_operating_profit_usd_bn", "Chips operating profit", "usd_bn", "2025", detail=True)]},
        "02_demand_gap": {"close_year": close, "sequoia_required_usd_bn": 996.96, "headlines": [
            _declared("close_year", "Gap closes (year, at the current rate)", "year", "2026Q2"),
            _declared("sequoia_required_usd_bn", "Required revenue, Sequoia (GPU run-rate)", "usd_bn", sequoia_year)]}}
    if extra:
        figures["02_demand_gap"].update(extra)
    (folder / "parameters.json").write_text(json.dumps(params))
    (folder / "metrics.json").write_text(json.dumps(figures))
    (folder / "01_profit_capture.inputs").write_text("key\n")
    (folder / "01_profit_capture.html").write_text(f"<p>Data vintage: filed figures through {vintage}. Run on x.</p>")


def test_a_run_is_recorded_and_the_record_it_replaces_kept_as_the_previous(tmp_path):
    folder = tmp_path / "base"
    _run(folder)
    assert changes.keep(folder, dt.date(2026, 11, 30)) and not (folder / changes.PREVIOUS).exists()
    record = json.loads((folder / changes.RECORD).read_text())
    assert record["vintage"] == "2026-05-31" and record["recorded_on"] == "2026-11-30"
    assert record["parameters"] == {"valuation.discount_rate": 0.15, "projection.capex_growth": {"2026": 0.75, "2027": 0.35}}
    assert [f["key"] for f in record["figures"]] == ["chips_profit_share", "close_year", "sequoia_required_usd_bn"]  # no detail
    assert not changes.keep(folder, dt.date(2026, 12, 1))  # nothing changed: nothing written, the date stays
    assert json.loads((folder / changes.RECORD).read_text())["recorded_on"] == "2026-11-30"
    _run(folder, vintage="2026-08-31", discount=0.2, chips=0.63)
    assert changes.keep(folder, dt.date(2026, 12, 2))
    assert json.loads((folder / changes.PREVIOUS).read_text()) == record
    assert json.loads((folder / changes.RECORD).read_text())["recorded_on"] == "2026-12-02"


def test_the_change_lines_give_old_and_new_values(tmp_path):
    folder = tmp_path / "base"
    _run(folder)
    changes.keep(folder, dt.date(2026, 11, 30))
    _run(folder, vintage="2026-08-31", discount=0.2, chips=0.63, close=2029.2, sequoia_year="2024",
         extra={"prob_reach": 0.92, "headlines": None})
    nb = json.loads((folder / "metrics.json").read_text())
    nb["02_demand_gap"]["headlines"] = [
        _declared("close_year", "Gap closes (year, at the current rate)", "year", "2026Q2"),  # 2029.4 and 2029.2 both read 2029
        _declared("sequoia_required_usd_bn", "Required revenue, Sequoia (GPU run-rate)", "usd_bn", "2024"),
        _declared("prob_reach", "P(D reaches R*'s committed path by 2030)", "probability", "2030")]
    (folder / "metrics.json").write_text(json.dumps(nb))
    changes.keep(folder, dt.date(2026, 12, 2))
    _, _, lines = changes.changes(folder)
    assert lines == [
        "Data: filed figures through 2026-08-31 (was 2026-05-31)",
        "Discount rate: from 0.15 to 0.2",
        "Chips share of chain operating profit, 2025: from 61% to 63%",
        "Required revenue, Sequoia (GPU run-rate): from USD 997bn (2025) to USD 997bn (2024)",
        "P(D reaches R*'s committed path by 2030), 2030: 0.92 (new)",
    ]
    index = site.index_page(tmp_path)
    section = index[index.index('id="changes"'):]
    assert ("<details open=\"\"><summary><strong>Base case</strong> (run of 2026-12-02, against 2026-11-30)</summary>"
            "<ul><li>Data: filed figures through 2026-08-31 (was 2026-05-31)</li>") in section
    assert "<li>Chips share of chain operating profit, 2025: from 61% to 63%</li>" in section


def test_a_figure_no_longer_recorded_and_many_changes_are_bounded():
    figure = {"notebook": "01", "key": "k", "label": "Labs share", "unit": "share", "period": "2025", "value": -0.21}
    before = {"vintage": "v", "parameters": {f"layers.cloud.p{i}": i for i in range(15)}, "figures": [figure]}
    after = {"vintage": "v", "parameters": {f"layers.cloud.p{i}": i + 1 for i in range(15)}, "figures": []}
    lines = changes.change_lines(before, after)
    assert lines[0] == "Cloud, p0: from 0 to 1" and lines[12] == "and 3 more parameters"
    assert lines[13:] == ["Labs share, 2025: no longer recorded (was -21%)"]


TAMPERED = [
    "not json",
    "[1, 2, 3]",
    json.dumps({"vintage": "2026-05-31", "parameters": [], "figures": []}),
    json.dumps({"vintage": "2026-05-31", "parameters": {}, "figures": [{"key": "k"}]}),
    json.dumps({"vintage": "x" * 1000, "parameters": {}, "figures": []}),
    json.dumps({"vintage": "2026-05-31", "parameters": {"a": {"nested": {"deep": 1}}}, "figures": []}),
    json.dumps({"vintage": "2026-05-31", "parameters": {}, "figures": [
        {"notebook": "n", "key": "k", "label": "<script>", "unit": "share", "period": "2025", "value": [1]}]}),
    "[" * 100_000 + "]" * 100_000,
    " " * (changes.MAX_BYTES + 1),
]


@pytest.mark.parametrize("text", TAMPERED)
def test_a_tampered_previous_record_is_ignored_with_one_line(tmp_path, capsys, text):
    folder = tmp_path / "base"
    _run(folder)
    changes.keep(folder, dt.date(2026, 11, 30))
    (folder / changes.PREVIOUS).write_text(text)
    assert changes.changes(folder) is None
    index = site.index_page(tmp_path)  # no crash, and nothing said about changes
    assert 'id="changes"' not in index
    err = capsys.readouterr().err
    assert err.count(f"{folder / changes.PREVIOUS}:") == 1 and err.count("\n") == 1


def test_a_tampered_latest_record_is_replaced_and_never_kept_as_the_previous(tmp_path, capsys):
    folder = tmp_path / "base"
    _run(folder)
    (folder / changes.RECORD).write_text('{"vintage": 7}')
    assert changes.keep(folder, dt.date(2026, 11, 30))
    assert not (folder / changes.PREVIOUS).exists() and json.loads((folder / changes.RECORD).read_text())["vintage"] == "2026-05-31"
    assert "not a run's record (no data vintage); it is ignored" in capsys.readouterr().err


@pytest.mark.notebooks  # runs the tiny notebook twice
def test_a_run_that_changes_a_parameter_says_so_on_the_index(tiny):
    from valuechain.batch import runner

    params, notebooks, outputs = tiny
    kw = {"outputs": outputs, "params_dir": params, "notebooks_dir": notebooks, "progress": False, "jobs": 1, "scenarios": ["other"]}
    runner.run(**kw)
    assert (outputs / "other" / changes.RECORD).is_file() and not (outputs / "other" / changes.PREVIOUS).exists()
    runner.run(**kw)  # cached: nothing changed, nothing written
    assert not (outputs / "other" / changes.PREVIOUS).exists()
    with (params / "other.yaml").open("a") as f:
        f.write("valuation:\n  discount_rate: 0.2\n  rationale: A higher return for a riskier company.\n")
    runner.run(**kw)
    _, _, lines = changes.changes(outputs / "other")
    assert lines == ["Discount rate: from 0.15 to 0.2"]
    assert "<li>Discount rate: from 0.15 to 0.2</li>" in site.index_page(outputs)
