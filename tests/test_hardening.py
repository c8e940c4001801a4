"""Bad input, faults and determinism: every refusal is one line with exit code 2 and changes nothing."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import invoke_cli, write_notebook
from valuechain import paths
from valuechain.batch import runner
from valuechain.exceptions import ParameterError
from valuechain.scenario.load import load_scenario


def _cli(*args):
    return invoke_cli(*args)


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("args, message", [
    (["run", "nope"], "unknown scenario 'nope'; choose from:"),
    (["run", "base", "--notebooks", "nope"], "unknown notebook 'nope'; choose from:"),
    (["run", "base", "--jobs", "0"], "--jobs 0 is not allowed"),
    (["run", "../etc"], "scenario name '../etc' is not allowed"),
    (["run", "my scenario"], "scenario name 'my scenario' is not allowed"),
])
def test_cli_refuses_bad_names_with_one_line_and_exit_2(tmp_path, args, message):
    outputs = tmp_path / "out"
    outputs.mkdir()
    (outputs / "keep.txt").write_text("previous output")
    before = _snapshot(outputs)
    proc = _cli(*args, "--outputs", str(outputs))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and message in proc.stderr
    assert _snapshot(outputs) == before


@pytest.mark.parametrize("text, message", [
    ("extends: base\nbreak_even: {}\n", "unknown key 'break_even'"),
    ("extends: base\ndemand_gap: {break_even: {depreciation_life_years: -5}}\n",
     "key 'demand_gap.break_even.depreciation_life_years': Input should be greater than 0"),
    ("extends: base\ndemand_gap: {regression: {alpha: 0.9}}\n", "key 'demand_gap.regression.alpha'"),
    ("extends: base\ndemand_gap: {regression: {capex_companies: [msft]}}\n",
     "key 'demand_gap.regression.capex_companies[0]': unknown company 'msft'"),
    ("title: 'unclosed\n", "YAML syntax error at line"),
])
def test_cli_validate_refuses_bad_files(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    (tmp_path / "base.yaml").write_text((paths.PARAMS_DIR / "base.yaml").read_text())
    path.write_text(text)
    proc = _cli("validate", str(path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr and "bad.yaml" in proc.stderr


def test_cli_validate_accepts_the_shipped_scenarios():
    proc = _cli("validate")
    assert proc.returncode == 0
    assert "ok  base: Base case" in proc.stdout


def test_undeclared_notebook_parameter_is_refused_before_execution(tiny):
    params, notebooks, outputs = tiny
    write_notebook(notebooks / "01_quick.ipynb", "x = 1", parameters='scenario: str = "base"  # scenario only')
    with pytest.raises(ParameterError, match="does not declare metrics_path"):
        runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False)
    assert not list(outputs.glob("*/*.ipynb"))


def test_a_dying_kernel_fails_its_item_with_a_clear_message(tiny):
    params, notebooks, outputs = tiny
    write_notebook(notebooks / "02_dies.ipynb", "import os\nos._exit(1)")
    start = time.perf_counter()
    outcomes = runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False,
                          scenarios=["base"], jobs=2)
    status = {o.notebook: o for o in outcomes}
    assert status["01_quick"].status == "ok"
    assert status["02_dies"].status == "failed"
    assert "the kernel died while executing cell In[3]" in status["02_dies"].error
    assert time.perf_counter() - start < 120


def test_a_cell_running_past_the_timeout_is_stopped(tiny):
    params, notebooks, outputs = tiny
    write_notebook(notebooks / "02_slow.ipynb", "import time\ntime.sleep(60)")
    start = time.perf_counter()
    outcomes = runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False,
                          scenarios=["base"], notebooks=["02_slow"], timeout=2)
    assert outcomes[0].status == "failed" and "cell In[3] ran longer than the 2-second timeout" in outcomes[0].error
    assert time.perf_counter() - start < 45


def test_reruns_with_force_give_byte_identical_metrics(tiny):
    params, notebooks, outputs = tiny
    runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, force=True)
    first = {p: (outputs / p).read_bytes() for p in ("metrics.csv", "base/metrics.json", "other/metrics.json")}
    runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, force=True)
    assert {p: (outputs / p).read_bytes() for p in first} == first


def test_real_metrics_are_deterministic(executed_outputs, tmp_path):
    # a second run of the demand-gap notebook, in another folder, against the session's run
    runner.run(scenarios=["base"], notebooks=["02_demand_gap"], outputs=tmp_path, progress=False, force=True)
    first = executed_outputs / "base" / "02_demand_gap.json"
    assert (tmp_path / "base" / "02_demand_gap.json").read_bytes() == first.read_bytes()
    assert json.loads((tmp_path / "base" / "metrics.json").read_text()) == {"02_demand_gap": json.loads(first.read_text())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_interrupt_stops_kernels_and_leaves_no_partial_file(tiny):
    params, notebooks, outputs = tiny
    runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False)
    good = _snapshot(outputs / "base")
    pids = notebooks.parent / "pids"
    pids.mkdir()
    write_notebook(notebooks / "01_quick.ipynb",
                   f"import os, time\nopen(os.path.join({str(pids)!r}, str(os.getpid())), 'w').close()\ntime.sleep(120)")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    code = ("import sys\nfrom pathlib import Path\nfrom valuechain.batch import runner\n"
            f"runner.run(outputs=Path({str(outputs)!r}), params_dir=Path({str(params)!r}), "
            f"notebooks_dir=Path({str(notebooks)!r}), progress=False, force=True, jobs=2)\n")
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while len(list(pids.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.2)
    kernels = [int(p.name) for p in pids.iterdir()]
    assert len(kernels) == 2, "both kernels should have started"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    deadline = time.time() + 15
    while any(_alive(pid) for pid in kernels) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in kernels), "a kernel outlived the interrupted run"
    leftovers = [p for p in outputs.rglob("*") if p.name.endswith(".tmp") or ".tmp" in p.parts]
    assert leftovers == []
    # no connection file (it holds the kernel's signing key) and no socket folder of the batch survives
    from jupyter_core.paths import jupyter_runtime_dir

    assert not list(Path(runner._socket_parent()).glob(f"{runner.SOCKETS_PREFIX}{proc.pid}-*"))
    runtime = Path(jupyter_runtime_dir())
    assert not [p for p in runtime.glob("kernel-*.json") if p.stat().st_mtime >= started] if runtime.is_dir() else True
    assert _snapshot(outputs / "base") == good  # the previous complete outputs are intact
    with runner.OutputsLock(outputs):  # the lock was released: taking it again succeeds
        pass


def test_kernels_listen_on_loopback_only():
    from jupyter_client import KernelManager

    assert KernelManager().ip in ("127.0.0.1", "localhost")


def test_scenario_strings_are_never_evaluated(tmp_path):
    (tmp_path / "base.yaml").write_text((paths.PARAMS_DIR / "base.yaml").read_text())
    (tmp_path / "evil.yaml").write_text("extends: base\ndescription: \"__import__('os').system('touch pwned')\"\n")
    sc = load_scenario("evil", params_dir=tmp_path)
    assert sc.description == "__import__('os').system('touch pwned')"
    assert not Path("pwned").exists() and not (tmp_path / "pwned").exists()
    assert json.loads(json.dumps(sc.resolved()))["description"].startswith("__import__")
