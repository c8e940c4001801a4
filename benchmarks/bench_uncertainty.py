"""Benchmark: the model core, its Monte Carlo, and a sweep on Dask.

Prints four figures, each beside a baseline measured in the same run:

- ``core_ms_per_scenario``: one evaluation of the core at a scenario's values (inputs built once);
- ``mc_draws_per_second``: 10,000 draws of base's priors, sampled and evaluated (target: 10,000 in <= 2 s);
- ``vectorized_vs_loop``: the vectorized core on N draws against a Python loop of the core on one draw at a time;
- ``dask_2_workers_vs_1``: a 400,000-draw sweep on a LocalCluster, time with 1 worker over time with 2.

Run: .venv/bin/python benchmarks/bench_uncertainty.py  (or `make bench`)
"""
from __future__ import annotations

import numpy as np
from bench_demand_gap import best_of, load_baseline  # the same timing rule and baseline

from valuechain.model import engine, uncertainty
from valuechain.model.inputs import build as build_inputs
from valuechain import load_dataset
from valuechain.batch import sweep as sw
from valuechain.scenario.load import load_scenario
from valuechain.scenario.names import list_scenarios


def main() -> None:
    ds = load_dataset()
    baseline = load_baseline()
    print(f"baseline_load_dataset_seconds: {baseline:.3f}")
    inputs = {name: build_inputs(load_scenario(name), ds) for name in list_scenarios()}
    per = [best_of(lambda inp=inp: engine.evaluate(inp, inp.theta()), 20) for inp in inputs.values()]
    core_ms = 1000 * max(per)
    print(f"core_ms_per_scenario: {core_ms:.2f} (slowest of {len(per)} scenarios; target 50; "
          f"{core_ms / 1000 / baseline:.3f} x baseline)")

    sc = load_scenario("base")
    inp = inputs["base"]
    mc = best_of(lambda: uncertainty.monte_carlo(sc, inp, n=10_000), 3)
    print(f"mc_draws_per_second: {10_000 / mc:,.0f} (10,000 draws in {mc:.2f} s; target 2 s; {mc / baseline:.2f} x baseline)")

    plan = uncertainty.plan(sc, inp)
    theta = uncertainty.theta(inp, plan, uncertainty.draw_chunk(plan, 0, 500))
    vectorized = best_of(lambda: engine.evaluate(inp, theta), 3)
    loop = best_of(lambda: [engine.evaluate(inp, theta[i:i + 1]) for i in range(len(theta))], 1)
    print(f"vectorized_vs_loop: {loop / vectorized:.1f} (500 draws: loop {loop:.3f} s, vectorized {vectorized:.4f} s)")

    n = 400_000
    one = best_of(lambda: sw.sweep(sc, ds, draws=n, executor="dask", workers=1, inputs=inp), 1)
    two = best_of(lambda: sw.sweep(sc, ds, draws=n, executor="dask", workers=2, inputs=inp), 1)
    print(f"dask_2_workers_vs_1: {one / two:.2f} ({n:,} draws: 1 worker {one:.1f} s, 2 workers {two:.1f} s, "
          f"cluster start-up included)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
