r"""One chain accounting: who pays whom along the AI chain, and which payments are final demand.

The chain's members are the applications, the labs and the clouds (which pay the chip makers and
server makers for capex). Money enters the chain from **end users** (consumers, and enterprises
outside the chain) and then flows between members: an application pays a lab for model access, a
lab pays a cloud for compute, a cloud pays for servers and chips. Net external AI revenue
:math:`D` is **final demand**: the payments that enter the chain from outside it, each counted once.

The flows
---------
With :math:`x_i` the annualized revenue of series :math:`i` of the scope :math:`S` (one rung of
:data:`SCOPES`), put on one revenue basis, and :math:`A`, :math:`L`, :math:`C` the applications',
labs' and clouds' series of :math:`S` present in the quarter:

.. math::

    f_{A \to L} = \min\Big(a \sum_{i \in A} x_i,\; \sum_{j \in L} x_j\Big), \qquad
    f_{L \to C} = \min\Big(c \sum_{j \in L} x_j,\; \sum_{k \in C} x_k\Big),

    D = \sum_{i \in S} x_i - f_{A \to L} - [C \ne \emptyset]\, f_{L \to C}
      = \underbrace{\textstyle\sum_A x_i}_{\text{users} \to \text{apps}}
      + \underbrace{\textstyle\sum_L x_j - f_{A \to L}}_{\text{users} \to \text{labs}}
      + \underbrace{\textstyle\sum_C x_k - f_{L \to C}}_{\text{users} \to \text{clouds}},

where :math:`a` is the applications' spend on model access per revenue dollar (the profit model's
``layers.apps.pass_through``) and :math:`c` the labs' cash paid to the clouds for compute per
revenue dollar (``layers.labs.pass_through``): one set of shares for notebook 01's profit pool and
notebook 02's :math:`D`. A flow is netted only where both of its ends are in the scope; a flow
whose payee is not in the scope (the labs' compute where no cloud is counted) is not in :math:`D`
at all. Each flow is capped at the revenue that contains it, so the netting never removes more
than flows.

One revenue basis
-----------------
OpenAI reports its revenue net of Microsoft's share; Anthropic reports sales through its cloud
partners gross. Every lab is put on the net basis: :math:`x_j = (1 - s_j) \times` reported, with
:math:`s_j` the share of its reported revenue its cloud partners keep
(``lab_economics.paths.<lab>.cloud_partner_share``). The partners' share is the clouds' revenue;
it is in :math:`D` only in a scope that counts the clouds, through their own series.

What is not a flow of :math:`D`
-------------------------------
An "AI-influenced" metric counts whole subscriptions whose purchase AI features influenced; it is
never in any rung (:data:`EXCLUSIONS`). A series that repeats another (Agentforce inside
Salesforce's "Data Cloud & AI") is counted once. The clouds' payments for capex flow out of the
chain's downstream to its upstream; they are in the flow table, never in :math:`D`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from valuechain.dataset.load import Dataset
from valuechain.exceptions import DataValidationError

ROLES = {"labs": "labs", "cloud": "cloud"}  # companies.csv layer -> seller role; any other company is "apps"


def seller_roles(ds: Dataset) -> dict[str, str]:
    """Company id -> seller role (``labs``, ``cloud``; a company not listed as either sells applications)."""
    return {c: ROLES.get(layer, "apps") for c, layer in zip(ds.companies["company_id"], ds.companies["layer"])}


@dataclass(frozen=True)
class Exclusion:
    """A final-demand series of ``ai_revenue.csv`` that some rungs of the ladder leave out, and why."""

    series_id: str
    kind: str  # "ai_influenced" (whole subscriptions), "repeat" (inside another series), "mixed" (AI and non-AI)
    reason: str  # one line, for the page


EXCLUSIONS = (
    Exclusion("adobe_ai_influenced_arr", "ai_influenced",
              "Adobe's 'AI-influenced' ARR counts whole subscriptions whose purchase AI features influenced"),
    Exclusion("salesforce_agentforce_arr", "repeat",
              "Agentforce ARR is part of Salesforce's 'Data Cloud & AI' ARR, which counts it already"),
    Exclusion("salesforce_data_cloud_ai_arr", "mixed",
              "Salesforce's 'Data Cloud & AI' ARR includes Data Cloud, a data product not sold as AI"),
    Exclusion("palantir_us_commercial", "mixed",
              "Palantir's U.S. commercial segment revenue includes its non-AI software (Foundry)"),
)
"""The bundled series a rung may leave out, each named with its reason (no string matching on definitions)."""


@dataclass(frozen=True)
class Scope:
    """One rung of D's scope ladder, stated as data: the sellers' layers in, the exclusions, the linking."""

    key: str  # strict, central, broad
    name: str
    layers: tuple[str, ...]  # sellers' roles counted: "labs", "apps", "cloud" (see :func:`seller_roles`)
    excludes: tuple[str, ...]  # kinds of :class:`Exclusion` left out
    linked: bool  # chain-linked back before a series' first disclosure (else the plain sum of series present)
    definition: str  # in words, for the page


SCOPES = (
    Scope("strict", "Strict", ("labs", "apps"), ("ai_influenced", "mixed"), False,
          "end users' payments to the labs and to applications sold as AI, as disclosed or carried by the carry rule, "
          "less the applications' payments to the labs: no mixed AI and non-AI metric, no level linked back"),
    Scope("central", "Central", ("labs", "apps"), ("ai_influenced", "repeat"), True,
          "the labs and the applications, including the mixed AI metrics, less the applications' payments to the "
          "labs, counting Agentforce once, chain-linked"),
    Scope("broad", "Broad", ("labs", "apps", "cloud"), ("ai_influenced", "repeat"), True,
          "central plus the clouds' AI revenue from customers outside the chain: their AI revenue less the labs' "
          "payments to them for compute"),
)
"""The ladder, narrowest first. Central is the primary :math:`D`: every flow in it counted once."""

PRIMARY = "central"
"""The rung the primary test, the profit pool's check and the engine use."""


@dataclass(frozen=True)
class Chain:
    r"""The chain's members and the shares of the flows between them that :math:`D` nets (module docstring).

    ``roles`` maps company to seller role, ``companies`` each final-demand series to its company.
    """

    roles: dict[str, str]
    companies: dict[str, str]  # final-demand series id -> company id
    apps_to_labs: float  # a: the applications' model-access spend per revenue dollar
    labs_to_clouds: float  # c: the labs' cash paid to the clouds for compute per revenue dollar
    partner_share: dict[str, float]  # lab company -> share of its reported revenue its cloud partners keep
    exclusions: tuple[Exclusion, ...] = EXCLUSIONS

    def __post_init__(self):
        unknown = [e.series_id for e in self.exclusions if e.series_id not in self.companies]
        if unknown:
            raise DataValidationError(f"ai_revenue.csv: series {', '.join(unknown)} named in the scope ladder's "
                                      "exclusions is not a final-demand series; fix EXCLUSIONS in "
                                      "valuechain/model/chain.py")

    def role(self, series_id: str) -> str:
        return self.roles.get(self.companies[series_id], "apps")

    def weight(self, series_id: str) -> float:
        """The factor that puts a series on the net revenue basis: :math:`1 - s_j` for a lab, 1 otherwise."""
        return 1.0 - self.partner_share.get(self.companies[series_id], 0.0) if self.role(series_id) == "labs" else 1.0

    def members(self, scope: Scope) -> pd.DataFrame:
        """One row per final-demand series: company, role, whether ``scope`` counts it, why not, and its weight."""
        by_id = {e.series_id: e for e in self.exclusions}
        rows = []
        for sid in sorted(self.companies):
            role, out = self.role(sid), by_id.get(sid)
            reason = (out.reason if out is not None and out.kind in scope.excludes
                      else "" if role in scope.layers else f"the {role} layer is not in this rung")
            rows.append({"scope": scope.key, "series_id": sid, "company_id": self.companies[sid], "role": role,
                         "included": not reason, "reason": reason, "weight": self.weight(sid)})
        return pd.DataFrame(rows, columns=["scope", "series_id", "company_id", "role", "included", "reason", "weight"])

    def columns(self, levels, scope: Scope, series=None):
        r"""The scope's series on the net basis and the flows it nets, as columns, with their signs.

        ``levels`` is quarter x series (annualized USD bn, NaN where absent; series the chain does
        not know, such as intra-chain series, are ignored): a frame, or an array whose last axis is
        ``series`` (any leading axes, such as simulations x quarters). The columns are the scope's
        series times their weights (sign +1), then ``apps_to_labs`` and, if the scope counts the
        clouds, ``labs_to_clouds`` (sign -1; NaN where either end is absent), on the last axis of
        an array. The signed sum over the columns is :math:`D` (module docstring).
        """
        frame = isinstance(levels, pd.DataFrame)
        series = list(levels.columns) if frame else list(series)
        x = np.asarray(levels, float)
        members = self.members(scope)
        chosen = [s for s in members.loc[members["included"], "series_id"]]
        where = {s: i for i, s in enumerate(series)}
        absent = np.full(x.shape[:-1], np.nan)
        x = np.stack([x[..., where[s]] * self.weight(s) if s in where else absent for s in chosen], axis=-1)

        def role_sum(role):  # the role's series present, summed; NaN where none is
            part = x[..., [self.role(s) == role for s in chosen]]
            return np.where(np.isfinite(part).any(axis=-1), np.nansum(part, axis=-1), np.nan)

        by_role = {r: role_sum(r) for r in ("apps", "labs", "cloud")}
        flows = {"apps_to_labs": np.minimum(self.apps_to_labs * by_role["apps"], by_role["labs"])}
        if "cloud" in scope.layers:
            flows["labs_to_clouds"] = np.minimum(self.labs_to_clouds * by_role["labs"], by_role["cloud"])
        out = np.concatenate([x, np.stack(list(flows.values()), axis=-1)], axis=-1)
        signs = pd.Series(1.0, index=chosen + list(flows))
        signs[list(flows)] = -1.0
        if frame:
            return pd.DataFrame(out, index=levels.index, columns=signs.index), signs
        return out, signs

    def by_payee(self, levels: pd.DataFrame, scope: Scope) -> pd.DataFrame:
        """Quarter x final-demand flow: what end users pay the applications, the labs and (if counted) the clouds,
        and the flows between members the scope nets; the first three sum to the plain :math:`D`."""
        cols, signs = self.columns(levels, scope)
        series = [s for s in cols.columns if signs[s] > 0]
        total = {r: cols[[s for s in series if self.role(s) == r]].sum(axis=1, min_count=1) for r in ("apps", "labs", "cloud")}
        out = pd.DataFrame({"users_to_apps": total["apps"],
                            "users_to_labs": total["labs"] - cols["apps_to_labs"].fillna(0.0),
                            "apps_to_labs": cols["apps_to_labs"]}, index=levels.index)
        if "labs_to_clouds" in cols:
            out["users_to_clouds"] = total["cloud"] - cols["labs_to_clouds"].fillna(0.0)
            out["labs_to_clouds"] = cols["labs_to_clouds"]
        return out

    def flows(self, levels: pd.Series, scope: Scope, ai_capex_usd_bn: float | None = None) -> pd.DataFrame:
        r"""The flow table of one quarter: payer, payee, annualized USD bn, how it is known, and whether it is in :math:`D`.

        ``levels`` is one quarter's annualized revenue by series. Rows whose payer is end users and
        that are in :math:`D` sum to the plain :math:`D` of ``scope`` (:meth:`columns`). The labs'
        compute is a flow whether or not the scope counts the clouds; the partners' share of a
        lab's gross sales and the clouds' capex (``ai_capex_usd_bn``, annualized) are shown, never in D.
        """
        cols, signs = self.columns(levels.to_frame().T, scope)
        row = cols.iloc[0]
        series = [s for s in cols.columns if signs[s] > 0]
        total = {r: float(np.nansum([row[s] for s in series if self.role(s) == r])) for r in ("apps", "labs", "cloud")}
        a_to_l = float(np.nan_to_num(row["apps_to_labs"]))
        labs_compute = min(self.labs_to_clouds * total["labs"], total["cloud"]) if "cloud" in scope.layers \
            else self.labs_to_clouds * total["labs"]
        kept = float(np.nansum([levels.get(s, np.nan) * (1 - self.weight(s)) for s in series if self.role(s) == "labs"]))
        named = {r: ", ".join(s for s in series if self.role(s) == r and np.isfinite(row[s])) for r in ("apps", "labs", "cloud")}
        rows = [
            ("end users", "applications", total["apps"], "disclosed", named["apps"], True),
            ("end users", "labs", total["labs"] - a_to_l, "disclosed less assumed", named["labs"], True),
            ("applications", "labs", a_to_l, "assumed", "layers.apps.pass_through", False),
            ("end users", "clouds (partners' share of the labs' gross sales)", kept, "assumed",
             "lab_economics.paths.<lab>.cloud_partner_share", False),
            ("labs", "clouds", labs_compute, "assumed", "layers.labs.pass_through", False),
        ]
        if "cloud" in scope.layers:
            rows.insert(2, ("end users", "clouds", total["cloud"] - labs_compute, "disclosed less assumed",
                            named["cloud"], True))
        if ai_capex_usd_bn is not None:
            rows.append(("clouds", "chips and servers (AI capex)", float(ai_capex_usd_bn), "filed x AI share",
                         "capital.spenders, capital.ai_share", False))
        return pd.DataFrame(rows, columns=["payer", "payee", "usd_bn", "known_as", "from", "in_d"])


def scope(key: str) -> Scope:
    """The rung of :data:`SCOPES` with ``key``."""
    return next(s for s in SCOPES if s.key == key)


def chain(scenario, ds: Dataset, panel: pd.DataFrame) -> Chain:
    """The chain of ``scenario`` on the final-demand series of the disclosure ``panel``
    (:func:`valuechain.dataset.disclosures.load`)."""
    final = panel[panel["flow"] == "final_demand"].drop_duplicates("series_id")
    paths = scenario.lab_economics.paths
    return Chain(seller_roles(ds), dict(zip(final["series_id"], final["company_id"])),
                 float(scenario.layers["apps"].pass_through), float(scenario.layers["labs"].pass_through),
                 {lab: float(p.cloud_partner_share) for lab, p in paths.items()})
