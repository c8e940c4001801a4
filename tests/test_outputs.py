"""A folder of outputs read as untrusted input (issue 28): paths it names stay inside it, clean removes
only what valuechain wrote, the lock never writes through a link, a corrupt file is treated as missing,
every failure is on the index, a killed batch's scratch is removed, and report writes nothing before
its checks pass."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import invoke_cli
from valuechain import paths
from valuechain.batch import runner
from valuechain.exceptions import OutputError
from valuechain.files import OutputsLock
from valuechain.publish import exports, outputs as reader, site

NOTEBOOKS = runner.notebook_names()
DEEP = "[" * 100_000 + "]" * 100_000  # deeper than any JSON parser recurses


def _notebook(path: Path, title: str = "A page") -> None:
    import nbformat
    from nbformat.v4 import new_markdown_cell, new_notebook

    nbformat.write(new_notebook(cells=[new_markdown_cell(f"# {title}")]), str(path))


def _scenario(outputs: Path, name: str = "base", notebooks=NOTEBOOKS[:2]) -> Path:
    """A scenario folder as a run leaves it: recorded parameters and figures, pages, notebooks, cache markers."""
    folder = outputs / name
    folder.mkdir(parents=True, exist_ok=True)
    (outputs / reader.MARKER).write_text("")
    (folder / "parameters.json").write_text(json.dumps({"title": f"Title of {name}"}))
    for stem in notebooks:
        _notebook(folder / f"{stem}.ipynb", f"Title of {stem}")
        (folder / f"{stem}.html").write_text("<html></html>")
        (folder / f"{stem}.json").write_text(json.dumps({"x": 1}))
        (folder / f"{stem}.inputs").write_text("key\n")
    (folder / "metrics.json").write_text(json.dumps({stem: {"x": 1} for stem in notebooks}))
    return folder


def _victims(tmp_path: Path) -> dict[Path, str]:
    """Files outside the outputs folder that a tampered folder points at."""
    outside = tmp_path / "outside"
    outside.mkdir()
    files = {outside / "a.png": "keep a", outside / "b.svg": "keep b", outside / "c.xlsx": "keep c"}
    for path, text in files.items():
        path.write_text(text)
    return files


def _intact(files: dict[Path, str]) -> bool:
    return all(path.read_text() == text for path, text in files.items())


# ----------------------------------------------------------------------------- containment (repro 1)

def test_a_tampered_manifest_deletes_nothing_outside_the_scenario_folder(tmp_path, capsys):
    outputs = tmp_path / "out"
    folder = _scenario(outputs)
    victims = _victims(tmp_path)
    (folder / "inside.png").symlink_to(tmp_path / "outside" / "a.png")
    (folder / "notes.txt").write_text("not a chart")
    manifest = {"workbook": str(tmp_path / "outside" / "c.xlsx"), "deck": "../../outside/c.xlsx",
                "charts": [{"title": "absolute", "png": str(tmp_path / "outside" / "a.png"),
                            "svg": str(tmp_path / "outside" / "b.svg")},
                           {"title": "up", "png": "../../outside/a.png", "svg": "../../outside/b.svg"},
                           {"title": "link out", "png": "inside.png", "svg": "inside.png"},
                           {"title": "not a chart", "png": "notes.txt", "svg": "metrics.json"},
                           {"title": "not text", "png": 3, "svg": None}, "not an entry"]}
    (folder / "exports.json").write_text(json.dumps(manifest))
    written = exports.write_all(folder)
    assert _intact(victims) and (folder / "notes.txt").exists() and (folder / "metrics.json").exists()
    assert (folder / "inside.png").is_symlink()  # a link out is never followed, nor removed
    assert written["workbook"] == "base.xlsx" and (folder / "base.xlsx").is_file()
    err = capsys.readouterr().err
    assert f"{folder / 'exports.json'}: the path '../../outside/a.png' is not a plain file name" in err
    assert "'inside.png' is a link out of its folder" in err
    assert all(line.startswith("valuechain: warning: ") for line in err.splitlines())


def test_the_index_lists_only_exports_inside_the_scenario_folder(tmp_path):
    outputs = tmp_path / "out"
    folder = _scenario(outputs)
    _victims(tmp_path)
    (folder / "base.xlsx").write_bytes(b"x")
    (folder / "pool.png").write_bytes(b"x")
    (folder / "pool.svg").write_text("<svg/>")
    (folder / "exports.json").write_text(json.dumps({
        "workbook": "base.xlsx", "deck": str(tmp_path / "outside" / "c.xlsx"),
        "charts": [{"title": "Pool", "png": "pool.png", "svg": "pool.svg"},
                   {"title": "Out", "png": "../../outside/a.png", "svg": "../../outside/b.svg"}]}))
    found = exports.listing(folder)
    assert found == {"files": [("Excel workbook (.xlsx)", folder / "base.xlsx")],
                     "charts": [("Pool", folder / "pool.png", folder / "pool.svg")]}
    for bad in ("{cut short", "[1]", DEEP, ""):
        (folder / "exports.json").write_text(bad)
        assert exports.listing(folder) == {}


@pytest.mark.parametrize("name", ["/etc/passwd", "..", ".", "../x.png", "a/b.png", ".hidden.png", "", None, 3, "a\0b"])
def test_a_path_read_from_outputs_must_name_a_file_in_its_folder(tmp_path, name, capsys):
    assert reader.contained(tmp_path, name, tmp_path / "exports.json") is None
    assert capsys.readouterr().err.startswith(f"valuechain: warning: {tmp_path / 'exports.json'}: the path")


def test_only_chart_files_the_exports_wrote_are_removed(tmp_path):
    (tmp_path / "pool.png").write_bytes(b"x")
    (tmp_path / "parameters.json").write_text("{}")
    (tmp_path / "target.png").write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(tmp_path / "target.png")
    assert not exports.remove_chart(tmp_path, tmp_path / "parameters.json")
    assert not exports.remove_chart(tmp_path, tmp_path / "link.png") and (tmp_path / "target.png").exists()
    assert not exports.remove_chart(tmp_path / "sub", tmp_path / "pool.png")
    assert exports.remove_chart(tmp_path, tmp_path / "pool.png") and not (tmp_path / "pool.png").exists()


def test_publish_never_reads_or_writes_through_a_symlinked_scenario_folder(tmp_path):
    outputs = tmp_path / "out"
    _scenario(outputs, "base")
    elsewhere = _scenario(tmp_path / "elsewhere", "bear", notebooks=NOTEBOOKS[:1])
    (outputs / "bear").symlink_to(elsewhere)
    before = {p: p.read_bytes() for p in elsewhere.iterdir()}
    proc = invoke_cli("publish", "--outputs", outputs)
    assert proc.returncode == 0, proc.stderr
    assert {p: p.read_bytes() for p in elsewhere.iterdir()} == before
    assert "bear" not in (outputs / "index.html").read_text()
    assert f"{outputs / 'bear'}: is a symbolic link, which publish never follows" in proc.stderr


# ----------------------------------------------------------------------------- clean (repro 2)

def _site_files(outputs: Path) -> dict:
    return {p: p.read_bytes() for p in outputs.rglob("*") if p.is_file() and not p.is_symlink()
            and p.name not in (".lock", "index.html", "index.inputs", "metrics.csv", "run.json", reader.MARKER)}


def test_clean_on_a_healthy_site_removes_nothing_the_index_links(tmp_path):
    outputs = tmp_path / "out"
    folder = _scenario(outputs, notebooks=NOTEBOOKS)
    (folder / "exports.json").write_text(json.dumps({"workbook": "base.xlsx", "charts": []}))
    (folder / "base.xlsx").write_bytes(b"x")
    (outputs / "run.json").write_text(json.dumps({"items": []}))
    before = _site_files(outputs)
    proc = invoke_cli("clean", "--outputs", outputs)
    assert proc.returncode == 0, proc.stderr
    assert "0 stale outputs removed" in proc.stdout and _site_files(outputs) == before
    assert 'href="base/base.xlsx"' in (outputs / "index.html").read_text()


def test_clean_refuses_a_folder_that_is_not_a_valuechain_outputs_folder(tmp_path):
    folder = tmp_path / "mine"
    (folder / "project").mkdir(parents=True)
    (folder / "project" / "parameters.json").write_text("{}")
    (folder / "project" / "01_profit_capture.inputs").write_text("mine\n")
    proc = invoke_cli("clean", "--outputs", folder)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and f"{folder.resolve()}: is not a valuechain outputs folder" in proc.stderr
    assert sorted(p.name for p in folder.rglob("*")) == ["01_profit_capture.inputs", "parameters.json", "project"]


def test_clean_accepts_a_folder_an_older_version_made_and_marks_it(tmp_path):
    outputs = tmp_path / "out"
    _scenario(outputs)
    (outputs / reader.MARKER).unlink()
    assert not reader.is_outputs_folder(outputs)
    (outputs / "run.json").write_text(json.dumps({"items": []}))  # what every run of an older version wrote
    assert reader.is_outputs_folder(outputs)
    assert invoke_cli("clean", "--outputs", outputs).returncode == 0
    assert (outputs / reader.MARKER).is_file()
    (outputs / "run.json").write_text(json.dumps({"not": "a status"}))
    (outputs / reader.MARKER).unlink()
    assert not reader.is_outputs_folder(outputs)


def test_clean_never_follows_a_symlinked_scenario_folder_and_keeps_files_it_did_not_write(tmp_path):
    outputs = tmp_path / "out"
    _scenario(outputs)
    elsewhere = _scenario(tmp_path / "elsewhere", "gone")
    (outputs / "gone").symlink_to(elsewhere)
    deleted = _scenario(outputs, "deleted_scenario")
    (deleted / "exports.json").write_text(json.dumps({"workbook": "deleted_scenario.xlsx", "deck": "../base/base.pptx",
                                                      "charts": [{"title": "t", "png": "p.png", "svg": "p.svg"}]}))
    for name in ("deleted_scenario.xlsx", "p.png", "p.svg"):
        (deleted / name).write_bytes(b"x")
    (outputs / "base" / "base.pptx").write_bytes(b"kept")
    (deleted / "my notes.txt").write_text("mine")
    before = {p: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()}
    proc = invoke_cli("clean", "--outputs", outputs)
    assert proc.returncode == 0, proc.stderr
    assert {p: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()} == before
    assert (outputs / "gone").is_symlink() and "is a symbolic link, which clean never follows" in proc.stderr
    assert sorted(p.name for p in deleted.iterdir()) == ["my notes.txt"]  # everything valuechain wrote, and no more
    assert (outputs / "base" / "base.pptx").read_bytes() == b"kept"
    plan = runner.clean_plan(outputs, runner.list_scenarios(), NOTEBOOKS)
    assert plan == []  # the folder left holds only the user's file, so it is no scenario's outputs any more


# ----------------------------------------------------------------------------- the lock (repro 3)

@pytest.mark.parametrize("kind", ["symlink", "hardlink", "fifo"])
def test_the_lock_never_writes_through_a_link(tmp_path, kind):
    outputs, victim = tmp_path / "out", tmp_path / "victim.txt"
    outputs.mkdir()
    victim.write_text("precious\n")
    lock = outputs / ".lock"
    {"symlink": lambda: lock.symlink_to(victim), "hardlink": lambda: os.link(victim, lock),
     "fifo": lambda: os.mkfifo(lock)}[kind]()
    with pytest.raises(OutputError, match=r"\.lock: is not an ordinary file of its own"):
        with OutputsLock(outputs):
            pass
    assert victim.read_text() == "precious\n"
    proc = subprocess.run([sys.executable, "-c", "from valuechain.cli import main; main()", "publish", "--outputs",
                           str(outputs)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert victim.read_text() == "precious\n"


# ----------------------------------------------------------------------------- self-healing (repro 6)

def _cached_item(outputs: Path):
    """One cached item of base with the cache key of the current inputs."""
    resolved = runner.load_all(["base"], paths.PARAMS_DIR)
    item = runner.Item("base", NOTEBOOKS[0])
    key = runner.inputs_hash(item, resolved["base"], paths.NOTEBOOKS_DIR, runner.shared_inputs_hash())
    folder = _scenario(outputs, notebooks=[item.notebook])
    (folder / f"{item.notebook}.inputs").write_text(key + "\n")
    later = (folder / f"{item.notebook}.inputs").stat().st_mtime_ns + 10**9
    os.utime(folder / f"{item.notebook}.inputs", ns=(later, later))
    return item, key, folder, resolved


TRUNCATED = '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# T'
NOT_A_NOTEBOOK = '{"cells": 3, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


CORRUPT = {  # id: (file, content, problem named, written after the cache marker)
    "figures-cut-short": (".json", "{cut short", "not JSON", False), "figures-empty": (".json", "", "not JSON", False),
    "figures-a-list": (".json", "[1, 2]", "not a JSON object", False),
    "figures-deep": (".json", DEEP, "nested too deep", False), "figures-not-utf8": (".json", b"\xff\xfe", "not UTF-8", False),
    "notebook-empty": (".ipynb", "", "empty", False),
    "notebook-cut-short": (".ipynb", TRUNCATED, "not a whole notebook", False),
    "notebook-a-list": (".ipynb", "[1]", "not a whole notebook", False),
    "notebook-no-cells": (".ipynb", NOT_A_NOTEBOOK, "not a notebook", True),
    "notebook-deep": (".ipynb", '{"cells": ' + DEEP + ', "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
                      "nested too deep", True),
}


@pytest.mark.parametrize("case", CORRUPT)
def test_a_corrupt_cached_file_is_treated_as_missing_and_named(tmp_path, case, capsys):
    suffix, text, problem, newer = CORRUPT[case]
    item, key, folder, _ = _cached_item(tmp_path / "out")
    assert runner.cached_figures(item, key, tmp_path / "out") == {"x": 1}
    path = folder / f"{item.notebook}{suffix}"
    inputs = (folder / f"{item.notebook}.inputs").stat().st_mtime_ns
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    if newer:  # passes the quick check of its ends: read whole, as a notebook written after its cache marker is
        os.utime(path, ns=(inputs + 10**9, inputs + 10**9))
    assert runner.cached_figures(item, key, tmp_path / "out") is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and problem in err and f"{item.label} runs again" in err


def test_corrupt_figures_and_metrics_files_are_left_out_of_the_tables(tmp_path, capsys):
    outputs = tmp_path / "out"
    _scenario(outputs, "base")
    _scenario(outputs, "bear")
    (outputs / "bear" / "metrics.json").write_text(DEEP)
    (outputs / "base" / f"{NOTEBOOKS[1]}.json").write_text("{cut")
    assert runner.scenario_figures(outputs / "base") == {NOTEBOOKS[0]: {"x": 1}}
    assert runner.comparison_table(outputs) == [{"scenario": "base", f"{NOTEBOOKS[0]}.x": 1, f"{NOTEBOOKS[1]}.x": 1},
                                                {"scenario": "bear"}]
    (outputs / "run.json").write_text(DEEP)
    runner.write_status(outputs, [runner.Outcome("base", NOTEBOOKS[0], "ok")])
    assert json.loads((outputs / "run.json").read_text())["items"][0]["status"] == "ok"
    (outputs / "base" / "parameters.json").write_text('{"a":' * 5000)
    assert reader.read_parameters(outputs / "base") == {}
    err = capsys.readouterr().err
    assert "bear/metrics.json: nested too deep" in err and f"base/{NOTEBOOKS[1]}.json: not JSON" in err


def test_publish_skips_a_broken_notebook_and_marks_it_on_the_index(tmp_path):
    outputs = tmp_path / "out"
    folder = _scenario(outputs, notebooks=NOTEBOOKS[:3])
    (folder / f"{NOTEBOOKS[0]}.ipynb").write_text("")
    (folder / f"{NOTEBOOKS[1]}.ipynb").write_text(NOT_A_NOTEBOOK)
    proc = invoke_cli("publish", "--outputs", outputs)
    assert proc.returncode == 0, proc.stderr
    index = (outputs / "index.html").read_text()
    assert f"BROKEN: {NOTEBOOKS[0]}" in index and "its executed notebook is empty" in index
    assert f"BROKEN: {NOTEBOOKS[1]}" in index and f'href="base/{NOTEBOOKS[2]}.html"' in index
    assert proc.stderr.count(f"{NOTEBOOKS[0]}.ipynb: empty") == 1 and "Traceback" not in proc.stderr
    assert (folder / f"{NOTEBOOKS[2]}.html").read_text() != "<html></html>"  # the readable one was rendered


def test_a_tampered_resolved_record_is_never_written_to_parameters_json(tmp_path):
    outputs = tmp_path / "out"
    item, key, folder, resolved = _cached_item(outputs)
    for stem in NOTEBOOKS[1:]:  # every notebook of base cached, so nothing executes
        other = runner.Item("base", stem)
        _notebook(folder / f"{stem}.ipynb")
        (folder / f"{stem}.html").write_text("<html></html>")
        (folder / f"{stem}.json").write_text(json.dumps({"x": 1}))
        (folder / f"{stem}.inputs").write_text(
            runner.inputs_hash(other, resolved["base"], paths.NOTEBOOKS_DIR, runner.shared_inputs_hash()) + "\n")
    for path in folder.glob("*.inputs"):
        os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    outcomes = runner.run(scenarios=["base"], outputs=outputs, progress=False)
    assert [o.status for o in outcomes] == ["cached"] * len(NOTEBOOKS)
    good = (folder / "parameters.json").read_text()
    record = json.loads((outputs / ".resolved.json").read_text())
    record["scenarios"]["base"] = {**record["scenarios"]["base"], "title": "<b>planted</b>"}
    (outputs / ".resolved.json").write_text(json.dumps(record))
    outcomes = runner.run(scenarios=["base"], outputs=outputs, progress=False)
    assert [o.status for o in outcomes] == ["cached"] * len(NOTEBOOKS)  # the scenario files were read again
    assert (folder / "parameters.json").read_text() == good and "planted" not in good


# ----------------------------------------------------------------------------- failures visible (repro 10)

def test_every_failed_item_is_on_the_index_with_its_reason(tmp_path):
    outputs = tmp_path / "out"
    _scenario(outputs, notebooks=NOTEBOOKS[:1])
    (outputs / "run.json").write_text(json.dumps({"items": [
        {"scenario": "base", "notebook": NOTEBOOKS[0], "status": "failed", "error": "the disk is full"},
        {"scenario": "base", "notebook": NOTEBOOKS[1], "status": "failed", "error": "the worker died <x>"},
        {"scenario": "base", "notebook": NOTEBOOKS[2], "status": "ok"}, "not an item", {"scenario": 3}]}))
    index = site.index_page(outputs)
    assert f"FAILED: {NOTEBOOKS[0]} (Title of {NOTEBOOKS[0]}): the disk is full (no failed notebook was kept)" in index
    assert f"FAILED: {NOTEBOOKS[1]}: the worker died &lt;x&gt; (no failed notebook was kept)" in index
    assert f'href="base/{NOTEBOOKS[0]}.html"' in index  # the previous good page stays linked
    assert index.count("FAILED") == 2


# ----------------------------------------------------------------------------- scratch (repro 11)

def test_the_scratch_of_a_killed_batch_is_removed_and_nothing_else(tmp_path, monkeypatch):
    temp, outputs = tmp_path / "tmp", tmp_path / "out"
    temp.mkdir()
    monkeypatch.setattr(runner, "_socket_parent", lambda: str(temp))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = temp / f"{runner.SOCKETS_PREFIX}{int(dead.stdout)}-abc123"
    alive = temp / f"{runner.SOCKETS_PREFIX}{os.getpid()}-def456"
    foreign = temp / "valuechain-kernels-notmine"
    for folder in (gone, alive, foreign):
        folder.mkdir()
        (folder / "connection.json").write_text("{}")
    scratch = outputs / ".tmp" / f"base__{NOTEBOOKS[0]}__123"
    scratch.mkdir(parents=True)
    (scratch / "01.ipynb").write_text("partial")
    (outputs / ".tmp" / "mine.txt").write_text("not scratch")
    removed = runner.remove_scratch(outputs)
    assert set(removed) == {gone, scratch}
    assert not gone.exists() and alive.exists() and foreign.exists() and (outputs / ".tmp" / "mine.txt").exists()
    (outputs / ".tmp" / "mine.txt").unlink()
    runner.remove_scratch(outputs)
    assert not (outputs / ".tmp").exists()


def test_a_symlinked_scratch_or_scenario_folder_is_refused_before_anything_runs(tmp_path):
    outputs, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    outputs.mkdir(), elsewhere.mkdir()
    for name in (".tmp", "base"):
        (outputs / name).symlink_to(elsewhere)
        with pytest.raises(OutputError, match=f"{name}: is a symbolic link"):
            runner.check_contained(outputs, ["base"])
        (outputs / name).unlink()
    assert list(elsewhere.iterdir()) == []


def test_kernel_connection_files_go_to_the_batchs_private_folder(tmp_path):
    config = runner.kernel_config(tmp_path)
    assert config.KernelManager.connection_file == str(tmp_path / "connection.json")


# ----------------------------------------------------------------------------- report's order (repro 12)

def test_report_writes_nothing_before_it_validates_and_locks(tmp_path, monkeypatch):
    outputs = tmp_path / "out"
    outputs.mkdir()
    with OutputsLock(outputs):  # another run holds the folder
        proc = invoke_cli("report", "--outputs", outputs)
    assert proc.returncode == 2 and "another valuechain run" in proc.stderr
    assert not (outputs / "data_coverage.csv").exists()
    params = tmp_path / "params"
    params.mkdir()
    (params / "base.yaml").write_text("no_such_key: 1\n")
    monkeypatch.setattr(paths, "PARAMS_DIR", params)
    proc = invoke_cli("report", "--outputs", outputs)
    assert proc.returncode == 2 and f"{params / 'base.yaml'}:" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (outputs / "data_coverage.csv").exists()
    assert stat.S_ISDIR(outputs.stat().st_mode) and sorted(p.name for p in outputs.iterdir()) == [".lock"]


def test_the_vintage_is_read_after_the_styles_a_page_opens_with(tmp_path):
    """nbconvert's styles take some 265 kB before the header that states the data vintage."""
    from valuechain.publish.outputs import stated_vintage

    styles = "<style>" + "x{color:red}" * 30_000 + "</style>"  # 360 kB
    (tmp_path / "01_profit_capture.html").write_text(f"<html><head>{styles}</head><body><div>Data vintage: filed figures "
                                                     "through 2026-08-31. Run on 2026-12-02.</div></body></html>")
    assert stated_vintage(tmp_path, "01_profit_capture") == "2026-08-31"
    assert stated_vintage(tmp_path, "02_demand_gap") == ""  # no page
