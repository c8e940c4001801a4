"""Benchmark: one scenario's demand-gap results in the library (given its profit pool), with no notebook.

Prints the time per scenario and its ratio to a baseline measured in the same run (reading and
validating the dataset once, as a first load_dataset call does), so the figure is comparable across
machines. Also prints notebook 01's profit pool per scenario against the same baseline.
Run: .venv/bin/python benchmarks/bench_demand_gap.py  (or `make bench`)
"""
from __future__ import annotations

import statistics
import time

from valuechain import paths, load_dataset
from valuechain.dataset import load as dataset
from valuechain.model.demand import demand_gap
from valuechain.scenario.load import load_scenario
from valuechain.scenario.names import list_scenarios

REPEATS = 5


def best_of(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def load_baseline() -> float:
    """Seconds to read and validate the bundled dataset: a first load_dataset call's work (later calls
    of the same files skip the validation, so they would make a poor baseline)."""
    return best_of(lambda: dataset._load(paths.DATA_DIR))


def main() -> None:
    load_dataset()  # warm imports before timing anything
    baseline = load_baseline()
    ds = load_dataset()
    scenarios = {name: load_scenario(name) for name in list_scenarios()}
    from valuechain.model.profit import profit_pool

    pool_seconds = statistics.median(best_of(lambda sc=sc: profit_pool(sc, ds)) for sc in scenarios.values())
    pools = {name: profit_pool(sc, ds) for name, sc in scenarios.items()}  # notebook 01's model, computed once
    per = {name: best_of(lambda sc=sc, pool=pools[name]: demand_gap(sc, ds, pool)) for name, sc in scenarios.items()}
    print(f"baseline_load_dataset_seconds: {baseline:.3f}")
    for name, seconds in per.items():
        print(f"{name:>14}: {seconds:.3f} s  ({seconds / baseline:.2f} x baseline)")
    median = statistics.median(per.values())
    print(f"demand_gap_seconds_per_scenario: {median:.3f}")
    print(f"demand_gap_vs_baseline: {median / baseline:.2f}")
    print(f"demand_gap_target_0.5s: {'met' if median <= 0.5 else 'MISSED'}")
    print(f"profit_pool_seconds_per_scenario: {pool_seconds:.3f}")
    print(f"profit_pool_vs_baseline: {pool_seconds / baseline:.2f}")


if __name__ == "__main__":
    main()
