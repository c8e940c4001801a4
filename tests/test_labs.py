import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from valuechain import paths, load_dataset
from valuechain.model import demand, inputs as model_inputs, labs, valuation
from valuechain.publish import outputs
from valuechain.report import notebook
from valuechain.exceptions import ParameterError
from valuechain.scenario.load import load_scenario


@pytest.mark.parametrize("c0, d, years", [(2.0, 0.5, 1), (2.22, 0.25, 3), (1.0, 0.3, 0), (0.8, 0.1, 0), (4.0, 0.5, 2)])
def test_break_even_year_of_a_known_crossing(c0, d, years):
    be = labs.break_even_path(2025, 10.0, c0, 0.3, d, horizon=10)
    assert be.year == 2025 + years
    row = be.path.set_index("year").loc[be.year]
    assert row["operating_profit_usd_bn"] >= -1e-12
    if years:
        assert be.path.set_index("year").loc[be.year - 1, "operating_profit_usd_bn"] < 0


def test_no_break_even_within_the_horizon():
    be = labs.break_even_path(2025, 10.0, 3.0, 0.5, 0.05, horizon=5)
    assert be.year is None and len(be.path) == 6


def test_break_even_revenue_path_compounds():
    be = labs.break_even_path(2025, 10.0, 2.0, {2026: 1.0, 2027: 0.5}, 0.2, horizon=3)
    assert be.path["revenue_usd_bn"].tolist() == pytest.approx([10.0, 20.0, 30.0, 45.0])  # last rate carries on


def test_ipo_draw_is_valuation_times_float():
    draw = valuation.ipo_draw({"a": 1000.0, "b": 1750.0}, [0.03, 0.25])
    assert draw.loc["a", 0.03] == pytest.approx(30.0) and draw.loc["b", 0.25] == pytest.approx(437.5)
    assert draw.loc["total", 0.25] == pytest.approx(687.5)


def test_reverse_dcf_against_a_hand_computed_case():
    assert valuation.reverse_dcf_revenue(1000, 2, 0.10, 10) == pytest.approx(121.0)
    assert valuation.reverse_dcf_revenue(1000, 0, 0.10, 25) == pytest.approx(40.0)
    with pytest.raises(ValueError):
        valuation.reverse_dcf_revenue(1000, 2, 0.1, 0)


def test_implied_earnings_growth_closed_form():
    assert valuation.implied_earnings_growth(70, 40, 1, 0.0) == pytest.approx(0.75)
    assert valuation.implied_earnings_growth(40, 40, 5, 0.2) == pytest.approx(0.2)


def test_round_tripped_plus_organic_is_total():
    investments = pd.DataFrame([{"investor": "amazon", "lab": "anthropic", "amount_usd_bn": 8.0,
                                 "share_spent_on_investor_cloud": 0.75, "first_year": 2024, "spend_years": 3}])
    assert labs.round_trip(investments, 2025)["round_trip_usd_bn"].iloc[0] == pytest.approx(2.0)
    assert labs.round_trip(investments, 2027)["round_trip_usd_bn"].iloc[0] == 0.0
    split = labs.split_cloud_revenue(40.0, 2.0)
    assert split["round_tripped_usd_bn"] + split["organic_usd_bn"] == pytest.approx(split["total_usd_bn"])
    assert labs.split_cloud_revenue(1.0, 5.0)["organic_usd_bn"] == 0.0


def test_capital_efficiency_uses_the_seed_figures(base_econ):
    eff = base_econ.unit_economics.loc[labs.EFFICIENCY]
    assert eff["anthropic"] == pytest.approx(30 / 30) and eff["openai"] == pytest.approx(24 / 120)


def test_openai_loss_measures_include_the_seed_claim(base_econ):
    losses = base_econ.losses.set_index("measure")
    assert losses.loc["as stated in the seed", "loss_per_revenue_dollar"] == pytest.approx(1.22)
    assert losses.loc["as stated in the seed", "basis"] == "claim"
    assert losses.loc["operating_loss / revenue, H1-2025", "loss_per_revenue_dollar"] == pytest.approx(7.8 / 4.3)


def test_excluding_round_trip_widens_the_gap_by_that_amount(base_econ):
    gap = base_econ.gap_with_round_trip.set_index("method")
    widened = gap["gap_organic_usd_bn"] - gap["gap_usd_bn"]
    assert widened.tolist() == pytest.approx([base_econ.cloud_split["round_tripped_usd_bn"]] * len(gap))


def test_bad_lab_parameters_are_refused(tmp_path):
    (tmp_path / "base.yaml").write_text((paths.PARAMS_DIR / "base.yaml").read_text())
    (tmp_path / "a.yaml").write_text("extends: base\nvaluation: {float_ratios: [0.1, 1.5]}\n")
    with pytest.raises(ParameterError, match=r"key 'valuation.float_ratios.1'"):
        load_scenario("a", params_dir=tmp_path)
    (tmp_path / "b.yaml").write_text("extends: base\nlab_economics: {paths: {openai: {revenue_growth: 0.5, cost_decline: 1.5}}}\n")
    with pytest.raises(ParameterError, match=r"key 'lab_economics.paths.openai.cost_decline'"):
        load_scenario("b", params_dir=tmp_path)


@pytest.mark.parametrize("name, compute", [
    ("03_lab_economics", lambda sc, ds: labs.analyse(sc, ds).summary()),
    ("04_valuations", lambda sc, ds: valuation.analyse(sc, ds).summary()),
])
def test_notebooks_03_04_record_what_the_library_returns(executed_outputs, name, compute):
    out, metrics = executed_outputs / "bear" / f"{name}.ipynb", executed_outputs / "bear" / f"{name}.json"
    expected = json.loads(notebook.to_json(compute(load_scenario("bear"), load_dataset())))
    recorded = json.loads(metrics.read_text())
    assert notebook.figures_only(recorded) == expected and recorded == outputs.collect(out)
    assert recorded[notebook.HEADLINES_KEY] and recorded[notebook.SOURCES_KEY]


# ----------------------------------------------------------------------------- where the paths start (issue 26, item 7)

def test_start_year_revenue_closed_forms():
    """No growth: the year's revenue is the run-rate; a point at the year's start grows over the whole
    year, (e^r - 1)/r; at mid-year it is 2 sinh(r/2)/r; doubling, at the year's end, RR / (2 ln 2)."""
    assert model_inputs.start_year_revenue(30.0, 0.4, 0.0) == pytest.approx(30.0)
    r = np.log(1.8)
    assert model_inputs.start_year_revenue(10.0, 0.0, 0.8) == pytest.approx(10.0 * 0.8 / r)
    assert model_inputs.start_year_revenue(10.0, 0.5, 0.8) == pytest.approx(10.0 * 2 * np.sinh(r / 2) / r)
    assert model_inputs.start_year_revenue(10.0, 1.0, 1.0) == pytest.approx(10.0 / (2 * np.log(2)))
    # the mean of the continuous run-rate over the year, by quadrature
    s = (np.arange(100_000) + 0.5) / 100_000
    assert model_inputs.start_year_revenue(10.0, 0.3, 0.8) == pytest.approx((10.0 * 1.8 ** (s - 0.3)).mean(), rel=1e-8)


def test_gross_to_net_keeps_the_loss_in_dollars():
    """A fifth kept by partners: 100 gross at a loss of 0.5 a dollar is 80 net at 0.625, USD 50 of loss both ways."""
    revenue, loss = model_inputs.net_of_partners(100.0, 0.5, 0.2)
    assert revenue == pytest.approx(80.0) and loss == pytest.approx(0.625)
    assert revenue * loss == pytest.approx(100.0 * 0.5)
    assert model_inputs.net_of_partners(100.0, 0.5, 0.0) == (100.0, 0.5)  # reported net: unchanged


def test_a_loss_measured_earlier_is_carried_to_the_start_year():
    """Cost 2 a dollar a year before the start, falling a quarter a year: 1.5 at the start, a loss of 0.5;
    break-even then comes when it would have on the path from the measurement year."""
    assert model_inputs.aged_loss(1.0, 0.25, 1) == pytest.approx(0.5)
    assert model_inputs.aged_loss(1.0, 0.25, 0) == pytest.approx(1.0)
    early = labs.break_even_path(2025, 10.0, 2.0, 0.5, 0.25, horizon=6).year
    late = labs.break_even_path(2026, 10.0, 1 + model_inputs.aged_loss(1.0, 0.25, 1), 0.5, 0.25, horizon=6).year
    assert early == late == 2028


def _fin(rows):
    cols = ["company_id", "period_type", "fiscal_period", "period_end", "calendar_quarter", "metric", "value_usd_bn",
            "basis", "source_id", "note"]
    return SimpleNamespace(financials=pd.DataFrame([dict(zip(cols, r)) for r in rows]))


POINT = ["lab", "point", "2026-05-01", "2026-05-01", "2026Q2", "revenue_run_rate", 35.0, "run_rate", "src_point", ""]
QUARTER = ["lab", "quarter", "Q2-2026", "2026-06-30", "2026Q2", "revenue", 10.0, "claim", "src_quarter", ""]


def test_the_path_starts_from_whichever_disclosure_is_latest():
    """A quarter counts x 4 at its midpoint (16 May for Q2, halfway from 1 April to 30 June): later than a 1 May
    run-rate, earlier than a 31 May one."""
    first = model_inputs.latest_lab_revenue(_fin([POINT, QUARTER]), "lab", 2026)
    assert first["kind"] == "quarterly_revenue" and first["value"] == pytest.approx(40.0)
    assert first["when"] == pd.Timestamp("2026-05-16") and first["source_id"] == "src_quarter"
    later = [*POINT[:2], "2026-05-31", "2026-05-31", *POINT[4:]]
    assert model_inputs.latest_lab_revenue(_fin([later, QUARTER]), "lab", 2026)["source_id"] == "src_point"
    assert model_inputs.latest_lab_revenue(_fin([POINT, QUARTER]), "lab", 2025) is None


def test_lab_base_on_a_small_case():
    """Run-rate 35 on 1 May 2026 (day 121 of 365), doubling over the year, a quarter kept by partners:
    2026 revenue 35 x 2^-f / ln 2 x 0.75 with f = 120.5/365; the scenario's loss is taken as given."""
    path = SimpleNamespace(base_revenue_usd_bn=None, loss_per_revenue_dollar=0.3, revenue_growth={2026: 1.0, 2027: 0.5},
                           cost_decline=0.2, cloud_partner_share=0.25)
    le = SimpleNamespace(base_year=2026, paths={"lab": path})
    revenue, loss = model_inputs.lab_base(le, _fin([POINT]), "lab")
    f = 120.5 / 365
    assert revenue == pytest.approx(35.0 * 2 ** -f / np.log(2) * 0.75) and loss == 0.3
    start = model_inputs.lab_start(le, _fin([POINT]), "lab")
    assert start.start_year_reported_usd_bn * 0.75 == pytest.approx(revenue) and start.source_id == "src_point"
    with pytest.raises(ValueError, match=r"no 2027 revenue for lab .*the latest is dated 2026-05-01.*base_revenue_usd_bn"):
        model_inputs.lab_base(SimpleNamespace(base_year=2027, paths={"lab": path}), _fin([POINT]), "lab")


def test_bundled_labs_start_from_their_latest_run_rates_on_the_net_basis(base_scenario, ds, base_econ):
    """Anthropic from USD 65bn in July 2026 less the 15% its cloud partners keep; OpenAI from over USD 40bn
    in August 2026, already net of Microsoft's share; both on the paths notebook 03 shows and the core uses."""
    le = base_scenario.lab_economics
    assert le.base_year == 2026
    starts = base_econ.starts
    a, o = starts["anthropic"], starts["openai"]
    assert (a.reported_usd_bn, a.as_of, a.source_id) == (65.0, pd.Timestamp("2026-07-31"), "labs_ft_aug_2026")
    assert (o.reported_usd_bn, o.as_of, o.kind) == (40.0, pd.Timestamp("2026-08-23"), "run_rate")
    fa, fo = 211.5 / 365, 234.5 / 365
    ra, ro = np.log(1.8), np.log(2.0)
    anthropic = 65.0 * np.exp(-ra * fa) * 0.8 / ra * (1 - 0.15)
    openai = 40.0 * np.exp(-ro * fo) * 1.0 / ro
    assert base_econ.break_even["anthropic"].path["revenue_usd_bn"].iloc[0] == pytest.approx(anthropic)
    assert base_econ.break_even["openai"].path["revenue_usd_bn"].iloc[0] == pytest.approx(openai)
    assert base_econ.summary()["anthropic_revenue_start_usd_bn"] == pytest.approx(anthropic, abs=0.005)
    # OpenAI's H1-2025 operating loss, carried one year on its 25% cost decline
    assert model_inputs.lab_base(le, ds, "openai")[1] == pytest.approx((1 + 7.8 / 4.3) * 0.75 - 1)


def test_the_core_takes_the_same_net_start(base_inputs, base_scenario, ds):
    inp = base_inputs
    for lab in ("openai", "anthropic"):
        cols = inp.lab_cols[lab]
        net = inp.values[cols["base_revenue"]] * (1 - inp.values[cols["partner_share"]])
        assert net == pytest.approx(model_inputs.lab_base(base_scenario.lab_economics, ds, lab)[0])
    assert inp.values[inp.column("lab_economics.paths.anthropic.cloud_partner_share")] == 0.15


def test_lab_revenue_on_the_path_is_the_two_labs_paths(base_scenario, ds, base_econ):
    """Notebook 04's 'Lab revenue on the scenario's path' is OpenAI's and Anthropic's notebook 03 paths in 2030."""
    total = sum(float(be.path.set_index("year").loc[2030, "revenue_usd_bn"]) for be in base_econ.break_even.values())
    assert valuation.labs_path_revenue(base_scenario, ds, ("openai", "anthropic"), 2030) == pytest.approx(total)


def test_lab_economics_needs_only_the_demand_gaps_requirements(base_scenario, ds, base_pool, base_gap, base_econ):
    """Notebook 03 takes the requirements alone (demand.requirements), not the demand gap's inference:
    the same figures as the whole demand gap's, to the last digit."""
    alone = demand.requirements(base_scenario, ds, base_pool)
    pd.testing.assert_frame_equal(alone, base_gap.requirements, check_exact=True)
    econ = labs.analyse(base_scenario, ds, base_pool)
    pd.testing.assert_frame_equal(econ.gap_with_round_trip, base_econ.gap_with_round_trip, check_exact=True)
    assert econ.summary() == base_econ.summary()
