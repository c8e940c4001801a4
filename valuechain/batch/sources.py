"""Scenario files from outside params/ that runs wrote into an outputs folder.

``valuechain run some/folder/mine.yaml`` writes to ``outputs/mine/`` and records ``mine`` -> the file's
absolute path in ``<outputs>/.sources.json``, so later runs (``valuechain run mine``), the site and
``valuechain clean`` know the scenario as they know those of params/. An entry whose file is gone, or
whose name a file in params/ has taken since, is left out; ``clean`` then removes its outputs.
"""
from __future__ import annotations

import json
from pathlib import Path

from valuechain import paths
from valuechain.files import atomic_write_text
from valuechain.publish import outputs as outputs_reader
from valuechain.scenario.names import SCENARIO_NAME, list_scenarios

NAME = ".sources.json"


def read(outputs: Path | None = None, params_dir: Path | None = None) -> dict[str, Path]:
    """The recorded scenario files of ``outputs`` (default: outputs/) that still exist, by name.

    The record is read as untrusted data: an entry that is not a scenario name and an absolute path
    to a ``.yaml`` file is left out."""
    data = outputs_reader.read_mapping(Path(outputs or paths.OUTPUTS_DIR) / NAME)
    taken = set(list_scenarios(params_dir))
    found = {}
    entries = data.get("scenarios")
    for name, text in entries.items() if isinstance(entries, dict) else ():
        if not (isinstance(name, str) and SCENARIO_NAME.match(name) and isinstance(text, str)) or name in taken:
            continue
        path = Path(text)
        if path.is_absolute() and path.suffix in (".yaml", ".yml") and path.stem == name and path.is_file():
            found[name] = path
    return found


def record(outputs: Path, sources: dict[str, Path]) -> None:
    """Add ``sources`` (name -> scenario file outside params/) to the record of ``outputs``; call it under the lock."""
    if not sources:
        return
    path = Path(outputs) / NAME
    data = outputs_reader.read_mapping(path)
    known = data.get("scenarios") if isinstance(data.get("scenarios"), dict) else {}
    merged = {**known, **{name: str(Path(file).resolve()) for name, file in sources.items()}}
    if merged != known:
        atomic_write_text(path, json.dumps({"scenarios": merged}, indent=2, sort_keys=True) + "\n")


def current(outputs: Path | None = None, params_dir: Path | None = None) -> list[str]:
    """The scenarios that exist now for ``outputs``: those of params/ and the recorded files that remain, sorted."""
    return sorted(set(list_scenarios(params_dir)) | set(read(outputs, params_dir)))
