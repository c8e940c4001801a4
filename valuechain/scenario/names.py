"""Where scenario files are and what a scenario may be called: ``params/<name>.yaml``, a variant in
``params/variants/``, or a path. Reads no YAML and loads no schema, so listing scenarios is quick."""
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
