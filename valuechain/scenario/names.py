"""Where scenario files are and what a scenario may be called: ``params/<name>.yaml``, a variant in
``params/variants/``, or a file in any folder (named by its stem). Reads no YAML and loads no schema, so
listing scenarios is quick."""
from __future__ import annotations

import re
from pathlib import Path

from valuechain import paths
from valuechain.exceptions import ParameterError

SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
VARIANTS = "variants"  # sub-folder of params/ holding the variants written by --set


def scenario_path(name_or_path: str | Path, params_dir: Path | None = None) -> Path:
    """File of a scenario given by name (``base``, or a variant in ``params/variants/``) or by path."""
    params_dir = params_dir or paths.PARAMS_DIR
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")):
        path = Path(text)
        check_name(path.stem)
        return path
    check_name(text)
    variant = params_dir / VARIANTS / f"{text}.yaml"
    return variant if variant.exists() and not (params_dir / f"{text}.yaml").exists() else params_dir / f"{text}.yaml"


def check_name(name: str) -> str:
    """Refuse a scenario name that could escape outputs/ or confuse a shell."""
    if not SCENARIO_NAME.match(name):
        guess = Path(name).name.removesuffix(".yaml").removesuffix(".yml").lower()
        hint = f"; did you mean '{guess}'?" if SCENARIO_NAME.match(guess) else ""
        raise ParameterError(
            f"scenario name {name!r} is not allowed; use lower-case letters, digits, '-' and '_', starting with a letter "
            f"or digit{hint}")
    return name


def list_scenarios(params_dir: Path | None = None) -> list[str]:
    """Names of the scenario files in ``params/`` and of the variants in ``params/variants/``, sorted."""
    params_dir = params_dir or paths.PARAMS_DIR
    return sorted({p.stem for p in (*params_dir.glob("*.yaml"), *(params_dir / VARIANTS).glob("*.yaml"))})


def scenario_argument(text: str | Path, params_dir: Path | None = None) -> tuple[str, Path | None]:
    """A scenario as given on the command line: its name, and its file where that lies outside params/.

    ``base`` (or a variant's name) is a scenario of params/, and so is ``params/base.yaml``: the file is
    None. A file elsewhere (``some/folder/mine.yaml``) is the scenario named by its stem, whose outputs
    go to ``outputs/<stem>/``; a stem that names a scenario of params/ is refused (the two would share
    that folder), and so is a file that does not exist (with a suggestion where a scenario is close).
    """
    params_dir = params_dir or paths.PARAMS_DIR
    text = str(text)
    if not text.endswith((".yaml", ".yml")):
        return check_name(text), None
    path = Path(text).expanduser()
    if not path.is_file():
        if "/" not in text and "\\" not in text:
            check_name(text)  # "base.yaml": did you mean 'base'?
        guess = path.stem.lower()
        hint = f"; did you mean '{guess}'?" if guess in list_scenarios(params_dir) else "; check the path"
        raise ParameterError(f"{text}: scenario file not found{hint}")
    name = check_name(path.stem)
    for known in (params_dir / f"{name}.yaml", params_dir / VARIANTS / f"{name}.yaml"):
        if known.exists() and known.resolve() == path.resolve():
            return name, None
    if name in list_scenarios(params_dir):
        raise ParameterError(f"{text}: its name '{name}' is a scenario's in params/ already, and the two would share "
                             f"outputs/{name}/; rename the file (the name is its stem), e.g. my_{name}.yaml")
    return name, path.resolve()
