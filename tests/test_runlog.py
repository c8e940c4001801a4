"""The terminal shows the tool's own lines; the libraries' warnings and log records go to the run's log."""
import logging
import multiprocessing
import os
import pickle
import re
import subprocess
import sys
import warnings

import pytest

from conftest import invoke_cli, write_notebook
from valuechain import paths
from valuechain.batch import runlog
from valuechain.batch import sweep as sw
from valuechain.exceptions import OutputError

ZERO_DIVIDE = "demand_gap.bain.capex_to_revenue=0,0.5"  # a ratio of 0 makes Bain's requirement divide by zero


def test_warnings_and_library_records_go_to_the_log_not_stderr(tmp_path, capfd):
    log = tmp_path / "run.log"
    own = logging.StreamHandler(sys.stderr)  # as Dask and tornado install on their loggers
    library = logging.getLogger("some.library")
    library.addHandler(own)
    library.propagate = False
    try:
        with runlog.to_log(log, fresh=True):
            warnings.warn("a library's warning", RuntimeWarning)
            logging.getLogger("nbclient").error("Kernel died while waiting for execute reply.")
            library.warning("a line from its own handler")
        assert capfd.readouterr().err == ""
        text = log.read_text()
        assert "RuntimeWarning: a library's warning" in text and "Kernel died while waiting for execute reply." in text
        assert "a line from its own handler" in text
        with warnings.catch_warnings(record=True) as after:  # the display of warnings is restored
            warnings.simplefilter("always")
            warnings.warn("after the block")
        assert len(after) == 1 and own.stream is sys.stderr
    finally:
        library.removeHandler(own)
        library.propagate = True
    with runlog.to_log(log, fresh=True):  # each run starts its log afresh
        pass
    assert log.read_text() == ""


def test_a_run_with_nothing_to_log_leaves_the_last_log_as_it_was(tmp_path):
    log = tmp_path / "run.log"
    log.write_text("the last run's lines\n")
    os.utime(log, ns=(1_000_000_000, 1_000_000_000))
    with runlog.to_log(log, fresh=True, lazy=True):
        logging.getLogger("papermill").info("Executing notebook with kernel: python3")  # INFO is kept
    assert log.read_text().endswith("papermill INFO: Executing notebook with kernel: python3\n")
    assert "the last run's lines" not in log.read_text()  # started afresh at the first line
    os.utime(log, ns=(1_000_000_000, 1_000_000_000))
    with runlog.to_log(log, fresh=True, lazy=True):
        pass
    assert log.stat().st_mtime_ns == 1_000_000_000 and "Executing notebook" in log.read_text()


def test_a_link_in_place_of_the_log_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (tmp_path / "run.log").symlink_to(victim)
    with runlog.to_log(tmp_path / "run.log", fresh=True):
        logging.getLogger("papermill").warning("logged")
    assert victim.read_text() == "keep me\n"
    assert not (tmp_path / "run.log").is_symlink() and "logged" in (tmp_path / "run.log").read_text()


def test_a_fifo_or_folder_in_place_of_the_log_is_one_line(tmp_path):
    os.mkfifo(tmp_path / "fifo.log")
    (tmp_path / "folder.log").mkdir()
    for name in ("fifo.log", "folder.log"):
        with pytest.raises(OutputError) as caught:
            with runlog.to_log(tmp_path / name):
                pass
        assert str(tmp_path / name) in str(caught.value) and "\n" not in str(caught.value)


def _worker(log):
    runlog.redirect_process(log)
    print("worker stdout line", flush=True)
    print("worker stderr line", file=sys.stderr, flush=True)
    subprocess.run(["sh", "-c", "echo a kernel\\'s line >&2"], check=True)


def test_a_worker_and_the_processes_it_starts_write_to_the_log(tmp_path, capfd):
    """The runner's workers call redirect_process: what they and their kernels print never reaches the terminal."""
    log = tmp_path / "run.log"
    log.write_text("")
    process = multiprocessing.get_context("fork").Process(target=_worker, args=(log,))
    process.start()
    process.join(30)
    assert process.exitcode == 0
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    assert log.read_text().splitlines() == ["worker stdout line", "worker stderr line", "a kernel's line"]


@pytest.fixture(scope="module")
def base(base_scenario, ds, base_inputs):
    return base_scenario, ds, base_inputs


def test_a_chunks_numpy_warnings_travel_with_its_table(base, tmp_path, capfd):
    """A Dask worker pickles the chunk's table back; its warnings come with it and are issued in the caller."""
    sc, ds, inp = base
    task = sw.grid_tasks(inp, sw.parse_grid([ZERO_DIVIDE]), "base")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes evaluate_task itself
        table = pickle.loads(pickle.dumps(sw.evaluate_task(inp, None, task)))
    assert [w[:2] for w in table.attrs[sw.WARNINGS]] == [("RuntimeWarning", "divide by zero encountered in divide")]
    with runlog.to_log(tmp_path / "sweep.log"):
        sw._reissue(table)
    assert table.attrs == {} and "RuntimeWarning: divide by zero" in (tmp_path / "sweep.log").read_text()
    assert capfd.readouterr().err == ""


def test_a_sweep_shows_only_its_own_lines(tmp_path):
    result = invoke_cli("sweep", "base", "--grid", ZERO_DIVIDE, "--outputs", tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    *spread, last = result.stdout.splitlines()  # the figures' spread, then where the sweep is
    assert spread[-1].startswith("The same at every point: ") and last.startswith("2 evaluations; table and summary in ")
    (log,) = (tmp_path / "sweeps").glob("*/sweep.log")
    assert "RuntimeWarning: divide by zero encountered in divide" in log.read_text()


@pytest.mark.notebooks  # starts kernels: the slow layer
def test_a_run_whose_kernel_dies_shows_only_the_runners_lines(tmp_path):
    params, notebooks, outputs = tmp_path / "params", tmp_path / "notebooks", tmp_path / "outputs"
    params.mkdir(), notebooks.mkdir()
    (params / "base.yaml").write_bytes((paths.PARAMS_DIR / "base.yaml").read_bytes())
    write_notebook(notebooks / "01_warns.ipynb", "import warnings, numpy as np\nwarnings.warn('in the kernel')\n"
                                                  "np.log(np.zeros(1))\nfrom valuechain.report import notebook\n"
                                                  "notebook.record({'b': 2}, metrics_path)")
    write_notebook(notebooks / "02_dies.ipynb", "import os, sys\nprint('dying', file=sys.__stderr__, flush=True)\nos._exit(1)")
    code = ("import sys; from pathlib import Path; from valuechain.batch import runner\n"
            "out = runner.run(outputs=Path(sys.argv[1]), params_dir=Path(sys.argv[2]), notebooks_dir=Path(sys.argv[3]), jobs=2)\n"
            "print(runner.summary_table(out))")
    proc = subprocess.run([sys.executable, "-c", code, outputs, params, notebooks], capture_output=True, text=True,
                          cwd=paths.REPO_ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()  # one line per finished item (stderr is no terminal), nothing else
    assert len(lines) == 2 and all(re.fullmatch(r"\[[12]/2\] base/0(1_warns: ok|2_dies: failed) \(\d+\.\d s\)", line)
                                   for line in lines), lines
    log = (outputs / runlog.NAME).read_text()
    assert "Kernel died while waiting for execute reply." in log and "dying" in log
