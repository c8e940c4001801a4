import shutil

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from valuechain import config

# Tests that start notebook kernels carry the `notebooks` marker, so `pytest -m "not notebooks"` runs
# the unit layer alone. A test gets it by using a fixture below that exists to run notebooks, by
# living in test_browser.py (all of it drives executed pages), or by its own @pytest.mark.notebooks.
KERNEL_FIXTURES = {"tiny", "executed_outputs"}
KERNEL_MODULES = {"test_browser"}


def pytest_collection_modifyitems(items):
    for item in items:
        module = getattr(getattr(item, "module", None), "__name__", "")
        if KERNEL_FIXTURES & set(getattr(item, "fixturenames", ())) or module in KERNEL_MODULES:
            item.add_marker(pytest.mark.notebooks)


@pytest.fixture(scope="session")
def executed_outputs(tmp_path_factory):
    """The outputs folder of one batch run of every notebook for base and bear, shared by the session.

    Notebooks execute once per test session: every test that checks real executed notebooks reads
    this folder and must not change what the run wrote (publishing the site into it is fine).
    """
    from valuechain import runner

    outputs = tmp_path_factory.mktemp("executed")
    outcomes = runner.run(scenarios=["base", "bear"], outputs=outputs, progress=False, jobs=2)
    assert all(o.status == "ok" for o in outcomes), [o.error for o in outcomes]
    return outputs


@pytest.fixture
def data_copy(tmp_path):
    """A writable copy of the bundled dataset; returns its folder."""
    target = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, target)
    return target


def edit_csv(folder, name, edit):
    """Apply ``edit(frame) -> frame`` to one CSV of a dataset copy (all columns as text)."""
    path = folder / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False)


def write_notebook(path, body, parameters='scenario: str = "base"  # scenario\nmetrics_path: str = ""  # where figures go'):
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
    shutil.copy(config.PARAMS_DIR / "base.yaml", params / "base.yaml")
    (params / "other.yaml").write_text("extends: base\ntitle: Other <b>case</b>\n"
                                       "description: \"<script>alert('x')</script> & more\"\n")
    write_notebook(notebooks / "01_quick.ipynb",
              "from valuechain import params, results\n"
              "sc = params.load_scenario(scenario)\n"
              "results.record({'scenario': sc.name, 'cloud_pass_through': sc.layers['cloud'].pass_through, 'b': 2}, metrics_path)")
    return params, notebooks, outputs


