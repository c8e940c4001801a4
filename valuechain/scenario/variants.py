"""Variants written by ``valuechain run <scenario> --set key=value``: the assignments read as YAML,
checked on the base scenario, and recorded as ``params/variants/<name>.yaml`` (``--name``, or
``<base>-set-<hash>``), a file that extends the base, so a variant is rerun, cached and published like
any scenario. Each block a variant changes gets a rationale: ``--why``'s text, or one saying the value
was set on the command line (a changed value needs a rationale, :mod:`valuechain.scenario.rationales`).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from valuechain import paths
from valuechain.exceptions import ParameterError
from valuechain.files import YamlInputError, atomic_write_text, safe_load
from valuechain.scenario import rationales
from valuechain.scenario.load import load_scenario
from valuechain.scenario.names import VARIANTS, check_name, list_scenarios, scenario_path


def parse_assignments(texts) -> dict:
    """``--set key=value`` arguments as a mapping; values are read as YAML (``0.12``, ``[1, 2]``, ``null``).

    A key given twice is refused (which value was meant is not for the tool to guess), and so is a
    value YAML refuses within its bounds (:func:`valuechain.files.safe_load`), such as a recursive alias.
    """
    out = {}
    for text in texts:
        key, sep, value = str(text).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--set {text!r} is not key=value; write e.g. --set demand_gap.break_even.target_return=0.12")
        if key in out:
            raise ParameterError(f"--set {key} is given twice; give each key once")
        try:
            out[key] = safe_load(value)
        except YamlInputError as exc:
            raise ParameterError(f"--set {key}: the value {value[:60]!r} {exc}") from None
        except yaml.YAMLError:
            raise ParameterError(f"--set {key}: the value {value[:60]!r} cannot be read; write a number, text or [list]") from None
    return out


def unread(scenario, key: str) -> str | None:
    """Why no notebook reads the value at dotted ``key`` of ``scenario``; None if one does.

    A value is unread when the schema records it for no calculation (:data:`valuechain.scenario.schema.UNREAD`),
    when it belongs to a company no layer lists, or when it is the twelve months' end of a scenario whose
    headline is a calendar year."""
    from valuechain.scenario.schema import UNREAD

    parts = str(key).split(".")
    for prefix, reason in UNREAD.items():
        if key == prefix or key.startswith(prefix + "."):
            return reason
    listed = {company for layer in scenario.layers.values() for company in layer.companies}
    if parts[0] == "attribution" and len(parts) > 1 and parts[1] not in listed:
        return f"no layer lists {parts[1]}; add it to a layer's companies first"
    if key == "years.ttm_end" and scenario.years.latest != "ttm":
        return "years.latest is calendar_year; set years.latest=ttm too"
    return None


def variant_name(base: str, overrides: dict) -> str:
    """A variant's name: its base and a short hash of its overrides, e.g. ``base-set-1a2b3c4d``."""
    digest = hashlib.sha256(json.dumps(overrides, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{base}-set-{digest}"


def write_variant(base: str, overrides: dict, params_dir: Path | None = None, name: str | None = None,
                  why: str | None = None) -> str:
    """Check ``overrides`` on scenario ``base`` and record them as ``params/variants/<name>.yaml``; return the name.

    The file extends ``base`` and lists the overrides, so the variant is rerun, cached and
    published like any scenario. ``name`` (default :func:`variant_name`) may not be a scenario file's
    in params/; a variant of that name is replaced. Each block the overrides change gets ``why`` as its
    rationale (default: the keys and values set on the command line), unless an override sets it.
    """
    params_dir = params_dir or paths.PARAMS_DIR
    if not scenario_path(base, params_dir).exists():
        raise ParameterError(f"unknown scenario '{base}'; choose from: {', '.join(list_scenarios(params_dir))} (files in params/)")
    if name is not None:
        check_name(name)
        if (params_dir / f"{name}.yaml").exists():
            raise ParameterError(f"--name {name}: params/{name}.yaml is a scenario of that name; choose another name "
                                 f"for the variant")
    if why is not None and not why.strip():
        raise ParameterError("--why is empty; say in a few words why the value differs, or leave --why out")
    scenario = load_scenario(base, overrides, params_dir)  # every override checked before anything is written
    for key in overrides:
        reason = unread(scenario, key)
        if reason:
            raise ParameterError(f"--set {key}: no notebook reads this value ({reason}), so the run would change "
                                 f"nothing; leave it out")
    name = name or variant_name(base, overrides)
    folder = params_dir / VARIANTS
    folder.mkdir(parents=True, exist_ok=True)
    nested: dict = {}
    blocks: dict[tuple, list[str]] = {}
    for key, value in overrides.items():
        parts = tuple(int(part) if part.isdigit() else part for part in key.split("."))
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        block = rationales.owner(parts)
        if block is not None and parts[-1] != rationales.RATIONALE:
            blocks.setdefault(block, []).append(f"{key} = {value}")
    for block, listed in blocks.items():
        node = nested
        for part in block:
            node = node.setdefault(part, {})
        node.setdefault(rationales.RATIONALE, why.strip() if why else
                        f"Set on the command line ('valuechain run {base} --set'): {'; '.join(listed)}.")
    listed = "; ".join(f"{k} = {v}" for k, v in overrides.items())
    base_sc = load_scenario(base, params_dir=params_dir)
    head = {"extends": base, "title": f"{base_sc.title} (variant)",
            "description": f"Variant of {base} with {listed}. {base_sc.description}"}
    text = (f"# Variant of {base} written by 'valuechain run {base} --set ...'; only the overrides differ.\n"
            + yaml.safe_dump({**head, **nested}, sort_keys=False, allow_unicode=True))
    atomic_write_text(folder / f"{name}.yaml", text)
    return name
