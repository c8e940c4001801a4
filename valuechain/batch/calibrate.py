"""``make calibrate``: the size of every test notebook 02 reports, calibrated to one scenario.

The simulations are :mod:`valuechain.stats.size`; this command loads the scenario, runs its demand
gap on the bundled data, takes from it what the simulations are calibrated to (:func:`inputs_for`)
and runs each test's simulation with its own seed.

Run ``make calibrate`` (``python -m valuechain.batch.calibrate``): it prints one line per test,
``size <test_name> <rejection rate at nominal 5%>``.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from valuechain.dataset import views
from valuechain.stats import size


def inputs_for(result, ds) -> size.Inputs:
    """Calibration inputs from a :class:`~valuechain.model.demand.DemandGapResult`."""
    sc = result.scenario.demand_gap
    reg, pt = sc.regression, sc.primary_test
    company = reg.long_series_company
    gap = result.closing.gap
    log_r = np.log(result.required["required_usd_bn"].reindex(gap.index))
    return size.Inputs(
        long_revenue=views.quarterly(ds, "cloud_revenue", [company])[company].dropna(),
        long_capex=views.quarterly(ds, "capex", [company])[company].dropna(),
        panel_revenue=views.quarterly(ds, "cloud_revenue", reg.panel_companies),
        panel_capex=views.quarterly(ds, "capex", reg.panel_companies),
        lags=reg.lags, leads=reg.placebo_leads, trim=reg.break_trim,
        gap_changes=gap.diff().dropna().iloc[-pt.window_quarters:].to_numpy(),
        required_changes=log_r.diff().dropna().to_numpy(), window=pt.window_quarters,
        d_log_sd=float(result.downstream.d["log_sd"].iloc[-1]), level_sd=result.downstream.noise_levels[0], slope_sd=result.downstream.noise_levels[1],
        supplier_world=result.secondary.supplier_world,
    )


def calibrate(scenario: str = "base", sims: int = 1000, seed: int = 20261121, tests=None) -> dict[str, float]:
    """Size of each reported test (``tests``: names from :data:`valuechain.stats.size.TESTS`, default all) for ``scenario``."""
    from valuechain import load_dataset
    from valuechain.model.demand import demand_gap
    from valuechain.scenario.load import load_scenario

    ds = load_dataset()
    inp = inputs_for(demand_gap(load_scenario(scenario), ds), ds)
    seeds = np.random.SeedSequence(seed).spawn(len(size.TESTS))
    out = {}
    for (name, fn), child in zip(size.TESTS.items(), seeds):
        if tests is None or name in tests:
            out[name] = fn(inp, sims, np.random.default_rng(child))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m valuechain.batch.calibrate",
                                     description="Measure the size of every reported demand-gap test by simulation.")
    parser.add_argument("--scenario", default="base", help="scenario the simulations are calibrated to")
    parser.add_argument("--sims", type=int, default=1000, help="simulations per test (default 1000)")
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args(argv)
    if args.sims < 100:
        print("calibrate: error: --sims must be at least 100", file=sys.stderr)
        return 2
    start = time.perf_counter()
    sizes = calibrate(args.scenario, args.sims, args.seed)
    for name, rate in sizes.items():
        print(f"size {name} {rate:.3f}")
    print(f"calibration_seconds {time.perf_counter() - start:.1f} ({args.sims} simulations per test, nominal {size.NOMINAL})")
    worst = max(sizes.values())
    print(f"max_size {worst:.3f} ({'within' if worst <= 0.10 else 'ABOVE'} the 0.10 limit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
