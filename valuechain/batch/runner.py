"""The batch runner: every notebook for every scenario, in parallel processes, cached.

Layout of ``outputs/`` (all files written atomically: a temporary file, then a rename):

``<scenario>/<notebook>.ipynb``         executed notebook (last good run)
``<scenario>/<notebook>.html``          its page, code hidden, self-contained
``<scenario>/<notebook>.json``          key figures the notebook recorded
``<scenario>/<notebook>.page.json``     what the index shows of it (its title), as plain data
``<scenario>/<notebook>.failed.ipynb``  the executed notebook of a failed run, with papermill's error marker
``<scenario>/<notebook>.inputs``        hash of the item's inputs (written last: the cache marker)
``<scenario>/metrics.json``             figures of every notebook of the scenario, stable key order
``<scenario>/parameters.json``          the resolved scenario parameters
``<scenario>/record.json``              the run's data vintage, parameters and headline figures; the one it
                                        replaced is kept as ``record.previous.json`` (the index says what changed)
``metrics.csv``                         the comparison table across scenarios
``run.json``                            latest status of every item (merged across runs)
``.resolved.json``                      every scenario's resolved parameters, under a hash of the files they come from
                                        (read back instead of validating again while none changed, see :class:`ResolvedRecord`)

papermill changes the working directory while it executes, so items run in separate processes,
never threads: a pool of workers (:class:`Pool`, one per core by default) takes the queue one item at
a time, the main scenario's items first (:func:`queue_order`). Each worker keeps one kernel alive
across its items (:class:`WarmKernel`), so the notebooks' imports and the dataset are loaded once per
worker, not once per item; before each item the kernel's namespace and process settings are reset,
and after a failure or a timeout the kernel is replaced. A failing notebook fails only its own item,
and so does a worker that dies (killed by the system when memory runs out, say): a new worker
takes its place and runs the items that were still queued.

The workers and their kernels die with the parent process, however it ends: SIGINT, SIGTERM
and SIGHUP stop the batch cleanly, and on Linux each worker asks the kernel to kill it when its
parent dies (``PR_SET_PDEATHSIG``), so even SIGKILL leaves no orphan; a kernel exits within a
second of its worker (ipykernel watches its parent process). The lock on the outputs folder is
held by the parent alone (see :class:`valuechain.files.OutputsLock`).

Kernels talk to their worker over IPC sockets in a private folder (mode 0700) rather than TCP
ports: nothing listens on the network, and ipykernel has no unencrypted-TCP warning to print
(see :func:`kernel_config`). The parent removes the batch's socket folder however the batch ends. Progress goes to stderr (:class:`valuechain.batch.progress.Progress`).

The terminal shows the runner's own lines only: the libraries' warnings and log records, and all
that a worker or its kernel writes to its standard streams ("Kernel died..."), go to ``run.log`` in
the outputs folder (:mod:`valuechain.batch.runlog`).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from valuechain import paths
from valuechain.batch import runlog
from valuechain.publish import changes, outputs as outputs_reader
from valuechain.report.notebook import to_json
from valuechain.exceptions import OutputError, ParameterError, RunLockedError  # noqa: F401 (RunLockedError: public name here too)
from valuechain.files import (OutputsLock, YamlInputError, atomic_write_text, check_writable, disk_full, process_alive,
                              read_bytes, umask)
from valuechain.batch import sources as scenario_sources
from valuechain.scenario.names import check_name, list_scenarios, scenario_argument, scenario_path

KERNEL_NAME = "python3"  # ipykernel's own spec: the interpreter running valuechain, whatever the notebook names
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class RunInterrupted(KeyboardInterrupt):
    """Raised in the parent when a stop signal (SIGINT, SIGTERM, SIGHUP) ended the batch."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = signum


@dataclass(frozen=True)
class Item:
    """One scenario x notebook."""

    scenario: str
    notebook: str  # file stem, e.g. 01_profit_capture
    source: str = field(default="", compare=False)  # the scenario's file where it lies outside params/

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
    return sorted(p.stem for p in (notebooks_dir or paths.NOTEBOOKS_DIR).glob("*.ipynb"))


def notebook_stem(name: str) -> str:
    """The stem a notebook is known by, given as a stem, a file name or a path (``notebooks/01_x.ipynb``)."""
    return Path(str(name)).name.removesuffix(".ipynb")


def plan(scenarios, notebooks, params_dir: Path | None = None, notebooks_dir: Path | None = None,
         sources: dict[str, Path] | None = None) -> list[Item]:
    """Items to run, each once; unknown scenario or notebook names are refused before anything runs.
    ``sources``: the files of the scenarios outside params/, by name (:mod:`valuechain.batch.sources`)."""
    sources = sources or {}
    known_s = sorted(set(list_scenarios(params_dir)) | set(sources))
    known_n = notebook_names(notebooks_dir)
    scenarios = list(dict.fromkeys(scenarios))  # `run base base` runs base once
    notebooks = list(dict.fromkeys(notebook_stem(n) for n in notebooks))
    for name in scenarios:
        check_name(name)
        if name not in known_s:
            raise ParameterError(f"unknown scenario '{name}'; choose from: {', '.join(known_s)} (files in params/), "
                                 f"or give the path of a scenario file")
    for name in notebooks:
        if name not in known_n:
            raise ParameterError(f"unknown notebook '{name}'; choose from: {', '.join(known_n)} (files in notebooks/)")
    return [Item(s, n, str(sources.get(s, ""))) for s in scenarios for n in notebooks]


INJECTED = ("scenario", "metrics_path")  # the parameters the runner injects into every notebook


def check_parameters(notebook: Path, names=INJECTED) -> None:
    """Refuse a notebook that does not declare every parameter the runner injects.

    papermill only warns about an undeclared parameter and runs on, so the check happens here,
    before anything executes.
    """
    import nbformat
    import papermill as pm

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except Exception as exc:  # not JSON, not a notebook
        raise ParameterError(f"{notebook}: cannot be read as a notebook ({type(exc).__name__}); "
                             f"restore it from git or save it again from JupyterLab") from None
    if not (nb.metadata.get("kernelspec") or {}).get("name"):
        raise ParameterError(f"{notebook}: the notebook's metadata has no kernelspec, so papermill cannot tell its language; "
                             f"open it in JupyterLab, choose the Python 3 kernel and save it")
    declared = set(pm.inspect_notebook(str(notebook)))
    missing = [name for name in names if name not in declared]
    if missing:
        raise ParameterError(f"{notebook}: the cell tagged 'parameters' does not declare {', '.join(missing)}; "
                             f"add '{missing[0]}: str = \"\"' with a comment to that cell")


def shared_inputs_hash() -> str:
    """Hash of the inputs every item shares: the data files and the package code."""
    digest = hashlib.sha256()
    for folder, pattern in ((paths.DATA_DIR, "*"), (paths.PACKAGE_DIR, "**/*.py")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file():  # named by its place in the folder, so a module moved between sub-packages counts
                digest.update(path.relative_to(folder).as_posix().encode())
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
            "json": stem.with_suffix(".json"), "page": outputs_reader.page_record(stem.with_suffix(".ipynb")),
            "failed": folder / f"{item.notebook}.failed.ipynb",
            "inputs": stem.with_suffix(".inputs")}


def is_cached(item: Item, key: str, outputs: Path) -> bool:
    return cached_figures(item, key, outputs) is not None


def cached_figures(item: Item, key: str, outputs: Path) -> dict | None:
    """The recorded figures of an item whose last good run had the inputs ``key``; None if it must run.

    A cached item's files are read as untrusted data: a figures file or an executed notebook that
    cannot be read (cut short, empty, not JSON, not a notebook, nested too deep) is treated as
    missing, with one line naming it, and the item runs again. The notebook is checked quickly (its
    first and last bytes), and read whole when it is newer than the item's cache marker, which the
    runner writes after it.
    """
    p = _paths(outputs, item)
    try:
        if p["inputs"].read_text(encoding="utf-8").strip() != key or not p["html"].is_file():
            return None
        marked = p["inputs"].stat().st_mtime_ns
        newer = p["ipynb"].stat().st_mtime_ns > marked
    except (OSError, ValueError):  # missing, unreadable or not text: not cached
        return None
    figures, trouble = outputs_reader.parse_json(p["json"])
    if not trouble and not isinstance(figures, dict):
        trouble = "not a JSON object"
    problem = f"{p['json']}: {trouble}" if trouble else ""
    if not problem:
        trouble = outputs_reader.notebook_problem(p["ipynb"], deep=newer) if not p["ipynb"].is_symlink() else "a link"
        problem = f"{p['ipynb']}: {trouble}" if trouble else ""
    if problem:
        outputs_reader.warn(f"{problem}; {item.label} runs again")
        return None
    return figures


def kernel_config(sockets: Path):
    """Kernel manager settings for one item: IPC sockets named ``<sockets>/kernel-<n>``, no TCP port.

    ``sockets`` should be a short, private folder: a socket path is limited to about 100 bytes,
    and whoever can open the sockets can talk to the kernel.
    """
    from traitlets.config import Config

    # The connection file (it holds the key that signs every message) goes there too, not in Jupyter's
    # runtime folder: the parent removes the batch's folder however the batch ends.
    return Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel"),
                                     "connection_file": str(Path(sockets) / "connection.json")}})


def _socket_parent() -> str:
    """Where the kernels' socket folders go: the temporary folder, unless its path is too long for a socket name."""
    folder = tempfile.gettempdir()
    return folder if len(folder) <= 64 else "/tmp"


SOCKETS_PREFIX = "valuechain-kernels-"  # + "<pid of the batch>-": the batch's folder of kernel sockets
SOCKETS_FOLDER = re.compile(re.escape(SOCKETS_PREFIX) + r"(\d+)-[A-Za-z0-9_]+")
SCRATCH_FOLDER = re.compile(r"[^/]+__[^/]+__\d+")  # outputs/.tmp/<scenario>__<notebook>__<pid of the worker>
SCRATCH = ".tmp"


def remove_scratch(outputs: Path) -> list[Path]:
    """Remove the scratch a batch leaves when it is killed (``kill -9``); call it under the lock.

    That is, in ``outputs/.tmp/`` the items' scratch folders (``<scenario>__<notebook>__<pid>``), and in
    the temporary folder the kernel-socket folders (with the kernels' connection files) of batches
    whose process has ended. Only folders named and owned as the runner makes them are removed, never
    through a link; anything else there is left as it is. Returns what was removed.
    """
    removed = []
    scratch = Path(outputs) / SCRATCH
    candidates = [p for p in _entries(scratch) if SCRATCH_FOLDER.fullmatch(p.name)]
    for path in _entries(Path(_socket_parent())):
        match = SOCKETS_FOLDER.fullmatch(path.name)
        if match and not process_alive(int(match.group(1))):
            candidates.append(path)
    for path in candidates:
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if not scratch.is_symlink():
        try:
            scratch.rmdir()  # only when empty
        except OSError:
            pass
    return removed


def _entries(folder: Path) -> list[Path]:
    """The entries of ``folder`` (never through a link); [] if it is missing or a link."""
    try:
        return [] if folder.is_symlink() else list(folder.iterdir())
    except OSError:
        return []


# What an item may change in its kernel beyond its namespace, recorded once when the kernel starts
# (after importing the notebooks' stack, as the first item would) and put back before every item.
# What is alive then, and after each reset (the imported modules and their caches), is frozen out of the
# garbage collector's reach (gc.freeze): the full collection of every reset then scans only what the
# last item made, 0.01 s rather than 0.08 s after notebook 05.
SNAPSHOT_CODE = '''\
def _valuechain_snapshot():
    import gc, os, sys, warnings
    import matplotlib, numpy, pandas
    get_ipython().valuechain_snapshot = {
        "cwd": os.getcwd(), "path": list(sys.path), "environ": dict(os.environ), "warnings": list(warnings.filters),
        "numpy_errors": numpy.geterr(), "numpy_printing": numpy.get_printoptions(), "rc": dict(matplotlib.rcParams)}
    gc.freeze()
_valuechain_snapshot()
del _valuechain_snapshot
'''

# Run before every item in a kernel that has run something: a fresh namespace (In, Out and the
# execution count too, so cell numbers are those of a new kernel), and the state recorded above.
RESET_CODE = '''\
def _valuechain_reset():
    import gc, os, sys, warnings
    import matplotlib, numpy, pandas
    shell = get_ipython()
    saved = shell.valuechain_snapshot
    shell.reset(new_session=True)  # which also collects the garbage the last item left
    os.chdir(saved["cwd"])
    sys.path[:] = saved["path"]
    os.environ.clear()
    os.environ.update(saved["environ"])
    warnings.filters[:] = saved["warnings"]
    getattr(warnings, "_filters_mutated", lambda: None)()  # so the filters are read again
    numpy.seterr(**saved["numpy_errors"])
    numpy.set_printoptions(**saved["numpy_printing"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pandas.reset_option("all")
        matplotlib.rcParams.update(saved["rc"])
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    gc.collect()
    gc.freeze()
_valuechain_reset()
'''
KERNEL_STARTUP_SECONDS = 60  # a kernel that is not ready by then fails its item
RESET_SECONDS = 60


THREAD_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")  # numpy's, scipy's linear algebra


def kernel_threads() -> dict[str, str]:
    """The settings that give a batch kernel's linear algebra one thread, or none if the user set any of them.

    The batch runs a kernel per core. Left alone, OpenBLAS starts a thread per core in every kernel, so
    two kernels on two cores ran four threads that waited on one another: notebook 05's analyses took
    about a quarter more processor time with two threads than with one, for the same figures bit for
    bit. One thread, whatever the number of kernels, also keeps an item's figures independent of the
    size of the batch it runs in.
    """
    if any(name in os.environ for name in THREAD_SETTINGS):
        return {}
    return dict.fromkeys(THREAD_SETTINGS, "1")


class WarmKernel:
    """A worker's kernel, kept alive across its items so that each starts with the imports made.

    Isolation between the items that share it: before each item the kernel's namespace is emptied
    (its globals, ``In``, ``Out`` and the execution count), and the working directory, ``sys.path``,
    the environment, the warnings filters, numpy's error and print settings, pandas' options,
    matplotlib's settings and open pyplot figures are put back as they were when the kernel started.
    After an item that failed, timed out or killed the kernel, the kernel is stopped and the next
    item gets a new one. Imported modules stay (that is the point), so a module's own caches do
    too: the library's are filled from files that do not change during a batch. What survives a reset
    is frozen out of the garbage collector's scans (``gc.freeze``), after a collection, so the next
    reset's collection looks only at what the next item made.
    """

    def __init__(self, sockets: str | None = None):
        self.sockets = sockets
        self.km = self.kc = None
        self.folder: str | None = None
        self.cwd: Path | None = None
        self.ready = False  # answered, and its settings recorded (SNAPSHOT_CODE)

    def prepare(self, cwd: Path) -> None:
        """A kernel ready for a new item in ``cwd``: the running one reset, or a new one started."""
        from jupyter_core.utils import run_sync

        if self.km is not None and (self.cwd != cwd or not run_sync(self.km.is_alive)()):
            self.stop()
        try:
            if self.km is None:
                self.launch(cwd)
            if not self.ready:
                self._ready()
            else:
                self._run(RESET_CODE)
        except BaseException:
            self.stop()
            raise

    def launch(self, cwd: Path) -> None:
        """Start the kernel's process and return at once; :meth:`prepare` waits for it to be ready."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.folder = tempfile.mkdtemp(prefix="kernel-", dir=self.sockets or _socket_parent())  # mode 0700
        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME, config=kernel_config(Path(self.folder)))
        self.cwd = cwd
        # nbclient's own setting: the kernel keeps no history file
        run_sync(self.km.start_kernel)(cwd=str(cwd), extra_arguments=["--HistoryManager.hist_file=:memory:"],
                                       env={**os.environ, **kernel_threads()})
        self.kc = self.km.client()
        self.kc.start_channels()

    def _ready(self) -> None:
        from jupyter_core.utils import run_sync

        run_sync(self.kc.wait_for_ready)(timeout=KERNEL_STARTUP_SECONDS)
        self.kc.allow_stdin = False
        self._run(SNAPSHOT_CODE)
        self.ready = True

    def _run(self, code: str) -> None:
        """Execute ``code`` silently and wait until the kernel is idle again; raise if it fails."""
        from jupyter_core.utils import run_sync

        async def execute():
            msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
            while True:
                reply = await self.kc.get_shell_msg(timeout=RESET_SECONDS)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            while True:  # its output messages, so none is left waiting for the next item
                msg = await self.kc.get_iopub_msg(timeout=RESET_SECONDS)
                if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                        and msg["content"].get("execution_state") == "idle"):
                    return reply["content"]

        try:
            content = run_sync(execute)()
        except Exception as exc:  # queue.Empty: no answer in time
            raise RuntimeError(f"the kernel did not answer within {RESET_SECONDS} seconds while it was prepared "
                               f"for the next item ({type(exc).__name__})") from None
        if content.get("status") != "ok":
            raise RuntimeError(f"the kernel could not be prepared for the next item: "
                               f"{content.get('ename', 'error')}: {content.get('evalue', '')}")

    def stop(self) -> None:
        """Stop the kernel (if any) and remove its socket folder."""
        from jupyter_core.utils import run_sync

        km, kc, folder = self.km, self.kc, self.folder
        self.km = self.kc = self.folder = self.cwd = None
        self.ready = False
        try:
            if kc is not None:
                kc.stop_channels()
            if km is not None:
                run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # already dead, or never started: nothing left to stop
            pass
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


ENGINE = "valuechain-warm"


@functools.cache
def register_engine() -> str:
    """Register with papermill, once per process, the engine that runs a notebook in a :class:`WarmKernel`.

    It is papermill's own engine (nbclient) given the warm kernel instead of starting one, so the
    parameters are injected and the notebook recorded exactly as papermill does. It writes the
    executed notebook once, at the end, rather than after every cell; a run cut short (a timeout, a
    dead kernel) is written as far as it went, so the failing cell can be named.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
    from papermill.log import logger

    class SavedAtEnd(NotebookExecutionManager):
        final = False

        def save(self, **kwargs):
            if kwargs.get("nb"):
                self.nb = kwargs["nb"]
            if self.final:
                super().save()

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                             autosave_cell_every=30, **kwargs):
            nb_man = SavedAtEnd(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            except BaseException:
                nb_man.final = True
                raise
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                     start_timeout=60, execution_timeout=None, warm_kernel=None, **kwargs):
            client = PapermillNotebookClient(nb_man, km=warm_kernel.km, timeout=execution_timeout,
                                             startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                                             log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            client.kc = warm_kernel.kc
            return client.execute()

    papermill_engines.register(ENGINE, WarmEngine)
    return ENGINE


def execute_item(item: Item, key: str, outputs: str, notebooks_dir: str, params_dir: str,
                 timeout: int | None = None, vintage: str | None = None, sockets: str | None = None,
                 overdue: str = "", kernel: WarmKernel | None = None) -> dict:
    """Run one item in this process (a worker): execute, convert to HTML, write atomically.

    Never raises: a failure of the notebook or of a write (a full disk, say) is reported in the
    outcome, and the item's previous good output stays in place. The notebook runs in ``kernel``,
    the worker's warm kernel (:class:`WarmKernel`), reset to a clean namespace first and restarted
    after a failure; without one, a kernel is started for this item alone and stopped after it. A
    kernel's socket folder is made inside ``sockets`` (the batch's folder, which the parent removes
    however the batch ends). ``overdue`` is the sentence naming the overdue reports, shown on the page.
    """
    outputs = Path(outputs)
    p = _paths(outputs, item)
    scratch = outputs / SCRATCH / f"{item.scenario}__{item.notebook}__{os.getpid()}"
    start = time.perf_counter()
    own = kernel is None
    kernel = kernel or WarmKernel(sockets)
    try:
        return _execute_item(item, key, outputs, Path(notebooks_dir), Path(params_dir), timeout, vintage, p, scratch, start,
                             kernel, overdue)
    except Exception as exc:  # a write that failed after the notebook ran (no space, no permission), or a kernel that would not start
        return asdict(Outcome(item.scenario, item.notebook, "failed", time.perf_counter() - start,
                              error=_one_line(exc, timeout)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if own:
            kernel.stop()


def _execute_item(item, key, outputs, notebooks_dir, params_dir, timeout, vintage, p, scratch, start, kernel,
                  overdue="") -> dict:
    import papermill as pm

    from valuechain.publish import site

    p["folder"].mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    executed, metrics = scratch / f"{item.notebook}.ipynb", scratch / f"{item.notebook}.json"
    scenario_file = Path(item.source) if item.source else scenario_path(item.scenario, params_dir)
    scenario_arg = str(scenario_file)
    kernel.prepare(notebooks_dir)  # started, or reset to a clean namespace
    try:
        pm.execute_notebook(str(notebooks_dir / f"{item.notebook}.ipynb"), str(executed),
                            parameters={"scenario": scenario_arg, "metrics_path": str(metrics)},
                            kernel_name=KERNEL_NAME, cwd=str(notebooks_dir), progress_bar=False,
                            execution_timeout=timeout, log_output=False, engine_name=register_engine(),
                            warm_kernel=kernel)
    except Exception as exc:  # the failure of one item is reported, never raised
        kernel.stop()  # whatever the failed item left in the kernel goes with it: the next item gets a new one
        failing = getattr(exc, "exec_count", None) or _last_started_cell(executed)
        if not disk_full(exc):
            _save_failed(executed, scratch, p["failed"])
        return asdict(Outcome(item.scenario, item.notebook, "failed", time.perf_counter() - start,
                              error=_one_line(exc, timeout, failing), failing_cell=failing))
    book = outputs_reader.read_notebook(executed)
    figures = book.figures or {}
    from valuechain.scenario.load import load_scenario  # in the worker that ran the notebook

    parameters = load_scenario(scenario_file, params_dir=params_dir).resolved()
    page = site.notebook_page(executed, parameters, vintage or "", item.scenario, overdue)
    atomic_write_text(scratch / "page.html", page)
    atomic_write_text(scratch / "figures.json", to_json(figures))
    atomic_write_text(scratch / "page.json", outputs_reader.page_data(book))
    os.chmod(executed, 0o666 & ~umask())
    os.replace(executed, p["ipynb"])
    os.replace(scratch / "page.html", p["html"])
    os.replace(scratch / "figures.json", p["json"])
    os.replace(scratch / "page.json", p["page"])
    atomic_write_text(p["inputs"], key + "\n")
    p["failed"].unlink(missing_ok=True)
    return asdict(Outcome(item.scenario, item.notebook, "ok", time.perf_counter() - start, figures=figures))


def _read_notebook(path: Path):
    """The notebook at ``path``, or None if it is missing, empty or not a whole notebook (a write cut short)."""
    import nbformat

    try:
        return nbformat.read(str(path), as_version=4) if path.exists() and path.stat().st_size else None
    except Exception:
        return None


def _save_failed(executed: Path, scratch: Path, target: Path) -> None:
    """Keep the executed copy of a failed run as ``<notebook>.failed.ipynb``, if a whole one was written."""
    if _read_notebook(executed) is None:
        return  # never an empty or truncated marker
    tmp = scratch / "failed.ipynb"
    try:
        shutil.copyfile(executed, tmp)
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)  # no room for the marker: the outcome still says what failed


def _last_started_cell(executed: Path) -> int | None:
    """Execution count of the last code cell papermill started in ``executed`` (the one that failed)."""
    nb = _read_notebook(executed)
    if nb is None:
        return None
    code = [c for c in nb.cells if c.cell_type == "code"]
    # papermill stamps start_time when a cell starts; it marks never-run cells "completed" at the end.
    started = [i for i, c in enumerate(code) if c.metadata.get("papermill", {}).get("start_time")]
    if not started:
        return None
    # A cell stopped before the kernel reported its count would have had the count of its position,
    # since papermill runs the cells in order in a fresh kernel.
    return code[started[-1]].get("execution_count") or started[-1] + 1


def _one_line(exc: Exception, timeout: int | None = None, cell: int | None = None) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    kind = type(exc).__name__
    where = f"cell In[{cell}]" if cell else "a cell"
    if disk_full(exc):
        name = getattr(exc, "filename", None) or next((getattr(e, "filename", None) for e in (exc.__cause__, exc.__context__)
                                                       if e is not None), None)
        text = f"the disk is full (no space left on device{f' writing {name}' if name else ''}); free some space, then run again"
    elif kind == "DeadKernelError":
        text = f"the kernel died while executing {where} (a crash, os._exit or running out of memory)"
    elif kind == "CellTimeoutError" or "timed out" in str(exc).lower():
        limit = f"the {timeout}-second timeout" if timeout else "the timeout"
        text = f"{where} ran longer than {limit} and was stopped; raise --timeout if the work is expected to take longer"
    else:
        text = f"{ename}: {evalue}" if ename else f"{kind}: {exc}"
    return " ".join(str(text).split())[:300]


def run(scenarios=None, notebooks=None, jobs: int | None = None, force: bool = False,
        outputs: Path | None = None, params_dir: Path | None = None, notebooks_dir: Path | None = None,
        progress: bool = True, timeout: int | None = None, on_locked=None) -> list[Outcome]:
    """Run ``notebooks`` (default: all) for ``scenarios`` (default: all of params/), then collect the figures.

    A scenario is a name (of params/, a variant, or a file an earlier run into ``outputs`` recorded) or
    the path of a scenario file in any folder, whose outputs go to ``<outputs>/<its stem>/``
    (:func:`valuechain.scenario.names.scenario_argument`, :mod:`valuechain.batch.sources`).

    Everything that can be checked is checked before any notebook executes: names, ``jobs`` and
    ``timeout``, every scenario file asked for (all of them are reported, not only the first),
    the notebooks' metadata and parameters, and that the outputs folder and each scenario's
    folder can be written. ``on_locked`` (no arguments) is called under the lock once all of that has
    passed, before any item runs: a caller's own file is written then, never by a refused run.
    """
    outputs = Path(outputs or paths.OUTPUTS_DIR).resolve()
    params_dir = Path(params_dir or paths.PARAMS_DIR).resolve()
    notebooks_dir = Path(notebooks_dir or paths.NOTEBOOKS_DIR).resolve()
    every_scenario = not scenarios
    sources = scenario_sources.read(outputs, params_dir)
    given = [scenario_argument(s, params_dir) for s in scenarios or ()]
    sources.update({name: file for name, file in given if file is not None})
    scenarios = [name for name, _ in given] or list_scenarios(params_dir)
    notebooks = list(notebooks or notebook_names(notebooks_dir))
    if jobs is not None and jobs < 1:
        raise ParameterError(f"--jobs {jobs} is not allowed; give a whole number of parallel processes, 1 or more")
    if timeout is not None and timeout < 1:
        raise ParameterError(f"--timeout {timeout} is not allowed; give the seconds a single cell may run, 1 or more "
                             f"(the default is 600)")
    jobs = jobs or os.cpu_count() or 1
    # Bad scenario files are refused before anything else happens, all of them in one message
    # (with every file in params/, a badly named one among them).
    shared = shared_inputs_hash()
    known = ResolvedRecord(outputs, params_dir, shared, sources)
    resolved = known.load_all(scenarios) if every_scenario else None
    items = plan(scenarios, notebooks, params_dir, notebooks_dir, sources)
    scenarios = list(dict.fromkeys(item.scenario for item in items))
    resolved = resolved or known.load_all(scenarios)
    check_contained(outputs, scenarios)
    with OutputsLock(outputs), contextlib.ExitStack() as quiet:
        for folder in [outputs, *(outputs / s for s in scenarios)]:
            check_writable(folder)
        log = quiet.enter_context(runlog.to_log(outputs / runlog.NAME, fresh=True, lazy=True))
        outputs_reader.mark(outputs)
        remove_scratch(outputs)  # what a killed batch left
        keys, outcomes, todo = _split(items, resolved, outputs, notebooks_dir, shared, force)
        if known.read_back and (todo or _recorded_differ(outputs, resolved, scenarios)):
            # Recorded parameters only ever confirm that nothing changed: anything they would write
            # (an item to run, a parameters.json that differs) comes from the scenario files, validated.
            resolved = load_all(scenarios, params_dir, sources)
            keys, outcomes, todo = _split(items, resolved, outputs, notebooks_dir, shared, force)
        known.write(resolved)
        scenario_sources.record(outputs, {item.scenario: Path(item.source) for item in items if item.source})
        for notebook in sorted({item.notebook for item in todo}):
            check_parameters(notebooks_dir / f"{notebook}.ipynb")
        if on_locked is not None:
            on_locked()
        try:
            outcomes += _execute(queue_order(todo), keys, outputs, notebooks_dir, params_dir, jobs, progress, timeout, log,
                                 resolved)
        finally:
            remove_scratch(outputs)  # scratch of interrupted items
        order = {item.label: i for i, item in enumerate(items)}
        outcomes.sort(key=lambda o: order[f"{o.scenario}/{o.notebook}"])
        current = (scenario_sources.current(outputs, params_dir), notebook_names(notebooks_dir))
        collect(outcomes, resolved, outputs, current=current)
        write_exports(outcomes, outputs, current[1])
    return outcomes


MAIN_SCENARIO = "base"  # the scenario the site opens on: its items run first


def queue_order(items: list[Item]) -> list[Item]:
    """The order in which items are handed to the workers: the main scenario's first, so its pages are
    ready earliest, then the others in plan order."""
    return sorted(items, key=lambda item: item.scenario != MAIN_SCENARIO)  # a stable sort keeps plan order


def _split(items, resolved, outputs, notebooks_dir, shared, force):
    """Each item's cache key, the outcomes of the cached items, and the items to run."""
    keys = {item: inputs_hash(item, resolved[item.scenario], notebooks_dir, shared) for item in items}
    outcomes, todo = [], []
    for item in items:
        figures = None if force else cached_figures(item, keys[item], outputs)
        if figures is not None:
            _paths(outputs, item)["failed"].unlink(missing_ok=True)  # a failure older than the good output it sits beside
            outcomes.append(Outcome(item.scenario, item.notebook, "cached", 0.0, cached=True, figures=figures))
        else:
            todo.append(item)
    return keys, outcomes, todo


def _recorded_differ(outputs: Path, resolved: dict, scenarios) -> bool:
    """Whether any scenario's parameters.json differs from ``resolved`` (so a run would rewrite it)."""
    for name in scenarios:
        try:
            if (outputs / name / "parameters.json").read_text(encoding="utf-8") != to_json(resolved[name]):
                return True
        except (OSError, ValueError):
            return True
    return False


def check_contained(outputs: Path, scenarios) -> None:
    """Refuse, with one line, a scenario folder or scratch folder under ``outputs`` that is a symbolic link:
    the runner writes only inside the outputs folder, never through a link out of it."""
    for path in [outputs / SCRATCH, *(outputs / name for name in scenarios)]:
        if path.is_symlink():
            raise OutputError(f"{path}: is a symbolic link, and valuechain writes only inside the outputs folder; "
                              f"remove the link (its target is left as it is) or choose another folder with --outputs")


def _overdue(sentence) -> str:
    """The overdue reports' sentence for the pages (``sentence()``), or "" with one line on stderr if the earnings
    calendar cannot give it: a banner is never worth a failed batch."""
    try:
        return sentence()
    except Exception as exc:
        outputs_reader.warn(f"the earnings calendar could not tell which reports are overdue ({type(exc).__name__}: "
                            f"{exc}); the pages go without the banner; 'valuechain data calendar' shows the calendar")
        return ""


def write_exports(outcomes: list[Outcome], outputs: Path, notebooks=None, overdue: str | None = None) -> None:
    """Charts, workbook, deck and brief of each scenario of the run whose executed notebooks are newer than them
    (those a worker wrote during the batch, :class:`Exports`, are not). ``overdue``: the sentence naming the
    overdue reports (default: the earnings calendar's today)."""
    from valuechain.publish import exports

    vintage = None
    for scenario in dict.fromkeys(o.scenario for o in outcomes):
        if exports.stale(outputs / scenario):
            from valuechain.dataset.load import load_dataset  # only then: pandera and pandas take a while to load
            from valuechain.publish.site import overdue_sentence

            vintage = vintage or str(load_dataset().vintage)
            overdue = _overdue(overdue_sentence) if overdue is None else overdue
            exports.write_all(outputs / scenario, notebooks, vintage, overdue)


@dataclass(frozen=True)
class Exports:
    """The exports of one scenario (:func:`valuechain.publish.exports.write_all`), a task a worker runs once every
    item of the scenario has run, while the other worker runs the next items: they are not left to the end."""

    scenario: str

    @property
    def label(self) -> str:
        return f"{self.scenario}/exports"


def export_scenario(job: Exports, outputs: str, notebooks, vintage: str, overdue: str, parameters: dict) -> dict:
    """Write ``job``'s exports in this process (a worker) if they are stale; never raises.

    Returns ``{"error": "", "warnings": [...]}``: the lines about ignored or unreadable files under the outputs
    folder it wrote on the way (``outputs.warn``), which the parent shows on the terminal (a worker's own
    stderr goes to the run's log), and the error in one line if it failed. The error goes to the run's log;
    the parent then writes the exports itself after the batch (:func:`write_exports`), as it does when the
    worker dies, and reports what fails there."""
    import contextlib
    import io
    import sys

    from valuechain.publish import exports

    folder, said = Path(outputs) / job.scenario, io.StringIO()
    error = ""
    with contextlib.redirect_stderr(said):
        try:
            if exports.stale(folder):
                exports.write_all(folder, notebooks, vintage, overdue, parameters=parameters)
        except Exception as exc:
            error = _one_line(exc)
    lines = said.getvalue().splitlines()
    ours, others = [line for line in lines if line.startswith(WARNING)], [line for line in lines if not line.startswith(WARNING)]
    for line in others + ([f"the exports of {job.scenario} were left to the parent: {error}"] if error else []):
        print(line, file=sys.stderr)  # the run's log
    return {"error": error, "warnings": ours}


WARNING = "valuechain: warning: "  # how outputs.warn begins a line


def load_all(scenarios, params_dir: Path, sources: dict[str, Path] | None = None) -> dict[str, dict]:
    """Resolved parameters of every scenario, or one ParameterError naming every file that is invalid.
    ``sources``: the files of the scenarios outside params/, by name."""
    # Here, not at the top: a rerun whose scenario files are unchanged reuses their recorded parameters
    # and never needs the schema (pydantic takes a tenth of a second to import).
    from valuechain.scenario.load import load_scenario

    resolved, problems, bad = {}, [], []
    for name in scenarios:
        try:
            resolved[name] = load_scenario((sources or {}).get(name, name), params_dir=params_dir).resolved()
        except ParameterError as exc:
            bad.append(name)
            problems += exc.problems
    if len(bad) == 1 and len(scenarios) == 1:
        raise ParameterError(problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""), problems)
    if bad:
        files = ", ".join(str((sources or {}).get(name) or params_dir / f"{name}.yaml") for name in bad)
        raise ParameterError(f"{len(bad)} of {len(scenarios)} scenario files are invalid, so nothing was run: {files}; "
                             f"'valuechain validate' lists every problem, e.g. {problems[0]}", problems)
    return resolved


class ResolvedRecord:
    """Resolved parameters of the scenarios, recorded by an earlier run in ``<outputs>/.resolved.json``.

    Loading and validating every scenario file takes most of a run that has nothing to execute.
    Its result depends only on the scenario files, the data files and the package code, so it is
    recorded under a hash of all three and read back while none of them has changed: a scenario
    file that was refused was never recorded, and any change to a file sends every scenario
    through :func:`load_all` again.
    """

    NAME = ".resolved.json"

    def __init__(self, outputs: Path, params_dir: Path, shared: str, sources: dict[str, Path] | None = None):
        self.path = outputs / self.NAME
        self.sources = dict(sources or {})
        digest = hashlib.sha256(shared.encode())
        # extends looks in the file's folder, the folder given and the project's params/ (load_scenario);
        # a scenario file outside params/ is read with the files beside it (not below: its folder may be large)
        folders = {folder: folder.rglob for folder in (params_dir.resolve(), paths.PARAMS_DIR.resolve())}
        for file in self.sources.values():
            folders.setdefault(Path(file).resolve().parent, Path(file).resolve().parent.glob)
        for find in folders.values():
            for path in sorted(find("*.yaml")):
                digest.update(f"\0{path}\0".encode())
                try:  # bounded: a link to a device must not hang or exhaust memory (the loader refuses it)
                    digest.update(read_bytes(path))
                except (OSError, YamlInputError) as exc:
                    digest.update(f"unreadable: {exc}".encode())
        self.key = digest.hexdigest()
        self.params_dir = params_dir
        self.recorded = self._read()
        self.read_back = False  # whether load_all answered from the record

    def _read(self) -> dict[str, dict]:
        data = outputs_reader.read_mapping(self.path)  # none yet, or unreadable: {}, so loaded anew
        ok = data.get("key") == self.key and isinstance(data.get("scenarios"), dict)
        try:
            json.dumps(data)  # hashed and written again later: a record nested too deep for that is not one
        except (RecursionError, ValueError):
            return {}
        return data["scenarios"] if ok else {}

    def load_all(self, scenarios) -> dict[str, dict]:
        """:func:`load_all` of ``scenarios``, or their recorded parameters if every one is recorded under the current key."""
        if self.recorded and all(isinstance(self.recorded.get(name), dict) for name in scenarios):
            self.read_back = True
            return {name: self.recorded[name] for name in scenarios}
        return load_all(scenarios, self.params_dir, self.sources)

    def write(self, resolved: dict[str, dict]) -> None:
        """Record ``resolved`` (with what is recorded under the same key) for the next run; call it under the lock."""
        # Only what reads back as the very same data, so a recorded scenario hashes as a loaded one.
        same = {name: data for name, data in resolved.items() if json.loads(json.dumps(data)) == data}
        write_changed(self.path, json.dumps({"key": self.key, "scenarios": self.recorded | same}, sort_keys=True) + "\n")


def _execute(todo, keys, outputs, notebooks_dir, params_dir, jobs, progress, timeout, log=None,
             resolved=None) -> list[Outcome]:
    """Run ``todo`` in the pool; each scenario's exports are written by a worker as soon as its last item has run."""
    if not todo:
        return []
    from collections import deque

    from valuechain.dataset.load import load_dataset
    from valuechain.batch.progress import Progress

    if log is not None:
        log.open()  # this run's log, started afresh before the workers append to it
    bar = Progress(len(todo), enabled=progress)
    done: list[Outcome] = []

    # A stop signal only records itself; the loop below acts on it between waits. An exception raised
    # wherever the signal happens to land could leave a worker's pipe half read.
    stopped: list[int] = []
    on_main = threading.current_thread() is threading.main_thread()  # signals can only be caught there
    previous = {}
    if on_main:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, lambda number, frame: stopped.append(number))
    # The kernels' socket folders live in one folder of the batch's, removed below even when the
    # workers and their kernels were killed before they could remove their own.
    sockets = tempfile.mkdtemp(prefix=f"{SOCKETS_PREFIX}{os.getpid()}-", dir=_socket_parent())
    pool = Pool(min(jobs, len(todo)), sockets, str(log.path) if log is not None else None, notebooks_dir)
    try:
        pool.start()  # the workers start their kernels while the dataset loads here
        from valuechain.publish.site import overdue_sentence

        vintage = str(load_dataset().vintage)  # once for the batch, not once per page
        overdue = _overdue(overdue_sentence)
        left = {scenario: sum(item.scenario == scenario for item in todo) for scenario in dict.fromkeys(i.scenario for i in todo)}
        notebooks = notebook_names(notebooks_dir)

        def task(job):
            if isinstance(job, Exports):
                parameters = json.loads(to_json(resolved[job.scenario])) if resolved else None  # as parameters.json reads back
                return job, str(outputs), notebooks, vintage, overdue, parameters
            return job, keys[job], str(outputs), str(notebooks_dir), str(params_dir), timeout, vintage, sockets, overdue

        queue = deque(todo)
        for job, result in pool.run(queue, task, stopped, bar.running):
            if isinstance(job, Exports):
                for line in (result or {}).get("warnings", []):
                    outputs_reader.warn(line.removeprefix(WARNING))
                continue  # stale exports the worker could not write are written after the batch (write_exports)
            outcome = Outcome(**result) if result is not None else Outcome(
                job.scenario, job.notebook, "failed", error=pool.death_message(job))
            done.append(outcome)  # run() puts the outcomes back in plan order
            bar.finished(job.label, outcome.status, outcome.seconds)
            left[job.scenario] -= 1
            if not left[job.scenario]:
                queue.appendleft(Exports(job.scenario))  # next, on the first worker free
        if stopped:
            raise RunInterrupted(stopped[0])
    except KeyboardInterrupt as exc:
        pool.kill()
        raise exc if isinstance(exc, RunInterrupted) else RunInterrupted(signal.SIGINT) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.default_int_handler if handler is None and signum == signal.SIGINT
                          else signal.SIG_DFL if handler is None else handler)
        bar.close()
        pool.close()
        shutil.rmtree(sockets, ignore_errors=True)
    return done


class Pool:
    """Worker processes, each running one job at a time: an item in its warm kernel (:class:`WarmKernel`), or a
    scenario's exports (:class:`Exports`).

    The parent hands out the queue one job at a time, to whichever worker is free, so it always
    knows which job each worker runs. A worker that dies (killed by the system when memory runs
    out, say) fails only the item it was running (exports it was writing are left to the parent):
    a new worker takes its place and the queue goes on. A stop signal or ``kill`` ends every worker
    and, through its process group, what it started.
    """

    def __init__(self, size: int, sockets: str, log: str | None = None, cwd: Path | None = None):
        import multiprocessing

        self.context = multiprocessing.get_context()
        self.size, self.sockets, self.log = size, sockets, log
        self.cwd = str(cwd) if cwd is not None else None  # where the workers start their kernels
        self.workers: list[_Worker] = []
        self.deaths: dict[Item, int | None] = {}  # item -> exit code of the worker that died running it

    def _start(self) -> _Worker:
        conn, child = self.context.Pipe()
        process = self.context.Process(target=_worker_main, args=(child, os.getpid(), self.log, self.sockets, self.cwd),
                                       name="valuechain-worker", daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, conn)
        self.workers.append(worker)
        return worker

    def start(self) -> None:
        """Start the workers, each starting its kernel, before there is anything to give them."""
        while len(self.workers) < self.size:
            self._start()

    def run(self, queue, task, stopped=(), show=None):
        """Run the deque ``queue`` in order; yield ``(job, outcome dict or None if its worker died)`` as each ends.

        The caller may add to ``queue`` (at either end) while it runs: a worker free takes the first job."""
        from multiprocessing.connection import wait

        shown = None
        while True:
            idle = [w for w in self.workers if w.item is None]
            while queue and (idle or len(self.workers) < self.size):
                self._give(idle.pop(0) if idle else self._start(), queue.popleft(), task)
            busy = [w for w in self.workers if w.item is not None]
            if not busy:
                return
            if show is not None and shown != [w.item for w in busy]:
                shown = [w.item for w in busy]
                show([item.label for item in shown])
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=0.2)
            if stopped:
                return
            for worker in busy:
                if worker.conn not in ready and worker.process.sentinel not in ready:
                    continue
                item, result = worker.item, worker.receive()
                worker.item = None
                if result is None:  # the worker died running it
                    worker.process.join(timeout=5)
                    self.deaths[item] = worker.process.exitcode
                if not worker.process.is_alive():
                    self._retire(worker)
                yield item, result  # before the worker gets its next job: the caller may have put one first

    def _give(self, worker: _Worker, item: Item, task) -> None:
        """Hand ``item`` to ``worker``, or to a new worker if that one has died since its last item."""
        try:
            worker.conn.send(task(item))
        except OSError:  # its end of the pipe is closed: it died while idle
            self._retire(worker)
            worker = self._start()
            worker.conn.send(task(item))
        worker.item = item

    def _retire(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.process.join(timeout=5)
        worker.conn.close()

    def death_message(self, item: Item) -> str:
        code = self.deaths.get(item)
        how = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 and -code in signal.valid_signals() \
            else f"ended with exit code {code}" if code is not None else "ended"
        return (f"the worker process running it was {how}, as the system does when memory runs out; "
                f"the other items ran on; run it again, with fewer --jobs if memory is short")

    def kill(self) -> None:
        """Kill every worker and, through its process group, the kernels it started."""
        for worker in self.workers:
            if worker.process.exitcode is not None:  # ended and reaped: its pid may be another process's now
                continue
            try:
                os.killpg(worker.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        """Ask each worker to stop its kernel and exit; kill those that do not within a few seconds."""
        for worker in self.workers:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 10
        for worker in self.workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
        self.kill()
        for worker in self.workers:
            worker.process.join(timeout=5)
            worker.conn.close()
        self.workers = []


@dataclass
class _Worker:
    process: object  # multiprocessing.Process
    conn: object  # the parent's end of its pipe
    item: Item | Exports | None = None  # the job it is running

    def receive(self) -> dict | None:
        """The outcome the worker sent, or None if it died before sending one."""
        try:
            return self.conn.recv() if self.conn.poll() else None
        except (EOFError, OSError):
            return None


def _worker_main(conn, parent_pid: int, log: str | None, sockets: str, cwd: str | None = None) -> None:
    """A worker: run the items the parent sends, one at a time, in one warm kernel, until told to stop.

    The kernel is started at once, in ``cwd``, and the worker imports what it needs while the kernel
    starts up, before the first item arrives.
    """
    _worker_init(parent_pid, log)
    kernel = WarmKernel(sockets)
    try:
        if cwd is not None:
            try:
                kernel.launch(Path(cwd))
            except Exception:  # the first item starts it again, and reports what goes wrong
                kernel.stop()
            import papermill  # noqa: F401

            from valuechain.publish import site  # noqa: F401

            register_engine()
        gc.freeze()  # the imports stay for the worker's life: its collections need not scan them (as a kernel's, SNAPSHOT_CODE)
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):  # the parent is gone
                break
            if task is None:
                break
            conn.send(export_scenario(*task) if isinstance(task[0], Exports) else execute_item(*task, kernel=kernel))
    finally:
        kernel.stop()


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere); exit if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def _worker_init(parent_pid: int | None = None, log: str | None = None) -> None:
    # Workers leave Ctrl-C, SIGTERM and SIGHUP to the parent, which stops them and their kernels.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if log is not None:  # a worker shows nothing on the terminal: its lines and its kernels' go to the run's log
        runlog.redirect_process(Path(log))
    os.setpgid(0, 0)
    if parent_pid is not None:
        _die_with_parent(parent_pid)


def collect(outcomes: list[Outcome], resolved: dict, outputs: Path, current=None) -> list[dict]:
    """Write each scenario's metrics.json, parameters.json and record of the run, the comparison table and run.json.

    A scenario's metrics.json holds the figures of every notebook's current output, not only of the
    notebooks in this run. ``current`` = (scenario names, notebook stems) that still exist: the
    comparison table and run.json leave out the rest (``valuechain clean`` removes their files).
    """
    scenarios_now, notebooks_now = current if current is not None else (None, None)
    for scenario in dict.fromkeys(o.scenario for o in outcomes):
        write_changed(outputs / scenario / "metrics.json", to_json(scenario_figures(outputs / scenario, notebooks_now)))
        write_changed(outputs / scenario / "parameters.json", to_json(resolved[scenario]))
        changes.keep(outputs / scenario)  # the run's record; the one it replaces is kept as the previous run's
    table = comparison_table(outputs, scenarios_now, notebooks_now)
    write_changed(outputs / "metrics.csv", table_to_csv(table))
    write_status(outputs, outcomes, scenarios_now, notebooks_now)
    return table


def write_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, unless the file already holds exactly that text
    (a run that changed nothing leaves its files as they were)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, ValueError):  # missing, unreadable or not UTF-8: written anew
        pass
    atomic_write_text(path, text)


def scenario_figures(folder: Path, notebooks=None) -> dict:
    """Figures of every notebook whose current output is in ``folder`` (limited to ``notebooks`` if given)."""
    figures = {}
    for path in sorted(folder.glob("*.json")):
        stem = path.stem
        if notebooks is not None and stem not in notebooks:
            continue
        if (folder / f"{stem}.inputs").exists():  # a notebook's figures, not metrics.json or parameters.json
            data = outputs_reader.read_json_mapping(path, "item's recorded figures")
            if data is not None:  # an unreadable file is left out (with one line); the next run of the item rewrites it
                figures[stem] = data
    return figures


OUTPUT_SUFFIXES = (".failed.ipynb", ".ipynb", ".html", outputs_reader.PAGE_SUFFIX, ".json", ".inputs")  # files an item writes


SCENARIO_FILES = ("metrics.json", "parameters.json", "exports.json", changes.RECORD, changes.PREVIOUS)  # a scenario's own files


def item_stems(folder: Path) -> set[str]:
    """Stems of the items whose outputs are in ``folder``: those with a cache marker or an executed notebook."""
    stems = set()
    for path in _entries(folder):
        for suffix in (".inputs", ".failed.ipynb", ".ipynb"):
            if path.name.endswith(suffix):
                stems.add(path.name[: -len(suffix)])
                break
    return stems - {name.removesuffix(".json") for name in SCENARIO_FILES}


def item_files(folder: Path, stems) -> list[Path]:
    """The files in ``folder`` an item of one of ``stems`` writes (``<stem>.ipynb``, ``.html``, ...; see OUTPUT_SUFFIXES)."""
    found = []
    for path in sorted(_entries(folder)):
        suffix = next((x for x in OUTPUT_SUFFIXES if path.name.endswith(x)), None)
        if suffix and path.name[: -len(suffix)] in stems and (path.is_symlink() or path.is_file()):
            found.append(path)
    return found


def clean_plan(outputs: Path, scenarios_now, notebooks_now) -> list[Path]:
    """What ``valuechain clean`` removes from ``outputs``, computed before anything is removed.

    Only files valuechain writes, recognised by name and place: in the folder of a scenario that no
    longer exists, its items' files, its own files (metrics, parameters, the exports' manifest), its
    workbook and deck and the chart files its manifest lists, then the folder itself if nothing else is
    left in it; in the folder of a scenario that exists, the files of notebooks that no longer exist.
    A folder that holds no scenario's outputs, a hidden one, or a symbolic link is never entered.
    """
    from valuechain.publish import exports

    plan: list[Path] = []
    for folder in sorted(_entries(outputs)):
        if folder.name.startswith("."):
            continue
        if folder.is_symlink():
            if folder.is_dir():
                outputs_reader.warn(f"{folder}: is a symbolic link, which clean never follows; it is left as it is")
            continue
        stems = item_stems(folder) if folder.is_dir() else set()
        if not ((folder / "parameters.json").is_file() or any((folder / f"{s}.inputs").is_file() for s in stems)):
            continue  # not a scenario's outputs: leave it alone
        if folder.name in scenarios_now:
            plan += item_files(folder, stems - set(notebooks_now))
            continue
        found = exports.listing(folder) or {"files": [], "charts": []}
        written = {folder / f"{folder.name}.xlsx", folder / f"{folder.name}.pptx"}
        owned = [path for _, path in found["files"] if path in written]
        owned += [path for _, png, svg in found["charts"] for path in (png, svg) if exports.CHART_FILE.fullmatch(path.name)]
        owned += [folder / name for name in SCENARIO_FILES if (folder / name).is_file()]
        plan += sorted(set(item_files(folder, stems)) | set(owned)) + [folder]
    return plan


def prune(outputs: Path | None = None, params_dir: Path | None = None, notebooks_dir: Path | None = None) -> list[Path]:
    """Remove the outputs of scenarios and notebooks that no longer exist; return what was removed.

    A scenario's files go when ``params/`` has no file of that name, an item's files when
    ``notebooks/`` has no notebook of that stem (see :func:`clean_plan`, computed in full before
    anything is removed). Then each remaining scenario's metrics.json, the comparison table and
    run.json are rewritten without them. Takes the lock, as a run does.

    Works only in a valuechain outputs folder (:func:`valuechain.publish.outputs.is_outputs_folder`);
    any other folder is refused with one line before anything is written in it.
    """
    outputs = Path(outputs or paths.OUTPUTS_DIR).resolve()
    scenarios_now = scenario_sources.current(outputs, Path(params_dir or paths.PARAMS_DIR))
    notebooks_now = notebook_names(Path(notebooks_dir or paths.NOTEBOOKS_DIR))
    removed: list[Path] = []
    if not outputs.is_dir():
        return removed
    if not outputs_reader.is_outputs_folder(outputs):
        raise OutputError(f"{outputs}: is not a valuechain outputs folder (it has no {outputs_reader.MARKER} marker and no "
                          f"{outputs_reader.STATUS}), so clean removes nothing there; give the folder 'valuechain run' "
                          f"writes with --outputs")
    with OutputsLock(outputs):
        outputs_reader.mark(outputs)  # a folder of an older version, which wrote no marker
        plan = clean_plan(outputs, scenarios_now, notebooks_now)
        for path in plan:
            if path.is_dir() and not path.is_symlink():
                try:
                    path.rmdir()
                except OSError:
                    outputs_reader.warn(f"{path}: holds files valuechain did not write, so the folder is kept")
                    continue
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
        for folder in sorted({p.parent for p in removed if p.parent != outputs}):
            if folder.name in scenarios_now:
                atomic_write_text(folder / "metrics.json", to_json(scenario_figures(folder, notebooks_now)))
        if removed:
            atomic_write_text(outputs / "metrics.csv", table_to_csv(comparison_table(outputs, scenarios_now, notebooks_now)))
            write_status(outputs, [], scenarios_now, notebooks_now)
    return removed


def write_status(outputs: Path, outcomes: list[Outcome], scenarios_now=None, notebooks_now=None) -> None:
    """Merge this run's outcomes into run.json: the latest status of every item that still exists."""
    path = outputs / "run.json"
    data, _ = outputs_reader.parse_json(path)
    items = data.get("items") if isinstance(data, dict) else None  # an unreadable status file is rebuilt from this run
    items = items if isinstance(items, list) else []
    latest = {(i["scenario"], i["notebook"]): i for i in items
              if isinstance(i, dict) and isinstance(i.get("scenario"), str) and isinstance(i.get("notebook"), str)}
    latest.update({(o.scenario, o.notebook): asdict(o) | {"figures": None} for o in outcomes})
    keep = [latest[k] for k in sorted(latest)
            if (scenarios_now is None or k[0] in scenarios_now) and (notebooks_now is None or k[1] in notebooks_now)]
    write_changed(path, json.dumps({"items": keep}, indent=2, sort_keys=True) + "\n")


def comparison_table(outputs: Path, scenarios=None, notebooks=None) -> list[dict]:
    """One row per scenario: every recorded figure, as ``<notebook>.<key>`` columns in sorted order.

    ``scenarios`` and ``notebooks`` (default: all found) limit the table to those that still exist.
    """
    rows = []
    for path in sorted(outputs.glob("*/metrics.json")):
        if scenarios is not None and path.parent.name not in scenarios:
            continue
        data = outputs_reader.read_json_mapping(path, "scenario's metrics file") or {}
        row = {"scenario": path.parent.name}
        for notebook in sorted(n for n in data if (notebooks is None or n in notebooks) and isinstance(data[n], dict)):
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
