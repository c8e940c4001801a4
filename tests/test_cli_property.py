"""Property: whatever the command-line arguments (``--set`` values, ``--grid``, ``--draws``,
``--scheduler``), the command ends with exit code 0 or 2, never a traceback.

The cases run in this process (click's runner), against a copy of params/ and a scratch outputs
folder; no notebook runs (``--set`` cases name a notebook that does not exist, so a valid variant is
written and then refused), no sweep page is drawn, and no connection leaves the machine (a
scheduler address that passes the checks is refused as if nothing listened there).
"""
import shutil
import socket
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuechain import paths
from valuechain.batch import sweep as sw

_SETTINGS = dict(derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NASTY = ["&a [*a]", "&a {b: *a}", "9" * 5000, "[" * 200, ".nan", ".inf", "-.inf", "1e308", "1e999", "nan", "inf",
         "!!python/object/apply:os.system ['true']", "{", "}", "a: b: c", "- x", "'unterminated", "\x07\u202e",
         "2025-02-30", "&x 1", "*x", "{a: 1, a: 2}", "null", "true", "[1, 2]", "0.2", "-1e308", "1_000", "0x1F", ""]
KEYS = ["valuation.discount_rate", "valuation.exit_multiple", "uncertainty.draws", "uncertainty.seed",
        "uncertainty.priors.valuation.discount_rate.rationale", "projection.capex_growth.2027", "title",
        "layers.cloud.pass_through", "nope", "", ".", "a..b", "valuation", "attribution.microsoft.ai_share.2025"]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
set_args = st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), text), st.one_of(st.sampled_from(NASTY), text)),
                    min_size=1, max_size=3)

GRID_KEYS = ["valuation.discount_rate", "valuation.exit_multiple", "nope", ""]
numbers = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-1e308", "1e308", "50", "-1", "0", "1", "0.15", "x", "",
                                     "1e999", "9" * 400]),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))
grid_arg = st.builds(lambda key, values: f"{key}={','.join(values)}",
                     st.one_of(st.sampled_from(GRID_KEYS), text), st.lists(numbers, max_size=4))
sweep_args = st.one_of(
    st.lists(grid_arg, min_size=1, max_size=2).map(lambda gs: [a for g in gs for a in ("--grid", g)]),
    st.one_of(st.integers(-10, 10**20).map(str), text).map(lambda n: ["--draws", n]),
    st.tuples(st.sampled_from(["local", "dask", "other"]),
              st.one_of(st.sampled_from(["tcp://127.0.0.1:1", "garbage", "foo://x:1", "tcp://h:99999", "tls://h:8786",
                                         "tcp://[::1]:8786", "tcp://h:8786/x", ""]), text))
    .map(lambda t: ["--draws", "10", "--executor", t[0], "--scheduler", t[1]]),
)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A copy of params/ holding base, a scratch outputs folder, no drawing and no network."""
    params = tmp_path / "params"
    params.mkdir()
    shutil.copy(paths.PARAMS_DIR / "base.yaml", params / "base.yaml")
    monkeypatch.setattr(paths, "PARAMS_DIR", params)

    def refused(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refused)
    written = []

    def write(table, folder, *args, **kwargs):
        written.append(table)
        return folder / "index.html"

    monkeypatch.setattr(sw, "write", write)
    return SimpleNamespace(out=tmp_path / "out", written=written)


def _ends_cleanly(args):
    from click.testing import CliRunner

    from valuechain.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code in (0, 2), (args, result.exit_code, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("valuechain: error: "), (args, result.stderr)
    return result


@settings(max_examples=25, **_SETTINGS)
@given(assignments=set_args)
def test_any_set_arguments_end_in_exit_0_or_2(sandbox, assignments):
    args = [a for key, value in assignments for a in ("--set", f"{key}={value}")]
    result = _ends_cleanly(["run", "base", *args, "-n", "zz_no_such_notebook", "--outputs", sandbox.out])
    assert result.exit_code == 2  # a valid variant is refused for its notebook; nothing runs


@settings(max_examples=15, **_SETTINGS)
@given(args=sweep_args)
def test_any_sweep_arguments_end_in_exit_0_or_2(sandbox, args):
    from valuechain.scenario.schema import MAX_DRAWS, field_bounds

    before = len(sandbox.written)
    result = _ends_cleanly(["sweep", "base", *args, "--outputs", sandbox.out])
    if result.exit_code == 0:  # a sweep that ran evaluated finite values within their keys' bounds, within the cap
        assert "--scheduler" not in args  # every address is refused here
        table = sandbox.written[before]
        assert 1 <= len(table) <= MAX_DRAWS
        for key in (k for k in table.columns if k.startswith("valuation.")):
            low, high = field_bounds(key)
            assert table[key].between(low, high).all(), (args, table[key].tolist())
