"""Loading a scenario: ``params/<name>.yaml`` (or a path, or a variant in ``params/variants/``) read,
its ``extends`` resolved, overrides applied, validated against the schema and checked against
the dataset's companies and metrics.

A scenario may ``extends:`` another and override only what differs; mappings are merged
key by key, anything else (numbers, lists) is replaced, and so is a prior under
``uncertainty.priors`` (it is one distribution). Every refusal is a :class:`ParameterError`
naming the file, the key path and the fix.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from valuechain import nested, paths
from valuechain.exceptions import ParameterError
from valuechain.dataset.names import reference_names as bundled_reference_names
from valuechain.files import YamlInputError, read_yaml
from valuechain.scenario import rationales
from valuechain.scenario.messages import check_references, parameter_error
from valuechain.scenario.names import VARIANTS, check_name, list_scenarios, scenario_path
from valuechain.scenario.schema import Scenario, closest_key

if TYPE_CHECKING:
    from valuechain.dataset.load import Dataset

def load_scenario(name_or_path: str | Path, overrides: dict | None = None, params_dir: Path | None = None,
                  dataset: Dataset | None = None) -> Scenario:
    """Load, resolve ``extends`` and validate a scenario.

    ``overrides`` is merged over the file: a nested mapping, or dotted keys
    (``{"valuation.discount_rate": 0.3}``, as ``--set`` and the notebooks' ``overrides`` give them),
    each checked against the scenario's keys (:func:`apply_overrides`).
    Every company and metric the scenario names must be one of ``dataset`` (default: the bundled
    dataset, :func:`valuechain.dataset.load.load_dataset`): pass the dataset the scenario will be
    run on.
    """
    path = scenario_path(name_or_path, params_dir)
    parents: list = []
    raw = _resolve(path, chain=(), params_dir=params_dir or paths.PARAMS_DIR, parents=parents)
    raw.pop("extends", None)
    written = copy.deepcopy(raw)
    blocks = {k: v for k, v in (overrides or {}).items() if "." not in str(k) and isinstance(v, dict)}
    dotted = {k: v for k, v in (overrides or {}).items() if k not in blocks}
    if blocks:
        raw = _merge(raw, blocks)
    if dotted:
        raw = apply_overrides(path, raw, dotted)
    if overrides:
        raw = rationales.stamp(copy.deepcopy(raw), written, f"Set as an override of {path.stem}")
    raw["name"] = path.stem
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise parameter_error(path, exc) from None
    check_references(path, scenario, *reference_names(dataset))
    reference = parents[0] if parents else _base_of(path, params_dir or paths.PARAMS_DIR)
    if reference is not None:
        rationales.check(path, written, *reference)
    return scenario


def _base_of(path: Path, params_dir: Path) -> tuple[dict, str] | None:
    """``base`` resolved, and its name, for the scenario file at ``path`` that extends nothing (where found
    as ``extends: base`` would find it): what its values are compared with. None for base itself."""
    base_path = _parent_path(path, BASE, params_dir)
    if base_path is None or base_path.resolve() == path.resolve():
        return None
    return _resolve(base_path, (), params_dir), BASE


def reference_names(dataset: Dataset | None = None) -> tuple[set[str], set[str]]:
    """Company ids and metric names a scenario may name: those of ``dataset`` (default: the bundled one,
    read from its two files alone, :func:`valuechain.dataset.names.reference_names`)."""
    if dataset is None:
        found = bundled_reference_names()
        if found is not None:
            return found
        # Imported here: naming or listing scenarios needs no pandas; a file that cannot be read is
        # reported by the loader, in one line naming the file and the fix.
        from valuechain.dataset.load import load_dataset

        dataset = load_dataset()
    return set(dataset.companies["company_id"]), set(dataset.metrics)


def apply_overrides(path: Path, raw: dict, dotted: dict) -> dict:
    """``raw`` (a resolved scenario file) with each dotted key of ``dotted`` set to its value.

    A key must name a value the scenario has (or a new year in a mapping by year); an unknown key is
    a :class:`ParameterError` suggesting the closest valid key. The title and description say the
    scenario is a variant and list the overrides, so every page shows them.
    """
    try:
        valid = settable_keys(Scenario.model_validate({**raw, "name": path.stem}))
    except ValidationError as exc:
        raise parameter_error(path, exc) from None
    out = copy.deepcopy(raw)
    for key, value in dotted.items():
        if str(key) == PRIORS or str(key).startswith(PRIORS + "."):
            raise ParameterError(f"{path}: override '{key}': a prior cannot be set by a dotted key (its name holds dots); "
                                 f"edit uncertainty.priors in a scenario file that extends {path.stem}")
        parts = str(key).split(".")
        parent = ".".join(parts[:-1])
        new_year = parts[-1].isdigit() and any(k.startswith(parent + ".") and k[len(parent) + 1:].isdigit() for k in valid)
        if key not in valid and not new_year:
            raise ParameterError(f"{path}: override '{key}' names no value of the scenario; {closest_key(key, valid)}")
        node = out
        for part in parts[:-1]:
            part = _existing_key(node, part)
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[_existing_key(node, parts[-1])] = value
    listed = "; ".join(f"{k} = {v}" for k, v in dotted.items())
    out["title"] = f"{out.get('title', path.stem)} (variant)"
    out["description"] = f"Variant of {path.stem} with {listed}. {out.get('description', '')}".strip()
    return out


def settable_keys(scenario: Scenario) -> set[str]:
    """The dotted keys an override (``--set``, a notebook's ``overrides``) may set.

    A prior is one distribution keyed by a dotted key of its own: its parts (``dist``,
    ``rationale``, ...) are not values a dotted key can reach, so they are neither valid nor suggested.
    """
    return {k for k in nested.dotted(scenario.model_dump(mode="json")) if not k.startswith(PRIORS + ".")}


def _existing_key(node: dict, part: str):
    """``part`` as the mapping spells it: YAML reads a year as a number, a dotted key gives text."""
    if part.isdigit() and int(part) in node:
        return int(part)
    return int(part) if part.isdigit() and any(isinstance(k, int) for k in node) else part


def injected_parameters(history) -> set[str]:
    """Names papermill assigned in a notebook's injected-parameters cell, read from the kernel's input history."""
    import ast

    names: set[str] = set()
    for source in history or ():
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            names |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    return names


def notebook_scenario(namespace: dict, *declared: str, dataset: Dataset | None = None) -> Scenario:
    """The scenario a notebook's parameters ask for: ``scenario`` with ``overrides`` applied, checked
    against ``dataset`` (the notebook's; default: the bundled one).

    A parameter papermill injected that the notebook does not declare (``-p discount_rate 0.3``)
    is an error, not papermill's warning: it names the scenario key to set through ``overrides``.
    """
    stray = sorted(injected_parameters(namespace.get("_ih") or namespace.get("In")) - set(declared))
    if stray:
        name = stray[0]
        base = load_scenario(namespace["scenario"], dataset=dataset)
        hint = closest_key(name, settable_keys(base))
        key = hint.split("'")[1] if "'" in hint else "<dotted.key>"
        raise ParameterError(f"parameter '{name}' is not a parameter of this notebook (it takes {', '.join(declared)}); "
                             f"to change a scenario value pass overrides, e.g. -y '{{overrides: {{{key}: ...}}}}'")
    return load_scenario(namespace["scenario"], namespace.get("overrides") or None, dataset=dataset)


def _read_yaml(path: Path, params_dir: Path | None = None) -> dict:
    if not path.exists():
        raise ParameterError(f"{path}: scenario file not found; check the name or create it in params/")
    _check_contained(path, params_dir)
    try:
        data = read_yaml(path)
    except YamlInputError as exc:
        raise ParameterError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParameterError(f"{path}: YAML syntax error{where}: {problem}; fix the syntax") from None
    except OSError as exc:
        raise ParameterError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}); "
                             f"check that it exists and you may read it") from None
    if data is None:
        raise ParameterError(f"{path}: the file is empty; write the scenario's keys or 'extends: base' with overrides")
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def _check_contained(path: Path, params_dir: Path | None = None) -> None:
    """Refuse a file in a scenarios folder (or its variants) that is a link to a file outside that folder:
    a link to a device or a system file must not be read, nor its lines shown in messages."""
    where = path.parent.resolve()
    for folder in {Path(params_dir or paths.PARAMS_DIR).resolve(), paths.PARAMS_DIR.resolve()}:
        if where in (folder, folder / VARIANTS) and not path.resolve().is_relative_to(folder):
            raise ParameterError(f"{path}: is a link to a file outside {folder}; a scenario in that folder must be a "
                                 f"file there (copy the file in instead of linking to it)")


def _resolve(path: Path, chain: tuple[Path, ...], params_dir: Path | None = None, parents: list | None = None) -> dict:
    """The scenario file at ``path`` merged over what it extends; ``parents`` (a list) receives what it
    extends, resolved, and its name."""
    if path.resolve() in chain:
        cycle = " -> ".join(p.stem for p in (*chain, path.resolve()))
        raise ParameterError(f"{chain[0]}: key 'extends' forms a cycle ({cycle}); remove one of the extends")
    data = _read_yaml(path, params_dir)
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ParameterError(f"{path}: key 'extends' must be a scenario name, got {parent!r}")
    try:
        check_name(parent)
    except ParameterError:
        raise ParameterError(f"{path}: key 'extends' names {parent!r}, which is not a scenario name; "
                             f"use the stem of a file in params/, e.g. 'base'") from None
    parent_path = _parent_path(path, parent, params_dir)
    if parent_path is None:
        folders = _parent_folders(path, params_dir)
        choices = ", ".join(sorted({n for folder in folders for n in list_scenarios(folder)})) or "none"
        raise ParameterError(f"{path}: key 'extends' names '{parent}', which does not exist; looked for {parent}.yaml in "
                             f"{' and '.join(map(str, folders))}; use one of: {choices}")
    resolved = _resolve(parent_path, (*chain, path.resolve()), params_dir)
    resolved.pop("extends", None)
    if parents is not None:
        parents.append((resolved, parent))
    return _merge(resolved, data)


def _parent_folders(path: Path, params_dir: Path | None) -> list[Path]:
    """Where ``extends`` looks: the file's own folder first (a family of scenarios kept together), then the
    scenarios folder given, then the project's params/."""
    return list(dict.fromkeys(p.resolve() for p in (path.parent, params_dir or paths.PARAMS_DIR, paths.PARAMS_DIR)))


def _parent_path(path: Path, parent: str, params_dir: Path | None) -> Path | None:
    """The file ``extends: <parent>`` names from the scenario file at ``path``; None where there is none."""
    return next((folder / f"{parent}.yaml" for folder in _parent_folders(path, params_dir)
                 if (folder / f"{parent}.yaml").exists()), None)


BASE = "base"  # what a scenario file that extends nothing is compared with
PRIORS = "uncertainty.priors"
WHOLE = (("uncertainty", "priors"),)  # mappings whose entries an override replaces whole (a prior is one distribution)


def _merge(base: dict, override: dict, path: tuple = ()) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and path not in WHOLE:
            merged[key] = _merge(merged[key], value, (*path, key))
        else:
            merged[key] = value
    return merged
