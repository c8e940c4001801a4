import json

import pandas as pd
import pytest

from valuechain import paths, load_dataset
from valuechain.model import labs, valuation
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
