r"""AI capex and the AI capital in service, from the spenders' filed capex
(:mod:`valuechain.dataset.capex`, the one owner of those figures).

Required revenue on capital in service
--------------------------------------
AI-relevant capex in quarter :math:`s` is the spenders' capex times the AI share of that quarter,
:math:`A_s = a(s) C_s`. The share moves smoothly (:func:`ai_share_by_quarter`): each year's share
is its value at the year's centre, linear in between by quarter, flat after the last year; the
share of capex built before the first year (``ai_share_before``, a parameter with a prior) holds
up to the centre of the year before the first and ramps linearly from there to the first year's
centre. The spenders are the same in every quarter (:func:`valuechain.dataset.capex.consistent_quarters`).
A dollar spent in
quarter :math:`s` enters service :math:`L` quarters later and is split into servers and networking
(share :math:`\phi`, life :math:`n_1` years) and buildings and power (life :math:`n_2` years). The
capital in service in quarter :math:`t` is

.. math::

    K_{c,t} = w_c \sum_{j=L}^{L + 4 n_c - 1} A_{t-j}, \qquad w_1 = \phi,\ w_2 = 1 - \phi,

and the revenue that recovers every vintage in service with return :math:`r`, given a margin
before depreciation :math:`m`, is (annualized)

.. math::

    R^*_t = \frac{1}{m} \sum_c K_{c,t}\, CRF(r, n_c).

With capex constant at :math:`C` a year this is :math:`C \sum_c w_c n_c CRF(r, n_c) / m`, the
**steady-state** revenue per dollar of annual capex :math:`\beta^*_{ss}`. While capex grows the
base in service is smaller than :math:`n_c` years of today's capex, and the **growth-adjusted**
:math:`\beta^*_t = R^*_t / (\text{AI capex over the last four quarters})` is lower: the bar a
boom year actually has to clear.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.model import formulas
from valuechain.model.formulas import capital_recovery_factor
from valuechain.model.results import Headline

def quarter_time(q: pd.Period) -> float:
    """A quarter's centre in years: :math:`y + (k - 1/2)/4` for quarter :math:`k` of year :math:`y`."""
    return q.year + (q.quarter - 0.5) / 4


def share_knots(ai_share: dict[int, float], ai_share_before: float) -> list[tuple[float, float, str]]:
    """The knots of the AI share path: (time, share, key), the pre-build-out share first.

    Each year :math:`y` of ``ai_share`` is a knot at its centre :math:`y + 1/2`; ``ai_share_before``
    is a knot at the centre of the year before the first, keyed ``before``.
    """
    first = min(ai_share)
    return [(first - 0.5, float(ai_share_before), "before")] + [(y + 0.5, float(ai_share[y]), str(y))
                                                               for y in sorted(ai_share)]


def share_weights(quarters, knots) -> tuple[np.ndarray, np.ndarray]:
    r"""For each quarter, the two knots its share lies between and their weights (quarters x 2 each).

    With knots :math:`(t_k, a_k)` and the quarter's centre :math:`t` (:func:`quarter_time`):
    :math:`a(t) = a_0` for :math:`t \le t_0`, :math:`a(t) = a_K` for :math:`t \ge t_K`, and in
    between :math:`a(t) = (1 - \lambda) a_k + \lambda a_{k+1}`,
    :math:`\lambda = (t - t_k)/(t_{k+1} - t_k)`.
    """
    times = np.array([k[0] for k in knots])
    index = np.zeros((len(quarters), 2), dtype=int)
    weight = np.zeros((len(quarters), 2))
    for i, q in enumerate(quarters):
        t = quarter_time(q)
        if t <= times[0]:
            index[i], weight[i] = (0, 0), (1.0, 0.0)
        elif t >= times[-1]:
            index[i], weight[i] = (len(times) - 1,) * 2, (1.0, 0.0)
        else:
            k = int(np.searchsorted(times, t, side="right") - 1)
            lam = (t - times[k]) / (times[k + 1] - times[k])
            index[i], weight[i] = (k, k + 1), (1 - lam, lam)
    return index, weight


def ai_share_by_quarter(quarters, ai_share: dict[int, float], ai_share_before: float) -> pd.Series:
    """The AI share of each quarter's capex (:func:`share_weights` on :func:`share_knots`)."""
    knots = share_knots(ai_share, ai_share_before)
    index, weight = share_weights(quarters, knots)
    values = np.array([k[1] for k in knots])
    return pd.Series((values[index] * weight).sum(axis=1), index=quarters, name="ai_share")


def ai_capex(wide: pd.DataFrame, ai_share: dict[int, float], ai_share_before: float = 0.0) -> pd.Series:
    """AI-relevant capex by quarter: the spenders' sum times the quarter's AI share (:func:`ai_share_by_quarter`).

    A quarter in which no spender has a figure is NaN.
    """
    total = wide.sum(axis=1, min_count=1)
    share = ai_share_by_quarter(wide.index, ai_share, ai_share_before).to_numpy()
    return (total * share).rename("ai_capex_usd_bn")


def guided_quarters(wide: pd.DataFrame, guidance: pd.DataFrame, year: int) -> pd.DataFrame:
    r"""The quarters of ``year`` after the last filed one, for the spenders that guided that year's capex.

    A spender's guided year total :math:`G` less its filed quarters of the year is spread evenly over
    the year's remaining quarters: :math:`C_q = (G - \sum_{\text{filed}} C)/n_{\text{left}}`. Rows:
    the remaining quarters of ``year``; columns: the guiding spenders in ``wide``.
    """
    last = wide.index[-1]
    rest = pd.period_range(last + 1, pd.Period(f"{year}Q4", freq="Q"), freq="Q")
    out = pd.DataFrame(index=rest)
    for row in guidance.itertuples():
        if row.company_id in wide.columns and len(rest):
            filed = float(wide.loc[[q for q in wide.index if q.year == year], row.company_id].sum())
            out[row.company_id] = (row.capex_usd_bn - filed) / len(rest)
    return out


def projected_spend(wide: pd.DataFrame, guided: pd.DataFrame, horizon_year: int, growth) -> pd.DataFrame:
    r"""The spenders' capex by quarter, filed then guided then grown, to the end of ``horizon_year``.

    Filed quarters are ``wide``; the guided quarters (:func:`guided_quarters`) follow for the
    spenders that gave guidance; every other quarter is the same quarter a year earlier grown,
    :math:`C_t = C_{t-4} (1 + g_{y(t)})` with ``growth(year)`` :math:`= g_y`
    (:func:`valuechain.model.formulas.extend_quarters`, as the model core extends it). Columns: one
    per spender. Given the assumptions, the path is deterministic.
    """
    end = pd.Period(f"{horizon_year}Q4", freq="Q")
    quarters = pd.period_range(wide.index[0], end, freq="Q")
    rates = np.array([[growth(q.year) for q in quarters]])
    out = {}
    for company in wide.columns:
        known = wide[company].fillna(0.0)
        if company in guided.columns:
            known = pd.concat([known, guided[company]])
        known = known.loc[:end]
        out[company] = formulas.extend_quarters(known.to_numpy()[None, :], rates)[0]
    return pd.DataFrame(out, index=quarters.rename(wide.index.name))


def projected_ai_capex(wide: pd.DataFrame, ai_share: dict[int, float], horizon_year: int, growth,
                       ai_share_before: float = 0.0, guided: pd.DataFrame | None = None) -> pd.Series:
    r"""AI capex by quarter from the first filed quarter to the end of ``horizon_year``:
    :math:`A_t = a(t) C_t` on :func:`projected_spend` (guidance ``guided`` where given)."""
    spend = projected_spend(wide, guided if guided is not None else pd.DataFrame(), horizon_year, growth)
    return ai_capex(spend, ai_share, ai_share_before)


def in_service(quarterly: pd.Series, lag_quarters: int, life_years: float) -> pd.Series:
    r"""Capital in service: :math:`\sum_{j=L}^{L+4n-1} A_{t-j}` (see the module docstring).

    Quarters before the series starts count as zero, so ``quarterly`` must start at or before
    the first quarter with AI capex.
    """
    values = quarterly.fillna(0.0).to_numpy()[None, :]
    out = formulas.in_service(values, lag_quarters, np.array([round(4 * life_years)]))[0]
    return pd.Series(out, index=quarterly.index, name="in_service_usd_bn")


@dataclass(frozen=True)
class AssetClass:
    """One class of AI capital: its share of capex and its life."""

    name: str
    share: float
    life_years: float


def required_revenue(ai_quarterly: pd.Series, classes: tuple[AssetClass, ...], lag_quarters: int,
                     target_return: float, margin_before_depreciation: float) -> pd.DataFrame:
    """Capital in service by class and the annualized required revenue :math:`R^*_t`
    (:func:`valuechain.model.formulas.required_revenue`), by quarter."""
    frame = pd.DataFrame({f"in_service_{c.name}_usd_bn": c.share * in_service(ai_quarterly, lag_quarters, c.life_years)
                          for c in classes})
    frame["in_service_usd_bn"] = frame.sum(axis=1)
    frame["required_usd_bn"] = formulas.required_revenue(
        ai_quarterly.fillna(0.0).to_numpy()[None, :], lag_quarters, np.array([[c.share for c in classes]]),
        np.array([[c.life_years for c in classes]], dtype=float), np.array([target_return], dtype=float),
        np.array([margin_before_depreciation], dtype=float))[0]
    frame["ai_capex_ttm_usd_bn"] = ai_quarterly.rolling(4, min_periods=4).sum()
    frame["beta_star_growth_adjusted"] = frame["required_usd_bn"] / frame["ai_capex_ttm_usd_bn"]
    return frame


def steady_state_beta(classes: tuple[AssetClass, ...], target_return: float, margin_before_depreciation: float) -> float:
    r""":math:`\beta^*_{ss} = \sum_c w_c n_c CRF(r, n_c) / m`: revenue per dollar of annual capex when capex is flat."""
    return sum(c.share * c.life_years * capital_recovery_factor(target_return, c.life_years) for c in classes) \
        / margin_before_depreciation


@dataclass(frozen=True)
class Rungs:
    r"""Three rungs of required revenue in the gap quarter :math:`T`, each on the same AI capex path.

    - **In service**: :math:`R^*_T`, the revenue that recovers the AI capital in service in
      :math:`T` (the module docstring's equation): what the primary test uses.
    - **Committed**: :math:`R^{c}_T = R^*_{G+L}`, where :math:`G` is the last quarter of the
      guidance year (:attr:`guidance_year`, Q4) and :math:`L` the service lag: the required revenue
      once every dollar already spent by :math:`T`, and the capex to the end of the guidance year
      (the spenders' own guidance where given, the scenario's growth for the others), has entered
      service. Spending after :math:`G` does not count (it enters service after :math:`G+L`);
      vintages whose life ends by :math:`G+L` have left service.
    - **Steady state**: :math:`R^{ss}_T = \beta^*_{ss} \sum_{s=T-3}^{T} A_s`, the required revenue
      if AI capex stayed at its level of the last four quarters long enough for every vintage in
      service to be at that level.

    With a flat capex path the three are equal once the lag and the lives have passed; while capex
    steps up, in service < committed < steady state.
    """

    quarter: pd.Period  # T, the gap quarter
    guidance_year: int  # the committed rung counts capex to the end of this year
    committed_quarter: pd.Period  # G + L
    in_service_usd_bn: float
    committed_usd_bn: float
    steady_state_usd_bn: float
    beta_star_steady: float
    ai_capex_ttm_usd_bn: float  # AI capex over the four quarters to T
    by_quarter: pd.DataFrame  # quarter: in-service R* and the steady-state bar, to the horizon

    def table(self) -> pd.DataFrame:
        """One row per rung: key, name, the quarter it describes, required revenue and its ratio to in service."""
        rows = [("in_service", "Capital in service", str(self.quarter), self.in_service_usd_bn),
                ("committed", f"Capital committed (spent and guided to the end of {self.guidance_year}, once in service)",
                 str(self.committed_quarter), self.committed_usd_bn),
                ("steady_state", "Steady state (β* × AI capex over the last four quarters)", str(self.quarter),
                 self.steady_state_usd_bn)]
        out = pd.DataFrame(rows, columns=["rung", "name", "period", "required_usd_bn"])
        return out.assign(over_in_service=out["required_usd_bn"] / self.in_service_usd_bn)

    def headlines(self) -> list[Headline]:
        q = str(self.quarter)
        return [
            Headline("required_in_service_usd_bn", "Required revenue on AI capital in service (annualized)", "usd_bn", q,
                     self.in_service_usd_bn),
            Headline("required_committed_usd_bn",
                     f"Required revenue on AI capital committed to the end of {self.guidance_year} (annualized)",
                     "usd_bn", str(self.committed_quarter), self.committed_usd_bn),
            Headline("required_steady_state_usd_bn", "Required revenue at the steady state of today's AI capex",
                     "usd_bn", q, self.steady_state_usd_bn),
        ]


def rungs(ai_path: pd.Series, classes: tuple[AssetClass, ...], lag_quarters: int, target_return: float,
          margin_before_depreciation: float, quarter: pd.Period, guidance_year: int) -> Rungs:
    """The three rungs (:class:`Rungs`) in ``quarter`` on the AI capex path ``ai_path`` (filed, guided, grown)."""
    frame = required_revenue(ai_path, classes, lag_quarters, target_return, margin_before_depreciation)
    beta = steady_state_beta(classes, target_return, margin_before_depreciation)
    committed_q = pd.Period(f"{guidance_year}Q4", freq="Q") + lag_quarters
    if committed_q > ai_path.index[-1]:
        raise ValueError(f"the AI capex path ends in {ai_path.index[-1]}, before {committed_q} (the guidance year's "
                         "capex in service): extend the horizon")
    ttm = float(frame.loc[quarter, "ai_capex_ttm_usd_bn"])
    by_quarter = pd.DataFrame({"in_service_usd_bn": frame["required_usd_bn"],
                               "steady_state_usd_bn": beta * frame["ai_capex_ttm_usd_bn"]})
    return Rungs(quarter, guidance_year, committed_q, float(frame.loc[quarter, "required_usd_bn"]),
                 float(frame.loc[committed_q, "required_usd_bn"]), beta * ttm, beta, ttm, by_quarter)
