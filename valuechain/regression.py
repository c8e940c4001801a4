"""Regressions of downstream revenue on upstream capex (statsmodels), returned as tidy tables.

Every table has one row per term with: coefficient, standard error, t, p, 95% CI, n, R²,
Durbin-Watson, the lag structure and the covariance type, so a reader can see how much data
stands behind each number. Quarterly series are pandas Series on a contiguous quarterly
PeriodIndex; lags are taken by position on that index, never across a missing quarter.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.stattools import durbin_watson
from statsmodels.tools.tools import add_constant
from statsmodels.tsa.stattools import adfuller, coint

TABLE_COLUMNS = ["model", "term", "coef", "std_err", "t", "p", "ci_low", "ci_high", "n", "r2", "durbin_watson",
                 "lags", "cov_type", "note"]


@dataclass(frozen=True)
class Fit:
    """A fitted model: its tidy table and the statsmodels result (None when there was too little data)."""

    table: pd.DataFrame
    result: object | None


def _tidy(result, model: str, lags: str, cov_type: str, alpha: float = 0.05, note: str = "") -> pd.DataFrame:
    ci = np.asarray(result.conf_int(alpha))
    names = list(result.model.exog_names)
    return pd.DataFrame({
        "model": model, "term": names,
        "coef": np.asarray(result.params), "std_err": np.asarray(result.bse),
        "t": np.asarray(result.tvalues), "p": np.asarray(result.pvalues),
        "ci_low": ci[:, 0], "ci_high": ci[:, 1],
        "n": int(result.nobs), "r2": float(result.rsquared),
        "durbin_watson": float(durbin_watson(result.resid)),
        "lags": lags, "cov_type": cov_type, "note": note,
    })[TABLE_COLUMNS]


def _too_few(model: str, n: int, needed: int, lags: str) -> Fit:
    row = dict.fromkeys(TABLE_COLUMNS, np.nan) | {
        "model": model, "term": "(not estimated)", "n": n, "lags": lags, "cov_type": "",
        "note": f"only {n} usable observations; at least {needed} are needed"}
    return Fit(pd.DataFrame([row])[TABLE_COLUMNS], None)


def lag_frame(y: pd.Series, x: pd.Series, lags: int, log: bool = True, diff: bool = False) -> pd.DataFrame:
    """Aligned frame of ``y`` and ``x`` lagged 0..``lags`` quarters (optionally logged, differenced).

    Rows with any missing value (including the first ``lags`` quarters) are dropped.
    """
    frame = pd.concat({"y": y, "x": x}, axis=1).sort_index()
    if log:
        frame = np.log(frame.where(frame > 0))
    if diff:
        frame = frame.diff()
    cols = {"y": frame["y"]}
    for k in range(lags + 1):
        cols[f"x_lag{k}"] = frame["x"].shift(k)
    return pd.DataFrame(cols).dropna()


def distributed_lag(y: pd.Series, x: pd.Series, lags: int = 4, hac_maxlags: int = 4, log: bool = True,
                    diff: bool = False, alpha: float = 0.05, model: str | None = None) -> Fit:
    r"""OLS of :math:`y_t` on :math:`x_{t-k}`, :math:`k = 0..L`, with Newey-West (HAC) standard errors.

    .. math::

        \log y_t = a + \sum_{k=0}^{L} b_k \log x_{t-k} + \varepsilon_t

    With ``diff=True`` both sides are first-differenced logs (quarterly growth), which guards
    against a spurious fit between two trending series. The row ``sum_of_lags`` is the long-run
    elasticity :math:`\sum_k b_k` with its own HAC standard error.
    """
    name = model or ("growth distributed lag" if diff else "log-log distributed lag")
    frame = lag_frame(y, x, lags, log=log, diff=diff)
    regressors = [f"x_lag{k}" for k in range(lags + 1)]
    needed = len(regressors) + 4
    label = f"x lags 0-{lags} quarters"
    if len(frame) < needed:
        return _too_few(name, len(frame), needed, label)
    exog = add_constant(frame[regressors])
    result = OLS(frame["y"], exog).fit(cov_type="HAC", cov_kwds={"maxlags": hac_maxlags}, use_t=True)
    cov = f"HAC (Newey-West, {hac_maxlags} lags)"
    table = _tidy(result, name, label, cov, alpha)
    total = result.t_test(np.r_[0.0, np.ones(len(regressors))])
    ci = np.asarray(total.conf_int(alpha))[0]
    row = table.iloc[[-1]].copy()
    row[["term", "coef", "std_err", "t", "p", "ci_low", "ci_high"]] = [
        "sum_of_lags", float(np.squeeze(total.effect)), float(np.squeeze(total.sd)), float(np.squeeze(total.tvalue)),
        float(np.squeeze(total.pvalue)), ci[0], ci[1]]
    return Fit(pd.concat([table, row], ignore_index=True), result)


def unit_roots(series: dict[str, pd.Series], log: bool = True) -> pd.DataFrame:
    """Augmented Dickey-Fuller tests (constant, lag length by AIC) on levels and first differences.

    H0: the series has a unit root. A large p-value on levels and a small one on differences is
    the pattern of an I(1) series, for which a levels regression can be spurious.
    """
    rows = []
    for name, values in series.items():
        level = np.log(values.dropna()) if log else values.dropna()
        for form, data in (("level", level), ("first difference", level.diff().dropna())):
            if len(data) < 8:
                rows.append({"series": name, "form": form, "adf_stat": np.nan, "p": np.nan, "lags_used": np.nan,
                             "n": len(data), "note": "too few observations"})
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # statsmodels announces a new return type
                stat, p, used, nobs, _crit, _ = adfuller(data.to_numpy(), autolag="AIC", maxlag=min(4, len(data) // 3))
            rows.append({"series": name, "form": form, "adf_stat": stat, "p": p, "lags_used": used, "n": nobs, "note": ""})
    return pd.DataFrame(rows)


def cointegration(y: pd.Series, x: pd.Series, log: bool = True) -> pd.DataFrame:
    """Engle-Granger test; H0: no cointegration between ``y`` and ``x``."""
    frame = pd.concat({"y": y, "x": x}, axis=1).dropna()
    if log:
        frame = np.log(frame)
    if len(frame) < 10:
        return pd.DataFrame([{"test": "Engle-Granger", "stat": np.nan, "p": np.nan, "n": len(frame),
                              "note": "too few observations"}])
    stat, p, crit = coint(frame["y"], frame["x"], maxlag=min(4, len(frame) // 4), autolag="aic")
    return pd.DataFrame([{"test": "Engle-Granger", "stat": stat, "p": p, "n": len(frame),
                          "note": f"5% critical value {crit[1]:.2f}"}])


def panel(frame: pd.DataFrame, lag: int = 4, alpha: float = 0.05) -> Fit:
    r"""Company panel: each cloud's segment revenue on its own lagged capex, company fixed effects.

    .. math::

        \log R_{it} = \alpha_i + \beta \log K_{i,t-L} + \varepsilon_{it}

    ``frame`` has columns company_id, calendar_quarter (Period), revenue, capex. Standard errors are
    clustered by company; with few companies the clusters are few, which the note says.
    """
    rows = []
    for company, group in frame.groupby("company_id"):
        g = group.set_index("calendar_quarter").sort_index()
        full = g.reindex(pd.period_range(g.index.min(), g.index.max(), freq="Q"))
        lagged = lag_frame(full["revenue"], full["capex"], lag)
        rows.append(pd.DataFrame({"company_id": company, "log_revenue": lagged["y"], "log_capex_lag": lagged[f"x_lag{lag}"]}))
    data = pd.concat(rows) if rows else pd.DataFrame()
    label = f"own capex lagged {lag} quarters"
    if len(data) < 10 or data["company_id"].nunique() < 2:
        return _too_few("company panel, fixed effects", len(data), 10, label)
    groups = data["company_id"].astype("category").cat.codes.to_numpy()
    effects = pd.get_dummies(data["company_id"], prefix="company", prefix_sep=": ", drop_first=True, dtype=float)
    exog = add_constant(pd.concat([data[["log_capex_lag"]], effects], axis=1))
    result = OLS(data["log_revenue"], exog).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    k = data["company_id"].nunique()
    note = f"{k} companies; clustered errors with {k} clusters are unreliable, read the coefficient with care" if k < 10 else ""
    table = _tidy(result, "company panel, fixed effects", label, "clustered by company", alpha, note)
    return Fit(table, result)


def structural_break(y: pd.Series, x: pd.Series, break_quarter: str, lag: int = 4, hac_maxlags: int = 4,
                     alpha: float = 0.05) -> Fit:
    r"""Has the revenue yield of capex changed since ``break_quarter``? Interaction test plus a Chow F test.

    .. math::

        \log y_t = a + b \log x_{t-L} + c D_t + d D_t \log x_{t-L} + \varepsilon_t,
        \qquad D_t = 1[t \ge \text{break}]

    :math:`d \neq 0` says the elasticity changed. The Chow statistic compares the pooled fit with
    separate fits before and after the break.
    """
    frame = lag_frame(y, x, lag)
    frame = pd.DataFrame({"y": frame["y"], "x": frame[f"x_lag{lag}"]})
    post = (frame.index >= pd.Period(break_quarter, freq="Q")).astype(float)
    frame["post"] = post
    frame["post_x"] = post * frame["x"]
    label = f"capex lagged {lag} quarters; break at {break_quarter}"
    before, after = int((post == 0).sum()), int((post == 1).sum())
    if before < 3 or after < 3 or len(frame) < 8:
        return _too_few("structural break", len(frame), 8, label + f" ({before} before, {after} after)")
    exog = add_constant(frame[["x", "post", "post_x"]])
    result = OLS(frame["y"], exog).fit(cov_type="HAC", cov_kwds={"maxlags": hac_maxlags}, use_t=True)
    table = _tidy(result, "structural break", label, f"HAC (Newey-West, {hac_maxlags} lags)", alpha)
    chow_f, chow_p = chow_test(frame["y"], frame["x"], post.astype(bool))
    table["note"] = f"Chow F = {chow_f:.2f}, p = {chow_p:.3f} ({before} quarters before, {after} after)"
    return Fit(table, result)


def chow_test(y: pd.Series, x: pd.Series, after: np.ndarray) -> tuple[float, float]:
    """Chow F statistic and p-value for a break in intercept and slope at the boundary of ``after``."""
    def ssr(mask):
        return OLS(y[mask], add_constant(x[mask])).fit().ssr
    k = 2
    pooled = ssr(np.ones(len(y), dtype=bool))
    split = ssr(~after) + ssr(after)
    dof = len(y) - 2 * k
    f = ((pooled - split) / k) / (split / dof)
    return float(f), float(stats.f.sf(f, k, dof))


@dataclass(frozen=True)
class YieldTest:
    """The demand-gap test: estimated revenue yield of capex against the break-even yield."""

    beta: float
    std_err: float
    beta_star: float
    t: float
    p_one_sided: float
    n: int
    alpha: float
    reject: bool
    table: pd.DataFrame
    result: object

    def verdict(self, series_name: str = "downstream revenue") -> str:
        """Plain-English verdict generated from the numbers."""
        p = "< 0.001" if self.p_one_sided < 0.001 else f"= {self.p_one_sided:.3f}"
        figures = f"β = {self.beta:.2f}, β* = {self.beta_star:.2f}, one-sided p {p}, n = {self.n}"
        level = f"{self.alpha:.0%}"
        if self.reject:
            return f"At the {level} level, {series_name} per dollar of capex is below break-even ({figures})."
        small = f" With only {self.n} quarters the test has little power." if self.n < 20 else ""
        return (f"At the {level} level, the data cannot reject that {series_name} per dollar of capex is at or above "
                f"break-even ({figures}).{small}")


def yield_test(revenue: pd.Series, capex: pd.Series, beta_star: float, hac_maxlags: int = 4,
               alpha: float = 0.05) -> YieldTest:
    r"""Estimate the revenue yield :math:`\beta` and test :math:`H_0: \beta \ge \beta^*` against :math:`\beta < \beta^*`.

    .. math::

        R_t = \beta K_t + \varepsilon_t, \qquad t = \frac{\hat\beta - \beta^*}{se_{HAC}(\hat\beta)},
        \qquad p = F_{t, n-1}(t)

    :math:`R_t` is annualized downstream revenue (four times the quarter) and :math:`K_t` trailing
    four-quarter capex, so :math:`\beta` is dollars of annual revenue per dollar of annual capex.
    The regression has no intercept so that :math:`\beta` is a yield. Rejecting :math:`H_0` (small p)
    says revenue per dollar of capex is below the break-even yield.
    """
    frame = pd.concat({"revenue": revenue, "capex": capex}, axis=1).dropna()
    if len(frame) < 3:
        raise ValueError(f"the demand-gap test needs at least 3 quarters of both series; got {len(frame)}")
    result = OLS(frame["revenue"], frame[["capex"]]).fit(cov_type="HAC", cov_kwds={"maxlags": hac_maxlags}, use_t=True)
    beta, se = float(result.params["capex"]), float(result.bse["capex"])
    t = (beta - beta_star) / se if se > 0 else (-np.inf if beta < beta_star else np.inf)
    p = float(stats.t.cdf(t, df=result.df_resid))
    table = _tidy(result, "revenue yield (no intercept)", "trailing four-quarter capex",
                  f"HAC (Newey-West, {hac_maxlags} lags)", alpha,
                  note=f"H0: beta >= {beta_star:.3f}; t = {t:.2f}, one-sided p = {p:.4f}")
    return YieldTest(beta, se, beta_star, float(t), p, len(frame), alpha, p < alpha, table, result)


def rolling_yield(revenue: pd.Series, capex: pd.Series, window: int = 8) -> pd.DataFrame:
    """Revenue yield of capex estimated on a rolling window of quarters (no intercept), with a 95% band."""
    frame = pd.concat({"revenue": revenue, "capex": capex}, axis=1).dropna()
    rows = []
    for end in range(window, len(frame) + 1):
        chunk = frame.iloc[end - window:end]
        res = OLS(chunk["revenue"], chunk[["capex"]]).fit()
        ci = res.conf_int().loc["capex"]
        rows.append({"calendar_quarter": chunk.index[-1], "beta": res.params["capex"], "ci_low": ci[0], "ci_high": ci[1]})
    return pd.DataFrame(rows, columns=["calendar_quarter", "beta", "ci_low", "ci_high"])
