import shutil

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from valuechain import config


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


