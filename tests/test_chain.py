"""One chain accounting (valuechain.model.chain): closed cases first, then the bundled data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuechain.exceptions import DataValidationError
from valuechain.model.chain import EXCLUSIONS, PRIMARY, SCOPES, Chain, Exclusion, scope

ROLES = {"lab": "labs", "lab_gross": "labs", "cloud": "cloud"}  # any other company sells applications
COMPANIES = {"lab_rev": "lab", "gross_rev": "lab_gross", "cloud_ai": "cloud", "app_rev": "app", "influenced": "app"}


def make(a=0.0, c=0.0, partner=None, exclusions=()) -> Chain:
    return Chain(ROLES, COMPANIES, a, c, partner or {}, exclusions)


def d(accounting: Chain, key: str, **levels) -> float:
    """Plain D of one quarter with the series ``levels`` (the others absent)."""
    frame = pd.DataFrame({s: [levels.get(s, np.nan)] for s in COMPANIES}, dtype=float)
    columns, signs = accounting.columns(frame, scope(key))
    return float(columns.mul(signs, axis=1).sum(axis=1, min_count=1).iloc[0])


def test_a_lab_that_pays_all_its_revenue_to_a_cloud_is_counted_once():
    accounting = make(c=1.0)
    # the lab earns 10 from end users and pays all 10 to the cloud, whose AI revenue is those 10
    assert d(accounting, "broad", lab_rev=10.0, cloud_ai=10.0) == pytest.approx(10.0)
    # 5 more of cloud revenue from customers outside the chain adds exactly those 5
    assert d(accounting, "broad", lab_rev=10.0, cloud_ai=15.0) == pytest.approx(15.0)
    # without the cloud in the scope the lab's payment is not in D at all
    assert d(accounting, "central", lab_rev=10.0, cloud_ai=10.0) == pytest.approx(10.0)


def test_a_flow_added_at_both_ends_nets_to_zero():
    # an application's end users pay 4 more; it passes a = 0.25 of it (1) to the lab, whose revenue rises by 1
    accounting = make(a=0.25, c=0.5)
    before = d(accounting, "broad", app_rev=8.0, lab_rev=10.0, cloud_ai=9.0)
    after = d(accounting, "broad", app_rev=12.0, lab_rev=11.0, cloud_ai=9.5)  # and the lab pays 0.5 of the 1 on
    assert after - before == pytest.approx(4.0)  # only the end users' 4 enter D
    assert before == pytest.approx(8.0 + (10.0 - 2.0) + (9.0 - 5.0))  # users -> apps, -> labs, -> clouds


def test_a_flow_never_removes_more_than_the_revenue_that_contains_it():
    accounting = make(a=0.9, c=2.0)  # the labs' compute can exceed their revenue (investors fund the rest)
    # apps pay 9 of 10 to the labs, whose revenue is only 3: at most 3 is netted; the labs' compute (6) caps at 4
    assert d(accounting, "broad", app_rev=10.0, lab_rev=3.0, cloud_ai=4.0) == pytest.approx(10.0 + 0.0 + 0.0)


def test_an_ai_influenced_metric_never_enters_d():
    out = (Exclusion("influenced", "ai_influenced", "whole subscriptions"),)
    accounting = make(exclusions=out)
    for rung in SCOPES:
        assert d(accounting, rung.key, lab_rev=10.0, influenced=7.0) == pytest.approx(10.0)
        members = accounting.members(rung).set_index("series_id")
        assert not members.loc["influenced", "included"]
        assert members.loc["influenced", "reason"] == "whole subscriptions"
    assert all(e.kind != "ai_influenced" or e.kind in s.excludes for s in SCOPES for e in EXCLUSIONS)


def test_a_lab_reporting_gross_is_put_on_the_net_basis():
    accounting = make(partner={"lab_gross": 0.15})
    assert d(accounting, "central", gross_rev=20.0, lab_rev=10.0) == pytest.approx(0.85 * 20.0 + 10.0)
    flows = accounting.flows(pd.Series({"gross_rev": 20.0, "lab_rev": 10.0}), scope("central"))
    kept = flows.set_index("payee").loc["clouds (partners' share of the labs' gross sales)"]
    assert kept["usd_bn"] == pytest.approx(3.0) and not kept["in_d"]


def test_the_flow_table_sums_to_d_and_shows_every_flow_once():
    accounting = make(a=0.25, c=0.5)
    levels = pd.Series({"app_rev": 8.0, "lab_rev": 10.0, "cloud_ai": 9.0})
    for key in ("central", "broad"):
        table = accounting.flows(levels, scope(key), ai_capex_usd_bn=300.0)
        final = table[(table["payer"] == "end users") & table["in_d"]]
        assert final["usd_bn"].sum() == pytest.approx(d(accounting, key, **levels))
        by = table.set_index(["payer", "payee"])["usd_bn"]
        assert by[("applications", "labs")] == pytest.approx(2.0)
        assert by[("labs", "clouds")] == pytest.approx(5.0)  # a flow whether or not the clouds are counted
        assert by[("clouds", "chips and servers (AI capex)")] == pytest.approx(300.0)
        assert not table.set_index(["payer", "payee"]).loc[("clouds", "chips and servers (AI capex)"), "in_d"]
    assert ("end users", "clouds") not in accounting.flows(levels, scope("central")).set_index(["payer", "payee"]).index


def test_an_exclusion_naming_no_series_is_refused_with_the_file_and_the_fix():
    with pytest.raises(DataValidationError, match="ai_revenue.csv.*no_such_series.*EXCLUSIONS"):
        make(exclusions=(Exclusion("no_such_series", "repeat", "x"),))


# ----------------------------------------------------------------------------- the bundled data


def test_the_central_d_lists_every_final_demand_series_and_the_flows_netted_from_it(base_gap):
    accounting = base_gap.downstream.accounting
    assert base_gap.downstream.scope.key == PRIMARY == "central"
    members = accounting.members(scope("central"))
    counted = members[members["included"]]
    assert sorted(counted["series_id"]) == [
        "adobe_ai_first_arr", "anthropic_revenue", "cursor_arr", "lovable_arr", "openai_revenue",
        "palantir_us_commercial", "replit_revenue", "salesforce_data_cloud_ai_arr", "servicenow_now_assist_acv"]
    left_out = members[~members["included"]].set_index("series_id")["reason"]
    assert set(left_out.index) == {"adobe_ai_influenced_arr", "salesforce_agentforce_arr", "aws_ai", "microsoft_ai_business"}
    assert left_out["aws_ai"] == "the cloud layer is not in this rung"
    # the intra-chain series (CoreWeave's sales to Microsoft, OpenAI's payments to Azure) are flows, never final demand
    assert not set(accounting.companies) & {"coreweave_microsoft_revenue", "openai_azure_compute",
                                            "openai_microsoft_revenue_share"}
    # the one flow between two counted sellers is the applications' model access, netted from the labs' revenue
    columns, signs = accounting.columns(base_gap.downstream.series, scope("central"))
    assert list(signs[signs < 0].index) == ["apps_to_labs"]
    assert accounting.apps_to_labs == base_gap.scenario.layers["apps"].pass_through
    assert accounting.weight("anthropic_revenue") == pytest.approx(1 - 0.15) and accounting.weight("openai_revenue") == 1.0
