import json
import re

import pandas as pd
import pytest

from conftest import invoke_cli
from conftest import write_notebook as _notebook

from valuechain.batch import runner
from valuechain.publish import site
from valuechain.exceptions import ParameterError

OFF_MACHINE = re.compile(r"""\b(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


def off_machine_references(page: str) -> list[str]:
    """``src=``/``href=`` attributes and script imports of ``page`` that point off the machine (should be none)."""
    found = [page[m.start(): m.start() + 80] for m in OFF_MACHINE.finditer(page)]
    return found + [m.group(0)[:80] for m in site.FETCHING_SCRIPT.finditer(page)]


def _run(tiny, **kw):
    params, notebooks, outputs = tiny
    return runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, **({"jobs": 2} | kw))


def test_batch_writes_files_caches_and_reruns_only_what_changed(tiny):
    params, notebooks, outputs = tiny
    first = _run(tiny)
    assert [(o.scenario, o.status) for o in first] == [("base", "ok"), ("other", "ok")]
    for name in ("base", "other"):
        for suffix in ("ipynb", "html", "json", "inputs"):
            assert (outputs / name / f"01_quick.{suffix}").exists()
        assert json.loads((outputs / name / "01_quick.page.json").read_text()) == {"title": "Tiny notebook"}
        assert (outputs / name / "metrics.json").exists() and (outputs / name / "parameters.json").exists()
    assert (outputs / "metrics.csv").exists() and (outputs / "run.json").exists()
    assert not (outputs / ".tmp").exists()

    second = _run(tiny)
    assert all(o.status == "cached" and o.cached for o in second)

    (params / "other.yaml").write_text((params / "other.yaml").read_text()
                                       + "layers: {cloud: {pass_through: 0.5, rationale: Halved.}}\n")
    third = _run(tiny)
    assert {o.scenario: o.status for o in third} == {"base": "cached", "other": "ok"}
    assert json.loads((outputs / "other" / "metrics.json").read_text())["01_quick"]["cloud_pass_through"] == 0.5

    forced = _run(tiny, force=True)
    assert all(o.status == "ok" for o in forced)


def test_ctrl_c_handler_is_restored_and_runs_work_off_the_main_thread(tiny):
    import signal
    import threading

    before = signal.getsignal(signal.SIGINT)
    assert [o.status for o in _run(tiny, force=True)] == ["ok", "ok"]
    assert signal.getsignal(signal.SIGINT) is before  # the batch's own handler is gone afterwards

    seen = []
    worker = threading.Thread(target=lambda: seen.extend(o.status for o in _run(tiny, force=True)))
    worker.start()
    worker.join(timeout=300)
    assert seen == ["ok", "ok"]  # no signal handler can be installed there, and none is needed


def test_comparison_table_matches_each_metrics_json(tiny):
    _, _, outputs = tiny
    _run(tiny)
    table = pd.read_csv(outputs / "metrics.csv")
    assert list(table["scenario"]) == ["base", "other"]
    for _, row in table.iterrows():
        figures = json.loads((outputs / row["scenario"] / "metrics.json").read_text())["01_quick"]
        assert row["01_quick.b"] == figures["b"]
        assert row["01_quick.cloud_pass_through"] == figures["cloud_pass_through"]


def test_failing_notebook_fails_alone_and_keeps_the_previous_good_output(tiny):
    params, notebooks, outputs = tiny
    _run(tiny)
    good = (outputs / "other" / "01_quick.html").read_bytes()
    (params / "other.yaml").write_text((params / "other.yaml").read_text()
                                       + "layers: {cloud: {pass_through: 0.25, rationale: 'A lower pass-through to test a rerun.'}}\n")
    _notebook(notebooks / "02_broken.ipynb", "raise RuntimeError('deliberate failure for ' + scenario)")
    outcomes = _run(tiny)
    status = {(o.scenario, o.notebook): o for o in outcomes}
    assert status[("other", "01_quick")].status == "ok"
    broken = status[("base", "02_broken")]
    assert broken.status == "failed" and "RuntimeError: deliberate failure" in broken.error
    assert broken.failing_cell == 3  # execution count: the markdown cell does not count, the injected parameters do
    import nbformat

    failed_nb = nbformat.read(str(outputs / "base" / "02_broken.failed.ipynb"), as_version=4)
    assert any("papermill-error-cell-tag" in c.metadata.get("tags", []) or c.metadata.get("tags") == ["papermill-error-cell-tag"]
               for c in failed_nb.cells) or "An Exception was encountered" in json.dumps(failed_nb)
    assert not (outputs / "base" / "02_broken.html").exists()
    assert (outputs / "other" / "01_quick.html").read_bytes() != good  # the changed scenario was re-run
    index = site.publish(outputs, rerender=False).read_text()
    assert "FAILED: 02_broken" in index and "02_broken.failed.ipynb" in index


def test_site_escapes_user_text_and_stays_on_the_machine(tiny):
    _, _, outputs = tiny
    _run(tiny)
    index = site.publish(outputs).read_text()
    page = (outputs / "other" / "01_quick.html").read_text()
    for text in (index, page):
        assert "<script>alert('x')</script>" not in text
        # shown as text: escaped, and the sanitizer writes the quotes inside text as plain quotes
        assert "&lt;script&gt;alert('x')&lt;/script&gt;" in text or "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
        assert "Other &lt;b&gt;case&lt;/b&gt;" in text
        assert off_machine_references(text) == []
    assert not re.search(r'class="[^"]*(jp-InputArea-editor|jp-InputPrompt)', page) and "notebook.record" not in page
    assert "Section one" in page and 'href="#Section-one"' in page  # table of contents
    assert "Data vintage" in page and "Parameters this page ran with" in page
    assert 'href="other/01_quick.html"' in index and 'href="other/01_quick.ipynb"' in index


def test_unknown_names_and_bad_jobs_are_refused_before_running(tiny):
    with pytest.raises(ParameterError, match="unknown scenario 'nope'; choose from: base, other"):
        _run(tiny, scenarios=["nope"])
    with pytest.raises(ParameterError, match="unknown notebook 'nope'"):
        _run(tiny, notebooks=["nope"])
    with pytest.raises(ParameterError, match="--jobs 0 is not allowed"):
        runner.run(jobs=0, progress=False)
    with pytest.raises(ParameterError, match="is not allowed"):
        _run(tiny, scenarios=["../etc"])


def test_second_run_is_refused_while_the_lock_is_held(tiny):
    _, _, outputs = tiny
    with runner.OutputsLock(outputs):
        with pytest.raises(runner.RunLockedError, match="another valuechain run"):
            _run(tiny)


def test_real_notebooks_publish_a_site_without_code(executed_outputs):
    tmp_path = executed_outputs
    statuses = {(i["scenario"], i["notebook"]): i["status"] for i in json.loads((tmp_path / "run.json").read_text())["items"]}
    assert len(statuses) == len(runner.list_scenarios()) * len(runner.notebook_names()) and set(statuses.values()) == {"ok"}
    index = site.publish(tmp_path, rerender=False).read_text()
    assert 'id="comparison"' in index and "Chips share of chain operating profit" in index
    for page in tmp_path.glob("*/*.html"):
        text = page.read_text()
        assert off_machine_references(text) == []
        assert "import valuechain" not in text
        images = re.findall(r"<img\b[^>]*>", text)
        assert len([i for i in images if 'src="data:image/svg+xml;base64,' in i]) >= (3 if page.stem < "03" else 1)
        assert re.search(r'alt="[^"]{40,}"', text)
    figures = json.loads((tmp_path / "base" / "metrics.json").read_text())
    assert set(figures) == set(runner.notebook_names())


# ----------------------------------------------------------------------------- issue 16: trust


import errno
import os
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from valuechain import paths
from valuechain.scenario.names import list_scenarios
from valuechain.exceptions import OutputError


def _two_notebooks(tiny):
    params, notebooks, outputs = tiny
    _notebook(notebooks / "02_second.ipynb", "from valuechain.report import notebook\nnotebook.record({'c': 3}, metrics_path)")
    return tiny


def test_a_subset_run_keeps_the_other_notebooks_figures(tiny):
    _, _, outputs = _two_notebooks(tiny)
    _run(tiny)
    full = (outputs / "base" / "metrics.json").read_bytes()
    table = (outputs / "metrics.csv").read_bytes()
    outcomes = _run(tiny, scenarios=["base"], notebooks=["02_second"])
    assert [o.status for o in outcomes] == ["cached"]
    assert (outputs / "base" / "metrics.json").read_bytes() == full
    assert (outputs / "metrics.csv").read_bytes() == table
    _run(tiny, scenarios=["base"], notebooks=["02_second"], force=True)
    assert set(json.loads((outputs / "base" / "metrics.json").read_text())) == {"01_quick", "02_second"}


def test_a_later_good_run_clears_a_failure_from_the_index(tiny):
    params, notebooks, outputs = _two_notebooks(tiny)
    _run(tiny)
    slow = "import time\ntime.sleep(30)\nfrom valuechain.report import notebook\nnotebook.record({'c': 3}, metrics_path)"
    good = (notebooks / "02_second.ipynb").read_bytes()
    _notebook(notebooks / "02_second.ipynb", slow)
    failed = _run(tiny, scenarios=["base"], notebooks=["02_second"], timeout=1)
    assert failed[0].status == "failed"
    index = site.publish(outputs, rerender=False).read_text()
    assert "FAILED: 02_second" in index and "ran longer than the 1-second timeout" in index
    (notebooks / "02_second.ipynb").write_bytes(good)
    again = _run(tiny, scenarios=["base"])
    assert [o.status for o in again] == ["cached", "cached"]
    index = site.publish(outputs, rerender=False).read_text()
    assert "FAILED" not in index and not (outputs / "base" / "02_second.failed.ipynb").exists()
    assert 'href="base/02_second.html"' in index


def test_the_index_leaves_out_deleted_scenarios_and_notebooks_and_clean_removes_them(tiny):
    params, notebooks, outputs = _two_notebooks(tiny)
    _run(tiny)
    (params / "other.yaml").unlink()
    (notebooks / "02_second.ipynb").unlink()
    _run(tiny)
    current = {"scenarios": list_scenarios(params), "notebooks": runner.notebook_names(notebooks)}
    index = site.publish(outputs, rerender=False, **current).read_text()
    assert "other/" not in index and "02_second" not in index and 'href="base/01_quick.html"' in index
    table = pd.read_csv(outputs / "metrics.csv")
    assert list(table["scenario"]) == ["base"] and not [c for c in table.columns if c.startswith("02_second")]
    assert {(i["scenario"], i["notebook"]) for i in json.loads((outputs / "run.json").read_text())["items"]} == {
        ("base", "01_quick")}

    removed = runner.prune(outputs, params, notebooks)
    assert outputs / "other" in removed and outputs / "base" / "02_second.html" in removed
    assert not (outputs / "other").exists() and not list((outputs / "base").glob("02_second*"))
    assert set(json.loads((outputs / "base" / "metrics.json").read_text())) == {"01_quick"}
    assert (outputs / "base" / "01_quick.html").exists()
    assert runner.prune(outputs, params, notebooks) == []  # nothing left to remove


def test_clean_command_says_what_it_removed(tmp_path):
    outputs = tmp_path / "out"
    gone = outputs / "deleted_scenario"
    gone.mkdir(parents=True)
    (gone / "parameters.json").write_text("{}")
    (gone / "01_profit_capture.inputs").write_text("x\n")
    keep = outputs / "notes"
    keep.mkdir()
    (keep / "mine.txt").write_text("not an output")
    (outputs / ".valuechain").write_text("")  # the marker the runner writes
    proc = invoke_cli("clean", "--outputs", outputs)
    assert proc.returncode == 0, proc.stderr
    assert f"removed {gone.resolve()}" in proc.stdout and "1 stale output removed" in proc.stdout
    assert not gone.exists() and (keep / "mine.txt").exists()


@contextmanager
def _umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_generated_files_follow_the_umask(tiny):
    _, _, outputs = tiny
    with _umask(0o022):
        _run(tiny)
        site.publish(outputs)
    files = [p for p in outputs.rglob("*") if p.is_file() and p.name != ".lock"]
    modes = {str(p.relative_to(outputs)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert set(modes.values()) == {"0o644"}, modes
    assert {"index.html", "metrics.csv", "run.json", "base/metrics.json", "base/01_quick.html",
            "base/01_quick.ipynb"} <= set(modes)


def test_publish_takes_the_run_lock(tiny):
    _, _, outputs = tiny
    _run(tiny)
    with runner.OutputsLock(outputs):
        with pytest.raises(runner.RunLockedError, match="another valuechain run"):
            site.publish(outputs)
    assert site.publish(outputs).exists()


@contextmanager
def _read_only(folder):
    """Make ``folder`` unwritable: a read-only mount as root (permissions do not stop root), else chmod."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot make a read-only folder here (root without mount)")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_outputs_folder_is_one_line_before_anything_runs(tiny):
    params, notebooks, outputs = tiny
    with _read_only(outputs):
        proc = subprocess.run([sys.executable, "-c", (
            "import sys\nfrom pathlib import Path\nfrom valuechain.batch import runner\n"
            "from valuechain.exceptions import ValuechainError\n"
            f"try:\n    runner.run(outputs=Path({str(outputs)!r}), params_dir=Path({str(params)!r}), "
            f"notebooks_dir=Path({str(notebooks)!r}), progress=False)\n"
            "except ValuechainError as exc:\n    print(exc)\n    sys.exit(2)\n")], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.count("\n") == 1 and str(outputs) in proc.stdout
    assert "read-only file system" in proc.stdout or "no permission" in proc.stdout


def test_an_unwritable_scenario_folder_is_refused_before_any_notebook_runs(tiny):
    params, notebooks, outputs = tiny
    ran = notebooks.parent / "ran"
    _notebook(notebooks / "01_quick.ipynb", f"open({str(ran)!r}, 'a').write('x')")
    with _read_only(outputs / "other"):
        with pytest.raises(OutputError, match=r"other: cannot write .*(read-only file system|no permission)") as info:
            _run(tiny)
    assert "\n" not in str(info.value)
    assert not ran.exists()  # no notebook was executed


def test_a_notebook_without_kernelspec_is_refused_before_any_runs(tiny):
    params, notebooks, outputs = tiny
    path = notebooks / "02_nokernel.ipynb"
    _notebook(path, "x = 1")
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("kernelspec")
    nbformat.write(nb, str(path))
    with pytest.raises(ParameterError, match=r"02_nokernel.ipynb: the notebook's metadata has no kernelspec"):
        _run(tiny)
    assert not list(outputs.glob("*/*.ipynb"))


def test_a_full_disk_leaves_no_empty_failed_marker(tiny, monkeypatch):
    from papermill.iorw import LocalHandler

    params, notebooks, outputs = tiny
    _run(tiny)

    def full_disk(self, buf, path):  # what a full disk does: the file is created, no byte fits
        open(path, "w").close()
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(LocalHandler, "write", full_disk)
    outcomes = _run(tiny, force=True)  # the workers are forked, so they see the patch
    monkeypatch.undo()
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("the disk is full" in o.error for o in outcomes), [o.error for o in outcomes]
    assert not list(outputs.rglob("*.failed.ipynb"))
    assert (outputs / "base" / "01_quick.html").exists()  # the previous good output stays


def test_one_bad_scenario_file_does_not_block_the_others(tiny):
    params, notebooks, outputs = tiny
    (params / "broken.yaml").write_text("extends: base\nyears: {start: soon}\n")
    (params / "worse.yaml").write_text("extends: base\nlayers: {apps: {pass_through: 7}}\n")
    assert [o.status for o in _run(tiny, scenarios=["base"])] == ["ok"]
    with pytest.raises(ParameterError) as info:
        _run(tiny, force=True)
    message = str(info.value)
    assert "2 of 4 scenario files are invalid, so nothing was run" in message
    assert "broken.yaml" in message and "worse.yaml" in message and "\n" not in message
    assert len(info.value.problems) == 2
    assert not (outputs / "other").exists()  # refused before anything ran


def test_repeated_names_run_once_and_file_names_are_accepted(tiny):
    params, notebooks, outputs = tiny
    outcomes = _run(tiny, scenarios=["base", "base"], notebooks=["01_quick.ipynb", "notebooks/01_quick.ipynb", "01_quick"])
    assert [(o.scenario, o.notebook) for o in outcomes] == [("base", "01_quick")]


@pytest.mark.parametrize("timeout", [0, -5])
def test_a_timeout_below_one_second_is_refused(tiny, timeout):
    with pytest.raises(ParameterError, match=rf"--timeout {timeout} is not allowed; give the seconds a single cell may run"):
        _run(tiny, timeout=timeout)


def test_the_timeout_message_names_the_cell(tiny):
    params, notebooks, outputs = tiny
    _notebook(notebooks / "01_quick.ipynb", "import time\ntime.sleep(60)")
    outcome = _run(tiny, scenarios=["base"], timeout=2)[0]
    assert outcome.status == "failed" and outcome.failing_cell == 3  # In[1] parameters, In[2] injected ones
    assert outcome.error.startswith("cell In[3] ran longer than the 2-second timeout and was stopped")


def test_run_all_names_a_badly_named_file_with_the_other_bad_files(tiny):
    params, notebooks, outputs = tiny
    (params / "My Case.yaml").write_text("extends: base\n")
    (params / "broken.yaml").write_text("extends: base\nyears: {start: soon}\n")
    with pytest.raises(ParameterError, match=r"2 of 4 scenario files are invalid, so nothing was run") as info:
        _run(tiny)
    assert "My Case.yaml" in str(info.value) and "broken.yaml" in str(info.value)
    assert [o.status for o in _run(tiny, scenarios=["base"])] == ["ok"]


def test_the_command_line_refuses_read_only_outputs_with_one_line(tmp_path):
    outputs = tmp_path / "ro"
    with _read_only(outputs):
        proc = invoke_cli("run", "base", "--outputs", outputs)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"valuechain: error: {outputs}")


def test_the_failing_cell_is_the_last_one_papermill_started(tmp_path):
    # As papermill leaves a notebook stopped in its third code cell before the kernel reported the
    # count: never-run cells are marked "completed" too, but only started cells have a start_time.
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell("a", execution_count=1), new_code_cell("b", execution_count=2), new_code_cell("c"),
             new_code_cell("d"), new_code_cell("e")]
    for i, cell in enumerate(cells):
        cell.metadata["papermill"] = {"status": "completed", "start_time": "2026-11-21T11:53:47" if i < 3 else None}
    path = tmp_path / "stopped.ipynb"
    nbformat.write(new_notebook(cells=cells), str(path))
    assert runner._last_started_cell(path) == 3
    path.write_text("")
    assert runner._last_started_cell(path) is None


# ----------------------------------------------------------------------------- issue 19: a quiet command line


def _cli_in(tiny, *args):
    """``valuechain ARGS`` in a new process, with params/ and notebooks/ pointed at the tiny project."""
    params, notebooks, _ = tiny
    code = ("import sys\nfrom pathlib import Path\nfrom valuechain import paths\n"
            f"paths.PARAMS_DIR, paths.NOTEBOOKS_DIR = Path({str(params)!r}), Path({str(notebooks)!r})\n"
            f"from valuechain.cli import main\nsys.argv[0] = 'valuechain'\nmain({list(args)!r})\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_a_report_prints_only_its_own_lines_one_per_item_when_not_on_a_terminal(tiny):
    params, notebooks, outputs = tiny
    proc = _cli_in(tiny, "report", "--jobs", "2", "--outputs", str(outputs))
    assert proc.returncode == 0, proc.stderr
    everything = proc.stdout + proc.stderr
    assert "IPKernelApp" not in everything and "WARNING" not in everything and "Warning" not in everything
    items = proc.stderr.splitlines()  # stderr is a pipe here: no bar, one line per finished item
    assert len(items) == 2 and all(re.fullmatch(r"\[[12]/2\] (base|other)/01_quick: ok \(\d+\.\d s\)", line) for line in items), items
    assert {line.split()[1] for line in items} == {"base/01_quick:", "other/01_quick:"}
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["scenario", "notebook", "status", "seconds", "cached"]
    assert [line.split()[:3] for line in lines[1:3]] == [["base", "01_quick", "ok"], ["other", "01_quick", "ok"]]
    assert lines[3] == f"Site: {outputs / 'index.html'}"
    assert len(lines) == 5 and lines[4].startswith(("Screenshot of the index: ", "Screenshot skipped"))
    assert "coverage" not in proc.stdout.lower()  # the coverage table is printed by `summary` or -v only
    assert (outputs / "data_coverage.csv").read_text().startswith("layer,company_id,metric")

    again = _cli_in(tiny, "report", "-v", "--force", "--jobs", "1", "--outputs", str(outputs))
    assert again.returncode == 0, again.stderr
    assert "every row cites a source" in again.stdout and "Latest quarter per company and series" in again.stdout
    assert again.stdout.index("Latest quarter per company and series") < again.stdout.index("scenario  notebook")
    table = again.stdout.splitlines()[again.stdout.splitlines().index(lines[0]) + 1:][:2]
    assert [row.split()[2::2] for row in table] == [["ok", "no"], ["ok", "no"]]  # --force ran both items again
    assert len(again.stderr.splitlines()) == 2


def test_kernels_talk_over_private_ipc_sockets_not_tcp(tiny):
    import tempfile

    params, notebooks, outputs = tiny
    _notebook(notebooks / "01_quick.ipynb",
              "import json, os, ipykernel\nfrom valuechain.report import notebook\n"
              "info = json.load(open(ipykernel.get_connection_file()))\n"
              "folder = os.path.dirname(info['ip'])\n"
              "notebook.record({'transport': info['transport'], 'ip': info['ip'], 'mode': oct(os.stat(folder).st_mode & 0o777),"
              " 'sockets': sorted(os.listdir(folder)), 'connection_file': ipykernel.get_connection_file()}, metrics_path)")
    outcomes = _run(tiny, scenarios=["base"])
    assert outcomes[0].status == "ok", outcomes[0].error
    seen = outcomes[0].figures
    assert seen["transport"] == "ipc" and seen["mode"] == "0o700"
    folder = Path(seen["ip"]).parent  # the item's folder, inside the batch's
    assert folder.parent.parent == Path(tempfile.gettempdir()) and folder.parent.name.startswith("valuechain-kernels-")
    # shell, iopub, stdin, control, heartbeat, and the connection file with its signing key, never in Jupyter's runtime folder
    assert seen["sockets"] == ["connection.json"] + [f"kernel-{port}" for port in range(1, 6)]
    assert Path(seen["connection_file"]) == folder / "connection.json"
    assert not folder.parent.exists()  # removed with the batch


def test_the_cache_key_covers_every_module_of_every_sub_package(tmp_path, monkeypatch):
    """A change to a module in a sub-package, or a module moved between sub-packages, invalidates the cache."""
    package, data = tmp_path / "valuechain", tmp_path / "valuechain" / "dataset" / "data"
    (package / "model").mkdir(parents=True)
    data.mkdir(parents=True)
    (package / "cli.py").write_text("x = 1\n")
    (package / "model" / "engine.py").write_text("y = 1\n")
    (data / "financials.csv").write_text("a\n1\n")
    monkeypatch.setattr(runner.paths, "PACKAGE_DIR", package)
    monkeypatch.setattr(runner.paths, "DATA_DIR", data)
    first = runner.shared_inputs_hash()
    assert runner.shared_inputs_hash() == first  # the same files give the same key
    (package / "model" / "engine.py").write_text("y = 2\n")
    edited = runner.shared_inputs_hash()
    assert edited != first
    (package / "report").mkdir()
    (package / "model" / "engine.py").rename(package / "report" / "engine.py")
    assert runner.shared_inputs_hash() not in (first, edited)
    (data / "financials.csv").write_text("a\n2\n")
    assert runner.shared_inputs_hash() not in (first, edited)


def _cached_outputs(outputs: Path) -> None:
    """``outputs`` as a run of every shipped scenario x notebook leaves it, with stand-in files and the
    cache markers of the current inputs, so a rerun finds everything cached without executing anything."""
    resolved = runner.load_all(list_scenarios(), paths.PARAMS_DIR)
    shared = runner.shared_inputs_hash()
    for item in runner.plan(list(resolved), runner.notebook_names()):
        folder = outputs / item.scenario
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{item.notebook}.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
        (folder / f"{item.notebook}.html").write_text("<html></html>")
        (folder / f"{item.notebook}.json").write_text(json.dumps({"x": 1}))
        (folder / f"{item.notebook}.page.json").write_text(json.dumps({"title": f"Title of {item.notebook}"}))
        key = runner.inputs_hash(item, resolved[item.scenario], paths.NOTEBOOKS_DIR, shared)
        (folder / f"{item.notebook}.inputs").write_text(key + "\n")
    for folder in outputs.iterdir():  # exports written after the notebooks: not stale
        (folder / "exports.json").write_text(json.dumps({"charts": []}))
        later = (folder / "exports.json").stat().st_mtime + 10
        os.utime(folder / "exports.json", (later, later))


RERUN_IN_A_FRESH_PROCESS = """
import sys
from valuechain.cli import main
try:
    main(["run", "--all", "--outputs", sys.argv[1]])
finally:
    print(sorted(m for m in ("nbformat", "nbconvert", "papermill", "pandas", "pandera", "pydantic") if m in sys.modules))
"""


def test_a_rerun_that_changed_nothing_rewrites_nothing_and_loads_neither_notebooks_nor_pandas_nor_the_schema(tmp_path):
    outputs = tmp_path / "out"
    _cached_outputs(outputs)
    first = subprocess.run([sys.executable, "-c", RERUN_IN_A_FRESH_PROCESS, str(outputs)], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    items = 6 * len(runner.notebook_names())  # the six shipped scenarios x the notebooks
    assert first.stdout.count(" cached ") == items and "Title of 03_lab_economics" in (outputs / "index.html").read_text()
    before = {p: p.stat().st_mtime_ns for p in outputs.rglob("*") if p.is_file() and p.name != ".lock"}
    again = subprocess.run([sys.executable, "-c", RERUN_IN_A_FRESH_PROCESS, str(outputs)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count(" cached ") == items and again.stdout.rstrip().endswith("[]")
    assert {p: p.stat().st_mtime_ns for p in outputs.rglob("*") if p.is_file() and p.name != ".lock"} == before


def test_write_changed_leaves_a_file_that_already_holds_the_text(tmp_path):
    path = tmp_path / "metrics.csv"
    runner.write_changed(path, "a\n1\n")
    path.write_text("a\n1\n")  # the same text, written by someone else: kept as is
    os.utime(path, ns=(1, 1))
    runner.write_changed(path, "a\n1\n")
    assert path.stat().st_mtime_ns == 1
    runner.write_changed(path, "a\n2\n")
    assert path.read_text() == "a\n2\n" and path.stat().st_mtime_ns != 1
    path.write_bytes(b"\xff not text")
    runner.write_changed(path, "a\n3\n")
    assert path.read_text() == "a\n3\n"


def test_recorded_scenarios_are_read_back_only_while_no_scenario_data_or_code_file_changed(tmp_path, monkeypatch):
    params, outputs = tmp_path / "params", tmp_path / "out"
    (params / "variants").mkdir(parents=True)
    (params / "base.yaml").write_bytes((paths.PARAMS_DIR / "base.yaml").read_bytes())
    (params / "other.yaml").write_text("extends: base\ntitle: Other\n")
    outputs.mkdir()
    first = runner.ResolvedRecord(outputs, params, "code and data")
    loaded = first.load_all(["base", "other"])
    assert loaded["other"]["title"] == "Other" and loaded == runner.load_all(["base", "other"], params)
    first.write(loaded)

    def never(*args):
        raise AssertionError("loaded again although nothing changed")

    monkeypatch.setattr(runner, "load_all", never)
    assert runner.ResolvedRecord(outputs, params, "code and data").load_all(["other"]) == {"other": loaded["other"]}

    def reloads(shared="code and data"):
        with pytest.raises(AssertionError, match="loaded again"):
            runner.ResolvedRecord(outputs, params, shared).load_all(["other"])

    reloads("changed code")  # a module or a data file changed
    (params / "variants" / "v.yaml").write_text("extends: base\n")  # any scenario file
    reloads()
    (params / "variants" / "v.yaml").unlink()
    assert runner.ResolvedRecord(outputs, params, "code and data").load_all(["base"]) == {"base": loaded["base"]}
    (outputs / ".resolved.json").write_text("{cut short")
    reloads()
    monkeypatch.undo()
    (params / "other.yaml").write_text("extends: base\nno_such_key: 1\n")  # refused as ever, never read back
    with pytest.raises(ParameterError, match="no_such_key"):
        runner.ResolvedRecord(outputs, params, "code and data").load_all(["other"])


# Warm kernels: a worker keeps one kernel across its items, and no item sees what the one before it left.

def test_each_kernel_runs_its_linear_algebra_on_one_thread_unless_the_user_said_otherwise(monkeypatch):
    for name in runner.THREAD_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert runner.kernel_threads() == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    monkeypatch.setenv("OMP_NUM_THREADS", "6")  # the user's setting stands, and the others are not set over it
    assert runner.kernel_threads() == {}


def test_a_calendar_that_fails_costs_the_banner_not_the_batch(capsys):
    def broken():
        raise KeyError("next_period")

    assert runner._overdue(broken) == "" and runner._overdue(lambda: "Overdue: x.") == "Overdue: x."
    assert capsys.readouterr().err.count("earnings calendar could not tell") == 1


def test_items_sharing_a_warm_kernel_see_nothing_the_item_before_left(tiny):
    params, notebooks, outputs = tiny
    (notebooks / "01_quick.ipynb").unlink()
    record = "from valuechain.report import notebook\n"
    _notebook(notebooks / "01_set.ipynb",
              "import os, sys, matplotlib\nLEAK = 'left by 01_set'\nos.environ['VC_LEAK'] = '1'\nsys.path.append('/leak')\n"
              "matplotlib.rcParams['figure.dpi'] = 17\nos.chdir('/')\n"
              "import json, weakref\nclass Cycle: pass\nc = Cycle()\nc.me = c\njson.vc_probe = weakref.ref(c)\ndel c\n"
              f"{record}notebook.record({{'pid': os.getpid(), 'count': get_ipython().execution_count}}, metrics_path)")
    _notebook(notebooks / "02_check.ipynb",
              "import os, sys, matplotlib\n"
              f"{record}notebook.record({{'pid': os.getpid(), 'leak': 'LEAK' in globals(), 'cwd': os.getcwd(), "
              "'env': os.environ.get('VC_LEAK', 'unset'), 'path': '/leak' in sys.path, 'dpi': matplotlib.rcParams['figure.dpi'], "
              "'count': get_ipython().execution_count, 'cycle': __import__('json').vc_probe() is not None, "
              "'frozen': __import__('gc').get_freeze_count(), 'blas': os.environ.get('OPENBLAS_NUM_THREADS')}, metrics_path)")
    _notebook(notebooks / "03_read.ipynb", "print(LEAK)")
    outcomes = {o.notebook: o for o in _run(tiny, scenarios=["base"], jobs=1)}
    assert outcomes["01_set"].status == "ok" and outcomes["02_check"].status == "ok", outcomes
    seen = outcomes["02_check"].figures
    assert seen["pid"] == outcomes["01_set"].figures["pid"]  # the same kernel ran both: it was kept warm
    assert seen["leak"] is False and seen["env"] == "unset" and seen["path"] is False
    assert seen["cwd"] == str(notebooks) and seen["dpi"] == 100.0
    assert seen["count"] == outcomes["01_set"].figures["count"]  # cells are numbered as in the new kernel 01_set ran in
    # the garbage 01_set left in a reference cycle was collected before the survivors were frozen out of the collector
    assert seen["cycle"] is False and seen["frozen"] > 10_000
    assert seen["blas"] == runner.kernel_threads().get("OPENBLAS_NUM_THREADS", runner.os.environ.get("OPENBLAS_NUM_THREADS"))
    read = outcomes["03_read"]
    assert read.status == "failed" and read.error == "NameError: name 'LEAK' is not defined" and read.failing_cell == 3


def test_after_a_failure_or_a_timeout_the_next_item_runs_clean_in_a_new_kernel(tiny):
    params, notebooks, outputs = tiny
    (notebooks / "01_quick.ipynb").unlink()
    pids = notebooks.parent / "pids"
    pids.mkdir()

    def leaves(name):  # sets a global and records the kernel's pid, then fails in its own way
        return f"import os\nLEAK = {name!r}\nopen(os.path.join({str(pids)!r}, {name!r}), 'w').write(str(os.getpid()))\n"

    _notebook(notebooks / "01_fails.ipynb", leaves("01_fails") + "raise RuntimeError('deliberate')")
    _notebook(notebooks / "02_slow.ipynb", leaves("02_slow") + "import time\ntime.sleep(60)")
    _notebook(notebooks / "03_after.ipynb", "import os\nfrom valuechain.report import notebook\n"
              "notebook.record({'pid': os.getpid(), 'leak': 'LEAK' in globals()}, metrics_path)")
    outcomes = {o.notebook: o for o in _run(tiny, scenarios=["base"], jobs=1, timeout=5)}
    assert outcomes["01_fails"].status == "failed" and "RuntimeError: deliberate" in outcomes["01_fails"].error
    assert outcomes["02_slow"].status == "failed" and "ran longer than the 5-second timeout" in outcomes["02_slow"].error
    after = outcomes["03_after"]
    assert after.status == "ok" and after.figures["leak"] is False
    kernels = {int((pids / name).read_text()) for name in ("01_fails", "02_slow")} | {after.figures["pid"]}
    assert len(kernels) == 3  # each failure stopped its kernel: the next item got a new one


# The pool: a worker that dies (as when the system runs out of memory) fails only its own item.

def _folders(tmp_path, notebooks=3):
    import shutil

    from valuechain import paths

    params, books, outputs = tmp_path / "params", tmp_path / "notebooks", tmp_path / "outputs"
    params.mkdir(), books.mkdir()
    shutil.copy(paths.PARAMS_DIR / "base.yaml", params / "base.yaml")
    (params / "other.yaml").write_text("extends: base\ntitle: Other\n")
    for n in range(1, notebooks + 1):
        _notebook(books / f"0{n}_n.ipynb", "x = 1")
    return params, books, outputs


class _NoKernel:
    """In place of a worker's warm kernel: the stand-in executor needs none, and the unit layer starts none."""

    def __init__(self, *args, **kwargs):
        pass

    def launch(self, cwd):
        pass

    def stop(self):
        pass


def _stand_in(kill=(), slow=(), seconds=1.0):
    """An executor in place of the notebooks: SIGKILLs its own worker for the items in ``kill``."""
    import os
    import signal
    import time
    from dataclasses import asdict

    def execute_item(item, key, outputs, *args, kernel=None):
        if item.label in kill:
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
        time.sleep(seconds if item.label in slow else 0.05)
        return asdict(runner.Outcome(item.scenario, item.notebook, "ok", 0.1, figures={"worker": os.getpid()}))

    return execute_item


def test_a_worker_killed_by_sigkill_fails_only_its_own_item_and_the_queue_runs_on(tmp_path, monkeypatch):
    params, notebooks, outputs = _folders(tmp_path)
    # base/01_n runs in the other worker while base/02_n's worker is killed; the four items queued behind run after
    monkeypatch.setattr(runner, "WarmKernel", _NoKernel)
    monkeypatch.setattr(runner, "execute_item", _stand_in(kill={"base/02_n"}, slow={"base/01_n"}))
    outcomes = runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, jobs=2)
    status = {f"{o.scenario}/{o.notebook}": o for o in outcomes}
    killed = status.pop("base/02_n")
    assert killed.status == "failed" and "worker process running it was killed by SIGKILL" in killed.error
    assert "\n" not in killed.error
    assert {label: o.status for label, o in status.items()} == {label: "ok" for label in
                                                               ("base/01_n", "base/03_n", "other/01_n", "other/02_n", "other/03_n")}
    assert len({o.figures["worker"] for o in status.values()}) == 2  # the survivor and the worker started in the dead one's place
    recorded = {(i["scenario"], i["notebook"]): i for i in json.loads((outputs / "run.json").read_text())["items"]}
    assert recorded[("base", "02_n")]["status"] == "failed" and recorded[("other", "03_n")]["status"] == "ok"


def test_every_worker_killed_still_runs_the_whole_queue(tmp_path, monkeypatch):
    params, notebooks, outputs = _folders(tmp_path, notebooks=2)
    monkeypatch.setattr(runner, "WarmKernel", _NoKernel)
    monkeypatch.setattr(runner, "execute_item", _stand_in(kill={"base/01_n", "base/02_n", "other/01_n"}))
    outcomes = runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, jobs=2)
    assert [(o.notebook, o.scenario, o.status) for o in outcomes] == [
        ("01_n", "base", "failed"), ("02_n", "base", "failed"), ("01_n", "other", "failed"), ("02_n", "other", "ok")]


def _journal(path, kill_exports=()):
    """Stand-ins for the item executor and the exports task that write, in order, what ran in ``path``."""
    import os
    import signal
    from dataclasses import asdict

    def execute_item(item, key, outputs, *args, kernel=None):
        with open(path, "a") as f:
            f.write(f"item {item.label}\n")
        return asdict(runner.Outcome(item.scenario, item.notebook, "ok", 0.1))

    def export_scenario(job, *args):
        if job.scenario in kill_exports:
            os.kill(os.getpid(), signal.SIGKILL)
        with open(path, "a") as f:
            f.write(f"exports {job.scenario} {args[-1]['title'] if args[-1] else None}\n")
        return {"error": ""}

    return execute_item, export_scenario


def test_each_scenarios_exports_are_written_by_a_worker_as_soon_as_its_last_item_has_run(tmp_path, monkeypatch):
    """Not all at the end in the parent: base's exports come before the next scenario's first item (one worker),
    given the scenario's resolved parameters, as parameters.json will hold them."""
    params, notebooks, outputs = _folders(tmp_path, notebooks=2)
    journal = tmp_path / "journal"
    item, exports = _journal(journal)
    monkeypatch.setattr(runner, "WarmKernel", _NoKernel)
    monkeypatch.setattr(runner, "execute_item", item)
    monkeypatch.setattr(runner, "export_scenario", exports)
    runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, jobs=1)
    assert journal.read_text().splitlines() == [
        "item base/01_n", "item base/02_n", "exports base Base case", "item other/01_n", "item other/02_n", "exports other Other"]


def test_a_worker_that_dies_writing_exports_fails_nothing_and_the_parent_writes_them(tmp_path, monkeypatch):
    from valuechain.publish import exports as exports_module

    params, notebooks, outputs = _folders(tmp_path, notebooks=2)
    journal = tmp_path / "journal"
    item, exports = _journal(journal, kill_exports={"base"})
    monkeypatch.setattr(runner, "WarmKernel", _NoKernel)
    monkeypatch.setattr(runner, "execute_item", item)
    monkeypatch.setattr(runner, "export_scenario", exports)
    # after the batch, base's exports are still stale (its worker died before writing them), other's are not
    monkeypatch.setattr(exports_module, "stale", lambda folder: folder.name == "base")
    written = []
    monkeypatch.setattr(exports_module, "write_all", lambda folder, *args, **kwargs: written.append(folder.name))
    outcomes = runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, jobs=1)
    assert [o.status for o in outcomes] == ["ok"] * 4
    assert journal.read_text().splitlines()[-1] == "exports other Other"  # a new worker took the queue on
    assert written == ["base"]  # and the parent wrote what was still stale


def test_the_warnings_a_worker_writing_exports_meets_reach_the_terminal(tmp_path, monkeypatch, capsys):
    """Lines about ignored files under outputs/ are the user's to see, though a worker's stderr is the run's log."""
    from valuechain.publish import exports as exports_module
    from valuechain.publish import outputs as outputs_module

    def write_all(folder, *args, **kwargs):
        outputs_module.warn(f"{folder / 'exports.json'}: names /etc/passwd, outside the scenario folder; it is ignored")
        print("a library's own warning", file=__import__("sys").stderr)

    monkeypatch.setattr(exports_module, "stale", lambda folder: True)
    monkeypatch.setattr(exports_module, "write_all", write_all)
    result = runner.export_scenario(runner.Exports("base"), str(tmp_path), None, "v", "", {})
    assert result == {"error": "", "warnings": [
        f"valuechain: warning: {tmp_path / 'base' / 'exports.json'}: names /etc/passwd, outside the scenario folder; it is ignored"]}
    assert capsys.readouterr().err == "a library's own warning\n"  # to the run's log, in a worker


def test_the_main_scenario_is_queued_first():
    items = [runner.Item(s, n) for s in ("a_case", "base", "z_case") for n in ("01", "02")]
    assert [i.label for i in runner.queue_order(items)] == ["base/01", "base/02", "a_case/01", "a_case/02", "z_case/01", "z_case/02"]


def test_a_scenario_file_from_another_folder_runs_into_outputs_under_its_name(tiny):
    """`valuechain run some/other/folder/mine.yaml`: extends base from params/, writes outputs/mine/, and is then
    known by name to later runs, the index and clean, until its file goes."""
    params, notebooks, outputs = tiny
    mine = params.parent / "elsewhere" / "mine.yaml"
    mine.parent.mkdir()
    mine.write_text("extends: base\ntitle: Mine\nlayers: {cloud: {pass_through: 0.4, rationale: My reading.}}\n")
    first = _run(tiny, scenarios=[str(mine)])
    assert [(o.scenario, o.status) for o in first] == [("mine", "ok")]
    assert json.loads((outputs / "mine" / "01_quick.json").read_text())["cloud_pass_through"] == 0.4
    assert json.loads((outputs / "mine" / "parameters.json").read_text())["layers"]["cloud"]["rationale"] == "My reading."
    assert json.loads((outputs / ".sources.json").read_text()) == {"scenarios": {"mine": str(mine.resolve())}}
    assert [(o.scenario, o.status) for o in _run(tiny, scenarios=["mine"])] == [("mine", "cached")]
    _run(tiny)  # every scenario of params/; mine stays in the table and the status
    assert list(pd.read_csv(outputs / "metrics.csv")["scenario"]) == ["base", "mine", "other"]
    assert runner.prune(outputs, params, notebooks) == []
    mine.write_text(mine.read_text().replace("0.4", "0.3"))
    assert [(o.scenario, o.status) for o in _run(tiny, scenarios=["mine"])] == [("mine", "ok")]
    mine.unlink()
    assert outputs / "mine" in runner.prune(outputs, params, notebooks) and not (outputs / "mine").exists()


def test_a_scenario_file_whose_name_params_has_is_refused_before_running(tiny):
    params, _, outputs = tiny
    twin = params.parent / "elsewhere" / "other.yaml"
    twin.parent.mkdir()
    twin.write_text("extends: base\n")
    with pytest.raises(ParameterError, match=r"its name 'other' is a scenario's in params/ already"):
        _run(tiny, scenarios=[str(twin)])
    assert not outputs.exists()
