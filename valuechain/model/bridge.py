r"""A bridge from each published required-revenue bar to :math:`R^*` in service for the report year.

The published bars differ from :math:`R^*` by ten to thirty times because they measure different
things. A bridge (a waterfall) walks from a bar to :math:`R^*` one named difference at a time, with
the value after each step. All values are USD bn a year for the report year :math:`Y`.

The common tail
---------------
Let :math:`C_Y` be the capex of :math:`R^*`'s spenders in :math:`Y`, :math:`A_q = a_{y(q)} C_q` their
AI capex by quarter (:func:`valuechain.model.capital.ai_capex`), :math:`L` the service lag in quarters,
:math:`m` the margin before depreciation, :math:`r` the return and :math:`n_c` the lives. Then

.. math::

    V_{AI} = \frac{A_Y}{m}, \qquad
    V_{lag} = \frac{1}{m} \sum_{q \in Y} A_{q-L}, \qquad
    V_{life} = R^*_Y(r = 0) = \frac{1}{m}\,\overline{\sum_c \frac{K_{c,q}}{n_c}}, \qquad
    V_{ret} = R^*_Y = \frac{1}{m}\,\overline{\sum_c K_{c,q}\, CRF(r, n_c)},

where :math:`A_Y = \sum_{q \in Y} A_q`, :math:`K_{c,q}` is class :math:`c`'s capital in service and the
bar is the mean over the year's four quarters (:func:`valuechain.model.capital.required_revenue`,
annualized as :func:`valuechain.model.downstream.annual_revenue` does). The steps between them:
**in service versus spent** (the capex that enters service in :math:`Y` instead of the capex spent in
it), **asset lives** (straight-line depreciation of every vintage in service, which is the year's
spend only when capex is flat) and **return** (the capital charge at :math:`r` instead of zero).

The heads
---------
- **Sequoia**: :math:`RR / (s_{GPU}(1-g))` with NVIDIA's data-center run-rate :math:`RR`. Steps:
  *which capex* (:math:`RR / s_{GPU}`, NVIDIA's sales grossed up to data-center cost, replaced by
  :math:`C_Y`), giving :math:`C_Y / (1-g)`; *AI share*, :math:`A_Y / (1-g)`; *margin* (the end user's
  gross margin :math:`g` replaced by :math:`m`), :math:`V_{AI}`; then the tail.
- **Bain**: :math:`K / c` with capex :math:`K` and capex-to-revenue ratio :math:`c`. Steps: *which
  capex* (:math:`K` replaced by :math:`C_Y`), :math:`C_Y / c`; *AI share*, :math:`A_Y / c`; *margin*
  (:math:`c`, revenue that pays for the year's capex, replaced by :math:`m`), :math:`V_{AI}`; the tail.
- **J.P. Morgan**: a published figure :math:`P` at a published return :math:`r_{JPM}`, whose capital
  base, lives and margin are not published. Steps: *capital base, lives and margin (not published)*,
  to :math:`R^*_Y(r_{JPM})`; *return*, to :math:`R^*_Y`.

Order
-----
The steps are taken in the order above: which capex, AI share, margin, in service, lives, return.
A step that divides or multiplies scales everything before it, so another order gives other step
sizes, but the same start and the same end: :math:`V_0 + \sum_k \Delta_k = R^*_Y` whatever the order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.model import capital
from valuechain.model.results import Headline

ORDER = ("Steps in this order: which capex, the AI share, the margin, in service versus spent, asset lives, "
         "return. Another order gives other step sizes but the same start and end.")
NOT_PUBLISHED = "not published"


@dataclass(frozen=True)
class Step:
    """One named difference between a bar and :math:`R^*`: its size and the value after it (USD bn a year)."""

    name: str  # what changes, e.g. "AI share"
    detail: str  # from what to what, in words with units
    change_usd_bn: float
    value_usd_bn: float
    published: bool = True  # False: the bar's publisher does not give the inputs this step replaces


@dataclass(frozen=True)
class Bridge:
    """A published bar, the steps from it to :math:`R^*`, and :math:`R^*`."""

    key: str  # the method: sequoia, capex_to_revenue, jpm
    name: str  # the bar's name on a page
    measures: str  # what the bar measures, in words
    bar_year: str  # the year the bar describes
    start_usd_bn: float
    steps: tuple[Step, ...]

    @property
    def end_usd_bn(self) -> float:
        return self.steps[-1].value_usd_bn if self.steps else self.start_usd_bn

    @property
    def multiple(self) -> float:
        """How many times :math:`R^*` the bar is."""
        return self.start_usd_bn / self.end_usd_bn


@dataclass(frozen=True)
class Tail:
    """The values of the common tail (see the module docstring), USD bn a year for ``year``."""

    year: int
    spenders_capex_usd_bn: float  # C_Y
    ai_capex_usd_bn: float  # A_Y
    entering_service_usd_bn: float  # sum of A_{q-L} over the year's quarters
    margin_before_depreciation: float
    depreciation_usd_bn: float  # m * R*_Y(r = 0)
    required_usd_bn: float  # R*_Y
    target_return: float


@dataclass(frozen=True)
class Bridges:
    """The bridges from the published bars to :math:`R^*` for ``year``, with the sources they rest on."""

    year: int
    required_usd_bn: float  # R*_Y, where every bridge ends
    bridges: tuple[Bridge, ...]
    sources: tuple[str, ...] = ()
    order: str = ORDER

    def table(self) -> pd.DataFrame:
        """One row per bar and per step: the bar, the step, its change and the value after it (USD bn a year)."""
        rows = []
        for b in self.bridges:
            rows.append({"bar": b.name, "step": f"{b.name} ({b.bar_year})", "detail": b.measures,
                         "change_usd_bn": np.nan, "value_usd_bn": b.start_usd_bn})
            rows += [{"bar": b.name, "step": s.name, "detail": s.detail if s.published else f"{s.detail} ({NOT_PUBLISHED})",
                      "change_usd_bn": s.change_usd_bn, "value_usd_bn": s.value_usd_bn} for s in b.steps]
        return pd.DataFrame(rows)

    def headlines(self) -> list[Headline]:
        """Each bar as a multiple of :math:`R^*` (detail figures: they qualify the required-revenue headlines)."""
        return [Headline(f"{b.key}_over_required", f"{b.name} / R*", "ratio", str(self.year), b.multiple, detail=True)
                for b in self.bridges]

    def summary(self) -> dict:
        return {h.key: h.value for h in self.headlines()}


def tail(ai_quarterly: pd.Series, spenders_quarterly: pd.Series, classes: tuple[capital.AssetClass, ...],
         lag_quarters: int, target_return: float, margin_before_depreciation: float, year: int) -> Tail:
    r"""The common tail's values for ``year`` (module docstring): :math:`C_Y`, :math:`A_Y`, the capex
    entering service, the depreciation of the capital in service and :math:`R^*_Y`.

    ``ai_quarterly`` is :math:`A_q` and ``spenders_quarterly`` :math:`C_q` by quarter, from the first
    quarter with AI capex; :math:`R^*_Y` is the mean of :func:`valuechain.model.capital.required_revenue`
    over the year's quarters, so it equals the year's capital-recovery bar.
    """
    in_year = ai_quarterly.index.year == year
    if in_year.sum() != 4:
        raise ValueError(f"bridge: year {year} needs four quarters of AI capex; it has {int(in_year.sum())}")

    def rstar(rate):
        frame = capital.required_revenue(ai_quarterly, classes, lag_quarters, rate, margin_before_depreciation)
        return float(frame["required_usd_bn"][in_year].mean())

    filled = ai_quarterly.fillna(0.0)
    return Tail(year=year, spenders_capex_usd_bn=float(spenders_quarterly[spenders_quarterly.index.year == year].sum()),
                ai_capex_usd_bn=float(filled[in_year].sum()),
                entering_service_usd_bn=float(filled.shift(lag_quarters, fill_value=0.0)[in_year].sum()),
                margin_before_depreciation=margin_before_depreciation,
                depreciation_usd_bn=margin_before_depreciation * rstar(0.0), required_usd_bn=rstar(target_return),
                target_return=target_return)


def _steps(start: float, named: list[tuple[str, str, float, bool]]) -> tuple[Step, ...]:
    """Steps from ``start`` through the values after each: change = value - value before."""
    out, before = [], start
    for name, detail, value, published in named:
        out.append(Step(name, detail, value - before, value, published))
        before = value
    return tuple(out)


def _tail_steps(t: Tail, lag_quarters: int) -> list[tuple[str, str, float, bool]]:
    m = t.margin_before_depreciation
    return [("In service versus spent", f"the capex entering service in {t.year} ({lag_quarters} quarters' lag) "
             f"instead of the capex spent in it", t.entering_service_usd_bn / m, True),
            ("Asset lives", "straight-line depreciation of all AI capital in service instead of one year's capex",
             t.depreciation_usd_bn / m, True),
            ("Return", f"a {t.target_return:.0%} return on the capital in service", t.required_usd_bn, True)]


def sequoia_bridge(run_rate_usd_bn: float, gpu_share_of_tco: float, end_user_gross_margin: float, t: Tail,
                   lag_quarters: int, bar_year) -> Bridge:
    r"""From Sequoia's :math:`RR / (s_{GPU}(1-g))` to :math:`R^*_Y` (module docstring, *The heads*)."""
    g, m = end_user_gross_margin, t.margin_before_depreciation
    start = run_rate_usd_bn / gpu_share_of_tco / (1 - g)
    named = [("Which capex", f"the R* spenders' capex in {t.year} (USD {t.spenders_capex_usd_bn:,.0f}bn) instead of "
              f"NVIDIA's data-center run-rate (USD {run_rate_usd_bn:,.0f}bn) grossed up to data-center cost "
              f"(GPUs {gpu_share_of_tco:.0%} of it)", t.spenders_capex_usd_bn / (1 - g), True),
             ("AI share", f"the AI share of that capex ({t.ai_capex_usd_bn / t.spenders_capex_usd_bn:.0%})",
              t.ai_capex_usd_bn / (1 - g), True),
             ("Margin", f"a {m:.0%} margin before depreciation instead of the end user's {g:.0%} gross margin",
              t.ai_capex_usd_bn / m, True),
             *_tail_steps(t, lag_quarters)]
    return Bridge("sequoia", "Sequoia", "a year's data-center spend paid back within that year",
                  str(bar_year), start, _steps(start, named))


def bain_bridge(capex_usd_bn: float, capex_to_revenue_ratio: float, t: Tail, lag_quarters: int, bar_year) -> Bridge:
    r"""From Bain's :math:`K / c` to :math:`R^*_Y` (module docstring, *The heads*)."""
    c, m = capex_to_revenue_ratio, t.margin_before_depreciation
    start = capex_usd_bn / c
    named = [("Which capex", f"the R* spenders' capex in {t.year} (USD {t.spenders_capex_usd_bn:,.0f}bn) instead of "
              f"Bain's capex input (USD {capex_usd_bn:,.0f}bn)", t.spenders_capex_usd_bn / c, True),
             ("AI share", f"the AI share of that capex ({t.ai_capex_usd_bn / t.spenders_capex_usd_bn:.0%})",
              t.ai_capex_usd_bn / c, True),
             ("Margin", f"a {m:.0%} margin before depreciation instead of a {c:.0%} capex-to-revenue ratio",
              t.ai_capex_usd_bn / m, True),
             *_tail_steps(t, lag_quarters)]
    return Bridge("capex_to_revenue", "Bain", "a year's capex at a sustainable capex-to-revenue ratio",
                  str(bar_year), start, _steps(start, named))


def jpm_bridge(published_usd_bn: float, published_return: float, required_at_published_return_usd_bn: float,
               t: Tail, bar_year) -> Bridge:
    r"""From J.P. Morgan's published figure :math:`P` to :math:`R^*_Y`: its capital base, lives and margin are
    not published, so the first step (to :math:`R^*_Y(r_{JPM})`) is one unexplained difference; the
    return step is :math:`R^*_Y - R^*_Y(r_{JPM})`."""
    named = [("Capital base, lives and margin",
              f"AI capital in service in {t.year} with the scenario's lives and margin, at J.P. Morgan's "
              f"{published_return:.0%} return, instead of its build-out to {bar_year}",
              required_at_published_return_usd_bn, False),
             ("Return", f"a {t.target_return:.0%} return instead of {published_return:.0%}" if t.target_return != published_return
              else f"none: the scenario's return is J.P. Morgan's {published_return:.0%}", t.required_usd_bn, True)]
    return Bridge("jpm", "J.P. Morgan", "a return on the whole build-out to its horizon",
                  str(bar_year), published_usd_bn, _steps(published_usd_bn, named))
