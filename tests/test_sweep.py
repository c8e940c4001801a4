"""valuechain sweep: grids and draws over the model core, locally and on a Dask LocalCluster."""

import numpy as np
import pandas as pd
import pytest


from valuechain.batch import sweep as sw
from valuechain.exceptions import ParameterError


@pytest.fixture(scope="module")
def base(base_scenario, ds, base_inputs):
    return base_scenario, ds, base_inputs


def test_grid_rows_equal_the_reverse_dcf(base):
    sc, ds, inp = base
    grid = {"valuation.discount_rate": [0.1, 0.2], "valuation.exit_multiple": [8.0, 12.0]}
    table = sw.sweep(sc, ds, grid=grid, inputs=inp)
    assert len(table) == 4
    v, t = inp.lab_valuations.sum(), inp.years_to_target
    want = v * (1 + table["valuation.discount_rate"]) ** t / table["valuation.exit_multiple"]
    np.testing.assert_allclose(table["labs_revenue_needed_usd_bn"], want, rtol=1e-12)
    assert (table["chips_profit_share"] == table["chips_profit_share"].iloc[0]).all()  # untouched by these keys


@pytest.mark.notebooks  # the slow layer: it starts worker processes
def test_same_seed_same_table_on_one_and_two_dask_workers(base):
    sc, ds, inp = base
    local = sw.sweep(sc, ds, draws=2500, inputs=inp)
    one = sw.sweep(sc, ds, draws=2500, executor="dask", workers=1, inputs=inp)
    two = sw.sweep(sc, ds, draws=2500, executor="dask", workers=2, inputs=inp)
    pd.testing.assert_frame_equal(local, one)
    pd.testing.assert_frame_equal(one, two)
    assert len(two) == 2500 and two["chunk"].tolist() == sorted(two["chunk"])


def test_draw_sweep_equals_the_monte_carlo(base):
    from valuechain.model import uncertainty

    sc, ds, inp = base
    table = sw.sweep(sc, ds, draws=1500, inputs=inp)
    draws = uncertainty.monte_carlo(sc, inp, n=1500)
    np.testing.assert_array_equal(table["d_over_required"].to_numpy(), draws.figures["d_over_required"])


@pytest.mark.parametrize("kwargs,message", [
    (dict(grid={"valuation.discount_rat": [0.1]}), "did you mean 'valuation.discount_rate'?"),
    (dict(grid={"demand_gap.regression.lags": [2.0]}), "does not consume"),
    (dict(grid={"valuation.discount_rate": [0.1]}, draws=10), "not both"),
    (dict(draws=0), "1 or more"),
])
def test_bad_sweeps_are_refused(base, kwargs, message):
    sc, ds, inp = base
    with pytest.raises(ParameterError, match=message):
        sw.sweep(sc, ds, inputs=inp, **kwargs)


def test_parse_grid():
    assert sw.parse_grid(["a.b=0.1,0.2", "c=3"]) == {"a.b": [0.1, 0.2], "c": [3.0]}
    with pytest.raises(ParameterError, match="not key=v1,v2"):
        sw.parse_grid(["a.b=x"])


def test_cli_writes_the_table_and_page(tmp_path):
    from click.testing import CliRunner

    from valuechain.cli import main

    runner = CliRunner()
    done = runner.invoke(main, ["sweep", "base", "--grid", "valuation.discount_rate=0.1,0.2", "--csv",
                                "--outputs", str(tmp_path)])
    assert done.exit_code == 0, done.stderr
    folder = next((tmp_path / "sweeps").iterdir())
    table = pd.read_csv(folder / "sweep.csv")
    assert table["valuation.discount_rate"].tolist() == [0.1, 0.2]
    page = (folder / "index.html").read_text()
    assert "Lab revenue the valuations need" in page and "<script" not in page
    bad = runner.invoke(main, ["sweep", "base", "--grid", "nope=1"])
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "nope" in bad.stderr
