"""The batch runner: every notebook for every scenario, in parallel processes, cached.

Layout of ``outputs/`` (all files written atomically: a temporary file, then a rename):

``<scenario>/<notebook>.ipynb``         executed notebook (last good run)
``<scenario>/<notebook>.html``          its page, code hidden, self-contained
``<scenario>/<notebook>.json``          key figures the notebook recorded
``<scenario>/<notebook>.failed.ipynb``  the executed notebook of a failed run, with papermill's error marker
``<scenario>/<notebook>.inputs``        hash of the item's inputs (written last: the cache marker)
``<scenario>/metrics.json``             figures of every notebook of the scenario, stable key order
``<scenario>/parameters.json``          the resolved scenario parameters
``metrics.csv``                         the comparison table across scenarios
``run.json``                            status of every item of the last run

papermill changes the working directory while it executes, so items run in separate processes,
never threads. A failing notebook fails only its own item.
"""
from __future__ import annotations

import concurrent.futures as cf
import fcntl
import hashlib
import json
import os
import shutil
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from valuechain import config, results
from valuechain.exceptions import ParameterError, ValuechainError
from valuechain.params import check_name, list_scenarios, load_scenario
from valuechain.iorw import atomic_write_text

KERNEL_NAME = "python3"  # ipykernel's own spec: the interpreter running valuechain, whatever the notebook names


class RunLockedError(ValuechainError):
    """Raised when another ``valuechain run`` holds the lock on the outputs folder."""


@dataclass(frozen=True)
class Item:
    """One scenario x notebook."""

    scenario: str
    notebook: str  # file stem, e.g. 01_profit_capture

    @property
    def label(self) -> str:
        return f"{self.scenario}/{self.notebook}"


@dataclass
class Outcome:
    """What happened to one item."""

    scenario: str
    notebook: str
    status: str  # ok | cached | failed
    seconds: float = 0.0
    cached: bool = False
    error: str = ""
    failing_cell: int | None = None
    figures: dict = field(default_factory=dict)


def notebook_names(notebooks_dir: Path | None = None) -> list[str]:
    """Stems of the notebooks in ``notebooks/``, in file order."""
    return sorted(p.stem for p in (notebooks_dir or config.NOTEBOOKS_DIR).glob("*.ipynb"))


def plan(scenarios, notebooks, params_dir: Path | None = None, notebooks_dir: Path | None = None) -> list[Item]:
    """Items to run; unknown scenario or notebook names are refused before anything runs."""
    known_s = list_scenarios(params_dir)
    known_n = notebook_names(notebooks_dir)
    for name in scenarios:
        check_name(name)
        if name not in known_s:
            raise ParameterError(f"unknown scenario '{name}'; choose from: {', '.join(known_s)} (files in params/)")
    for name in notebooks:
        if name not in known_n:
            raise ParameterError(f"unknown notebook '{name}'; choose from: {', '.join(known_n)} (files in notebooks/)")
    return [Item(s, n) for s in scenarios for n in notebooks]


INJECTED = ("scenario", "metrics_path")  # the parameters the runner injects into every notebook


def check_parameters(notebook: Path, names=INJECTED) -> None:
    """Refuse a notebook that does not declare every parameter the runner injects.

    papermill only warns about an undeclared parameter and runs on, so the check happens here,
    before anything executes.
    """
    import papermill as pm

    declared = set(pm.inspect_notebook(str(notebook)))
    missing = [name for name in names if name not in declared]
    if missing:
        raise ParameterError(f"{notebook}: the cell tagged 'parameters' does not declare {', '.join(missing)}; "
                             f"add '{missing[0]}: str = \"\"' with a comment to that cell")


def shared_inputs_hash() -> str:
    """Hash of the inputs every item shares: the data files and the package code."""
    digest = hashlib.sha256()
    for folder, pattern in ((config.DATA_DIR, "*"), (config.PACKAGE_DIR, "*.py")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_hash(item: Item, resolved: dict, notebooks_dir: Path, shared: str) -> str:
    """Hash of everything that determines an item's output: notebook, parameters, data, package code."""
    digest = hashlib.sha256(shared.encode())
    digest.update((notebooks_dir / f"{item.notebook}.ipynb").read_bytes())
    digest.update(json.dumps(resolved, sort_keys=True).encode())
    return digest.hexdigest()


def _paths(outputs: Path, item: Item) -> dict[str, Path]:
    folder = outputs / item.scenario
    stem = folder / item.notebook
    return {"folder": folder, "ipynb": stem.with_suffix(".ipynb"), "html": stem.with_suffix(".html"),
            "json": stem.with_suffix(".json"), "failed": folder / f"{item.notebook}.failed.ipynb",
            "inputs": stem.with_suffix(".inputs")}


def is_cached(item: Item, key: str, outputs: Path) -> bool:
    p = _paths(outputs, item)
    return (p["inputs"].exists() and p["inputs"].read_text().strip() == key
            and all(p[k].exists() for k in ("ipynb", "html", "json")))


def execute_item(item: Item, key: str, outputs: str, notebooks_dir: str, params_dir: str,
                 timeout: int | None = None, vintage: str | None = None) -> dict:
    """Run one item in this process (a worker): execute, convert to HTML, write atomically."""
    import papermill as pm

    from valuechain import site

    outputs, notebooks_dir = Path(outputs), Path(notebooks_dir)
    p = _paths(outputs, item)
    p["folder"].mkdir(parents=True, exist_ok=True)
    scratch = outputs / ".tmp" / f"{item.scenario}__{item.notebook}__{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    executed, metrics = scratch / f"{item.notebook}.ipynb", scratch / f"{item.notebook}.json"
    scenario_arg = str(Path(params_dir) / f"{item.scenario}.yaml")
    try:
        pm.execute_notebook(str(notebooks_dir / f"{item.notebook}.ipynb"), str(executed),
                            parameters={"scenario": scenario_arg, "metrics_path": str(metrics)},
                            kernel_name=KERNEL_NAME, cwd=str(notebooks_dir), progress_bar=False,
                            execution_timeout=timeout, log_output=False,
                            shutdown_kernel="immediate")  # the kernel's state is discarded anyway
    except Exception as exc:  # the failure of one item is reported, never raised
        failing = getattr(exc, "exec_count", None)
        if executed.exists():
            shutil.copyfile(executed, scratch / "failed.ipynb")
            os.replace(scratch / "failed.ipynb", p["failed"])
        shutil.rmtree(scratch, ignore_errors=True)
        message = _one_line(exc)
        return asdict(Outcome(item.scenario, item.notebook, "failed", time.perf_counter() - start,
                              error=message, failing_cell=failing))
    figures = results.collect(executed) or {}
    page = site.notebook_page(executed, item, load_scenario(item.scenario, params_dir=Path(params_dir)), vintage)
    (scratch / "page.html").write_text(page, encoding="utf-8")
    (scratch / "figures.json").write_text(results.to_json(figures), encoding="utf-8")
    os.replace(executed, p["ipynb"])
    os.replace(scratch / "page.html", p["html"])
    os.replace(scratch / "figures.json", p["json"])
    atomic_write_text(p["inputs"], key + "\n")
    p["failed"].unlink(missing_ok=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return asdict(Outcome(item.scenario, item.notebook, "ok", time.perf_counter() - start, figures=figures))


def _one_line(exc: Exception) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    kind = type(exc).__name__
    if kind == "DeadKernelError":
        text = "the kernel died while executing a cell (a crash, os._exit or running out of memory)"
    elif kind == "CellTimeoutError" or "timed out" in str(exc).lower():
        text = f"a cell ran longer than the timeout and was stopped ({kind}); raise --timeout if the work is expected to take longer"
    else:
        text = f"{ename}: {evalue}" if ename else f"{kind}: {exc}"
    return " ".join(str(text).split())[:300]


class OutputsLock:
    """An exclusive lock on the outputs folder, so two runs never interleave their writes."""

    def __init__(self, outputs: Path):
        self.path = outputs / ".lock"
        self.handle = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise RunLockedError(f"{self.path.parent}: another valuechain run ({holder}) is writing here; "
                                 f"wait for it to finish, then run again") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}")
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def run(scenarios=None, notebooks=None, jobs: int | None = None, force: bool = False,
        outputs: Path | None = None, params_dir: Path | None = None, notebooks_dir: Path | None = None,
        progress: bool = True, timeout: int | None = None) -> list[Outcome]:
    """Run ``notebooks`` (default: all) for ``scenarios`` (default: all), then collect the figures."""
    outputs = Path(outputs or config.OUTPUTS_DIR).resolve()
    params_dir = Path(params_dir or config.PARAMS_DIR).resolve()
    notebooks_dir = Path(notebooks_dir or config.NOTEBOOKS_DIR).resolve()
    scenarios = list(scenarios or list_scenarios(params_dir))
    notebooks = list(notebooks or notebook_names(notebooks_dir))
    if jobs is not None and jobs < 1:
        raise ParameterError(f"--jobs {jobs} is not allowed; give a whole number of parallel processes, 1 or more")
    jobs = jobs or os.cpu_count() or 1
    items = plan(scenarios, notebooks, params_dir, notebooks_dir)
    resolved = {s: load_scenario(s, params_dir=params_dir).resolved() for s in scenarios}  # refuses bad files first
    with OutputsLock(outputs):
        shared = shared_inputs_hash()
        keys = {item: inputs_hash(item, resolved[item.scenario], notebooks_dir, shared) for item in items}
        outcomes, todo = [], []
        for item in items:
            if not force and is_cached(item, keys[item], outputs):
                figures = json.loads(_paths(outputs, item)["json"].read_text())
                outcomes.append(Outcome(item.scenario, item.notebook, "cached", 0.0, cached=True, figures=figures))
            else:
                todo.append(item)
        try:
            outcomes += _execute(todo, keys, outputs, notebooks_dir, params_dir, jobs, progress, timeout)
        finally:
            shutil.rmtree(outputs / ".tmp", ignore_errors=True)  # scratch of interrupted items
        order = {item.label: i for i, item in enumerate(items)}
        outcomes.sort(key=lambda o: order[f"{o.scenario}/{o.notebook}"])
        collect(outcomes, resolved, outputs)
    return outcomes


def _execute(todo, keys, outputs, notebooks_dir, params_dir, jobs, progress, timeout) -> list[Outcome]:
    if not todo:
        return []
    from tqdm.auto import tqdm

    for notebook in sorted({item.notebook for item in todo}):
        check_parameters(notebooks_dir / f"{notebook}.ipynb")

    from valuechain.dataset import load_dataset

    vintage = str(load_dataset().vintage)  # once for the batch, not once per page
    bar = tqdm(total=len(todo), desc="notebooks", unit="item", disable=not progress, dynamic_ncols=True)
    done: list[Outcome] = []

    # Ctrl-C only sets a flag; the loop below acts on it between waits. An exception raised wherever
    # the signal happens to land could leave a future's lock held and hang the pool's shutdown.
    stop = threading.Event()
    on_main = threading.current_thread() is threading.main_thread()  # signals can only be caught there
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set()) if on_main else None
    pool = cf.ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_worker_init)
    try:
        futures = {pool.submit(execute_item, item, keys[item], str(outputs), str(notebooks_dir), str(params_dir),
                               timeout, vintage): item for item in todo}

        def show_running(pending):
            # The pool takes queued items in order, so the ones running are the first unfinished ones.
            bar.set_postfix_str(", ".join([item.label for future, item in futures.items() if future in pending][:jobs]))

        pending = set(futures)
        show_running(pending)
        while pending:
            if stop.is_set():
                raise KeyboardInterrupt
            ready, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            for future in ready:  # run() puts the outcomes back in plan order
                item = futures[future]
                try:
                    outcome = Outcome(**future.result())
                except Exception as exc:  # a worker that died (e.g. killed by the system)
                    outcome = Outcome(item.scenario, item.notebook, "failed", error=_one_line(exc))
                done.append(outcome)
                bar.update(1)
            if ready:
                show_running(pending)
    except KeyboardInterrupt:
        _terminate(pool)
        raise
    finally:
        if on_main:
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
        bar.close()
        pool.shutdown(wait=True, cancel_futures=True)
    return done


def _worker_init() -> None:
    # Workers leave Ctrl-C to the parent, which stops them and their kernels.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.setpgid(0, 0)


def _terminate(pool: cf.ProcessPoolExecutor) -> None:
    """Kill every worker and, through its process group, the kernels it started."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def collect(outcomes: list[Outcome], resolved: dict, outputs: Path) -> list[dict]:
    """Write each scenario's metrics.json and parameters.json, the comparison table and run.json."""
    by_scenario: dict[str, dict] = {}
    for o in outcomes:
        figures = o.figures
        if o.status == "failed":
            path = _paths(outputs, Item(o.scenario, o.notebook))["json"]
            figures = json.loads(path.read_text()) if path.exists() else {}
        by_scenario.setdefault(o.scenario, {})[o.notebook] = figures
    for scenario, figures in by_scenario.items():
        atomic_write_text(outputs / scenario / "metrics.json", results.to_json(figures))
        atomic_write_text(outputs / scenario / "parameters.json", results.to_json(resolved[scenario]))
    table = comparison_table(outputs)
    atomic_write_text(outputs / "metrics.csv", table_to_csv(table))
    status = [asdict(o) | {"figures": None} for o in outcomes]
    atomic_write_text(outputs / "run.json", json.dumps({"items": status}, indent=2, sort_keys=True) + "\n")
    return table


def comparison_table(outputs: Path) -> list[dict]:
    """One row per scenario: every recorded figure, as ``<notebook>.<key>`` columns in sorted order."""
    rows = []
    for path in sorted(outputs.glob("*/metrics.json")):
        data = json.loads(path.read_text())
        row = {"scenario": path.parent.name}
        for notebook in sorted(data):
            for key in sorted(data[notebook]):
                value = data[notebook][key]
                if key != "scenario" and not isinstance(value, (dict, list)):
                    row[f"{notebook}.{key}"] = value
        rows.append(row)
    return rows


def table_to_csv(rows: list[dict]) -> str:
    """CSV text of the comparison table: columns sorted (scenario first), floats in shortest round-trip form."""
    import csv
    import io

    columns = ["scenario"] + sorted({key for row in rows for key in row} - {"scenario"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def summary_table(outcomes: list[Outcome]) -> str:
    """Plain-text table: scenario, notebook, status, duration, cached."""
    if not outcomes:
        return "nothing to run"
    rows = [("scenario", "notebook", "status", "seconds", "cached")]
    rows += [(o.scenario, o.notebook, o.status, f"{o.seconds:.1f}", "yes" if o.cached else "no") for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)
