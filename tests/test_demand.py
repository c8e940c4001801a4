import json

import pandas as pd
import papermill as pm
import pytest

from valuechain import config, demand, load_dataset, results
from valuechain.params import load_scenario


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def base(ds):
    return demand.demand_gap(load_scenario("base"), ds)


def test_upstream_capex_sums_only_complete_quarters(ds):
    capex = demand.summed_quarters(ds, "capex", ["microsoft", "alphabet", "amazon", "meta"])
    # Meta's quarters start in 2020Q1, the others earlier; Microsoft's fiscal Q4 2026 (Apr-Jun) is the
    # latest common quarter.
    assert str(capex.index.min()) == "2020Q1" and str(capex.index.max()) == "2026Q2"
    assert capex[pd.Period("2020Q1", freq="Q")] == pytest.approx(3.767 + 6.005 + 6.795 + 3.558)  # MSFT FY2020 Q3
    assert capex[pd.Period("2021Q2", freq="Q")] == pytest.approx(6.452 + 5.496 + 14.288 + 4.612)
    assert capex[pd.Period("2022Q4", freq="Q")] == pytest.approx(6.274 + 7.595 + 16.592 + 8.796)  # MSFT FY2023 Q2
    assert capex[pd.Period("2024Q4", freq="Q")] == pytest.approx(15.804 + 14.276 + 27.839 + 14.425)
    assert capex[pd.Period("2026Q1", freq="Q")] == pytest.approx(30.88 + 35.7 + 44.2 + 19.0)
    # 2026Q2: Microsoft's fiscal Q4 and Alphabet's, Amazon's and Meta's Q2, each the half or year less the quarters before.
    assert capex[pd.Period("2026Q2", freq="Q")] == pytest.approx(35.794 + 44.898 + 54.2 + 30.1)


def test_ai_series_interpolates_run_rates_to_quarter_ends(ds):
    ai = demand.ai_revenue_quarterly(ds, ["openai", "anthropic"])
    # both labs have points on 2024-12-31: OpenAI $6B and Anthropic $1B
    assert ai[pd.Period("2024Q4", freq="Q")] == pytest.approx(7.0)
    # no extrapolation: the series stops where OpenAI's last observation (Feb 2026) stops
    assert ai.index.max() == pd.Period("2025Q4", freq="Q")


def test_capital_base_leaves_out_incomplete_histories(ds):
    total, left_out = demand.capital_base(ds, ["alphabet", "meta", "oracle"], 2025, 5)
    assert left_out == ["oracle"]  # Oracle's capex: fiscal 2024-2025 totals and quarters from mid-2024 only
    assert total == pytest.approx((24.640 + 31.485 + 32.251 + 52.535 + 91.447)
                                  + (18.567 + 31.186 + 27.045 + 37.256 + 69.69))


def test_beta_star_and_summary(base):
    summary = base.summary()
    assert summary["beta_star"] == round(base.beta_star, 4)
    assert summary["proxy_yield_n"] == base.tests["proxy_yield"].n
    assert summary["sequoia_required_usd_bn"] == round(base.requirements.set_index("method").loc["sequoia", "required_usd_bn"], 2)
    # Sequoia on the bundled data uses NVIDIA's latest filed data-center quarter (FY2027 Q2, $89.0B) x 4
    assert base.requirements.set_index("method").loc["sequoia", "inputs"]["run_rate_usd_bn"] == pytest.approx(356.0)


def test_every_regression_table_states_n(base):
    for name, test in base.tests.items():
        table = test.table if hasattr(test, "table") else test
        if "n" in getattr(table, "columns", []):
            assert table["n"].notna().all(), name


def test_demand_notebook_records_what_the_library_returns(tmp_path, ds):
    out, metrics = tmp_path / "02.ipynb", tmp_path / "02.json"
    pm.execute_notebook(str(config.NOTEBOOKS_DIR / "02_demand_gap.ipynb"), str(out),
                        parameters={"scenario": "base", "metrics_path": str(metrics)},
                        cwd=str(config.NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3")
    expected = json.loads(results.to_json(demand.demand_gap(load_scenario("base"), ds).summary()))
    assert json.loads(metrics.read_text()) == expected == results.collect(out)
