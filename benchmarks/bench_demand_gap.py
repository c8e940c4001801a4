"""Benchmark: one scenario's demand-gap results in the library, with no notebook.

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
    per = {name: best_of(lambda sc=sc: demand_gap(sc, ds)) for name, sc in scenarios.items()}
    print(f"baseline_load_dataset_seconds: {baseline:.3f}")
    for name, seconds in per.items():
        print(f"{name:>14}: {seconds:.3f} s  ({seconds / baseline:.2f} x baseline)")
    median = statistics.median(per.values())
    print(f"demand_gap_seconds_per_scenario: {median:.3f}")
    print(f"demand_gap_vs_baseline: {median / baseline:.2f}")


if __name__ == "__main__":
    main()
