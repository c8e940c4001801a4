import json

import papermill as pm
import pytest

from valuechain import config, load_dataset, results
from valuechain.params import load_scenario
from valuechain.profit import profit_pool

NB01 = config.NOTEBOOKS_DIR / "01_profit_capture.ipynb"


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
def test_profit_notebook_records_what_the_library_returns(tmp_path, scenario):
    out = tmp_path / f"01_{scenario}.ipynb"
    metrics = tmp_path / "metrics.json"
    pm.execute_notebook(str(NB01), str(out), parameters={"scenario": scenario, "metrics_path": str(metrics)},
                        cwd=str(config.NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3")
    expected = json.loads(results.to_json(profit_pool(load_scenario(scenario), load_dataset()).summary()))
    assert json.loads(metrics.read_text()) == expected
    assert results.collect(out) == expected
    assert expected["scenario"] == scenario


def test_record_is_byte_stable(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    results.record({"b": 1.0, "a": float("nan"), "c": {"z": 1, "y": 2}}, a)
    results.record({"c": {"y": 2, "z": 1}, "a": float("nan"), "b": 1.0}, b)
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(a.read_text()) == {"a": None, "b": 1.0, "c": {"y": 2, "z": 1}}
