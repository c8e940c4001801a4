r"""The demand gap's pre-specified question: does D reach R*'s committed path by year Y?

The question is fixed in the scenario (``demand_gap.primary_test.reach_year``). Its test's null never
depends on the data: :math:`H_0`: D's recent pace is at most the growth that reaches the path by the
end of :math:`Y` (:mod:`valuechain.stats.reach`); whether the pace lasts is the probability's part.

R*'s committed path
-------------------
Let :math:`G` be the fourth quarter of the guidance year (the year after the last filed capex
quarter) and :math:`A_s = a(s) C_s` the AI capex on the path of :mod:`valuechain.model.capital`: filed,
then the spenders' own guidance to :math:`G` (the scenario's growth for a spender that gave none).
The committed capex stops at :math:`G`,

.. math::

    A^c_s = A_s \ (s \le G), \qquad A^c_s = 0 \ (s > G),

and R*'s committed path is R* on it (the equation of :mod:`valuechain.model.capital`),

.. math::

    R^c_t = \frac{1}{m} \sum_c CRF(r, n_c)\, w_c \sum_{j=L}^{L + 4 n_c - 1} A^c_{t-j}.

It equals R* in service until :math:`G + L` (the committed rung of :class:`valuechain.model.capital.Rungs`
is :math:`R^c_{G+L}`), then falls as vintages leave service: it is the bar the capital already spent
or guided sets, with no capex after :math:`G`.

What is reported (each with its interval, before any p-value)
-------------------------------------------------------------
(a) the growth D needs to reach the path by :math:`Y` (:func:`valuechain.stats.reach.needed_growth`),
for each rung of D's scope ladder against each rung of R* in :math:`Y_4` (in service on the
scenario's capex path, committed, steady state); (b) D's pace over the primary test's window
(:func:`valuechain.stats.reach.pace`: the realized growth, which the data can answer); (c)
:math:`P(D_{Y_4} \ge R^c_{Y_4})` as a posterior predictive (:func:`posterior_predictive`), which turns on
how long that pace lasts, a prior the data do not test: so it is also shown at fixed half-lives of growth
(:data:`HALF_LIVES`), from one year to never.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import interpolate, special, stats

from valuechain import paths
from valuechain.model import capital, chain, formulas
from valuechain.model.downstream import Downstream, Ladder, columns_sum
from valuechain.model.results import Headline
from valuechain.model.uncertainty import normal_correlation, quantile
from valuechain.scenario.schema import Prior, Scenario, rank_correlation_matrix
from valuechain.stats import inference, size
from valuechain.stats import reach as stats_reach

RUNGS = ("in_service", "committed", "steady_state")  # R*'s rungs, in the order of the answer grid
RUNG_NAMES = {"in_service": "in service (scenario capex growth)", "committed": "committed (no capex after the guidance year)",
              "steady_state": "steady state"}
R_KEYS = ("demand_gap.capital.ai_share_before", "demand_gap.capital.servers_life_years",
          "demand_gap.capital.buildings_life_years", "demand_gap.break_even.target_return",
          "demand_gap.break_even.margin_before_depreciation")  # R*'s assumptions drawn (plus each ai_share year)
D_KEYS = ("layers.labs.pass_through", "layers.apps.pass_through")  # D's scope assumptions drawn (plus partner shares)
GRID_POINTS = 5  # points per D assumption at which D in the last quarter is evaluated, then interpolated
MDE_SOURCE = ("analytic: (z(1-α) + z(0.8)) × the test's standard error; a placeholder until the calibration "
              "records the MDE measured on the real disclosure pattern")
HALF_LIVES = (0.5, 1.0, 2.0, 4.0, float("inf"))
"""Half-lives of D's growth (years) at which P(D >= R*'s committed path in Y) is also shown: the data do not tell how
long the recent pace lasts, so the page shows how the answer moves with it (inf: the pace never decays)."""
MEASURED_TEST = "growth_test"  # the question's test as the calibration record names it (valuechain.batch.calibrate)


def recorded_reach(scenario: Scenario, alpha: float, path=None) -> dict | None:
    """The question's calibration record (``reach`` of :func:`valuechain.stats.size.recorded`, ``path`` or the
    package's) when it was measured for this test and method, this scenario, its window and level; else None."""
    pt = scenario.demand_gap.primary_test
    try:
        record = size.recorded(paths.CALIBRATION_FILE if path is None else path)
    except FileNotFoundError:
        return None
    measured = record.get("reach") or {}
    settings = measured.get("settings", {})
    if (measured.get("test") == MEASURED_TEST and measured.get("method") == stats_reach.METHOD
            and record.get("scenario") == scenario.name
            and settings.get("window_quarters") == pt.window_quarters and settings.get("alpha") == alpha):
        return measured
    return None


def minimum_detectable_effect(scenario: Scenario, se: float, dof: int, alpha: float,
                              path=None) -> tuple[float, str]:
    """The question's test's MDE at 80% power and where it comes from (log points a year of growth above the need).

    The one ``make calibrate --write`` measured on synthetic panels with the real disclosure pattern
    (``reach`` of :func:`valuechain.stats.size.recorded`, ``path`` or the package's record) when it
    holds one for this test, scenario, window and level; infinite when no effect measured reached
    80% power. Otherwise the analytic placeholder :func:`valuechain.stats.reach.mde`.

    Of the two recorded MDEs, the test's at its own measured size (``mde``) and at the critical value
    that gives it a size of exactly ``alpha`` in the model's world (``mde_size_adjusted``), the larger:
    where the test over-rejects, the MDE at its own size flatters it.
    """
    measured = recorded_reach(scenario, alpha, path)
    if measured is not None:
        effects = ", ".join(f"{float(e):+.2f}" for e in measured["power"])
        how = (f"measured: 80% power of the test on {measured['simulations']} synthetic panels per effect with the real "
               f"disclosure pattern, each panel's noise levels and measurement scale estimated (make calibrate; effects {effects} "
               "a year)")
        values = [measured.get("mde"), measured.get("mde_size_adjusted", measured.get("mde"))]
        if any(v is None for v in values):
            return float("inf"), how + "; no effect measured reached 80% power"
        return float(max(values)), how + ("" if values[1] <= values[0] else f", at a size of {alpha:g}")
    return float(stats_reach.mde(se, dof, alpha)), MDE_SOURCE


def measured_checks(scenario: Scenario, alpha: float, path=None) -> dict | None:
    """How the question's figures behaved on synthetic panels with the real disclosure pattern, as ``make calibrate``
    recorded it for this test, scenario, window and level (the same record as :func:`minimum_detectable_effect`),
    across its worlds: the test's largest size, the lowest coverage of D's pace interval, and the largest gap between
    the mean of a P(D >= R*'s path) reported (with growth's half-life drawn, or the pace lasting) and the frequency of
    the event, each in the world it is a probability in. None when no matching record exists."""
    measured = recorded_reach(scenario, alpha, path)
    if measured is None:
        return None
    try:
        sizes = measured["size"]
        coverage = measured["coverage"]["growth_interval"]
        calibration = {(name, world): c for name, by_world in measured["calibration"].items()
                       for world, c in by_world.items()}
        gaps = {key: abs(c["mean_reported"] - c["observed"]) for key, c in calibration.items()}
        worst = max(gaps, key=gaps.get)
        return {"size_high": max(sizes.values()), "size_world": max(sizes, key=sizes.get),
                "coverage_low": min(coverage.values()), "coverage_world": min(coverage, key=coverage.get),
                "probability_gap": gaps[worst], "probability_reported": calibration[worst]["mean_reported"],
                "probability_observed": calibration[worst]["observed"], "probability": worst[0],
                "probability_world": worst[1], "simulations": int(measured["simulations"])}
    except (KeyError, TypeError, ValueError):
        return None


def closing_checks(path=None) -> dict | None:
    """The gap-closing test's size and its closing-rate interval's coverage on the real disclosure pattern, across
    the simulated worlds, as ``make calibrate`` last recorded them (the same record as :func:`measured_checks`);
    None when nothing is recorded."""
    try:
        record = size.recorded(paths.CALIBRATION_FILE if path is None else path)
        sizes, coverage = list(record["size"].values()), list(record["coverage"]["closing_rate_interval"].values())
        return {"size_low": min(sizes), "size_high": max(sizes), "coverage_low": min(coverage),
                "coverage_high": max(coverage), "simulations": int(record["simulations"])}
    except (OSError, KeyError, TypeError, ValueError, AttributeError):
        return None


def half_life_words(half_life: float, lasting: str = "if the pace lasts") -> str:
    """How fast growth fades, as a condition: "if growth halves every 2 years", ``lasting`` at inf."""
    if not np.isfinite(half_life):
        return lasting
    return f"if growth halves every {half_life:g} year{'' if half_life == 1 else 's'}"


def half_life_key(half_life: float) -> str:
    """The headline key of P(D >= R*'s committed path) at a fixed half-life of growth (``prob_reach_no_decay`` at inf)."""
    return "prob_reach_no_decay" if not np.isfinite(half_life) else f"prob_reach_half_life_{half_life:g}y"


BOUND_FACT = "world_it_spending_2025"  # the plausibility bound of the projection (facts.csv)


@dataclass(frozen=True)
class Bound:
    """The level no band of the projection may reach: its value, what it is and where it comes from."""

    value_usd_bn: float
    label: str
    source_id: str


@dataclass(frozen=True)
class Reach:
    """The answer to "does D reach R*'s committed path by Y?": needed growth, D's growth, the test and P."""

    year: int  # Y
    quarter: pd.Period  # T, the last quarter of D
    target_quarter: pd.Period  # Y4
    years: float  # h = (Y4 - T)/4
    path: pd.DataFrame  # quarter: R* in service (scenario path), committed path, steady state (scenario values)
    needed: pd.DataFrame  # rows (scope, rung): needed, low, high (log points a year), d_usd_bn, target_usd_bn
    growth: float  # D's pace: its realized log growth a year over the window (central scope)
    growth_se: float  # from D's band at the window's two ends
    dof: float  # of the reference (inf: normal)
    window: int  # the quarterly changes the growth rests on
    max_window: int  # the most the test's window holds (primary_test.window_quarters)
    level: float
    mde: float
    mde_source: str
    alpha: float
    t_stat: float
    p_value: float
    probability: float  # P(D >= R^c in Y4), primary D, every drawn uncertainty included
    probability_se: float  # Monte Carlo
    probability_by_scope: dict  # scope key -> P
    probability_by_half_life: dict  # half-life of growth in years (inf: none) -> P, primary D, the rest drawn as for P
    prior_keys: tuple[str, ...]  # the scenario's priors drawn
    decay_priors: dict  # name -> Prior (half-life, long-run growth)
    draws: int
    fan: pd.DataFrame  # quarter: percentiles of the primary D (USD bn a year)
    bound: Bound  # the level no band may reach; D's ceiling is a share of it
    checks: dict | None = None  # how the figures behaved on the real disclosure pattern (:func:`measured_checks`)
    noise_levels: tuple = ()  # D's (level, slope) noise s.d.s a quarter, as estimated: the projection's future shocks

    primary = chain.PRIMARY  # the rung of D's scope ladder the test and P use

    @property
    def needed_central(self) -> float:
        """The growth the primary D needs to reach R*'s committed path: the test's null."""
        return float(self.needed.loc[(self.primary, "committed"), "needed"])

    @property
    def growth_interval(self) -> tuple[float, float]:
        lo, hi = stats_reach.growth_interval(self.growth, self.growth_se, self.dof, self.level)
        return float(lo), float(hi)

    @property
    def test(self) -> inference.TestResult:
        """The question as a test, in the shape every test shares: :math:`H_0: g \\le g^{need}`."""
        return inference.TestResult(
            name=f"is D's pace enough to reach R*'s committed path by {self.year}?", statistic=self.t_stat, pvalue=self.p_value,
            null=f"D's recent pace is at most the {self.needed_central:+.2f} a year that reaches R*'s committed path by "
                 f"the end of {self.year}",
            alternative=f"D's recent pace is above {self.needed_central:+.2f} a year (it would reach the path if it lasted)",
            method=f"D's pace over its last {self.window} quarterly changes, over the time their ends measure, its "
                   "standard error from D's band at the two ends, normal reference",
            nobs=self.window, df=self.dof, estimate=self.growth, interval=self.growth_interval, level=self.level)

    def grid(self, column: str = "needed") -> pd.DataFrame:
        """``column`` of :attr:`needed` as D's scope ladder (rows) x R*'s rungs (columns)."""
        return self.needed[column].unstack("rung").reindex(columns=list(RUNGS))

    @property
    def probability_range(self) -> tuple[float, float]:
        values = list(self.probability_by_scope.values())
        return float(min(values)), float(max(values))

    def p95_at(self, quarter) -> float:
        """The projection's 95th percentile of D in ``quarter`` (USD bn a year)."""
        return float(self.fan.loc[pd.Period(quarter, freq="Q"), "d_p95"])

    def headlines(self) -> list[Headline]:
        y, q = str(self.year), str(self.quarter)
        central = self.needed.loc[(chain.PRIMARY, "committed")]
        grid = self.grid()
        lo, hi = self.growth_interval
        p_lo, p_hi = self.probability_range
        return [
            Headline("reach_required_committed_usd_bn", f"R*'s committed path in {self.target_quarter} (annualized)",
                     "usd_bn", str(self.target_quarter), float(self.path.loc[self.target_quarter, "committed_usd_bn"])),
            Headline("reach_needed_growth", f"Growth D needs to reach R*'s committed path by {y}", "rate", y,
                     float(central["needed"])),
            Headline("reach_needed_growth_low", "Growth D needs, lower bound", "rate", y, float(central["low"]), detail=True),
            Headline("reach_needed_growth_high", "Growth D needs, upper bound", "rate", y, float(central["high"]),
                     detail=True),
            Headline("reach_needed_growth_range_low", f"Growth D needs by {y}, lowest across D's scope ladder and R*'s rungs",
                     "rate", y, float(grid.min().min()), detail=True),
            Headline("reach_needed_growth_range_high", f"Growth D needs by {y}, highest across D's scope ladder and R*'s rungs",
                     "rate", y, float(grid.max().max()), detail=True),
            Headline("d_growth", f"D's pace, growth over its last {self.window} quarterly changes", "rate", q, self.growth),
            Headline("d_growth_low", "D's pace, lower bound", "rate", q, lo, detail=True),
            Headline("d_growth_high", "D's pace, upper bound", "rate", q, hi, detail=True),
            Headline("reach_mde", "Minimum detectable effect of the growth test (80% power)", "rate", q, self.mde,
                     note=("Measured on synthetic panels with the real disclosure pattern" if self.mde_source != MDE_SOURCE
                           else "Analytic placeholder until the calibration measures it")),
            Headline("prob_reach", f"P(D ≥ R*'s committed path in {self.target_quarter})", "probability", y,
                     self.probability),
            Headline("prob_reach_scope_low", f"P(D ≥ R*'s committed path in {self.target_quarter}), lowest across D's "
                     "scope ladder", "probability", y, p_lo, detail=True),
            Headline("prob_reach_scope_high", f"P(D ≥ R*'s committed path in {self.target_quarter}), highest across D's "
                     "scope ladder", "probability", y, p_hi, detail=True),
            *[Headline(half_life_key(eta), f"P(D ≥ R*'s committed path in {self.target_quarter}) "
                       + half_life_words(eta, "if the recent pace lasts"), "probability", y, p_eta,
                       detail=np.isfinite(eta))
              for eta, p_eta in self.probability_by_half_life.items()],
            Headline("reach_p_value", f"p-value, H0: D's pace is at most the growth that reaches R*'s committed path by {y}",
                     "p", q, self.p_value),
            Headline("d_projected_p95_usd_bn", f"D projected, 95th percentile, {self.target_quarter}", "usd_bn",
                     str(self.target_quarter), self.p95_at(self.target_quarter), detail=True),
        ]


# ----------------------------------------------------------------------------- the committed path


def committed_spend(spend: pd.Series, guidance_year: int) -> pd.Series:
    """The capex path with every quarter after the guidance year's fourth set to zero (:math:`A^c` before the AI share)."""
    end = pd.Period(f"{guidance_year}Q4", freq="Q")
    return spend.where(spend.index <= end, 0.0)


# ----------------------------------------------------------------------------- drawing the priors


def draw_priors(scenario: Scenario, keys: tuple[str, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws (n x keys) of the scenario's priors on ``keys`` through its Gaussian copula
    (as :mod:`valuechain.model.uncertainty` draws them for notebook 05)."""
    unc = scenario.uncertainty
    pairs = [c for c in unc.correlations if c[0] in keys and c[1] in keys]
    corr = normal_correlation(rank_correlation_matrix(keys, pairs))
    root = np.linalg.cholesky(corr + 1e-12 * np.eye(len(keys)))
    u = special.ndtr(rng.standard_normal((n, len(keys))) @ root.T)
    return np.column_stack([quantile(unc.priors[k], u[:, j]) for j, k in enumerate(keys)]) if keys else np.empty((n, 0))


def drawn_keys(scenario: Scenario) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys with a prior among R*'s assumptions and among D's scope assumptions."""
    priors = scenario.uncertainty.priors if scenario.uncertainty is not None else {}
    r = [k for k in priors if k.startswith("demand_gap.capital.ai_share.")] + [k for k in R_KEYS if k in priors]
    d = [k for k in D_KEYS if k in priors] + [k for k in priors if k.startswith("lab_economics.paths.")
                                               and k.endswith(".cloud_partner_share")]
    return tuple(r), tuple(d)


def required_draws(spend: pd.Series, scenario: Scenario, values: dict[str, np.ndarray], n: int) -> np.ndarray:
    """R* (n x quarters) on the spenders' capex path ``spend`` with R*'s assumptions set to ``values`` where drawn."""
    cap, be = scenario.demand_gap.capital, scenario.demand_gap.break_even

    def value(key, default):
        return np.asarray(values.get(key, np.full(n, float(default))), dtype=float)

    knots = capital.share_knots(cap.ai_share, cap.ai_share_before)
    knot_values = np.column_stack([value("demand_gap.capital.ai_share_before" if key == "before"
                                         else f"demand_gap.capital.ai_share.{key}", share) for _, share, key in knots])
    index, weight = capital.share_weights(spend.index, knots)
    share = (knot_values[:, index] * weight[None, :, :]).sum(axis=2)
    ai = spend.fillna(0.0).to_numpy()[None, :] * share
    lives = np.column_stack([value("demand_gap.capital.servers_life_years", cap.servers_life_years),
                             value("demand_gap.capital.buildings_life_years", cap.buildings_life_years)])
    shares = np.column_stack([np.full(n, cap.servers_share), np.full(n, 1 - cap.servers_share)])
    rate = value("demand_gap.break_even.target_return", be.target_return)
    margin = value("demand_gap.break_even.margin_before_depreciation", be.margin_before_depreciation)
    rstar = formulas.required_revenue(ai, cap.service_lag_quarters, shares, lives, rate, margin)
    beta = (shares * lives * formulas.capital_recovery_factor(rate[:, None], lives)).sum(axis=1) / margin
    ttm = np.concatenate([np.full((n, 3), np.nan), np.lib.stride_tricks.sliding_window_view(ai, 4, axis=1).sum(axis=2)],
                         axis=1)
    return rstar, beta[:, None] * ttm


def _with(accounting: chain.Chain, key: str, value: float) -> chain.Chain:
    """The chain with the D assumption ``key`` set to ``value``."""
    if key == "layers.labs.pass_through":
        return dataclasses.replace(accounting, labs_to_clouds=value)
    if key == "layers.apps.pass_through":
        return dataclasses.replace(accounting, apps_to_labs=value)
    lab = key.split(".")[2]
    return dataclasses.replace(accounting, partner_share={**accounting.partner_share, lab: value})


def scope_factors(down: Downstream, ladder: Ladder, quarter: pd.Period, scenario: Scenario, keys: tuple[str, ...],
                  values: np.ndarray) -> np.ndarray:
    r"""Each rung's :math:`D_T` under drawn chain assumptions, over its value at the scenario's (draws x scopes).

    The rung's plain sum in :math:`T` is evaluated on a grid of :data:`GRID_POINTS` values per assumption
    (its prior's 0.1% to 99.9% quantiles) and interpolated linearly; the level is exact on the grid
    and linear between (the netting is linear in each share but for the ``min`` of the labs' compute).
    """
    scopes = ladder.scopes
    row, names = down.series.loc[[quarter]].to_numpy(float), list(down.series.columns)

    def plain(accounting):
        return [float(columns_sum(*accounting.columns(row, s, names))[0]) for s in scopes]

    base = np.array(plain(ladder.accounting))
    if not keys:
        return np.ones((len(values), len(scopes)))
    priors = scenario.uncertainty.priors
    grid = [(j, np.unique(quantile(priors[k], np.linspace(0.001, 0.999, GRID_POINTS)))) for j, k in enumerate(keys)]
    grid = [(j, axis) for j, axis in grid if len(axis) > 1]  # a fixed prior moves nothing
    if not grid:
        return np.ones((len(values), len(scopes)))
    axes = [axis for _, axis in grid]
    table = np.empty([len(a) for a in axes] + [len(scopes)])
    for point in np.ndindex(*table.shape[:-1]):
        accounting = ladder.accounting
        for (j, axis), i in zip(grid, point):
            accounting = _with(accounting, keys[j], float(axis[i]))
        table[point] = plain(accounting)
    at = interpolate.RegularGridInterpolator(axes, table, bounds_error=False, fill_value=None)
    return at(values[:, [j for j, _ in grid]]) / base[None, :]


# ----------------------------------------------------------------------------- the posterior predictive


def under_way(half_life, window: int) -> np.ndarray:
    r"""How much of the window's mean growth above the long-run rate is left at its end if growth has been fading with
    half-life :math:`\eta` years all along: :math:`\kappa = w / \sum_{j=0}^{w-1} \rho^{-j}`, :math:`\rho = 2^{-1/(4\eta)}`
    (1 for a pace that lasts). The change :math:`j` quarters before T grew at :math:`g_\infty + (g_T - g_\infty)\rho^{-j}`,
    so the window's mean :math:`\hat g` gives :math:`g_T = g_\infty + \kappa (\hat g - g_\infty)`."""
    rho = 2.0 ** (-1.0 / (4 * np.asarray(half_life, dtype=float)))
    j = np.arange(window, dtype=float)
    return window / (np.asarray(rho)[..., None] ** (-j)).sum(axis=-1)


def posterior_predictive(rng: np.random.Generator, log_d0: np.ndarray, growth, se, dof: float,
                         half_life: Prior | float, long_run: Prior, ceiling_share: Prior, scale_usd_bn: float, level_sd,
                         slope_sd, quarters: int, window: int = 1) -> np.ndarray:
    r"""Paths of the primary :math:`\log D` (draws x quarters) after :math:`T`.

    For each draw: :math:`\log D_T` is ``log_d0`` (already drawn from D's band and its scope's
    priors); D's pace over the window's ``window`` changes is drawn from its sampling distribution inverted under a
    flat prior, :math:`\tilde g = \hat g - se\, t^*`, :math:`t^* \sim t_\nu` (standard normal at
    :data:`~valuechain.stats.reach.NORMAL`); the half-life (its prior, or the fixed number ``half_life``:
    inf for a pace that never decays), the long-run rate and the ceiling :math:`K` (a share of
    ``scale_usd_bn``, world IT spending) are drawn from their stated priors. Growth has been fading inside the window
    too, so the growth at T is :math:`g_0 = g_\infty + \kappa(\eta)(\tilde g - g_\infty)` (:func:`under_way`), not
    the window's mean; the path is :func:`valuechain.stats.reach.decaying_paths`, future shocks included.
    """
    n = len(log_d0)
    shock = rng.standard_normal(n) if not np.isfinite(dof) else stats.t.rvs(dof, size=n, random_state=rng)
    pace = growth - se * shock
    eta = np.full(n, float(half_life)) if not isinstance(half_life, Prior) else quantile(half_life, rng.uniform(size=n))
    g_inf = quantile(long_run, rng.uniform(size=n))
    ceiling = np.log(scale_usd_bn * quantile(ceiling_share, rng.uniform(size=n)))
    g0 = g_inf + under_way(eta, window) * (pace - g_inf)
    return stats_reach.decaying_paths(rng, log_d0, g0, g_inf, eta, level_sd, slope_sd, quarters, ceiling)


def reach(scenario: Scenario, down: Downstream, ladder: Ladder, log_d: pd.Series, spend: pd.Series,
          guidance_year: int, horizon_year: int, bound: Bound) -> Reach:
    """Answer the pre-specified question for ``scenario`` (see the module docstring).

    ``log_d`` is the primary D's log level on the tested quarters; ``spend`` the spenders' total capex by
    quarter on the scenario's path to at least the end of ``max(reach_year, horizon_year)`` (filed,
    guided, grown); the fan runs to the end of ``horizon_year``.
    """
    pt, dg = scenario.demand_gap.primary_test, scenario.demand_gap
    level = dg.downstream.band
    rng = np.random.default_rng(pt.seed)
    n = pt.predictive_draws
    T = log_d.index[-1]
    year = pt.reach_year
    target = pd.Period(f"{year}Q4", freq="Q")
    end = max(target, pd.Period(f"{horizon_year}Q4", freq="Q"))
    steps = (end - T).n
    h = (target - T).n / 4
    committed = committed_spend(spend, guidance_year)

    r_keys, d_keys = drawn_keys(scenario)
    values = draw_priors(scenario, r_keys + d_keys, n, rng)
    r_values = {k: values[:, j] for j, k in enumerate(r_keys)}
    projected, steady = required_draws(spend, scenario, r_values, n)
    committed_draws, _ = required_draws(committed, scenario, r_values, n)
    base_projected, base_steady = required_draws(spend, scenario, {}, 1)
    base_committed, _ = required_draws(committed, scenario, {}, 1)
    col = spend.index.get_loc(target)
    path = pd.DataFrame({"in_service_usd_bn": base_projected[0], "committed_usd_bn": base_committed[0],
                         "steady_state_usd_bn": base_steady[0]}, index=spend.index)

    # D in T by rung: the ladder's level, the chain's priors drawn, the band's noise
    rungs = ladder.at(T)["level_usd_bn"]
    factors = scope_factors(down, ladder, T, scenario, d_keys, values[:, len(r_keys):])
    log_sd = float(down.d.loc[T, "log_sd"])
    noise = log_sd * rng.standard_normal(n)
    log_d_draws = np.log(rungs.to_numpy())[None, :] + np.log(factors) + noise[:, None]

    targets = {"in_service": projected[:, col], "committed": committed_draws[:, col], "steady_state": steady[:, col]}
    base_targets = {"in_service": base_projected[0, col], "committed": base_committed[0, col],
                    "steady_state": base_steady[0, col]}
    tail = (1 - level) / 2
    rows = []
    for i, key in enumerate(rungs.index):
        for rung in RUNGS:
            draws = stats_reach.needed_growth(log_d_draws[:, i], np.log(targets[rung]), h)
            low, high = np.quantile(draws, [tail, 1 - tail])
            rows.append({"scope": key, "rung": rung, "d_usd_bn": float(rungs[key]),
                         "target_usd_bn": float(base_targets[rung]),
                         "needed": float(stats_reach.needed_growth(np.log(rungs[key]), np.log(base_targets[rung]), h)),
                         "low": float(low), "high": float(high)})
    needed = pd.DataFrame(rows).set_index(["scope", "rung"])

    log_sd = down.d["log_sd"].reindex(log_d.index).to_numpy()
    offset = down.d["date_offset"].reindex(log_d.index).to_numpy()
    g, se, nu = stats_reach.pace(log_d.to_numpy(), log_sd, pt.window_quarters, offset)
    g, se = float(g), float(se)
    need = float(needed.loc[(chain.PRIMARY, "committed"), "needed"])
    joint = float(stats_reach.test_se(log_sd, pt.window_quarters, h, offset))
    t_stat, p = stats_reach.growth_test(g, joint, nu, need)
    mde, mde_source = minimum_detectable_effect(scenario, joint, nu, pt.alpha)
    checks = measured_checks(scenario, pt.alpha)
    primary = list(rungs.index).index(chain.PRIMARY)
    span = min(pt.window_quarters, len(log_d) - 1)
    paths = posterior_predictive(rng, log_d_draws[:, primary], g, se, nu, pt.growth_half_life_years,
                                 pt.long_run_growth, pt.ceiling_share, bound.value_usd_bn, *down.noise_levels, steps, span)
    at_target = paths[:, (target - T).n - 1]
    log_target = np.log(committed_draws[:, col])
    prob, prob_se = stats_reach.probability_above(at_target, log_target)
    by_scope = {key: stats_reach.probability_above(at_target + log_d_draws[:, i] - log_d_draws[:, primary],
                                                   log_target)[0] for i, key in enumerate(rungs.index)}
    by_half_life = {}
    for eta in HALF_LIVES:  # the same draws of D in T and of R*'s path, growth's half-life fixed
        fixed = posterior_predictive(rng, log_d_draws[:, primary], g, se, nu, eta, pt.long_run_growth,
                                     pt.ceiling_share, bound.value_usd_bn, *down.noise_levels, (target - T).n, span)
        by_half_life[eta] = stats_reach.probability_above(fixed[:, -1], log_target)[0]
    quarters = pd.period_range(T + 1, end, freq="Q")
    percents = (5, 25, 50, 75, 95)
    bands = np.exp(np.percentile(paths, percents, axis=0))
    fan = pd.DataFrame({f"d_p{p_:02d}": band for p_, band in zip(percents, bands)}, index=quarters)
    return Reach(
        year=year, quarter=T, target_quarter=target, years=h, path=path, needed=needed, growth=g, growth_se=se,
        dof=nu, window=min(pt.window_quarters, len(log_d) - 1), max_window=pt.window_quarters, level=level,
        mde=mde, mde_source=mde_source, alpha=pt.alpha, checks=checks,
        t_stat=float(t_stat), p_value=float(p), probability=prob, probability_se=prob_se,
        probability_by_scope=by_scope, probability_by_half_life=by_half_life, prior_keys=r_keys + d_keys,
        decay_priors={"growth_half_life_years": pt.growth_half_life_years, "long_run_growth": pt.long_run_growth,
                      "ceiling_share": pt.ceiling_share},
        draws=n, fan=fan, bound=bound, noise_levels=tuple(float(x) for x in down.noise_levels))
