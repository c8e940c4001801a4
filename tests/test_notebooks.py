import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from valuechain import paths, load_dataset
from valuechain.model import results
from valuechain.publish import outputs
from valuechain.report import notebook
from valuechain.scenario.load import load_scenario
from valuechain.model.profit import profit_pool

def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in paths.NOTEBOOKS_DIR.glob("*.ipynb"):
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
    pool = profit_pool(load_scenario(scenario), load_dataset())
    expected = json.loads(notebook.to_json(pool.summary()))
    recorded = json.loads((folder / "01_profit_capture.json").read_text())
    assert notebook.figures_only(recorded) == expected
    assert outputs.collect(folder / "01_profit_capture.ipynb") == recorded
    assert expected["scenario"] == scenario
    # the headline declarations travel with the figures, for the site's comparison and the exports
    assert recorded[notebook.HEADLINES_KEY] == [h.declaration() for h in pool.headlines()]
    assert recorded[notebook.SOURCES_KEY] == list(pool.sources)


def _readme_papermill_example() -> str:
    readme = (paths.REPO_ROOT / "README.md").read_text()
    found = re.search(r"```bash\n(\.venv/bin/papermill --help-notebook .*?)```", readme, re.S)
    assert found, "the README's papermill example is gone"
    return found.group(1)


@pytest.mark.notebooks
def test_the_readme_papermill_example_writes_to_its_own_folder(tmp_path):
    example = _readme_papermill_example()
    assert "outputs/" not in example  # outputs/ belongs to `valuechain run` and its lock
    shutil.copytree(paths.NOTEBOOKS_DIR, tmp_path / "notebooks")
    before = sorted(p.name for p in (tmp_path / "notebooks").iterdir())
    env = dict(os.environ, PWD=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(paths.REPO_ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", example.replace(".venv/bin/papermill", f"{sys.executable} -m papermill")],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "metrics_path: str" in proc.stdout and "scenario: str" in proc.stdout  # --help-notebook
    expected = json.loads(notebook.to_json(profit_pool(load_scenario("bear"), load_dataset()).summary()))
    recorded = json.loads((tmp_path / "my_runs" / "bear" / "01_profit_capture.json").read_text())
    assert notebook.figures_only(recorded) == expected
    assert outputs.collect(tmp_path / "my_runs" / "bear" / "01_profit_capture.ipynb") == recorded
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == before  # nothing written beside the notebooks
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_runs", "notebooks"]


def test_record_is_byte_stable(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    notebook.record({"b": 1.0, "a": float("nan"), "c": {"z": 1, "y": 2}}, a)
    notebook.record({"c": {"y": 2, "z": 1}, "a": float("nan"), "b": 1.0}, b)
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(a.read_text()) == {"a": None, "b": 1.0, "c": {"y": 2, "z": 1}}


def test_record_refuses_a_headline_it_does_not_record(tmp_path):
    from valuechain.exceptions import HeadlineError

    declared = [results.Headline("chips_share", "Chips share", "share", "2025", 1.1)]
    with pytest.raises(HeadlineError, match="chips_share"):
        notebook.record({"chips_profit_share": 1.1}, tmp_path / "a.json", headlines=declared)
    assert not (tmp_path / "a.json").exists()
    notebook.record({"chips_share": 1.1}, tmp_path / "b.json", headlines=declared, sources=["x", "x", "y"])
    recorded = json.loads((tmp_path / "b.json").read_text())
    assert recorded["headlines"][0]["label"] == "Chips share" and recorded["sources"] == ["x", "y"]


@pytest.mark.parametrize("scenario", ["base", pytest.param("bear", marks=pytest.mark.notebooks)])  # bear: slow layer
def test_every_result_declares_headlines_it_records(scenario, request):
    from valuechain.model import demand, labs, uncertainty, valuation

    ds = request.getfixturevalue("ds")
    if scenario == "base":
        sc, pool, gap, econ = (request.getfixturevalue(f) for f in ("base_scenario", "base_pool", "base_gap", "base_econ"))
    else:
        sc = load_scenario(scenario)
        pool = profit_pool(sc, ds)
        gap = demand.demand_gap(sc, ds, pool)
        econ = labs.analyse(sc, ds, pool, gap)
    val = valuation.analyse(sc, ds, pool)
    drawn = uncertainty.analyse(load_scenario(scenario, {"uncertainty": {"sobol_samples": 64}}), ds, n=200)
    for summary, heads in ((pool.summary(), pool.headlines()), (gap.summary(), gap.headlines()),
                           (econ.summary(), econ.headlines()), (val.summary(), val.headlines()),
                           (drawn.summary(), drawn.headlines())):
        keys = [h.key for h in heads]
        assert len(set(keys)) == len(keys) and set(keys) <= set(summary)
        assert all(h.label and h.unit and h.period for h in heads)
        assert any(not h.detail for h in heads)
    chips = next(h for h in pool.headlines() if h.key == "chips_profit_share")
    labs_share = next(h for h in pool.headlines() if h.key == "labs_profit_share")
    assert chips.value > 1 and "labs" in chips.note and "100%" in chips.note
    assert labs_share.value < 0 and "lost money" in labs_share.note
