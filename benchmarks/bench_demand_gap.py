"""Benchmark: one scenario's demand-gap results in the library (given its profit pool), with no notebook.

Prints the time per scenario and its ratio to a baseline measured in the same run (loading and
validating the dataset once), so the figure is comparable across machines.
Run: .venv/bin/python benchmarks/bench_demand_gap.py  (or `make bench`)
"""
from __future__ import annotations

import statistics
import time

from valuechain import load_dataset
from valuechain.demand import demand_gap
from valuechain.params import list_scenarios, load_scenario

REPEATS = 5


def best_of(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    load_dataset()  # warm imports and caches before timing anything
    baseline = best_of(load_dataset)
    ds = load_dataset()
    scenarios = {name: load_scenario(name) for name in list_scenarios()}
    from valuechain.profit import profit_pool

    pools = {name: profit_pool(sc, ds) for name, sc in scenarios.items()}  # notebook 01's model, computed once
    per = {name: best_of(lambda sc=sc, pool=pools[name]: demand_gap(sc, ds, pool)) for name, sc in scenarios.items()}
    print(f"baseline_load_dataset_seconds: {baseline:.3f}")
    for name, seconds in per.items():
        print(f"{name:>14}: {seconds:.3f} s  ({seconds / baseline:.2f} x baseline)")
    median = statistics.median(per.values())
    print(f"demand_gap_seconds_per_scenario: {median:.3f}")
    print(f"demand_gap_vs_baseline: {median / baseline:.2f}")
    print(f"demand_gap_target_0.5s: {'met' if median <= 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
