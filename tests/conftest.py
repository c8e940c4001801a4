import shutil

import pytest

from valuechain import paths

# Tests that start notebook kernels carry the `notebooks` marker, so `pytest -m "not notebooks"` runs
# the unit layer alone. A test gets it by using a fixture below that exists to run notebooks, by
# living in test_browser.py (all of it drives executed pages), or by its own @pytest.mark.notebooks.
KERNEL_FIXTURES = {"tiny", "executed_outputs"}
KERNEL_MODULES = {"test_browser"}
# Unit-test modules that read or render notebooks share one worker: nbformat and nbconvert take about
# four seconds to import, paid by each worker that imports them.
NOTEBOOK_READERS = {"test_hardening", "test_narrative", "test_notebooks", "test_runner", "test_sanitize", "test_site"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        module = getattr(getattr(item, "module", None), "__name__", "")
        if KERNEL_FIXTURES & set(getattr(item, "fixturenames", ())) or module in KERNEL_MODULES:
            item.add_marker(pytest.mark.notebooks)
        # pytest-xdist (--dist loadgroup) gives each group to one worker: every test of the
        # session's executed notebooks to one, so they execute once; each other module to one, so
        # its module fixtures are computed once (the notebook readers together).
        if "executed_outputs" in getattr(item, "fixturenames", ()) or module in KERNEL_MODULES:
            group = "executed_outputs"
        else:
            group = "notebook_readers" if module in NOTEBOOK_READERS else module
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_configure(config):
    # pytest-xdist tells its scheduler an item's group by rewriting Item._nodeid to "id@group". From
    # pytest 9.2 the node id no longer reads _nodeid, so groups vanish without a word and every worker
    # would execute the notebooks; refuse to start instead.
    if config.getoption("dist", "no") == "loadgroup" and "_nodeid" not in pytest.Item.nodeid.fget.__code__.co_names:
        raise pytest.UsageError(f"pytest {pytest.__version__} cannot keep pytest-xdist's test groups (--dist loadgroup); "
                                "install the versions in requirements.lock (make test does), or run with -n 0")


# The bundled dataset and the base scenario's results, computed once per test session. Results are
# frozen records; a test that needs to change one copies it (dataclasses.replace, DataFrame.copy).
@pytest.fixture(scope="session")
def ds():
    from valuechain import load_dataset

    return load_dataset()


@pytest.fixture(scope="session")
def base_scenario():
    from valuechain.scenario.load import load_scenario

    return load_scenario("base")


@pytest.fixture(scope="session")
def base_pool(base_scenario, ds):
    from valuechain.model.profit import profit_pool

    return profit_pool(base_scenario, ds)


@pytest.fixture(scope="session")
def base_gap(base_scenario, ds, base_pool):
    from valuechain.model.demand import demand_gap

    return demand_gap(base_scenario, ds, base_pool)


@pytest.fixture(scope="session")
def base_econ(base_scenario, ds, base_pool, base_gap):
    from valuechain.model import labs

    return labs.analyse(base_scenario, ds, base_pool, base_gap)


@pytest.fixture(scope="session")
def base_inputs(base_scenario, ds):
    from valuechain.model.inputs import build as build_inputs

    return build_inputs(base_scenario, ds)


@pytest.fixture(scope="session")
def executed_outputs(tmp_path_factory):
    """The outputs folder of one batch run of every notebook for every shipped scenario, shared by the session.

    Notebooks execute once per test session: every test that checks real executed notebooks reads
    this folder and must not change what the run wrote (publishing the site into it is fine).
    """
    from valuechain.batch import runner

    outputs = tmp_path_factory.mktemp("executed")
    outcomes = runner.run(scenarios=runner.list_scenarios(), outputs=outputs, progress=False, jobs=2)
    assert all(o.status == "ok" for o in outcomes), [o.error for o in outcomes]
    return outputs


def invoke_cli(*args):
    """``valuechain *args`` in this process (click's runner): its exit code, stdout and stderr.

    Quicker than a subprocess; tests/test_cli.py keeps the checks that run the installed entry point.
    """
    from types import SimpleNamespace

    from click.testing import CliRunner

    from valuechain.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


@pytest.fixture
def data_copy(tmp_path):
    """A writable copy of the bundled dataset; returns its folder."""
    target = tmp_path / "data"
    shutil.copytree(paths.DATA_DIR, target)
    return target


def set_cell(key_column, key, column, value):
    """An ``edit`` for :func:`edit_csv`: set ``column`` to ``value`` in the rows whose ``key_column`` is ``key``."""
    def edit(frame):
        frame.loc[frame[key_column] == key, column] = value
        return frame
    return edit


def edit_csv(folder, name, edit):
    """Apply ``edit(frame) -> frame`` to one CSV of a dataset copy (all columns as text)."""
    path = folder / name
    import pandas as pd  # here, not at the top: the process that hands out tests to workers needs no pandas

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)


def write_notebook(path, body, parameters='scenario: str = "base"  # scenario\nmetrics_path: str = ""  # where figures go'):
    import nbformat  # here, not at the top: it takes over a second to import, and every test worker loads this file
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [new_markdown_cell("# Tiny notebook\n\n## Section one"),
             new_code_cell(parameters, metadata={"tags": ["parameters"]}),
             new_code_cell(body)]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "no-such-kernel", "display_name": "gone", "language": "python"}})
    nbformat.write(nb, str(path))


@pytest.fixture
def tiny(tmp_path):
    """A params folder with two scenarios and a notebooks folder with a quick notebook (saved with a missing kernel)."""
    params, notebooks, outputs = tmp_path / "params", tmp_path / "notebooks", tmp_path / "outputs"
    params.mkdir(), notebooks.mkdir()
    shutil.copy(paths.PARAMS_DIR / "base.yaml", params / "base.yaml")
    (params / "other.yaml").write_text("extends: base\ntitle: Other <b>case</b>\n"
                                       "description: \"<script>alert('x')</script> & more\"\n")
    write_notebook(notebooks / "01_quick.ipynb",
              "from valuechain.report import notebook\n"
              "from valuechain.scenario.load import load_scenario\n"
              "sc = load_scenario(scenario)\n"
              "notebook.record({'scenario': sc.name, 'cloud_pass_through': sc.layers['cloud'].pass_through, 'b': 2}, metrics_path)")
    return params, notebooks, outputs


