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
    assert len(two) == 2500 and "chunk" not in two  # no internal column


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
    (dict(draws=0), "give 1 to 1,000,000"),
    (dict(draws=1_000_001), "give 1 to 1,000,000"),
    (dict(grid={"valuation.discount_rate": [0.1, 50.0]}), "50 is outside the 0 to 1"),
    (dict(grid={"valuation.exit_multiple": [float(x) for x in range(1, 101)], "valuation.discount_rate": [i / 1e4 for i in range(10001)]}),
     "1,000,100 combinations, more than the 1,000,000"),
    (dict(draws=10, scheduler="tcp://127.0.0.1:8786"), "--scheduler works only with --executor dask"),
    (dict(draws=10, executor="dask", scheduler="foo://x:1"), "the scheme must be tcp or tls"),
])
def test_bad_sweeps_are_refused(base, kwargs, message):
    sc, ds, inp = base
    with pytest.raises(ParameterError, match=message):
        sw.sweep(sc, ds, inputs=inp, **kwargs)


def test_parse_grid():
    assert sw.parse_grid(["a.b=0.1,0.2", "c=3"]) == {"a.b": [0.1, 0.2], "c": [3.0]}
    with pytest.raises(ParameterError, match="not key=v1,v2"):
        sw.parse_grid(["a.b=x"])


def test_cli_writes_the_table_and_page_and_prints_the_spread(tmp_path, base):
    from click.testing import CliRunner

    from valuechain.cli import main

    _, _, inp = base
    (tmp_path / "index.html").write_text("<html></html>")  # a site is there: its index is rebuilt with the sweep
    runner = CliRunner()
    done = runner.invoke(main, ["sweep", "base", "--grid", "valuation.discount_rate=0.1,0.2", "--csv",
                                "--outputs", str(tmp_path)])
    assert done.exit_code == 0, done.stderr
    folder = next((tmp_path / "sweeps").iterdir())
    table = pd.read_csv(folder / "sweep.csv")
    assert table["valuation.discount_rate"].tolist() == [0.1, 0.2] and "chunk" not in table
    page = (folder / "index.html").read_text()
    assert "Lab revenue the valuations need" in page and "<script" not in page
    v, t, m = inp.lab_valuations.sum(), inp.years_to_target, inp.values[inp.column("valuation.exit_multiple")]
    low, high = v * 1.1 ** t / m, v * 1.2 ** t / m
    lines = done.stdout.splitlines()
    assert lines[0] == (f"Lab revenue the valuations need in the target year: USD {low:,.0f}bn to USD {high:,.0f}bn "
                        f"across 2 grid points (median USD {(low + high) / 2:,.0f}bn)")
    assert lines[1].startswith("The same at every point: Chips share of chain operating profit, last filed year ")
    assert "OpenAI break-even year 20" in lines[1] and lines[2].startswith("2 evaluations; table and summary in ")
    index = (tmp_path / "index.html").read_text()
    assert f'<a href="sweeps/{folder.name}/index.html">Sweep of Base case</a>: Valuation: discount rate at 0.1, 0.2' in index
    assert lines[0] in index
    bad = runner.invoke(main, ["sweep", "base", "--grid", "nope=1"])
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "nope" in bad.stderr


def _spread(key, label, unit, low, median, high, missing=0):
    return sw.Spread(key, label, unit, low, median, high, missing)


def test_spread_lines_format_each_figure_by_its_unit():
    spread = [_spread("openai_break_even_year", "OpenAI break-even year", "year", 2029.0, 2031.0, 2034.0, missing=12),
              _spread("chips_profit_share_2030", "Chips share of chain operating profit, 2030", "share", 0.61, 0.64, 0.75),
              _spread("sequoia_required_usd_bn", "Required revenue, Sequoia's method", "usd_bn", 996.96, 996.96, 996.96),
              _spread("anthropic_break_even_year", "Anthropic break-even year", "year", float("nan"), float("nan"), float("nan"), 120)]
    assert sw.spread_lines(spread, 120, {"valuation.discount_rate": [0.1]}) == [
        "OpenAI break-even year: 2029 to 2034 across 120 grid points (median 2031; none in 12)",
        "Chips share of chain operating profit, 2030: 61% to 75% across 120 grid points (median 64%)",
        "The same at every point: Required revenue, Sequoia's method USD 997bn; Anthropic break-even year none"]
    some = _spread("openai_break_even_year", "OpenAI break-even year", "year", 2030.0, 2030.0, 2030.0, missing=3)
    assert sw.spread_lines([some], 9, {"a": [1.0]}) == ["OpenAI break-even year: 2030 to 2030 across 9 grid points (median 2030; none in 3)"]
    assert sw.spread_lines(spread[1:2], 5000, None) == [
        "Chips share of chain operating profit, 2030: 61% to 75% across 5,000 draws, 5th to 95th percentile (median 64%)"]


def test_the_summary_page_formats_by_unit_and_names_assumptions_in_words(base):
    import re

    sc, ds, inp = base
    grid = {"valuation.discount_rate": [0.1, 0.2], "valuation.exit_multiple": [8.0, 12.0]}
    table = sw.sweep(sc, ds, grid=grid, inputs=inp)
    page = sw.summary_page(table, sc, inp, grid, "sweep.parquet", ds.company_names)
    text = re.sub(r'<img [^>]*>', "", page)
    assert "Valuation: discount rate at 0.1, 0.2; Valuation: exit multiple at 8, 12: 4 evaluations" in text
    assert "valuation.discount_rate" not in text and "chunk" not in text  # words, no internal column
    assert not re.search(r"\d\.\d+e[+-]\d+", text)  # never "2.03e+03"
    year = {s.key: s for s in sw.spreads(table, inp, grid, ds.company_names)}["openai_break_even_year"]
    assert f'<td>OpenAI break-even year</td><td class="vc-num">{year.low:.0f}</td>' in text
    chips = table["chips_profit_share"].iloc[0]
    assert f'<td>Chips share of chain operating profit, last filed year</td><td class="vc-num">{chips:.0%}</td>' in text
    assert "<th>Lowest</th><th>Median</th><th>Highest</th>" in text
    spread = sw.spreads(table, inp, grid, ds.company_names)
    assert f"<ul><li>{sw.spread_lines(spread, 4, grid)[0]}</li>" in text  # how far the figures moved, first
    assert page.count("<img ") == sum(s.moves for s in spread) >= 1  # a chart for each figure that moves
    assert re.search(r"<td>Valuation: (discount rate|exit multiple) \([+-]\d\.\d\d\)</td>", text)


def test_the_index_lists_sweeps_and_ignores_a_tampered_record(tmp_path, capsys):
    import json

    from valuechain.publish import site

    good, bad, huge, large = (tmp_path / "sweeps" / n for n in ("base-sweep-1", "base-sweep-2", "base-sweep-3", "base-sweep-4"))
    for folder in (good, bad, huge, large):
        folder.mkdir(parents=True)
        (folder / "index.html").write_text("<html></html>")
    (good / "sweep.json").write_text(json.dumps({"title": "Sweep of Base case", "what": "Valuation: discount rate at 0.1, 0.2",
                                                 "spread": ["OpenAI break-even year: 2029 to 2034 across 2 grid points (median 2031)"]}))
    (bad / "sweep.json").write_text("[1, 2")
    (huge / "sweep.json").write_text(json.dumps({"title": "x" * 10_000, "what": "<b>", "spread": "not a list"}))
    (large / "sweep.json").write_text(" " * (site.MAX_RECORD_BYTES + 1))
    html = site._sweeps_html(tmp_path)
    assert ('<a href="sweeps/base-sweep-1/index.html">Sweep of Base case</a>: Valuation: discount rate at 0.1, 0.2'
            "<ul><li>OpenAI break-even year: 2029 to 2034 across 2 grid points (median 2031)</li></ul>") in html
    assert '<a href="sweeps/base-sweep-3/index.html">base-sweep-3</a></li>' in html  # listed by its folder name
    assert "base-sweep-2" not in html and "xxxx" not in html
    err = capsys.readouterr().err
    assert err.count("base-sweep-2/sweep.json: not JSON") == 1 and err.count("base-sweep-3/sweep.json: not a sweep's record") == 1
    assert err.count("base-sweep-4/sweep.json: is larger than the 100,000 bytes") == 1
    assert '<a href="sweeps/base-sweep-4/index.html">base-sweep-4</a></li>' in html


@pytest.mark.parametrize("texts, message", [
    (["valuation.discount_rate=nan,inf,-1e308,50"], "nan is not a finite number"),
    (["valuation.discount_rate=0.1,inf"], "inf is not a finite number"),
    (["a=1", "a=2"], "--grid a is given twice"),
])
def test_parse_grid_refuses_non_finite_values_and_repeated_keys(texts, message):
    with pytest.raises(ParameterError, match=message):
        sw.parse_grid(texts)


def test_grid_values_are_checked_against_the_field_bounds(base):
    _, _, inp = base
    with pytest.raises(ParameterError, match="-1e\\+308 is outside the 0 to 1"):
        sw.grid_tasks(inp, {"valuation.discount_rate": [0.1, -1e308]}, "base")
    tasks = sw.grid_tasks(inp, {"valuation.discount_rate": [0.0, 1.0]}, "base")  # the bounds themselves are allowed
    assert sum(t.size for t in tasks) == 2


@pytest.mark.parametrize("address, message", [
    ("garbage", "the scheme must be tcp or tls"), ("foo://h:1", "the scheme must be tcp or tls"),
    ("tcp://h:99999", "is not an address"), ("tcp://h", "is not HOST:PORT"), ("tcp://:8786", "is not HOST:PORT"),
    ("tcp://h:8786/x", "is not HOST:PORT"),
])
def test_scheduler_address_checked(address, message):
    with pytest.raises(ParameterError, match=message):
        sw.check_scheduler(address)
    assert sw.check_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"


def test_refused_scheduler_is_one_line_at_once():
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(ParameterError, match=f"tcp://127.0.0.1:{port}: cannot connect \\(connection refused\\)"):
        sw.reach_scheduler(f"tcp://127.0.0.1:{port}")
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("reply", [None, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"])
def test_service_that_is_not_dask_is_refused_within_the_timeout(monkeypatch, reply):
    """A local listener that never answers, or answers as a web server, stands in for a wrong address."""
    import socket
    import threading
    import time

    monkeypatch.setattr(sw, "SCHEDULER_TIMEOUT_S", 1)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if reply:
                conn.sendall(reply * 50)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    start = time.perf_counter()
    try:
        with pytest.raises(ParameterError, match="no Dask scheduler answered there within 1 s"):
            sw.reach_scheduler(f"tcp://127.0.0.1:{server.getsockname()[1]}")
    finally:
        server.close()
        for conn in held:
            conn.close()
    assert time.perf_counter() - start < 4


@pytest.mark.parametrize("args, message", [
    (["--grid", "valuation.discount_rate=nan,inf,-1e308,50"], "nan is not a finite number"),
    (["--draws", "1000000000"], "--draws 1000000000 is not allowed; give 1 to 1,000,000"),
    (["--draws", "10", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler works only with --executor dask"),
    (["--draws", "10", "--executor", "dask", "--scheduler", "garbage"], "the scheme must be tcp or tls"),
])
def test_cli_refuses_bad_sweep_arguments_in_one_line(args, message):
    from conftest import invoke_cli

    proc = invoke_cli("sweep", "base", *args)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr
