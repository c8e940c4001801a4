"""``valuechain sweep``: the model core over a grid of assumptions or over draws of the priors, locally or on Dask.

Work is cut into chunks that do not depend on the number of workers: draws in the seeded chunks of
:mod:`valuechain.model.uncertainty` (chunk :math:`i` seeded by the :math:`i`-th child of
``SeedSequence(seed)``), grid points in blocks of :data:`BLOCK`. Each chunk evaluates the vectorized
core on all its rows at once. With ``executor="dask"`` the chunks are tasks on a
``dask.distributed`` cluster (a ``LocalCluster`` when no scheduler address is given); the inputs
are scattered to the workers once. Results are put back in chunk order, so 1 or N workers give the
same table.

A chunk's warnings (numpy's floating-point warnings where an assumption makes a formula divide by
zero) travel back with its table and are issued again in the calling process, so with ``log`` they
go to the sweep's log file (:mod:`valuechain.batch.runlog`), wherever the chunk ran, and never to
the terminal.
"""
from __future__ import annotations

import asyncio
import base64
import builtins
import contextlib
import hashlib
import io
import itertools
import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from valuechain.batch import runlog
from valuechain.escape import html_text
from valuechain.model import engine, uncertainty
from valuechain.model.inputs import Inputs, build as build_inputs
from valuechain.report import labels
from valuechain.exceptions import ParameterError
from valuechain.scenario.schema import MAX_DRAWS, Scenario, closest_key, field_bounds

BLOCK = 2000  # grid points per task
LOG = "sweep.log"  # the sweep's log, beside its table
WARNINGS = "warnings"  # a chunk table's attrs key: the warnings raised while it was evaluated


@dataclass(frozen=True)
class Task:
    """One chunk of work: draws ``(index, size)`` of the plan, or a block of grid rows."""

    index: int
    size: int
    grid_keys: tuple[str, ...] = ()
    grid_rows: np.ndarray | None = None


def parse_grid(texts) -> dict[str, list[float]]:
    """``--grid key=v1,v2,...`` arguments as a mapping of key to values.

    Every value is a finite number (``nan`` and ``inf`` are refused), and a key is given once.
    """
    grid = {}
    for text in texts:
        key, sep, values = str(text).partition("=")
        key = key.strip()
        try:
            numbers = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            numbers = []
        if not sep or not key or not numbers:
            raise ParameterError(f"--grid {text!r} is not key=v1,v2,...; write e.g. --grid valuation.discount_rate=0.1,0.15,0.2")
        bad = next((x for x in numbers if not math.isfinite(x)), None)
        if bad is not None:
            raise ParameterError(f"--grid {key}: {bad} is not a finite number; give finite values, e.g. 0.1,0.15,0.2")
        if key in grid:
            raise ParameterError(f"--grid {key} is given twice; list all its values in one --grid {key}=v1,v2,...")
        grid[key] = numbers
    return grid


def grid_tasks(inputs: Inputs, grid: dict[str, list[float]], scenario: str) -> list[Task]:
    """The grid's points (every combination) in blocks.

    A key the core does not consume is refused, and so is a value outside the bounds the scenario
    schema gives that key, or a grid of more than :data:`MAX_DRAWS` points.
    """
    for key, values in grid.items():
        if key not in inputs.keys:
            raise ParameterError(f"--grid {key}: the model core does not consume this key in scenario '{scenario}'; "
                                 f"{closest_key(key, inputs.keys)} (other values: valuechain run {scenario} --set)")
        floor, ceiling = field_bounds(key)
        bad = next((x for x in values if not floor <= x <= ceiling), None)
        if bad is not None:
            raise ParameterError(f"--grid {key}: {bad:g} is outside the {floor:g} to {ceiling:g} this key allows; "
                                 f"give values within it")
    points = math.prod(len(values) for values in grid.values())
    if points > MAX_DRAWS:
        raise ParameterError(f"--grid: {points:,} combinations, more than the {MAX_DRAWS:,} allowed; "
                             f"give fewer values, or sweep the keys separately")
    rows = np.array(list(itertools.product(*grid.values())), dtype=float)
    return [Task(i, len(block), tuple(grid), block) for i, block in enumerate(np.array_split(rows, -(-len(rows) // BLOCK)))]


def draw_tasks(n: int) -> list[Task]:
    return [Task(index, size) for index, size in uncertainty.chunks(n)]


def evaluate_task(inputs: Inputs, plan: uncertainty.Plan | None, task: Task) -> pd.DataFrame:
    """One chunk's table: the varied assumptions and the headline figures, one row per draw or grid point.

    The warnings raised on the way are kept in the table's ``attrs[WARNINGS]`` (category, message,
    file, line), not shown: a Dask worker would print them on the terminal the sweep started from.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        if task.grid_rows is not None:
            theta = inputs.theta(task.size)
            theta[:, [inputs.column(k) for k in task.grid_keys]] = task.grid_rows
            varied = pd.DataFrame(task.grid_rows, columns=list(task.grid_keys))
        else:
            values = uncertainty.draw_chunk(plan, task.index, task.size)
            theta = uncertainty.theta(inputs, plan, values)
            varied = pd.DataFrame(values, columns=list(plan.keys))
        figures = pd.DataFrame(engine.headline_figures(inputs, theta))
    table = pd.concat([varied, figures], axis=1)
    table.attrs[WARNINGS] = [(w.category.__name__, str(w.message), w.filename, w.lineno) for w in caught]
    return table


def _reissue(table: pd.DataFrame) -> pd.DataFrame:
    """Issue again, in this process, the warnings a chunk recorded (:func:`evaluate_task`); the table without them."""
    for category, message, filename, lineno in table.attrs.pop(WARNINGS, []):
        kind = getattr(builtins, category, None)
        if not (isinstance(kind, type) and issubclass(kind, Warning)):  # a library's own category, by its name
            kind, message = UserWarning, f"{category}: {message}"
        warnings.warn_explicit(message, kind, filename, lineno)
    return table


def _local(inputs, plan, tasks, progress):
    for task in tasks:
        yield task.index, evaluate_task(inputs, plan, task)
        progress(task.size)


SCHEDULER_SCHEMES = ("tcp", "tls")  # the transports of a dask.distributed scheduler reachable from another machine
SCHEDULER_TIMEOUT_S = 3  # seconds to wait for a scheduler to answer before giving up


def check_scheduler(address: str) -> str:
    """``address`` if it is a scheduler address, ``tcp://HOST:PORT`` (or ``tls://``); else a one-line ParameterError."""
    from urllib.parse import urlsplit

    fix = "give the scheduler's address as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    try:
        parts = urlsplit(str(address))
        port = parts.port
    except ValueError:
        raise ParameterError(f"--scheduler {address!r} is not an address; {fix}") from None
    if parts.scheme not in SCHEDULER_SCHEMES:
        raise ParameterError(f"--scheduler {address!r}: the scheme must be {' or '.join(SCHEDULER_SCHEMES)}; {fix}")
    if not parts.hostname or port is None or port == 0 or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ParameterError(f"--scheduler {address!r} is not HOST:PORT; {fix}")
    return str(address)


def reach_scheduler(scheduler: str) -> None:
    """Refuse, in one line and within about :data:`SCHEDULER_TIMEOUT_S` seconds, an address where no Dask
    scheduler answers: refused, silent, or a service that does not speak Dask's protocol."""
    import socket
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    parts = urlsplit(check_scheduler(scheduler))
    fix = "check the address and that the scheduler runs, or leave --scheduler out for a local cluster"
    try:  # a plain connection first: a refused or unreachable address is told at once, in its own words
        socket.create_connection((parts.hostname, parts.port), timeout=SCHEDULER_TIMEOUT_S).close()
    except OSError as exc:
        reason = f"no answer within {SCHEDULER_TIMEOUT_S} s" if isinstance(exc, TimeoutError) else \
            (exc.strerror or type(exc).__name__).lower()
        raise ParameterError(f"--scheduler {scheduler}: cannot connect ({reason}); {fix}") from None
    pool = ThreadPoolExecutor(1)  # its own event loop, so a caller's running loop (a notebook's) is no obstacle
    try:  # then Dask's greeting, under a deadline (distributed waits for the answer without one)
        pool.submit(asyncio.run, _handshake(scheduler)).result(timeout=SCHEDULER_TIMEOUT_S + 1)
    except Exception as exc:  # whatever a service that is not a Dask scheduler makes the handshake raise
        raise ParameterError(f"--scheduler {scheduler}: no Dask scheduler answered there within {SCHEDULER_TIMEOUT_S} s "
                             f"({type(exc).__name__}); {fix}") from None
    finally:
        pool.shutdown(wait=False)


def _client(scheduler: str):
    """A client of the scheduler at ``scheduler`` (checked first with :func:`reach_scheduler`)."""
    from dask.distributed import Client

    reach_scheduler(scheduler)
    try:
        return Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
    except Exception as exc:
        raise ParameterError(f"--scheduler {scheduler}: the Dask scheduler did not accept a client "
                             f"({type(exc).__name__}); check that it runs a compatible version of dask") from None


async def _handshake(scheduler: str) -> None:
    """Connect to ``scheduler`` and exchange Dask's greeting within :data:`SCHEDULER_TIMEOUT_S` seconds."""
    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(scheduler, timeout=SCHEDULER_TIMEOUT_S), SCHEDULER_TIMEOUT_S)
    await comm.close()


def _dask(inputs, plan, tasks, progress, scheduler: str | None, workers: int):
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                  dashboard_address=None, silence_logs=logging.CRITICAL)
    client = _client(scheduler) if scheduler else Client(cluster)
    try:
        shared = client.scatter(inputs, broadcast=True)
        futures = {client.submit(evaluate_task, shared, plan, task, pure=False): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            yield task.index, future.result()
            progress(task.size)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def sweep(scenario: Scenario, ds, grid: dict | None = None, draws: int | None = None, executor: str = "local",
          scheduler: str | None = None, workers: int = 2, progress: bool = False, inputs: Inputs | None = None,
          log: Path | None = None) -> pd.DataFrame:
    """Evaluate the model core for ``scenario`` over ``grid`` (key -> values) or ``draws`` of its priors.

    Returns the tidy table in chunk order: the varied assumptions, then the headline figures. With
    ``log`` (a file, started afresh), the warnings of every chunk and the libraries' log records go
    there instead of the terminal.
    """
    if (grid is None) == (draws is None):
        raise ParameterError("give a grid (--grid key=v1,v2,...) or a number of draws (--draws N), not both or neither")
    if executor not in ("local", "dask"):
        raise ParameterError(f"--executor {executor!r} is not known; use local or dask")
    if scheduler is not None:
        if executor != "dask":
            raise ParameterError("--scheduler works only with --executor dask; add --executor dask, or leave --scheduler out")
        check_scheduler(scheduler)
    inputs = inputs or build_inputs(scenario, ds)
    plan = None
    if grid is not None:
        tasks = grid_tasks(inputs, grid, scenario.name)
    else:
        if not 1 <= draws <= MAX_DRAWS:
            raise ParameterError(f"--draws {draws} is not allowed; give 1 to {MAX_DRAWS:,} (the cap a scenario file's "
                                 f"uncertainty.draws has too)")
        plan = uncertainty.plan(scenario, inputs)
        tasks = draw_tasks(draws)
    total = sum(t.size for t in tasks)
    bar = _bar(total, "draws" if grid is None else "grid points", progress)
    with runlog.to_log(log, fresh=True) if log is not None else contextlib.nullcontext():
        try:
            run = _local(inputs, plan, tasks, bar.update) if executor == "local" else \
                _dask(inputs, plan, tasks, bar.update, scheduler, workers)
            parts = {index: _reissue(part) for index, part in run}
        finally:
            bar.close()
    return pd.concat([parts[t.index] for t in tasks], ignore_index=True)


class _Quiet:
    def update(self, n):
        pass

    def close(self):
        pass


def _bar(total: int, unit: str, show: bool):
    if not show:
        return _Quiet()
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=total, unit=" " + unit.split()[0], desc=unit, disable=None,
                mininterval=0.5 if sys.stderr.isatty() else 30)


# ----------------------------------------------------------------------------- writing


def folder_name(scenario: str, grid: dict | None, draws: int | None) -> str:
    """``<scenario>-sweep-<hash of the grid or draw count>``."""
    spec = json.dumps({"grid": grid, "draws": draws}, sort_keys=True)
    return f"{scenario}-sweep-{hashlib.sha256(spec.encode()).hexdigest()[:8]}"


RECORD = "sweep.json"  # what the site's index shows of a sweep, as plain data beside its page


def write(table: pd.DataFrame, folder: Path, scenario: Scenario, inputs: Inputs, grid: dict | None,
          csv: bool = False, names: dict | None = None) -> Path:
    """Write the table (Parquet, or CSV), a summary page with the sensitivity charts and the record the
    index links it by (:data:`RECORD`: title, what was swept, each headline's spread); return the page."""
    from valuechain.files import atomic_write_text

    folder.mkdir(parents=True, exist_ok=True)
    if csv:
        atomic_write_text(folder / "sweep.csv", table.to_csv(index=False))
    else:
        table.to_parquet(folder / "sweep.parquet", index=False)
    page = folder / "index.html"
    with runlog.to_log(folder / LOG, lazy=True):  # the charts' warnings (an all-NaN figure, say) beside the chunks'
        atomic_write_text(page, summary_page(table, scenario, inputs, grid, "sweep.csv" if csv else "sweep.parquet", names))
    record = {"title": f"Sweep of {scenario.title}", "scenario": scenario.name, "what": described(table, scenario, grid, names),
              "spread": spread_lines(spreads(table, inputs, grid, names), len(table), grid)}
    atomic_write_text(folder / RECORD, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return page


def described(table: pd.DataFrame, scenario: Scenario, grid: dict | None, names: dict | None = None) -> str:
    """What a sweep varied, in words: ``Valuation: discount rate at 0.1, 0.2`` or ``5,000 draws of the priors (seed 7)``."""
    if grid:
        return "; ".join(f"{labels.assumption(k, names or {})} at {', '.join(f'{x:g}' for x in vals)}" for k, vals in grid.items())
    return f"{len(table):,} draws of the priors (seed {scenario.uncertainty.seed})"


def sensitivity(table: pd.DataFrame, varied, headlines) -> pd.DataFrame:
    """Spearman rank correlation of each headline with each varied assumption."""
    rows = []
    for h in headlines:
        for k in varied:
            x, y = table[k].to_numpy(), table[h].to_numpy()
            ok = np.isfinite(y)
            rho = uncertainty.rank_correlation(x[ok], y[ok]) if ok.sum() > 2 and np.ptp(x[ok]) and np.ptp(y[ok]) else np.nan
            rows.append({"headline": h, "key": k, "rank_correlation": rho})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Spread:
    """How far one headline figure moves over a sweep: its range over a grid, or the 5th to 95th
    percentile over draws (``low``, ``median``, ``high``), and the assumption it moves most with."""

    key: str
    label: str
    unit: str
    low: float
    median: float
    high: float
    missing: int  # points where the figure has no value (a lab that never breaks even in the horizon)
    driver: str = ""  # the varied assumption's dotted key, "" when none moves it
    rank_correlation: float = float("nan")

    @property
    def moves(self) -> bool:
        """Whether the figure takes more than one value: a range, or a value at some points and none at others."""
        return bool(np.isfinite(self.low) and (self.high > self.low or self.missing))


def headline_keys(table: pd.DataFrame, inputs: Inputs) -> list[str]:
    """The headline figures of a sweep's table, in the engine's order."""
    return [c for c in engine.headline_figures(inputs, inputs.theta()) if c in table]


def spreads(table: pd.DataFrame, inputs: Inputs, grid: dict | None, names: dict | None = None) -> list[Spread]:
    """Each headline's spread over the sweep (:class:`Spread`), read from its table."""
    headlines = headline_keys(table, inputs)
    varied = list(grid) if grid else [c for c in table.columns if c not in headlines]
    sens = sensitivity(table, varied, headlines)
    out = []
    for h in headlines:
        label, unit = uncertainty.label(h, inputs, names or {})
        v = table[h].to_numpy(float)
        ok = v[np.isfinite(v)]
        if not len(ok):
            low = median = high = np.nan
        elif grid:
            low, median, high = ok.min(), float(np.median(ok)), ok.max()
        else:
            low, median, high = np.percentile(ok, [5, 50, 95])
        top = sens[sens["headline"] == h].dropna().sort_values("rank_correlation", key=np.abs, ascending=False).head(1)
        out.append(Spread(h, label, unit, float(low), float(median), float(high), int(len(v) - len(ok)),
                          *((top["key"].iloc[0], float(top["rank_correlation"].iloc[0])) if len(top) else ())))
    return out


def _points(n: int, grid: dict | None) -> str:
    return f"{n:,} grid point{'s' if n != 1 else ''}" if grid else f"{n:,} draw{'s' if n != 1 else ''}"


def spread_lines(spread: list[Spread], n: int, grid: dict | None) -> list[str]:
    """What ``valuechain sweep`` prints: one line per headline that moves, from its low to its high
    (the range over a grid, the 5th to 95th percentile over draws), then the ones that do not.

    e.g. ``OpenAI break-even year: 2029 to 2034 across 120 grid points (median 2031)``.
    """
    where = _points(n, grid) if grid else f"{_points(n, grid)}, 5th to 95th percentile"
    lines = []
    for s in spread:
        if not s.moves:
            continue
        none = f"; none in {s.missing:,}" if s.missing else ""
        lines.append(f"{s.label}: {labels.with_unit(s.low, s.unit)} to {labels.with_unit(s.high, s.unit)} across "
                     f"{where} (median {labels.with_unit(s.median, s.unit)}{none})")
    still = [s for s in spread if not s.moves]
    if still:
        lines.append(f"The same at every point: {'; '.join(_fixed(s) for s in still)}")
    return lines


def _fixed(s: Spread) -> str:
    return f"{s.label} {labels.with_unit(s.low, s.unit)}" if np.isfinite(s.low) else f"{s.label} none"


def summary_page(table: pd.DataFrame, scenario: Scenario, inputs: Inputs, grid: dict | None, data_file: str,
                 names: dict | None = None) -> str:
    """A self-contained page: what was swept, how far the figures moved (as the command prints it), each
    headline's spread with what moves it most, and a chart of each figure that moves against that assumption.

    Figures are formatted by their unit (years whole, shares in per cent) and assumptions named in
    words, as on the other pages; the dotted keys stay in the data file's columns.
    """
    from valuechain.report.charts import subplots

    names = names or {}
    spread = spreads(table, inputs, grid, names)
    varied = list(grid) if grid else [c for c in table.columns if c not in {s.key for s in spread}]
    rows, images = [], []
    for s in spread:
        driver = (f"{labels.assumption(s.driver, names)} ({s.rank_correlation:+.2f})" if s.driver else "none")
        cells = [s.label, *(labels.with_unit(x, s.unit) or "none" for x in (s.low, s.median, s.high)), driver]
        rows.append("<tr>" + "".join(f'<td class="vc-num">{html_text(x)}</td>' if 0 < i < 4 else f"<td>{html_text(x)}</td>"
                                     for i, x in enumerate(cells)) + "</tr>")
        if not s.moves:  # a flat line says nothing the table does not
            continue
        key = s.driver or varied[0]
        fig, ax = subplots(figsize=(7, 3.2))
        if grid:
            means = table.groupby(key)[s.key].mean()
            ax.plot(means.index, means.to_numpy(), marker="o")
            if len(grid) > 1:
                ax.set_ylabel("mean over the other assumptions")
        else:  # the title names the figure
            ax.scatter(table[key], table[s.key], s=3, alpha=0.3)
        axis_format(ax, s.unit)
        ax.set_xlabel(labels.assumption(key, names))
        ax.set_title(s.label, loc="left", fontsize=10)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
        alt = f"{s.label} against {labels.assumption(key, names)}"
        images.append(f'<figure><img alt="{html_text(alt)}" src="data:image/png;base64,'
                      f'{base64.b64encode(buffer.getvalue()).decode()}"><figcaption>{html_text(alt)}</figcaption></figure>')
    what = described(table, scenario, grid, names)
    moved = "".join(f"<li>{html_text(line)}</li>" for line in spread_lines(spread, len(table), grid))
    bounds = ("Lowest", "Median", "Highest") if grid else ("5th percentile", "Median", "95th percentile")
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
            f'content="{csp}"><title>Sweep of {html_text(scenario.title)}</title><style>body{{font-family:system-ui,'
            f'sans-serif;margin:2rem;max-width:70rem}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;'
            f'padding:.25rem .5rem;text-align:left}}td.vc-num{{white-space:nowrap;text-align:right}}img{{max-width:100%}}</style></head><body>'
            f'<nav><a href="../../index.html">All scenarios</a></nav><h1>Sweep of {html_text(scenario.title)}</h1>'
            f"<p>{html_text(what)}: {len(table):,} evaluations of the model core. Table: "
            f'<a href="{html_text(data_file)}">{html_text(data_file)}</a>.</p>'
            f"<ul>{moved}</ul>"
            f"<table><thead><tr><th>Figure</th>{''.join(f'<th>{b}</th>' for b in bounds)}"
            "<th>Moves most with (rank correlation)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            + "".join(images) + "</body></html>")


def axis_format(ax, unit: str) -> None:
    """The y axis in the unit's format: whole years, shares in per cent."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if unit == "year":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:.0f}"))
    elif unit == "share":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:.0%}"))
