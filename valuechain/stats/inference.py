r"""Small-sample inference for short, trending, autocorrelated quarterly series.

The demand-gap series have 13 to 45 quarters and strongly autocorrelated errors, so textbook
Newey-West errors with normal critical values over-reject. Every test here uses one of:

- **EWC HAC with fixed-b critical values** (Lazarus, Lewis, Stock and Watson, 2018, "HAR Inference:
  Recommendations for Practice"). The long-run variance of the scores :math:`z_t = x_t e_t` is the
  average of :math:`\nu` cosine-weighted projections,

  .. math::

      \Lambda_j = \sqrt{2/T} \sum_{t=1}^{T} z_t \cos\!\big(\pi j (t - \tfrac12) / T\big), \qquad
      \hat\Omega = \frac{1}{\nu} \sum_{j=1}^{\nu} \Lambda_j \Lambda_j',

  with :math:`\nu = \max(2, \lfloor 0.4\,T^{2/3} \rfloor)`. Under fixed-b asymptotics a t statistic
  built on :math:`\hat\Omega` is :math:`t_\nu` and a Wald statistic on :math:`q` restrictions,
  scaled by :math:`(\nu - q + 1)/(\nu q)`, is :math:`F_{q, \nu - q + 1}`. Few degrees of freedom
  make the intervals wide: that is the honest price of 13 autocorrelated quarters.
- **Parametric bootstrap** under the null where the statistic is not pivotal (the sup-Wald break
  test and the bounds test), with the Monte Carlo p-value :math:`(1 + \#\{S^* \ge S\})/(1 + B)`,
  which is never 0.

Every test's size is measured by :mod:`valuechain.batch.calibrate`. Every test returns one shape,
:class:`TestResult` (or a subclass carrying what else the test finds), as arch's unit-root tests share
one: the statistic, the p-value, the hypotheses in words, the method, the degrees of freedom, the
number of observations and, where the test has one, the estimate with its interval.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

P_FLOOR = 0.001  # below this a p-value prints as "< 0.001"


def format_p(p: float) -> str:
    """A p-value for a reader: ``"< 0.001"`` below 0.001, never ``0.000``; ``"n/a"`` when missing."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"< {P_FLOOR:g}" if p < P_FLOOR else f"{p:.3f}"


@dataclass(frozen=True, kw_only=True)
class TestResult:
    """One hypothesis test: its statistic, p-value, hypotheses, method, degrees of freedom and sample.

    ``estimate`` and ``interval`` (at ``level``) are the quantity tested and its confidence interval,
    where the test has one (a slope, a mean change); a test of a pattern (a break, a levels
    relationship) has neither. ``df`` is None when the reference distribution is a bootstrap or
    Monte Carlo one with no degrees of freedom of its own. Tables are built from this shape
    (:meth:`row`), never row by row by hand.
    """

    __test__ = False  # a result, not a pytest test class

    name: str  # what is tested, in words, e.g. "elasticity (sum of lags 0-2)"
    statistic: float
    pvalue: float
    null: str  # the null hypothesis, in words
    alternative: str  # the alternative, in words
    method: str  # how the reference distribution is found, e.g. "EWC HAC t, AR(1) parametric bootstrap (999 draws)"
    nobs: int
    df: int | None = None  # degrees of freedom of the reference distribution (None: a bootstrap reference)
    statistic_name: str = "t"
    estimate: float | None = None
    interval: tuple[float, float] | None = None
    level: float | None = None  # of the interval

    def row(self) -> dict:
        """The test as a table row: the estimate (or, without one, the statistic), interval, p, n, df, method."""
        low, high = self.interval if self.interval is not None else (np.nan, np.nan)
        return {"test": self.name, "estimate": self.statistic if self.estimate is None else self.estimate,
                "ci_low": low, "ci_high": high, "pvalue": self.pvalue, "nobs": self.nobs,
                "df": np.nan if self.df is None else self.df, "method": self.method}

    def summary(self) -> str:
        """The test in a few lines of text: hypotheses, statistic, p-value, sample and method."""
        df = "" if self.df is None else f", {self.df} degrees of freedom"
        lines = [self.name, f"  H0: {self.null}", f"  H1: {self.alternative}",
                 f"  {self.statistic_name} = {self.statistic:.4g}, p = {format_p(self.pvalue)} ({self.nobs} observations{df})"]
        if self.estimate is not None:
            interval = "" if self.interval is None else (f", {self.level:.0%} interval {self.interval[0]:.4g} to "
                                                         f"{self.interval[1]:.4g}")
            lines.append(f"  estimate {self.estimate:.4g}{interval}")
        lines.append(f"  method: {self.method}")
        return "\n".join(lines)


def ewc_dof(n: int) -> int:
    r"""Degrees of freedom :math:`\nu` of the EWC long-run variance for ``n`` observations (LLSW rule)."""
    return int(max(2, np.floor(0.4 * n ** (2.0 / 3.0))))


def _cosine_basis(n: int, nu: int) -> np.ndarray:
    t = np.arange(1, n + 1)
    j = np.arange(1, nu + 1)[:, None]
    return np.sqrt(2.0 / n) * np.cos(np.pi * j * (t - 0.5) / n)  # nu x n


def ewc_long_run(scores: np.ndarray, nu: int) -> np.ndarray:
    r"""EWC long-run variance :math:`\hat\Omega` of ``scores`` (``... x n x k``), batched over leading axes."""
    basis = _cosine_basis(scores.shape[-2], nu)
    lam = np.einsum("jt,...tk->...jk", basis, scores)
    return np.einsum("...jk,...jl->...kl", lam, lam) / nu


@dataclass(frozen=True)
class LinearFit:
    """OLS estimates with EWC (fixed-b) covariance: what a table needs to say how much data stands behind them."""

    names: tuple[str, ...]
    coef: np.ndarray
    cov: np.ndarray
    n: int
    dof: int  # nu: degrees of freedom of the t reference distribution
    method: str = "OLS, EWC HAC (fixed-b, t reference)"

    def se(self, name: str) -> float:
        i = self.names.index(name)
        return float(np.sqrt(self.cov[i, i]))

    def combination(self, weights: dict[str, float]) -> tuple[float, float]:
        """Estimate and standard error of a linear combination of coefficients."""
        w = np.array([weights.get(n, 0.0) for n in self.names])
        return float(w @ self.coef), float(np.sqrt(w @ self.cov @ w))

    def interval(self, estimate: float, se: float, level: float = 0.90) -> tuple[float, float]:
        from scipy import stats  # here, not at the top: it takes most of a second to import

        q = stats.t.ppf(0.5 + level / 2, self.dof)
        return estimate - q * se, estimate + q * se

    def p_two_sided(self, estimate: float, se: float, null: float = 0.0) -> float:
        from scipy import stats

        return float(2 * stats.t.sf(abs(estimate - null) / se, self.dof)) if se > 0 else np.nan


def ols_ewc(y: np.ndarray, X: np.ndarray, names, nu: int | None = None) -> LinearFit:
    """OLS of ``y`` on ``X`` (``n x k``, include a constant column yourself) with EWC covariance."""
    y, X = np.asarray(y, float), np.asarray(X, float)
    n = len(y)
    nu = nu or ewc_dof(n)
    xtx_inv = np.linalg.inv(X.T @ X)
    coef = xtx_inv @ X.T @ y
    resid = y - X @ coef
    omega = ewc_long_run(X * resid[:, None], nu)
    cov = n * xtx_inv @ omega @ xtx_inv
    return LinearFit(tuple(names), coef, cov, n, nu)


def batched_t(y: np.ndarray, X: np.ndarray, weights: np.ndarray, null: float | np.ndarray = 0.0,
              nu: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """EWC t statistics of ``weights @ beta - null`` for many ``y`` (``sims x n``) on one design ``X``.

    Returns the estimates, the t statistics and the degrees of freedom; used by the calibration.
    """
    n = X.shape[0]
    nu = nu or ewc_dof(n)
    xtx_inv = np.linalg.inv(X.T @ X)
    coef = y @ (X @ xtx_inv)  # sims x k
    resid = y - coef @ X.T
    omega = ewc_long_run(X[None, :, :] * resid[:, :, None], nu)
    cov = n * np.einsum("ij,sjk,kl->sil", xtx_inv, omega, xtx_inv)
    est = coef @ weights
    se = np.sqrt(np.einsum("i,sij,j->s", weights, cov, weights))
    return est, (est - null) / se, nu


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment of a family of p-values (NaN entries are left out and stay NaN)."""
    items = sorted(((p, k) for k, p in pvalues.items() if p is not None and np.isfinite(p)))
    m = len(items)
    adjusted, running = {}, 0.0
    for i, (p, key) in enumerate(items):
        running = max(running, min(1.0, (m - i) * p))
        adjusted[key] = running
    return {k: adjusted.get(k, np.nan) for k in pvalues}


def mc_p_value(observed: float, simulated: np.ndarray) -> float:
    """Monte Carlo p-value :math:`(1 + \\#\\{S^* \\ge S\\})/(1 + B)`: never exactly 0."""
    simulated = np.asarray(simulated)
    return float((1 + np.sum(simulated >= observed)) / (1 + simulated.size))


def ar1(series: np.ndarray, bias_corrected: bool = False) -> tuple[float, float]:
    r"""AR(1) coefficient (clipped to [-0.95, 0.95]) and innovation s.d. of a demeaned series.

    With ``bias_corrected`` the coefficient gets Kendall's correction for the mean-adjusted
    estimate, :math:`\hat\phi + (1 + 3\hat\phi)/n`: on ten or so points the raw estimate is
    biased towards zero, and a bootstrap built on it understates persistence and over-rejects.
    """
    e = np.asarray(series, float) - np.mean(series)
    phi = e[1:] @ e[:-1] / max(e[:-1] @ e[:-1], 1e-12)
    if bias_corrected:
        phi += (1 + 3 * phi) / len(e)
    phi = float(np.clip(phi, -0.95, 0.95))
    sd = float(np.std(e[1:] - phi * e[:-1], ddof=1)) if len(e) > 2 else float(np.std(e))
    return phi, max(sd, 1e-9)


def simulate_ar1(rng: np.random.Generator, sims: int, n: int, phi, sd) -> np.ndarray:
    """``sims x n`` stationary AR(1) paths; ``phi`` and ``sd`` are scalars or one value per path."""
    phi = np.broadcast_to(np.asarray(phi, float), (sims,))
    sd = np.broadcast_to(np.asarray(sd, float), (sims,))
    shocks = rng.standard_normal((sims, n)) * sd[:, None]
    out = np.empty((sims, n))
    out[:, 0] = shocks[:, 0] / np.sqrt(1 - phi ** 2)
    for t in range(1, n):
        out[:, t] = phi * out[:, t - 1] + shocks[:, t]
    return out


# ----------------------------------------------------------------------------- Bayesian elasticity


@dataclass(frozen=True)
class Posterior:
    """Normal posterior of one coefficient under a stated normal prior."""

    prior_mean: float
    mean: float
    sd: float

    def interval(self, level: float = 0.90) -> tuple[float, float]:
        from scipy import stats

        z = stats.norm.ppf(0.5 + level / 2)
        return self.mean - z * self.sd, self.mean + z * self.sd

    def prob_above(self, value: float) -> float:
        from scipy import stats

        return float(stats.norm.sf(value, self.mean, self.sd))


def sandwich_posterior(estimate: float, se: float, prior_mean: float, prior_sd: float) -> Posterior:
    r"""Posterior of a coefficient from its HAC estimate and a normal prior (Müller, 2013, "sandwich posterior").

    The likelihood of an autocorrelated regression is replaced by the normal
    :math:`\hat\beta \sim N(\beta, se^2_{HAC})`, which stays valid when the errors are serially
    correlated; combined with the prior :math:`N(\mu_0, \tau_0^2)`:

    .. math::

        \bar\beta = \frac{\mu_0/\tau_0^2 + \hat\beta/se^2}{1/\tau_0^2 + 1/se^2}, \qquad
        \bar\tau^2 = \frac{1}{1/\tau_0^2 + 1/se^2}.
    """
    prior_precision = 0.0 if not np.isfinite(prior_sd) else 1.0 / prior_sd ** 2
    data_precision = 1.0 / se ** 2
    precision = prior_precision + data_precision
    mean = (prior_precision * prior_mean + data_precision * estimate) / precision
    return Posterior(prior_mean, float(mean), float(np.sqrt(1.0 / precision)))


# ----------------------------------------------------------------------------- break test


@dataclass(frozen=True, kw_only=True)
class BreakTest(TestResult):
    """Andrews' sup-Wald test for a break in all coefficients, with a bootstrap p-value and a date set."""

    break_index: int  # position of the first observation after the estimated break
    date_set: tuple[int, int]  # first and last break positions not rejected at the 90% level
    bootstrap: int
    trim: float


def wald_path(y: np.ndarray, X: np.ndarray, candidates, nu: int) -> np.ndarray:
    """sup over candidates of the EWC Wald statistic for the interaction terms; batched over rows of ``y``."""
    y = np.atleast_2d(y)
    n, k = X.shape
    best = np.full(y.shape[0], -np.inf)
    for c in candidates:
        d = (np.arange(n) >= c).astype(float)[:, None]
        Z = np.hstack([X, X * d])
        zz_inv = np.linalg.pinv(Z.T @ Z)
        coef = y @ (Z @ zz_inv)
        resid = y - coef @ Z.T
        omega = ewc_long_run(Z[None] * resid[:, :, None], nu)
        cov = n * np.einsum("ij,sjk,kl->sil", zz_inv, omega, zz_inv)
        b = coef[:, k:]
        v = cov[:, k:, k:]
        wald = np.einsum("si,si->s", b, np.linalg.solve(v, b[..., None])[..., 0])
        best = np.maximum(best, wald)
    return best


def _ssr_path(y: np.ndarray, X: np.ndarray, candidates) -> np.ndarray:
    n = len(y)
    out = []
    for c in candidates:
        d = (np.arange(n) >= c).astype(float)[:, None]
        Z = np.hstack([X, X * d])
        coef, *_ = np.linalg.lstsq(Z, y, rcond=None)
        out.append(float(np.sum((y - Z @ coef) ** 2)))
    return np.array(out)


def candidates_for(n: int, k: int, trim: float) -> range:
    """Break positions with at least ``trim`` of the sample (and ``k + 1`` points) on each side."""
    lo = max(int(np.ceil(trim * n)), k + 1)
    return range(lo, n - lo + 1)


def sup_wald(y: np.ndarray, X: np.ndarray, trim: float = 0.15, bootstrap: int = 499,
             rng: np.random.Generator | None = None) -> BreakTest:
    r"""Andrews' sup-Wald test of a break in every coefficient of :math:`y = X\beta + e`, EWC HAC.

    The p-value comes from a parametric bootstrap under the null of no break: the fitted
    coefficients plus AR(1) errors with the residuals' coefficient and scale. The date set holds
    the break positions :math:`k` with :math:`n(SSR_k - SSR_{min})/SSR_{min} \le c_{0.90}`, where
    :math:`c_{1-\alpha} = -2\log(1 - \sqrt{1-\alpha})` (Hansen, 2000): the dates the data cannot
    tell apart from the best one.
    """
    rng = rng or np.random.default_rng(0)
    y, X = np.asarray(y, float), np.asarray(X, float)
    n, k = X.shape
    cand = candidates_for(n, k, trim)
    nu = ewc_dof(n)
    observed = float(wald_path(y, X, cand, nu)[0])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    phi, sd = ar1(y - X @ coef)
    sims = X @ coef + simulate_ar1(rng, bootstrap, n, phi, sd)
    p = mc_p_value(observed, wald_path(sims, X, cand, nu))
    ssr = _ssr_path(y, X, cand)
    best = int(np.argmin(ssr))
    crit = -2 * np.log(1 - np.sqrt(0.90))
    inside = [c for c, s in zip(cand, ssr) if n * (s - ssr[best]) / ssr[best] <= crit]
    return BreakTest(name="sup-Wald break in every coefficient", statistic=observed, pvalue=p,
                     null="no break: the coefficients are the same over the whole sample",
                     alternative="every coefficient changes at one unknown date",
                     method=f"EWC HAC Wald, {trim:.0%} trimming, parametric bootstrap ({bootstrap} draws)", nobs=n,
                     statistic_name="sup-Wald", break_index=cand[best], date_set=(min(inside), max(inside)),
                     bootstrap=bootstrap, trim=trim)


# ----------------------------------------------------------------------------- bounds test


@dataclass(frozen=True, kw_only=True)
class BoundsTest(TestResult):
    """Pesaran-Shin-Smith bounds F test for a levels relationship, with a bootstrap p-value."""

    long_run_elasticity: float
    lags: int
    bootstrap: int


def _uecm_design(y: np.ndarray, x: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Rows of :math:`\Delta y_t = c + \gamma_y y_{t-1} + \gamma_x x_{t-1} + \sum_{j=1}^{p}\phi_j\Delta y_{t-j} + \sum_{j=0}^{p}\psi_j\Delta x_{t-j}`.

    Batched: ``y`` and ``x`` are ``(..., n)``; returns the targets ``(..., m)`` and designs ``(..., m, k)``.
    """
    dy, dx = np.diff(y, axis=-1), np.diff(x, axis=-1)
    start, width = lags, dy.shape[-1]
    cols = [np.ones_like(dy[..., start:]), y[..., start:-1], x[..., start:-1]]
    cols += [dy[..., start - j:width - j] for j in range(1, lags + 1)]
    cols += [dx[..., start - j:width - j] for j in range(0, lags + 1)]
    return dy[..., start:], np.stack(cols, axis=-1)


def _ssr(target: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coef = np.linalg.solve(np.swapaxes(Z, -1, -2) @ Z, (np.swapaxes(Z, -1, -2) @ target[..., None]))[..., 0]
    resid = target - (Z @ coef[..., None])[..., 0]
    return np.sum(resid ** 2, axis=-1), coef


def bounds_f(y: np.ndarray, x: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounds F statistic and long-run elasticity, batched over leading axes."""
    target, Z = _uecm_design(y, x, lags)
    ssr, coef = _ssr(target, Z)
    rssr, _ = _ssr(target, np.delete(Z, [1, 2], axis=-1))
    dof = target.shape[-1] - Z.shape[-1]
    f = ((rssr - ssr) / 2) / (ssr / dof)
    with np.errstate(divide="ignore", invalid="ignore"):
        long_run = -coef[..., 2] / coef[..., 1]
    return f, long_run


def simulate_random_walks(rng: np.random.Generator, sims: int, start: float, diffs: np.ndarray,
                          n: int) -> np.ndarray:
    """``sims`` random walks with drift of length ``n`` whose differences are AR(1) like ``diffs``."""
    phi, sd = ar1(diffs)
    steps = np.mean(diffs) + simulate_ar1(rng, sims, n - 1, phi, sd)
    return start + np.concatenate([np.zeros((sims, 1)), np.cumsum(steps, axis=1)], axis=1)


def bounds_test(y: np.ndarray, x: np.ndarray, lags: int = 1, bootstrap: int = 499,
                rng: np.random.Generator | None = None) -> BoundsTest:
    """Bounds F test (PSS case III: unrestricted constant) with a bootstrap p-value.

    The null is no levels relationship. The bootstrap draws ``y`` and ``x`` as independent random
    walks with drift whose differences follow the AR(1) fitted to each series' own differences,
    keeps the sample length, and recomputes F. The bootstrap replaces the asymptotic PSS bounds,
    which over-reject at this sample size (see :mod:`valuechain.batch.calibrate`).
    """
    rng = rng or np.random.default_rng(0)
    y, x = np.asarray(y, float), np.asarray(x, float)
    f, long_run = bounds_f(y, x, lags)
    ys = simulate_random_walks(rng, bootstrap, y[0], np.diff(y), len(y))
    xs = simulate_random_walks(rng, bootstrap, x[0], np.diff(x), len(x))
    null, _ = bounds_f(ys, xs, lags)
    return BoundsTest(name="bounds F test (levels relationship)", statistic=float(f), pvalue=mc_p_value(f, null),
                      null="no levels relationship between y and x", alternative="a levels relationship",
                      method=f"UECM with {lags} lag, parametric bootstrap ({bootstrap} draws)",
                      nobs=len(y) - 1 - lags, statistic_name="F", long_run_elasticity=float(long_run), lags=lags,
                      bootstrap=bootstrap)


# ----------------------------------------------------------------------------- bootstrap-t


@dataclass(frozen=True, kw_only=True)
class BootstrapT(TestResult):
    """A t test whose reference distribution is a parametric AR(1) bootstrap under the null."""

    critical: float  # level quantile of |t*|, for the interval estimate +/- critical x se
    draws: int
    reference: np.ndarray  # the bootstrap t* draws


def bootstrap_t(y: np.ndarray, X: np.ndarray, weights: np.ndarray, null: float = 0.0, sides: int = 2,
                level: float = 0.90, draws: int = 999, rng: np.random.Generator | None = None,
                centre: float | None = None) -> BootstrapT:
    r"""EWC t statistic of ``weights @ beta - null`` with a parametric-bootstrap p-value.

    Under the null the dependent series is ``centre`` (default: its mean) plus AR(1) deviations
    with the coefficient and scale fitted to its demeaned values, independent of the tested
    regressors; on the same design the t statistic is recomputed. For a test of slopes the
    centre does not matter; for a test of the mean (``X`` a constant) pass ``centre=null``. The
    p-value is :math:`(1 + \#\{t^* \ge t\})/(1 + B)` (on :math:`|t|` when two-sided). The fixed-b
    :math:`t_\nu` reference alone over-rejects on 10-30 persistent quarters (see
    :mod:`valuechain.batch.calibrate`); this is the correction. ``critical`` is the ``level``
    quantile of :math:`|t^*|`, for the matching interval :math:`\hat\theta \pm c^* se`.
    """
    rng = rng or np.random.default_rng(0)
    y = np.asarray(y, float)
    _, t_obs, _ = batched_t(y[None, :], X, weights, null)
    phi, sd = ar1(y)
    ys = (np.mean(y) if centre is None else centre) + simulate_ar1(rng, draws, len(y), phi, sd)
    _, t_star, _ = batched_t(ys, X, weights, null if centre is not None else 0.0)
    t_obs = float(t_obs[0])
    critical = float(np.quantile(np.abs(t_star), level))
    p = mc_p_value(abs(t_obs), np.abs(t_star)) if sides == 2 else mc_p_value(t_obs, t_star)
    return BootstrapT(name=f"weights @ beta = {null:g}", statistic=t_obs, pvalue=p,
                      null=f"weights @ beta = {null:g}",
                      alternative=f"weights @ beta {'!=' if sides == 2 else '>'} {null:g}",
                      method=f"EWC HAC t, AR(1) parametric-bootstrap reference ({draws} draws)", nobs=len(y),
                      critical=critical, draws=draws, reference=t_star)
