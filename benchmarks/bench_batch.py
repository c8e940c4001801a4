"""Benchmark: the batch runner against the loop a user would write, measured in one run.

A  the naive loop: for each scenario x notebook, the papermill CLI, then `jupyter nbconvert --to html`, in sequence;
B  `valuechain run --all --force`;
C  `valuechain run --all` again with nothing changed (everything cached): the median of five reruns.

The last two lines are `speedup_vs_naive: A/B` and `rerun_seconds: C`; `--skip-naive` leaves out A
(it takes minutes) and its ratio. The processor seconds of A and B (all their processes, kernels
included) are printed too, with `cpu_ratio_vs_naive`: on a machine shared with other work, where wall
times stretch with the load, that ratio moves much less. `valuechain` runs as `python -m valuechain.cli` from the root of
the checkout this file imported, so the figures are those of this code, whatever is installed.
Run: .venv/bin/python benchmarks/bench_batch.py  (or `make bench`)
"""
from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from valuechain import paths
from valuechain.scenario.names import list_scenarios
from valuechain.batch.runner import notebook_names

BIN = Path(sys.executable).parent
VALUECHAIN = [sys.executable, "-m", "valuechain.cli"]  # run from paths.REPO_ROOT: the package imported here
RERUNS = 5


CPU = {}  # timed() records here the processor seconds of each set of commands, keyed by its first command


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(commands) -> float:
    start, cpu = time.perf_counter(), children_cpu()
    for command in commands:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=paths.REPO_ROOT)
    CPU[tuple(commands[0])] = children_cpu() - cpu
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-naive", action="store_true", help="Time only the batch run and the cached reruns.")
    skip_naive = parser.parse_args().skip_naive
    scenarios, notebooks = list_scenarios(), notebook_names()
    work = Path(tempfile.mkdtemp(prefix="vc-bench-"))
    try:
        naive = []
        for scenario in scenarios:
            for notebook in notebooks:
                out = work / "naive" / scenario / f"{notebook}.ipynb"
                out.parent.mkdir(parents=True, exist_ok=True)
                naive.append([str(BIN / "papermill"), str(paths.NOTEBOOKS_DIR / f"{notebook}.ipynb"), str(out),
                              "--cwd", str(paths.NOTEBOOKS_DIR), "-p", "scenario", scenario,
                              "-p", "metrics_path", str(out.with_suffix(".json"))])
                naive.append([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)])
        run = [*VALUECHAIN, "run", "--all", "--outputs", str(work / "batch")]
        a = None if skip_naive else timed(naive)
        a_cpu = None if skip_naive else CPU[tuple(naive[0])]
        b = timed([run + ["--force"]])
        b_cpu = CPU[tuple(run + ["--force"])]
        c = statistics.median(timed([run]) for _ in range(RERUNS))
        items = len(scenarios) * len(notebooks)
        print(f"items: {items} ({len(scenarios)} scenarios x {len(notebooks)} notebooks)")
        if a is not None:
            print(f"naive_seconds: {a:.1f}")
        print(f"batch_seconds: {b:.1f}")
        if a is not None:
            print(f"naive_cpu_seconds: {a_cpu:.1f}")
        print(f"batch_cpu_seconds: {b_cpu:.1f}")
        if a is not None:
            print(f"cpu_ratio_vs_naive: {a_cpu / b_cpu:.2f}")
            print(f"speedup_vs_naive: {a / b:.2f}")
        print(f"rerun_seconds: {c:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
