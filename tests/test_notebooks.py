import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from valuechain import config, load_dataset, results
from valuechain.params import load_scenario
from valuechain.profit import profit_pool

def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in config.NOTEBOOKS_DIR.glob("*.ipynb"):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        for line in tagged[0].source.splitlines():
            assert ":" in line and "#" in line and "=" in line, f"{path.name}: '{line}' needs a type annotation and a comment"


@pytest.mark.parametrize("scenario", ["base", "bear"])
def test_profit_notebook_records_what_the_library_returns(executed_outputs, scenario):
    folder = executed_outputs / scenario
    expected = json.loads(results.to_json(profit_pool(load_scenario(scenario), load_dataset()).summary()))
    assert json.loads((folder / "01_profit_capture.json").read_text()) == expected
    assert results.collect(folder / "01_profit_capture.ipynb") == expected
    assert expected["scenario"] == scenario


def _readme_papermill_example() -> str:
    readme = (config.REPO_ROOT / "README.md").read_text()
    found = re.search(r"```bash\n(\.venv/bin/papermill --help-notebook .*?)```", readme, re.S)
    assert found, "the README's papermill example is gone"
    return found.group(1)


@pytest.mark.notebooks
def test_the_readme_papermill_example_writes_to_its_own_folder(tmp_path):
    example = _readme_papermill_example()
    assert "outputs/" not in example  # outputs/ belongs to `valuechain run` and its lock
    shutil.copytree(config.NOTEBOOKS_DIR, tmp_path / "notebooks")
    before = sorted(p.name for p in (tmp_path / "notebooks").iterdir())
    env = dict(os.environ, PWD=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(config.REPO_ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", example.replace(".venv/bin/papermill", f"{sys.executable} -m papermill")],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "metrics_path: str" in proc.stdout and "scenario: str" in proc.stdout  # --help-notebook
    expected = json.loads(results.to_json(profit_pool(load_scenario("bear"), load_dataset()).summary()))
    assert json.loads((tmp_path / "my_runs" / "bear" / "01_profit_capture.json").read_text()) == expected
    assert results.collect(tmp_path / "my_runs" / "bear" / "01_profit_capture.ipynb") == expected
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == before  # nothing written beside the notebooks
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_runs", "notebooks"]


def test_record_is_byte_stable(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    results.record({"b": 1.0, "a": float("nan"), "c": {"z": 1, "y": 2}}, a)
    results.record({"c": {"y": 2, "z": 1}, "a": float("nan"), "b": 1.0}, b)
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(a.read_text()) == {"a": None, "b": 1.0, "c": {"y": 2, "z": 1}}
