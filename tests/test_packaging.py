import os
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

from valuechain import paths


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text())


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = _pyproject()["project"]
    wanted = {_name(r) for r in project["dependencies"]} | {_name(r) for r in project["optional-dependencies"]["test"]}
    env = yaml.safe_load((paths.REPO_ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda | {_name(d) for d in pip_section if d != "-e ."} == wanted
    assert "-e ." in pip_section


def test_lock_pins_every_dependency_exactly():
    project = _pyproject()["project"]
    lock = (paths.REPO_ROOT / "requirements.lock").read_text().splitlines()
    pins = {_name(line): line.split("==")[1] for line in lock if "==" in line}
    for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert _name(requirement) in pins, requirement


def test_bundled_data_ships_with_the_package():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["valuechain.dataset"]
    assert "data/*.csv" in data and "data/*.yaml" in data


def _in_repo(*command, env=None):
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    return subprocess.run(list(command), cwd=paths.REPO_ROOT, capture_output=True, text=True, env=env)


def test_make_lab_allows_root_only_when_run_as_root(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # A copy of the Makefile alone, so that nothing can be built; -o: never remake the environment's stamp.
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(paths.REPO_ROOT / "Makefile", project / "Makefile")
    fake_id = tmp_path / "id"  # stands in for id(1), so the test does not depend on who runs it
    commands = {}
    for uid in ("0", "1000"):
        fake_id.write_text(f"#!/bin/sh\necho {uid}\n")
        fake_id.chmod(0o755)
        env = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        env.pop("MAKELEVEL", None)  # under `make test` a nested make would print its directory
        env.pop("MAKEFLAGS", None)
        proc = subprocess.run(["make", "-n", "--no-print-directory", "-o", ".venv/.installed", "lab"], cwd=project, env=env,
                              capture_output=True, text=True)  # -n: print the command, run nothing
        assert proc.returncode == 0, proc.stderr
        commands[uid] = proc.stdout.split()
    assert commands["0"] == [".venv/bin/jupyter", "lab", "--notebook-dir=notebooks", "--allow-root"]
    assert commands["1000"] == [".venv/bin/jupyter", "lab", "--notebook-dir=notebooks"]
    assert sorted(p.name for p in project.iterdir()) == ["Makefile"]


def test_nbconvert_output_beside_the_notebooks_is_ignored_by_git():
    if not (paths.REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = ["notebooks/01_profit_capture.html", "notebooks/01_profit_capture.nbconvert.ipynb",
               "notebooks/01_profit_capture_files/figure.png"]
    kept = ["notebooks/01_profit_capture.ipynb", "notebooks/05_new_question.ipynb", "valuechain/charts.py"]
    proc = _in_repo("git", "check-ignore", "--no-index", *ignored, *kept)
    assert proc.stdout.split() == ignored
