import re
import tomllib

import yaml

from valuechain import config


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((config.REPO_ROOT / "pyproject.toml").read_text())


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = _pyproject()["project"]
    wanted = {_name(r) for r in project["dependencies"]} | {_name(r) for r in project["optional-dependencies"]["test"]}
    env = yaml.safe_load((config.REPO_ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda == wanted
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section


def test_lock_pins_every_dependency_exactly():
    project = _pyproject()["project"]
    lock = (config.REPO_ROOT / "requirements.lock").read_text().splitlines()
    pins = {_name(line): line.split("==")[1] for line in lock if "==" in line}
    for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert _name(requirement) in pins, requirement


def test_bundled_data_ships_with_the_package():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["valuechain"]
    assert "data/*.csv" in data and "data/*.yaml" in data
