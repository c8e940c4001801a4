"""``make calibrate``: every test, interval and probability notebook 02 shows, measured on the world the data come from.

Two parts:

- **The primary test on the real disclosure pattern.** :mod:`valuechain.model.synthetic` draws
  synthetic disclosure panels with exactly the rows of ``ai_revenue.csv`` under each world of
  :data:`valuechain.model.synthetic.WORLDS` at the null's boundary, and under the test's own null
  at the true closing rates :data:`EFFECTS`, and runs them through the real pipeline (smoothing,
  the chain's final demand, chain-linking, R* from the real capex path, ``closing.gap_closing``).
  Each entry of :data:`CHECKS` (a test, an interval or a probability the page shows) is measured on
  every batch: ``size``, ``power`` and ``mde`` for a test, ``coverage`` for an interval,
  ``calibration`` for a probability.
- **The pre-specified question on the same pattern** (does D reach R*'s committed path by Y?): the
  same worlds, but the truth is D itself, growing exactly at the rate it needs to reach the path
  (the null's boundary), and faster by :data:`REACH_EFFECTS` under the model's world; the truth runs
  past T to Y's fourth quarter, so each panel's P(D >= R*'s committed path in Y) (the posterior
  predictive, :data:`valuechain.model.synthetic.PREDICTIVE_DRAWS` draws a panel) is scored against
  whether the truth got there. The test and D's pace are about the realized pace over the window
  (:func:`valuechain.stats.reach.pace`): its size counts rejections where the true pace is at most
  the need. ``prob_reach`` (growth's half-life drawn from its prior) is scored in the world drawn
  from the projection's own priors (:data:`valuechain.model.synthetic.DECAY`), ``prob_reach_no_decay``
  in the same world with a pace that lasts (:data:`~valuechain.model.synthetic.LASTING`): a probability
  is checked in the world it is a probability in; the worlds differ only in how long growth lasts, which
  the page shows P against. Checks: ``growth_test`` (size, power, MDE), ``growth_interval``,
  ``needed_growth_interval``, ``prob_reach``, ``prob_reach_no_decay``.
- **The secondary tests** under their own nulls (:data:`valuechain.stats.size.TESTS`), ``size`` lines.

Run ``make calibrate`` (``python -m valuechain.batch.calibrate``); ``--write`` records the tests'
size, power and minimum detectable effect in ``valuechain/stats/calibration.json`` (the question's
under ``reach``: the verdict uses its measured MDE)
(:func:`valuechain.stats.size.recorded`), so a page can state them without re-running. Lines:

- ``size <test>/<world> <rate>`` (and ``size <test> <rate>`` for the secondary tests);
- ``power <test> <effect> <rate>``, effect the true closing rate in log points a year, and
  ``mde <test> <effect at 80% power>`` (``inf`` when no effect measured reaches it); ``mde
  <test>/size_adjusted`` at the critical p-value that gives the test its nominal size under its own
  null, and ``mde gap_trend_oracle``, the best any test of the window's changes could do;
- ``coverage <interval>/<world> <nominal> <rate>``;
- ``calibration <probability>/<world> <mean reported> <observed frequency>``;
- ``finding ...`` where the numbers show what no design could do with this many quarters.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from valuechain import paths
from valuechain.dataset import views
from valuechain.model import synthetic
from valuechain.model.synthetic import Batch
from valuechain.stats import reach as stats_reach
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


EFFECTS = (0.2, 0.5, 1.0, 2.0, 4.0)
"""True closing rates (log points a year) the gap-closing test's power is measured at, under its own null's deviations."""

REACH_EFFECTS = (0.1, 0.2, 0.3, 0.5, 1.0)
"""How much faster than it needs (log points a year) D truly grows where the question's test's power is measured:
D's true growth is the needed growth plus the effect, under the model's world's deviations."""

REACH_TEST = "growth_test"
"""The question's test (:func:`valuechain.stats.reach.growth_test`) as the record names it."""

POWER = 0.80
"""The power the minimum detectable effect is read at."""


@dataclass(frozen=True)
class Check:
    """One test, interval or probability a page shows, as the calibration measures it on a :class:`Batch`.

    ``kind`` is ``test`` (``statistic``: p-values; ``truth``: whether the null holds; ``nominal``:
    the level), ``interval`` (``statistic``: ``sims x 2`` bounds; ``truth``: the true value;
    ``nominal``: the coverage) or ``probability`` (``statistic``: the reported probability;
    ``truth``: whether the event happens; ``nominal`` unused). A test's ``score`` (larger is more
    evidence against its null) sets its size-adjusted critical value.
    """

    name: str
    kind: str
    statistic: Callable[[Batch], np.ndarray]
    truth: Callable[[Batch], np.ndarray]
    nominal: Callable[[Batch], float]
    score: Callable[[Batch], np.ndarray] | None = None  # a test's statistic, larger against H0 (default: -p)
    question: str = "gap_closing"  # the batches it is measured on (:attr:`valuechain.model.synthetic.Batch.question`)
    worlds: Callable[[str], bool] | None = None  # the worlds it is measured in (None: every world of its question)


def _primary(*columns: str) -> Callable[[Batch], np.ndarray]:
    return lambda b: b.primary[list(columns)].to_numpy(float).squeeze()


def _reach(*columns: str) -> Callable[[Batch], np.ndarray]:
    return lambda b: b.reach[list(columns)].to_numpy(float).squeeze()


CHECKS = (
    Check("gap_closing", "test", _primary("p_value"), lambda b: b.null_holds, lambda b: b.pattern.alpha,
          _primary("t_stat")),
    Check("closing_rate_interval", "interval", _primary("closing_rate_low", "closing_rate_high"),
          lambda b: np.full(b.sims, 4 * b.rate), lambda b: b.pattern.band),
    Check("d_over_required_interval", "interval", _primary("d_over_required_low", "d_over_required_high"),
          lambda b: np.exp(b.current_gap), lambda b: b.pattern.band),
    Check("prob_closed_by_horizon", "probability", _primary("prob_closed_by_horizon"), lambda b: b.closed_by_horizon,
          lambda b: np.nan),
    Check(REACH_TEST, "test", _reach("p_value"), lambda b: b.reach_truth["null_holds"], lambda b: b.pattern.alpha,
          _reach("t_stat"), question="reach"),
    Check("growth_interval", "interval", _reach("growth_low", "growth_high"), lambda b: b.reach_truth["growth"],
          lambda b: b.pattern.band, question="reach"),
    Check("needed_growth_interval", "interval", _reach("needed_low", "needed_high"), lambda b: b.reach_truth["needed"],
          lambda b: b.pattern.band, question="reach"),
    Check("prob_reach", "probability", _reach("prob_reach"), lambda b: b.reach_truth["reached"], lambda b: np.nan,
          question="reach", worlds=lambda w: w == synthetic.DECAY),
    Check("prob_reach_no_decay", "probability", _reach("prob_reach_no_decay"), lambda b: b.reach_truth["reached"],
          lambda b: np.nan, question="reach", worlds=lambda w: w == synthetic.LASTING),
)
"""What the page shows and how each is checked. A new statistic (an interval of another estimate, a
probability of reaching R*) is one more entry: its value per simulation and its truth in the batch."""


def _made(args) -> Batch:
    """One batch of the plan, simulated and with its tests run (in a worker process)."""
    p, world, rate, sims, seed, question = args
    batch = synthetic.simulate(p, world, rate, sims, np.random.default_rng(seed), question)
    return synthetic.with_reach(batch) if question == "reach" else synthetic.with_primary(batch)


def batches(scenario: str = "base", sims: int = 500, seed: int = 20261121, jobs: int = 2) -> dict[str, Batch]:
    """The synthetic panels: for the gap-closing test, each world at the null's boundary (key ``<world>``) and the
    test's own null at each of :data:`EFFECTS` (key ``model@<effect>``), with the test run on each simulation; for the
    question, each world with D growing exactly at the rate it needs (key ``reach/<world>``) and the model's world at
    that rate plus each of :data:`REACH_EFFECTS` (key ``reach/model@<effect>``), with :func:`valuechain.model.synthetic.with_reach`."""
    from valuechain import load_dataset
    from valuechain.model.demand import demand_gap
    from valuechain.scenario.load import load_scenario

    ds = load_dataset()
    sc = load_scenario(scenario)
    p = synthetic.pattern(sc, ds, demand_gap(sc, ds))
    plan = {w: (w, p.required_rate, "gap_closing") for w in synthetic.WORLDS}
    plan.update({f"model@{e:g}": ("model", e / 4, "gap_closing") for e in EFFECTS})
    plan.update({f"reach/{w}": (w, p.needed_growth / 4, "reach") for w in synthetic.REACH_WORLDS})
    plan.update({f"reach/model@{e:g}": ("model", (p.needed_growth + e) / 4, "reach") for e in REACH_EFFECTS})
    seeds = np.random.SeedSequence(seed).spawn(len(plan))
    work = [(p, world, rate, sims, s, question) for (world, rate, question), s in zip(plan.values(), seeds)]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            return dict(zip(plan, pool.map(_made, work)))
    return dict(zip(plan, map(_made, work)))


def by_question(made: dict[str, Batch], question: str) -> dict[str, Batch]:
    """The batches of ``question``, keyed as the gap-closing test's are (``<world>``, ``model@<effect>``)."""
    return {k.split("/", 1)[-1]: b for k, b in made.items() if b.question == question}


def mde(effects, power, target: float = POWER) -> float:
    """The smallest effect at which ``power`` (measured at increasing ``effects``) reaches ``target``, linearly
    interpolated; inf when none does."""
    effects, power = np.asarray(effects, float), np.asarray(power, float)
    above = np.flatnonzero(power >= target)
    if not len(above):
        return float("inf")
    i = above[0]
    if i == 0:
        return float(effects[0])
    return float(np.interp(target, power[i - 1:i + 1], effects[i - 1:i + 1]))


def oracle_mde(made: dict[str, Batch], target: float = POWER) -> float:
    """MDE of the best test the data's length allows: the mean of the true gap's changes in the window, seen without
    noise, against its exact null distribution (the 95% quantile at the boundary of the model's world)."""
    critical = np.quantile(made["model"].window_changes.mean(axis=1), 1 - made["model"].pattern.alpha)
    return mde(EFFECTS, [np.mean(made[f"model@{e:g}"].window_changes.mean(axis=1) > critical) for e in EFFECTS], target)


def rejects(check: Check, batch) -> np.ndarray:
    """Per simulation: whether the test ``check`` rejects at its level."""
    return np.asarray(check.statistic(batch), float) < check.nominal(batch)


def covered(check: Check, batch) -> np.ndarray:
    """Per simulation: whether the interval ``check`` contains the truth."""
    bounds, truth = np.asarray(check.statistic(batch), float), np.asarray(check.truth(batch), float)
    return (bounds[:, 0] <= truth) & (truth <= bounds[:, 1])


def calibration(check: Check, batches) -> tuple[float, float]:
    """The mean probability ``check`` reports over ``batches`` and the frequency of its event."""
    reported = np.concatenate([np.asarray(check.statistic(b), float).ravel() for b in batches])
    happened = np.concatenate([np.asarray(check.truth(b), bool).ravel() for b in batches])
    return float(np.nanmean(reported)), float(np.mean(happened))


def measure(made: dict[str, Batch]) -> dict:
    """Every check on every batch: {"size": {test: {world: rate}}, "power": {test: {effect: rate}}, "mde": {test: x},
    "coverage": {interval: {world: (nominal, rate)}}, "calibration": {probability: {world: (mean, frequency)}}}.

    Coverage and calibration are measured on each world at the null's boundary and on the test's own
    null's world pooled over every true closing rate (``model_all_rates``)."""
    out = {"size": {}, "power": {}, "mde": {}, "coverage": {}, "calibration": {}}
    for check in CHECKS:
        mine = by_question(made, check.question)
        if not mine:
            continue
        nulls = {k: b for k, b in mine.items() if "@" not in k}
        alternatives = [b for k, b in mine.items() if k.startswith("model@")]
        groups = {**{w: [b] for w, b in nulls.items()}, "model_all_rates": [mine["model"], *alternatives]}
        if check.worlds is not None:
            groups = {w: bs for w, bs in groups.items() if check.worlds(w.split("_all_rates")[0])}
        if check.kind == "test":
            out["size"][check.name] = {w: float(np.mean(rejects(check, b)[check.truth(b)])) for w, b in nulls.items()}
            power = {effect(b): float(np.mean(rejects(check, b))) for b in alternatives}
            out["power"][check.name] = power
            out["mde"][check.name] = mde(list(power), list(power.values()))
            # at the critical value of its score that gives the test its nominal size in its own null's world,
            # (a p-value would tie at the bootstrap's floor, 1 / (draws + 1))
            def score(b):
                return np.asarray(check.score(b) if check.score else -np.asarray(check.statistic(b)), float)

            held = np.asarray(check.truth(mine["model"]), bool)  # among the panels whose null holds (the pace's truth)
            critical = np.quantile(score(mine["model"])[held], 1 - check.nominal(mine["model"]))
            adjusted = [float(np.mean(score(b) > critical)) for b in alternatives]
            out["mde"][f"{check.name}/size_adjusted"] = mde([effect(b) for b in alternatives], adjusted)
        elif check.kind == "interval":
            out["coverage"][check.name] = {w: (check.nominal(bs[0]), float(np.mean(np.concatenate([covered(check, b)
                                                                                                  for b in bs]))))
                                           for w, bs in groups.items()}
        else:
            out["calibration"][check.name] = {w: calibration(check, bs) for w, bs in groups.items()}
    out["mde"]["gap_trend_oracle"] = oracle_mde(by_question(made, "gap_closing"))
    return out


def effect(b: Batch) -> float:
    """The effect a batch is at, log points a year: the gap's true closing rate, or how much faster than it needs D
    truly grows (the question)."""
    if b.question == "reach":
        return round(float(4 * b.rate - b.pattern.needed_growth), 10)
    return float(4 * b.rate)


def findings(measured: dict, made: dict[str, Batch]) -> list[str]:
    """What the numbers show no design can do with this many quarters, in words (empty when nothing)."""
    gap = by_question(made, "gap_closing")
    p = gap["model"].pattern
    needed = 4 * p.required_rate
    oracle, test = measured["mde"]["gap_trend_oracle"], measured["mde"]["gap_closing"]
    changes = gap["model"].window_changes.shape[1]
    lines = []
    worst = max(measured["size"]["gap_closing"].items(), key=lambda kv: kv[1])
    if worst[1] > size.SIZE_LIMIT:
        lines.append(f"the primary test's size on the real disclosure pattern is above {size.SIZE_LIMIT:.2f} (up to {worst[1]:.2f}, "
                     f"{worst[0]}): a rejection is not evidence that the gap closes in time")
    if oracle > 2 * needed:
        lines.append(f"no design can tell a gap closing at the rate the horizon needs ({needed:.2f} log points a year) "
                     f"from one not closing at all with {changes} quarterly changes: even an oracle that sees the true "
                     f"gap every quarter without noise, against its exact null, has {POWER:.0%} power only from "
                     f"{oracle:.2f} a year (the primary test from {test:.2f} at its own size, "
                     f"{measured['mde']['gap_closing/size_adjusted']:.2f} at a size of {p.alpha:g})")
    if REACH_TEST in measured["mde"]:
        reach_mde = measured["mde"][REACH_TEST]
        worst = max(measured["size"][REACH_TEST].items(), key=lambda kv: kv[1])
        if worst[1] > size.SIZE_LIMIT:
            lines.append(f"the question's test's size on the real disclosure pattern is above {size.SIZE_LIMIT:.2f} (up to {worst[1]:.2f}, "
                         f"{worst[0]}): a rejection is not evidence that D reaches R*'s committed path")
        lines.append(f"the question's test detects D's pace {reach_mde:.2f} a year above the growth it needs with "
                     f"{POWER:.0%} power (the growth it needs: {p.needed_growth:.2f} a year)")
        for name, by_world in measured["calibration"].items():
            off = {w: m - f for w, (m, f) in by_world.items() if abs(m - f) > 0.05}
            if off:
                w, gap_ = max(off.items(), key=lambda kv: abs(kv[1]))
                lines.append(f"{name} is not calibrated: its mean is {gap_:+.2f} off the observed frequency ({w})")
    return lines


def lines(measured: dict, secondary: dict[str, float], findings_: list[str]) -> list[str]:
    """The printed lines (module docstring)."""
    out = []
    for test, by_world in measured["size"].items():
        out += [f"size {test}/{w} {rate:.3f}" for w, rate in by_world.items()]
    for test, by_effect in measured["power"].items():
        out += [f"power {test} {e:g} {rate:.3f}" for e, rate in by_effect.items()]
    out += [f"mde {test} {x:.2f}" for test, x in measured["mde"].items()]
    for interval, by_world in measured["coverage"].items():
        out += [f"coverage {interval}/{w} {nominal:.2f} {rate:.3f}" for w, (nominal, rate) in by_world.items()]
    for prob, by_world in measured["calibration"].items():
        out += [f"calibration {prob}/{w} {mean:.3f} {freq:.3f}" for w, (mean, freq) in by_world.items()]
    out += [f"size {name if name != 'gap_closing' else 'gap_closing/one_series_every_quarter'} {rate:.3f}"
            for name, rate in secondary.items()]
    out += [f"finding {f}" for f in findings_]
    return out


def record(measured: dict, made: dict[str, Batch], scenario: str, seed: int, path=paths.CALIBRATION_FILE) -> dict:
    """Write the tests' measured size, power and MDE, with the settings that made them, to ``path``: the gap-closing
    test's at the top level, the question's under ``reach`` (its ``mde`` is the one the verdict uses,
    :func:`valuechain.model.reach.minimum_detectable_effect`)."""
    gap = by_question(made, "gap_closing")
    p = gap["model"].pattern
    data = {
        "test": "gap_closing", "scenario": scenario, "seed": seed,
        "simulations": min(b.sims for b in gap.values()),
        "gap_quarter": str(p.quarters[-1]), "effect_unit": "true closing rate of log D - log R*, log points a year",
        "null_closing_rate": 4 * p.required_rate,
        "size": measured["size"]["gap_closing"],
        "power": {f"{e:g}": r for e, r in measured["power"]["gap_closing"].items()},
        "mde": measured["mde"]["gap_closing"], "mde_size_adjusted": measured["mde"]["gap_closing/size_adjusted"],
        "mde_oracle": measured["mde"]["gap_trend_oracle"],
        "coverage": {k: {w: r for w, (_, r) in v.items()} for k, v in measured["coverage"].items()
                     if k in ("closing_rate_interval", "d_over_required_interval")},
        "calibration": {k: {w: {"mean_reported": m, "observed": f} for w, (m, f) in v.items()}
                        for k, v in measured["calibration"].items() if k == "prob_closed_by_horizon"},
        "settings": {"worlds": list(synthetic.WORLDS), "effects": list(EFFECTS), "power": POWER,
                     "window_quarters": p.window, "horizon_years": p.horizon_years, "horizon_year": p.horizon_year,
                     "band": p.band, "alpha": p.alpha, "level_sd": p.level_sd, "slope_sd": p.slope_sd,
                     "near_unit_root": synthetic.NEAR_UNIT_ROOT, "drift_break": synthetic.DRIFT_BREAK,
                     "heteroskedastic_ratio": synthetic.HETEROSKEDASTIC_RATIO},
    }
    reach = by_question(made, "reach")
    if reach and REACH_TEST in measured["mde"]:
        q = [c.name for c in CHECKS if c.question == "reach"]
        data["reach"] = {
            "test": REACH_TEST, "method": stats_reach.METHOD, "simulations": min(b.sims for b in reach.values()),
            "predictive_draws": synthetic.PREDICTIVE_DRAWS, "year": p.reach_year,
            "effect_unit": "D's true drift minus the growth it needs to reach R*'s committed path, log points a year",
            "needed_growth": p.needed_growth, "size": measured["size"][REACH_TEST],
            "power": {f"{e:g}": r for e, r in measured["power"][REACH_TEST].items()},
            "mde": measured["mde"][REACH_TEST], "mde_size_adjusted": measured["mde"][f"{REACH_TEST}/size_adjusted"],
            "coverage": {k: {w: r for w, (_, r) in v.items()} for k, v in measured["coverage"].items() if k in q},
            "calibration": {k: {w: {"mean_reported": m, "observed": f} for w, (m, f) in v.items()}
                            for k, v in measured["calibration"].items() if k in q},
            "settings": {"worlds": list(synthetic.REACH_WORLDS), "effects": list(REACH_EFFECTS), "power": POWER,
                         "window_quarters": p.window, "alpha": p.alpha, "band": p.band,
                         "noise_levels": "estimated on each simulated panel" if "estimate" in (p.level_sd, p.slope_sd)
                         else [p.level_sd, p.slope_sd]},
        }
    path.write_text(json.dumps(rounded(data), indent=1, sort_keys=True) + "\n")
    return data


def rounded(value, digits: int = 4):
    """``value`` with every float rounded to ``digits`` and an infinite one (no MDE reached) as None."""
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    if isinstance(value, float):
        return round(value, digits) if np.isfinite(value) else None
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m valuechain.batch.calibrate",
                                     description="Measure the size, power, coverage and calibration of what notebook 02 "
                                                 "shows, on synthetic panels with the real disclosure pattern.")
    parser.add_argument("--scenario", default="base", help="scenario the simulations are calibrated to")
    parser.add_argument("--sims", type=int, default=1000, help="simulations per secondary test (default 1000)")
    parser.add_argument("--panel-sims", type=int, default=500, help="synthetic panels per world and effect (default 500)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the primary test (default 2)")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--write", action="store_true", help="record the primary test's calibration in the package")
    args = parser.parse_args(argv)
    if args.sims < 100 or args.panel_sims < 100:
        print("calibrate: error: --sims and --panel-sims must be at least 100", file=sys.stderr)
        return 2
    start = time.perf_counter()
    made = batches(args.scenario, args.panel_sims, args.seed, args.jobs)
    measured = measure(made)
    for line in lines(measured, {}, findings(measured, made)):
        print(line, flush=True)
    if args.write:
        record(measured, made, args.scenario, args.seed)
        print(f"written {paths.CALIBRATION_FILE.relative_to(paths.REPO_ROOT)}", flush=True)
    panel_seconds = time.perf_counter() - start
    sizes = calibrate(args.scenario, args.sims, args.seed)
    for line in lines({key: {} for key in measured}, sizes, []):
        print(line)
    print(f"calibration_seconds {time.perf_counter() - start:.1f} (synthetic panels {panel_seconds:.1f}: "
          f"{args.panel_sims} per world and effect; {args.sims} simulations per secondary test; nominal {size.NOMINAL})")
    worst = max([*sizes.values(), *(r for by_world in measured["size"].values() for r in by_world.values())])
    print(f"max_size {worst:.3f} ({'within' if worst <= size.SIZE_LIMIT else 'ABOVE'} the {size.SIZE_LIMIT:.2f} limit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
