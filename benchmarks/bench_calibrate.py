"""Benchmark: synthetic disclosure panels through D's pipeline, vectorized across simulations, against one at a time.

Prints simulations per second of the vectorized pipeline (:func:`valuechain.model.synthetic.run`, with the
panels drawn), of the primary test on each simulation, and of the baseline measured in the same run: the
per-panel pipeline (``downstream.of_scenario`` on one synthetic panel), which the vectorized run equals.
Run: .venv/bin/python benchmarks/bench_calibrate.py  (or `make bench`)
"""
from __future__ import annotations

import time

import numpy as np

from valuechain import load_dataset
from valuechain.model import downstream, synthetic
from valuechain.model.demand import demand_gap
from valuechain.scenario.load import load_scenario

SIMS = 1000
PER_PANEL = 10
TESTS = 50


def per_second(fn, count: int) -> float:
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def main() -> None:
    ds = load_dataset()
    sc = load_scenario("base")
    p = synthetic.pattern(sc, ds, demand_gap(sc, ds))
    rng = np.random.default_rng(0)
    batch = synthetic.simulate(p, "model", p.required_rate, PER_PANEL, rng)
    values = synthetic.observe(p, synthetic.true_log_d(p, batch.gap), rng)

    def one_at_a_time():
        for row in values:
            downstream.of_scenario(sc, ds, synthetic.panel(p, row))

    baseline = per_second(one_at_a_time, PER_PANEL)
    vectorized = per_second(lambda: synthetic.simulate(p, "model", p.required_rate, SIMS, rng), SIMS)
    tests = per_second(lambda: synthetic.with_primary(synthetic.simulate(p, "model", p.required_rate, TESTS, rng)), TESTS)
    print(f"baseline_per_panel_pipeline_sims_per_second: {baseline:.1f}")
    print(f"vectorized_pipeline_sims_per_second: {vectorized:.1f}  ({vectorized / baseline:.0f} x baseline)")
    print(f"with_primary_test_sims_per_second: {tests:.1f}  ({tests / baseline:.1f} x baseline, one process)")


if __name__ == "__main__":
    main()
