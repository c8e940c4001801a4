r"""Downstream revenue on upstream capex, in growth and error-correction form, with small-sample inference.

Levels of two trending series correlate whether or not one drives the other (independent random
walks give a "significant" levels regression most of the time), so nothing here regresses
levels on levels. The forms used:

- **growth (distributed lag)**:
  :math:`\Delta\log y_t = a + \sum_{k=0}^{L} b_k \Delta\log x_{t-k} + e_t`; the elasticity is
  :math:`\sum_k b_k`, with an EWC HAC t statistic whose reference distribution is an AR(1)
  parametric bootstrap under the null (the fixed-b :math:`t_\nu` alone over-rejects here);
- **error correction with a bounds test** (Pesaran, Shin and Smith, 2001) where the series is long
  enough, with a bootstrap p-value;
- **placebo**: capex *leads* added to the growth regression; their sum must show nothing;
- **the elasticity of D to lagged AI capex**, calibrated by a **pipeline bootstrap**
  (:func:`pipeline_elasticity`): D's series are simulated independent of capex on their real
  disclosure pattern, smoothed as the data are (:class:`DisclosurePattern`) and added up as D is; the
  EWC t is referred to the simulated :math:`t^*`, the fixed-b :math:`t_\nu` interval's coverage under
  that null is reported beside it, and the estimate is declared uninformative when the test cannot
  detect a proportional response;
- **panel**: each company's revenue growth on its own lagged capex growth (the clouds), or each
  application's and lab's revenue growth on its cloud suppliers' lagged AI capex growth, company
  intercepts, Driscoll-Kraay errors (the EWC long-run variance of the cross-sectional sum of scores,
  so the inference rests on the number of quarters, not on a handful of companies), plus each
  company's own slope for a forest plot;
- **stability**: recursive coefficients and Andrews' sup-Wald break test with a date set;
- **out of sample**: pseudo-real-time forecasts from rolling origins against a random walk with
  drift.

Quarterly series are pandas Series on a contiguous quarterly PeriodIndex; a lag never crosses a
missing quarter.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from valuechain.stats import inference
from valuechain.stats.inference import LinearFit, ols_ewc


def growth_frame(y: pd.Series, x: pd.Series, lags: int, leads: int = 0) -> pd.DataFrame:
    """Quarterly log growth of ``y`` with log growth of ``x`` at lags 0..``lags`` and leads 1..``leads``."""
    quarters = y.index.union(x.index).sort_values()  # union keeps an index equal to the other in its own order
    values = np.column_stack([y.reindex(quarters).to_numpy(float), x.reindex(quarters).to_numpy(float)])
    logs = np.log(np.where(values > 0, values, np.nan))
    growth = np.concatenate([np.full((1, 2), np.nan), logs[1:] - logs[:-1]])
    cols = {"dy": growth[:, 0]}
    for k in range(lags + 1):
        cols[f"dx_lag{k}"] = _shifted(growth[:, 1], k)
    for k in range(1, leads + 1):
        cols[f"dx_lead{k}"] = _shifted(growth[:, 1], -k)
    frame = pd.DataFrame(cols, index=quarters)
    return frame[~np.isnan(frame.to_numpy()).any(axis=1)]


def _shifted(values: np.ndarray, k: int) -> np.ndarray:
    """``values`` moved ``k`` places later (earlier if ``k`` < 0), NaN where nothing moves in."""
    out = np.full(len(values), np.nan)
    if k >= 0:
        out[k:] = values[:len(values) - k]
    else:
        out[:k] = values[-k:]
    return out


@dataclass(frozen=True, kw_only=True)
class Effect(inference.TestResult):
    r"""A linear combination of coefficients (an elasticity, a sum of leads) with its test of being zero.

    ``estimate``, ``interval`` and ``level`` are always set; ``statistic`` is the EWC t of
    :math:`H_0`: effect = 0 and ``df`` the EWC degrees of freedom :math:`\nu`.
    """

    se: float
    fit: LinearFit
    draws: np.ndarray | None = None  # bootstrap draws of the estimate (estimate + se x t*), where bootstrapped


BOOTSTRAP_DRAWS = 999


NULL, ALTERNATIVE = "the effect is zero", "the effect is not zero (two-sided)"


def _effect(name: str, fit: LinearFit, terms, level: float) -> Effect:
    """The fixed-b t_nu reference: used where its size was measured within bounds (the panel)."""
    est, se = fit.combination({t: 1.0 for t in terms})
    return Effect(name=name, statistic=est / se, pvalue=fit.p_two_sided(est, se), null=NULL, alternative=ALTERNATIVE,
                  method=fit.method, nobs=fit.n, df=fit.dof, estimate=est, interval=fit.interval(est, se, level),
                  level=level, se=se, fit=fit)


def _bootstrapped(name: str, y: np.ndarray, X: np.ndarray, names, terms, level: float) -> Effect:
    """A linear combination with the EWC t and its AR(1) parametric-bootstrap reference."""
    fit = ols_ewc(y, X, names)
    weights = np.array([1.0 if n in terms else 0.0 for n in names])
    est, se = fit.combination({t: 1.0 for t in terms})
    boot = inference.bootstrap_t(y, X, weights, 0.0, 2, level, BOOTSTRAP_DRAWS, np.random.default_rng(0))
    return Effect(name=name, statistic=boot.statistic, pvalue=boot.pvalue, null=NULL, alternative=ALTERNATIVE,
                  method=f"OLS, EWC HAC t, AR(1) parametric-bootstrap reference ({BOOTSTRAP_DRAWS} draws)",
                  nobs=fit.n, df=fit.dof, estimate=est,
                  interval=(est - boot.critical * se, est + boot.critical * se), level=level, se=se, fit=fit,
                  draws=est + se * boot.reference)


def elasticity(y: pd.Series, x: pd.Series, lags: int, level: float = 0.90) -> Effect:
    """Sum of the distributed-lag growth coefficients: the growth elasticity of ``y`` to ``x``."""
    frame = growth_frame(y, x, lags)
    names = ["const"] + [c for c in frame if c.startswith("dx_")]
    X = np.column_stack([np.ones(len(frame))] + [frame[c] for c in names[1:]])
    return _bootstrapped(f"elasticity (sum of lags 0-{lags})", frame["dy"].to_numpy(), X, names, names[1:], level)


def placebo(y: pd.Series, x: pd.Series, lags: int, leads: int, level: float = 0.90) -> Effect:
    """Sum of the coefficients on capex *leads* in the growth regression; causality says zero."""
    frame = growth_frame(y, x, lags, leads)
    names = ["const"] + [c for c in frame if c.startswith("dx_")]
    X = np.column_stack([np.ones(len(frame))] + [frame[c] for c in names[1:]])
    return _bootstrapped(f"placebo (sum of leads 1-{leads})", frame["dy"].to_numpy(), X, names,
                         [c for c in names if "lead" in c], level)


def bounds(y: pd.Series, x: pd.Series, lags: int = 1, bootstrap: int = 499, seed: int = 0) -> inference.BoundsTest:
    """Bounds test for a levels relationship between log ``y`` and log ``x`` (bootstrap p-value)."""
    frame = np.log(pd.concat({"y": y, "x": x}, axis=1).dropna())
    return inference.bounds_test(frame["y"].to_numpy(), frame["x"].to_numpy(), lags, bootstrap,
                                 np.random.default_rng(seed))


@dataclass(frozen=True)
class DisclosurePattern:
    r"""Where and how precisely each series is observed, so that it can be simulated and smoothed as the data are.

    Series :math:`i` is smoothed on grid positions ``windows[i]`` (first and last, inclusive) and
    observed where ``variance[i]`` is finite, with that measurement variance (several disclosures of
    one quarter combined into their precision-weighted mean, as the pipeline combines them).
    :meth:`simulate` draws each series from the local-linear-trend model the smoother assumes
    (:mod:`valuechain.stats.statespace`), from its smoothed level and mean growth at the start of its
    window, with no link to any regressor: the null of "revenue independent of capex", on the real
    sampling.
    """

    quarters: pd.PeriodIndex
    series: tuple[str, ...]
    windows: tuple[tuple[int, int], ...]
    variance: np.ndarray  # series x quarters: measurement variance where observed, NaN where not
    start_level: np.ndarray  # log level at each window's first quarter
    start_slope: np.ndarray  # quarterly log growth at the start (the series' mean smoothed growth)
    level_sd: float
    slope_sd: float

    def simulate(self, rng: np.random.Generator, sims: int) -> np.ndarray:
        r"""``sims x quarters x series`` smoothed log levels under the null (NaN outside each series' window).

        True log revenue follows :math:`\mu_{t+1} = \mu_t + \nu_t + \eta_t`,
        :math:`\nu_{t+1} = \nu_t + \zeta_t`; it is observed with the disclosures' noise where they fall
        and smoothed by :func:`~valuechain.stats.statespace.local_linear_trend` with the same noise levels.
        """
        from valuechain.stats.statespace import local_linear_trend

        out = np.full((sims, len(self.quarters), len(self.series)), np.nan)
        for i, (first, last) in enumerate(self.windows):
            n = last - first + 1
            slope = self.start_slope[i] + np.cumsum(
                np.concatenate([np.zeros((sims, 1)), self.slope_sd * rng.standard_normal((sims, n - 1))], axis=1), axis=1)
            steps = slope[:, :-1] + self.level_sd * rng.standard_normal((sims, n - 1))
            truth = self.start_level[i] + np.concatenate([np.zeros((sims, 1)), np.cumsum(steps, axis=1)], axis=1)
            var = self.variance[i, first:last + 1]
            seen = np.isfinite(var)
            observed = np.where(seen, truth + np.sqrt(np.where(seen, var, 0.0)) * rng.standard_normal(truth.shape),
                                np.nan)
            out[:, first:last + 1, i] = local_linear_trend(observed, np.where(seen, var, 1.0), self.level_sd,
                                                           self.slope_sd, smoothed_variances=False).smoothed_level
        return out


def linked_growth(levels: np.ndarray, signs: np.ndarray) -> np.ndarray:
    r"""Chain-linked log growth of :math:`\sum_i s_i x_{i,t}`, batched: ``levels`` is ``(..., quarters, series)``.

    From :math:`t-1` to :math:`t` only the series present in both count (NaN where none is), as
    :func:`valuechain.model.downstream.chain_linked` links :math:`D`; the first quarter is NaN.
    """
    signed = levels * signs
    both = np.isfinite(levels[..., 1:, :]) & np.isfinite(levels[..., :-1, :])
    now = np.where(both, signed[..., 1:, :], 0.0).sum(axis=-1)
    before = np.where(both, signed[..., :-1, :], 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(both.any(axis=-1) & (now > 0) & (before > 0), np.log(now / before), np.nan)
    return np.concatenate([np.full(growth.shape[:-1] + (1,), np.nan), growth], axis=-1)


POWER = 0.80  # the power at which the minimum detectable effect is stated
PROPORTIONAL = 1.0  # an elasticity of 1: revenue in proportion to capex


@dataclass(frozen=True, kw_only=True)
class PipelineEffect(Effect):
    r"""A slope whose t is referred to pipeline bootstraps under the null, with what those nulls say of it.

    Each null world (``worlds``: the scenario's noise levels and wider ones) gives draws of
    :math:`t^*`. ``interval`` is :math:`\hat b \pm c^* se` with :math:`c^*` the largest ``level``
    quantile of :math:`|t^*|` over the worlds, so that it covers in each; ``t_interval`` uses the
    fixed-b :math:`t_\nu` quantile. ``worlds`` has, per world, :math:`c^*`, the coverage of both
    intervals of the true 0 and the minimum detectable effect; ``mde`` is the largest of these (the
    smallest elasticity the test detects with probability :data:`POWER` in every world) and
    ``power_at_one`` the smallest power against a proportional response.
    """

    critical: float  # c*: the largest level quantile of |t*| over the null worlds
    t_critical: float  # the t_nu quantile at the same level
    t_interval: tuple[float, float]
    worlds: pd.DataFrame  # world, draws, critical, coverage, t_coverage, mde, power_at_one
    mde: float  # smallest positive elasticity detected with probability POWER in every world (inf: none up to 10)
    power_at_one: float  # the least power against an elasticity of 1 over the worlds

    @property
    def informative(self) -> bool:
        """Whether the test can tell no response from a proportional one: it detects an elasticity of 1
        with probability :data:`POWER` in every null world and its interval does not hold both 0 and 1."""
        low, high = self.interval
        return self.mde <= PROPORTIONAL and not (low <= 0.0 and high >= PROPORTIONAL)


def _power(est: np.ndarray, se: np.ndarray, effects: np.ndarray, critical: float) -> np.ndarray:
    r"""The share of draws with :math:`|(\hat b^* + b)/se^*| >` ``critical`` at each effect :math:`b` of ``effects``:
    the power against :math:`b` when adding it moves each draw's estimate by exactly :math:`b`."""
    return np.mean(np.abs((est[None, :] + effects[:, None]) / se[None, :]) > critical, axis=1)


MDE_BLOCK = 100  # effects of the grid whose power is computed at once, from the smallest, until one reaches POWER


def _mde(est: np.ndarray, se: np.ndarray, effects: np.ndarray, critical: float) -> float:
    """The first effect of ``effects`` (ascending) whose :func:`_power` is at least :data:`POWER` (inf: none), the
    grid's power computed a block at a time and no further than the block that holds it."""
    for start in range(0, len(effects), MDE_BLOCK):
        block = effects[start:start + MDE_BLOCK]
        reached = block[_power(est, se, block, critical) >= POWER]
        if len(reached):
            return float(reached[0])
    return np.inf


def pipeline_elasticity(y: pd.Series, x: pd.Series, lag: int, nulls: dict[str, np.ndarray],
                        level: float = 0.90) -> PipelineEffect:
    r"""Elasticity of ``y`` to ``x`` lagged ``lag`` quarters, :math:`\Delta\log y_t = a + b\,\Delta\log x_{t-L} + e_t`,
    with pipeline-bootstrap references.

    ``nulls`` maps a world's name to ``draws x len(y)`` of :math:`\Delta\log y` (aligned with ``y``'s
    quarters) as the pipeline builds it from series simulated independent of ``x``
    (:meth:`DisclosurePattern.simulate`); the first world is the model's own. Each draw is regressed
    on the same regressors. The p-value is :math:`(1 + \#\{|t^*| \ge |t|\})/(1 + B)` in the world
    with the largest :math:`c^*` (the most conservative). Power against an elasticity :math:`b` adds
    :math:`b\,\Delta\log x_{t-L}` to each null draw's growth: OLS moves the estimate by exactly
    :math:`b` and leaves the residuals, so :math:`t^*(b) = (\hat b^* + b)/se^*` (the effect is added
    after the smoothing, which passes a smooth regressor nearly unchanged).
    """
    frame = growth_frame(y, x.shift(lag), 0)
    X = np.column_stack([np.ones(len(frame)), frame["dx_lag0"]])
    fit = ols_ewc(frame["dy"].to_numpy(), X, ["const", "elasticity"])
    est, se = float(fit.coef[1]), fit.se("elasticity")
    rows = np.asarray([y.index.get_loc(q) for q in frame.index])
    t_critical = float(stats.t.ppf(0.5 + level / 2, fit.dof))
    grid = np.linspace(0.0, 10.0, 1001)
    drawn = {}
    for name, growth in nulls.items():
        null = np.asarray(growth, float)[:, rows]
        null = null[np.isfinite(null).all(axis=1)]
        est_star, t_star, _ = inference.batched_t(null, X, np.array([0.0, 1.0]))
        drawn[name] = (est_star, t_star, est_star / t_star)
    critical = max(float(np.quantile(np.abs(t), level)) for _, t, _ in drawn.values())
    table = []
    for name, (est_star, t_star, se_star) in drawn.items():
        table.append({"world": name, "draws": len(t_star), "critical": float(np.quantile(np.abs(t_star), level)),
                      "coverage": float(np.mean(np.abs(t_star) <= critical)),
                      "t_coverage": float(np.mean(np.abs(t_star) <= t_critical)),
                      "mde": _mde(est_star, se_star, grid, critical),
                      "power_at_one": float(np.mean(np.abs((est_star + PROPORTIONAL) / se_star) > critical))})
    worlds = pd.DataFrame(table)
    widest = worlds["critical"].idxmax()
    _, t_ref, _ = drawn[worlds.loc[widest, "world"]]
    return PipelineEffect(
        name=f"elasticity of D to AI capex lagged {lag} quarters", statistic=est / se,
        pvalue=inference.mc_p_value(abs(est / se), np.abs(t_ref)), null=NULL, alternative=ALTERNATIVE,
        method=(f"OLS, EWC HAC t, pipeline-bootstrap reference (D rebuilt through the smoothing, "
                f"{len(worlds)} null worlds, {int(worlds['draws'].sum()):,} draws; the widest critical value)"),
        nobs=fit.n, df=fit.dof, estimate=est, interval=(est - critical * se, est + critical * se), level=level, se=se,
        fit=fit, draws=est - se * t_ref, critical=critical, t_critical=t_critical,
        t_interval=(est - t_critical * se, est + t_critical * se), worlds=worlds,
        mde=float(worlds["mde"].max()), power_at_one=float(worlds["power_at_one"].min()))

@dataclass(frozen=True)
class SupplierWorld:
    """The suppliers' panel as :func:`panel` runs it, and how its null is simulated (:mod:`valuechain.stats.size`).

    ``revenue_log`` is each series' smoothed log revenue (quarter x series), ``capex`` each series'
    suppliers' AI capex (an index, quarter x series), ``links`` the supplier pairs used with their
    basis and source; under the null each series is drawn on its ``pattern`` independent of capex.
    """

    pattern: DisclosurePattern
    revenue_log: pd.DataFrame
    capex: pd.DataFrame
    lag: int
    min_changes: int
    links: pd.DataFrame  # series_id, supplier_id, basis, source_id, note

    def simulated_revenue(self, logs: np.ndarray) -> pd.DataFrame:
        """One simulated draw (``quarters x series`` log levels on the pattern's grid) as the panel's revenue table."""
        frame = pd.DataFrame(np.exp(logs), index=self.pattern.quarters, columns=list(self.pattern.series))
        return frame.reindex(self.revenue_log.index)


@dataclass(frozen=True)
class PanelResult:
    """Pooled slope with Driscoll-Kraay (EWC) errors and each company's own slope."""

    pooled: Effect
    companies: pd.DataFrame  # company, slope, ci_low, ci_high, n, dof
    quarters: int


def panel(revenue: pd.DataFrame, capex: pd.DataFrame, lag: int, level: float = 0.90, min_changes: int = 8,
          regressor: str = "own capex") -> PanelResult:
    r"""Revenue growth on own capex growth lagged ``lag`` quarters, company intercepts, Driscoll-Kraay EWC errors.

    ``revenue`` and ``capex`` are quarter x company tables (a company's column of ``capex`` is the
    capex its revenue is regressed on: its own, or its suppliers' as ``regressor`` says); a company
    enters with at least ``min_changes`` quarterly changes. The scores :math:`x_{it} e_{it}` are
    summed over companies in each quarter and their long-run variance taken over quarters, so the
    reference distribution has :math:`\nu` from the number of quarters; clustering by three
    companies would give a rank-deficient covariance.
    """
    data, rows = _panel_data(revenue, capex, lag, min_changes), []
    for company, g in data.groupby("company", sort=False):
        fit = ols_ewc(g["dy"].to_numpy(), np.column_stack([np.ones(len(g)), g["dx"]]), ["const", "slope"])
        lo, hi = fit.interval(fit.coef[1], fit.se("slope"), level)
        rows.append({"company_id": company, "slope": fit.coef[1], "ci_low": lo, "ci_high": hi, "n": fit.n,
                     "dof": fit.dof})
    X, at, quarters, companies = _panel_design(data)
    coef, cov, nu = _driscoll_kraay(data["dy"].to_numpy()[None, :], X, at, len(quarters))
    fit = LinearFit(("slope", *companies), coef[0], cov[0], len(data), nu,
                    f"pooled OLS with company intercepts, Driscoll-Kraay EWC errors over {len(quarters)} quarters")
    return PanelResult(_effect(f"panel slope ({regressor} lagged {lag} quarters)", fit, ["slope"], level),
                       pd.DataFrame(rows), len(quarters))


def _panel_data(revenue: pd.DataFrame, capex: pd.DataFrame, lag: int, min_changes: int) -> pd.DataFrame:
    """The panel's rows: each company's growth frame (dy, dx, company) with at least ``min_changes`` changes."""
    frames = [(company, growth_frame(revenue[company], capex[company].shift(lag), 0))
              for company in revenue.columns if company in capex.columns]
    frames = [(company, g) for company, g in frames if len(g) >= min_changes]
    return pd.DataFrame({"dy": np.concatenate([g["dy"].to_numpy() for _, g in frames]),
                         "dx": np.concatenate([g["dx_lag0"].to_numpy() for _, g in frames]),
                         "company": np.repeat([company for company, _ in frames], [len(g) for _, g in frames])},
                        index=frames[0][1].index.append([g.index for _, g in frames[1:]]))


def _panel_design(data: pd.DataFrame):
    """The slope and company dummies, each row's quarter position, the quarters and the companies."""
    quarters = pd.period_range(data.index.min(), data.index.max(), freq="Q")
    companies = sorted(data["company"].unique())
    dummies = np.column_stack([(data["company"] == c).to_numpy(float) for c in companies])
    position = {q: i for i, q in enumerate(quarters)}
    return (np.column_stack([data["dx"].to_numpy(), dummies]), np.array([position[q] for q in data.index]),
            quarters, companies)


def _driscoll_kraay(Y: np.ndarray, X: np.ndarray, at: np.ndarray, n_quarters: int):
    r"""OLS of each row of ``Y`` (``draws x n``) on ``X`` with Driscoll-Kraay EWC covariance, batched.

    The scores are summed over the rows of each quarter (``at``: the quarter position of each row)
    and their EWC long-run variance taken over the ``n_quarters`` quarters. Returns the coefficients
    (``draws x k``), covariances (``draws x k x k``) and :math:`\nu`.
    """
    xtx_inv = np.linalg.inv(X.T @ X)
    coef = Y @ (X @ xtx_inv)
    resid = Y - coef @ X.T
    indicator = np.zeros((n_quarters, len(at)))
    indicator[at, np.arange(len(at))] = 1.0
    summed = np.einsum("qn,dnk->dqk", indicator, X[None, :, :] * resid[:, :, None])
    nu = inference.ewc_dof(n_quarters)
    cov = n_quarters * np.einsum("ij,djk,kl->dil", xtx_inv, inference.ewc_long_run(summed, nu), xtx_inv)
    return coef, cov, nu


@dataclass(frozen=True)
class _SupplierDesign:
    """The suppliers' panel's rows as :func:`panel` forms them: the design, and where each row's growth is in a draw."""

    X: np.ndarray  # slope and company dummies, one row per panel row
    at: np.ndarray  # each row's quarter position among the panel's quarters
    n_quarters: int
    grid_rows: np.ndarray  # the pattern grid's position of each quarter of ``revenue_log``
    row_quarter: np.ndarray  # each panel row's position among those quarters
    row_series: np.ndarray  # each panel row's series position in the pattern


def _supplier_design(world: SupplierWorld) -> _SupplierDesign:
    """The panel's rows and design on ``world``'s real revenue: the same for every simulated draw."""
    data = _panel_data(np.exp(world.revenue_log), world.capex, world.lag, world.min_changes)
    X, at, quarters, _ = _panel_design(data)
    series = list(world.pattern.series)
    position = {q: i for i, q in enumerate(world.revenue_log.index)}
    return _SupplierDesign(X, at, len(quarters),
                           np.array([world.pattern.quarters.get_loc(q) for q in world.revenue_log.index]),
                           np.array([position[q] for q in data.index]),
                           np.array([series.index(c) for c in data["company"]]))


def _design_slopes(design: _SupplierDesign, logs: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    r"""The suppliers' panel slope, its Driscoll-Kraay s.e. and :math:`\nu` for each draw of ``logs``
    (``draws x quarters x series`` on the pattern's grid, as :meth:`DisclosurePattern.simulate` gives them):
    :func:`panel` on :meth:`SupplierWorld.simulated_revenue`, batched over the draws on ``design``
    (:func:`_supplier_design`)."""
    growth = np.diff(logs[:, design.grid_rows, :], axis=1, prepend=np.nan)
    Y = growth[:, design.row_quarter, design.row_series]
    coef, cov, nu = _driscoll_kraay(Y, design.X, design.at, design.n_quarters)
    return coef[:, 0], np.sqrt(cov[:, 0, 0]), nu


def panel_calibration(world: "SupplierWorld", nulls: dict[str, tuple[float, float]], rng: np.random.Generator,
                      draws: int, level: float = 0.90, nominal: float = 0.05) -> pd.DataFrame:
    r"""The suppliers' panel on its null worlds: size, coverage of its interval and power, one row per world.

    ``nulls`` maps a world's name to multiples of the pattern's (level, growth) noise. In each,
    ``draws`` samples of every series are simulated independent of capex and smoothed
    (:meth:`DisclosurePattern.simulate`), and the panel's slope t is recomputed on the same rows:
    ``size`` is the rejection rate at ``nominal`` against :math:`t_\nu`, ``coverage`` the share of
    samples whose ``level`` interval holds the true 0. Power at an elasticity :math:`b` adds
    :math:`b\,\Delta\log x_{i,t-L}` to every series' smoothed growth: the slope moves by exactly
    :math:`b` and the residuals do not change; ``mde`` is the smallest :math:`b` with power
    :data:`POWER` (inf: none up to 10) and ``power_at_one`` the power against 1.
    """
    grid = np.linspace(0.0, 10.0, 2001)
    design = _supplier_design(world)
    table = []
    for name, (level_x, slope_x) in nulls.items():
        pattern = replace(world.pattern, level_sd=world.pattern.level_sd * level_x,
                          slope_sd=world.pattern.slope_sd * slope_x)
        est, se, nu = _design_slopes(design, pattern.simulate(rng, draws))
        reject, cover = stats.t.ppf(1 - nominal / 2, nu), stats.t.ppf(0.5 + level / 2, nu)
        table.append({"world": name, "draws": draws, "size": float(np.mean(np.abs(est / se) > reject)),
                      "coverage": float(np.mean(np.abs(est / se) <= cover)),
                      "mde": _mde(est, se, grid, reject),
                      "power_at_one": float(np.mean(np.abs((est + PROPORTIONAL) / se) > reject))})
    return pd.DataFrame(table)


def recursive(y: pd.Series, x: pd.Series, lag: int, level: float = 0.90) -> pd.DataFrame:
    """Recursive least-squares slope of revenue growth on lagged capex growth, with its band, by quarter."""
    from statsmodels.regression.recursive_ls import RecursiveLS

    g = growth_frame(y, x.shift(lag), 0)
    X = np.column_stack([np.ones(len(g)), g["dx_lag0"]])
    res = RecursiveLS(g["dy"].to_numpy(), X).fit()
    coef = res.recursive_coefficients.filtered[1]
    sd = np.sqrt(res.recursive_coefficients.filtered_cov[1, 1])
    z = stats.norm.ppf(0.5 + level / 2)
    frame = pd.DataFrame({"calendar_quarter": g.index, "slope": coef, "low": coef - z * sd, "high": coef + z * sd})
    return frame.iloc[4:].reset_index(drop=True)  # the first estimates rest on too few quarters to show


def break_test(y: pd.Series, x: pd.Series, lag: int, trim: float = 0.15, bootstrap: int = 499,
               seed: int = 0):
    """sup-Wald test of a break in the growth regression, and the quarters of its 90% date set."""
    g = growth_frame(y, x.shift(lag), 0)
    X = np.column_stack([np.ones(len(g)), g["dx_lag0"]])
    result = inference.sup_wald(g["dy"].to_numpy(), X, trim, bootstrap, np.random.default_rng(seed))
    dates = (g.index[result.break_index], g.index[result.date_set[0]], g.index[result.date_set[1]])
    return replace(result, name="sup-Wald break in the growth regression"), dates


def out_of_sample(y: pd.Series, x: pd.Series, lag: int, horizon: int = 4, min_window: int = 12,
                  publication_lag: int = 1) -> pd.DataFrame:
    r"""Pseudo-real-time forecasts of log ``y`` ``horizon`` quarters ahead from rolling origins.

    At origin quarter :math:`o` only quarters up to :math:`o - \text{publication\_lag}` are known
    (a quarter's filing comes out in the next quarter). The model is
    :math:`\Delta\log y_t = a + b\,\Delta\log x_{t-L}` fitted on the known quarters; with
    :math:`L \ge` ``horizon`` every capex growth it needs is already known. The benchmark is a
    random walk with drift (the mean known growth). One row per origin with both errors.
    """
    g = growth_frame(y, x.shift(lag), 0)
    log_y = np.log(y)
    rows = []
    for end in range(min_window, len(g) - horizon + 1):
        known = g.iloc[:end]
        origin = known.index[-1] + publication_lag
        X = np.column_stack([np.ones(len(known)), known["dx_lag0"]])
        coef, *_ = np.linalg.lstsq(X, known["dy"].to_numpy(), rcond=None)
        future = g.iloc[end:end + horizon]
        if lag < horizon or len(future) < horizon:
            break
        model = float(np.sum(coef[0] + coef[1] * future["dx_lag0"]))
        drift = float(horizon * known["dy"].mean())
        actual = float(log_y[future.index[-1]] - log_y[known.index[-1]])
        rows.append({"origin": origin, "target": future.index[-1], "actual": actual,
                     "model_error": model - actual, "random_walk_error": drift - actual})
    return pd.DataFrame(rows)


def realtime_out_of_sample(vintages, final: pd.Series, x: pd.Series, lag: int, horizon: int, min_series: int,
                           min_window: int = 4, publication_lag: int = 1) -> pd.DataFrame:
    r"""Pseudo-real-time forecasts of the growth of :math:`D`, each origin on :math:`D`'s vintage at that date.

    ``vintages`` are :class:`valuechain.model.downstream.Vintage` objects cut at quarter ends; the
    quarter :math:`o` whose end is the cutoff is the origin. At :math:`o` the model
    :math:`\Delta\log D_t = a + b\,\Delta\log x_{t-L}` is fitted by OLS on the vintage's latest
    run of quarters with at least ``min_series`` series, using capex filed by then (quarters up to
    :math:`o -` ``publication_lag``). From the vintage's last quarter :math:`s` it forecasts the growth
    of :math:`D` to :math:`o + h`; every capex change it needs is filed by the origin, which requires
    :math:`h \le L -` ``publication_lag``. The benchmark is a random walk with drift: the mean
    growth of the same quarters times the steps. The outcome is the growth of ``final`` (:math:`D`
    on every disclosure now published) from :math:`s` to the target: growth, not level, because a
    vintage and the final series rest on different sets of series.

    One row per origin with at least ``min_window`` changes and a target in ``final``: origin,
    base, target, steps, changes used, the latest publication date and capex quarter used, the
    outcome and both errors (log points).
    """
    if horizon > lag - publication_lag:
        raise ValueError(f"horizon {horizon} needs capex not yet filed at the origin (at most lag - publication_lag "
                         f"= {lag - publication_lag})")
    log_x = np.log(x.where(x > 0))
    log_final = np.log(final.where(final > 0))
    rows = []
    for v in vintages:
        origin = pd.Period(v.cutoff, freq="Q")
        target = origin + horizon
        if pd.isna(log_final.get(target, np.nan)):
            continue
        d = v.d.loc[_latest_run(v.d["series_present"] >= min_series), "d_usd_bn"].dropna()
        filed = log_x[log_x.index <= origin - publication_lag].diff()
        dy = np.log(d).diff().dropna()
        dx = pd.Series([filed.get(q - lag, np.nan) for q in dy.index], index=dy.index, dtype=float)
        dy, dx = dy[dx.notna()], dx[dx.notna()]
        base = d.index[-1] if len(d) else None
        if len(dy) < min_window or base is None:
            continue
        steps = pd.period_range(base + 1, target, freq="Q")
        future = np.array([filed.get(q - lag, np.nan) for q in steps], dtype=float)
        if np.isnan(future).any():
            continue
        X = np.column_stack([np.ones(len(dx)), dx.to_numpy()])
        coef, *_ = np.linalg.lstsq(X, dy.to_numpy(), rcond=None)
        model = float(np.sum(coef[0] + coef[1] * future))
        drift = float(len(steps) * dy.mean())
        actual = float(log_final[target] - log_final[base])
        rows.append({"origin": origin, "base": base, "target": target, "steps": len(steps), "n": len(dy),
                     "last_published": v.last_published, "capex_through": filed.index.max(), "actual": actual,
                     "model_error": model - actual, "random_walk_error": drift - actual})
    return pd.DataFrame(rows, columns=["origin", "base", "target", "steps", "n", "last_published", "capex_through",
                                       "actual", "model_error", "random_walk_error"])


def _latest_run(enough: pd.Series) -> pd.Series:
    """Mask of the latest run of consecutive True values that reaches the last position (all False if it is False)."""
    values = enough.to_numpy(bool)
    mask = np.zeros(len(values), bool)
    i = len(values) - 1
    while i >= 0 and values[i]:
        mask[i] = True
        i -= 1
    return pd.Series(mask, index=enough.index)


def rmse_ratio(forecasts: pd.DataFrame) -> float:
    """Root mean squared error of the model over that of the random walk with drift (< 1: the model helps)."""
    return float(np.sqrt(np.mean(forecasts["model_error"] ** 2) / np.mean(forecasts["random_walk_error"] ** 2)))
