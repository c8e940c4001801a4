"""A changed value needs a rationale of its own.

Rationales are stored in the scenario file, in the ``rationale`` key of the block (record) that
holds a value: ``demand_gap.break_even.rationale`` covers ``demand_gap.break_even.target_return``.
A value's block is the innermost record around it that has a ``rationale`` field (:func:`owner`);
every record of the schema has one, and a prior carries its own. The pages show that rationale
beside the value, so a scenario that changes a value from the scenario it extends (or, for a file
that extends nothing, from ``base``) must say why in that block, in words of its own: an empty
rationale, or one left as the other scenario wrote it, is refused (:func:`check`). A YAML comment
is not a rationale: no page can show it.

The overrides of ``--set`` and of a notebook's ``overrides`` parameter get a rationale written for
them (:func:`stamp`), so base's reasons never stand beside a value they do not explain.
"""
from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel

from valuechain.exceptions import ParameterError
from valuechain.scenario.schema import Scenario

RATIONALE = "rationale"
NOT_VALUES = {"name", "title", "description", "extends"}  # top-level keys that are text about the scenario, not values
WHOLE = (("uncertainty", "priors"),)  # mappings whose entries are one value each (a prior is one distribution)


def owner(parts: tuple) -> tuple | None:
    """Key path of the block whose ``rationale`` covers the value at ``parts``: the innermost record
    around it (or the value itself, a prior) with a ``rationale`` field; None for a top-level key."""
    annotation, found = Scenario, None
    for i in range(len(parts) + 1):
        record = _record(annotation)
        if record is not None and RATIONALE in record.model_fields:
            found = tuple(parts[:i])
        if i == len(parts):
            break
        if record is not None:
            field = record.model_fields.get(str(parts[i]))
            if field is None:
                break
            annotation = field.annotation
        else:
            annotation = _dict_value(annotation)
            if annotation is None:
                break
    return found


def changes(raw: dict, reference: dict) -> list[tuple[tuple, object, object]]:
    """The values of ``raw`` (a resolved scenario file) that differ from ``reference``'s: (key path, old, new),
    old :data:`NOT_SET` where the reference has no such value. Rationales and the scenario's texts are left out."""
    out = []
    for parts, value in _leaves(raw):
        if parts[-1] == RATIONALE or parts[0] in NOT_VALUES:
            continue
        old = _get(reference, parts)
        if old is _MISSING or old != value:
            out.append((parts, old, value))
    return out


def check(path: Path, raw: dict, reference: dict, reference_name: str) -> None:
    """Refuse ``raw`` (the scenario file at ``path``, resolved) if it changes a value of ``reference``
    (the scenario ``reference_name``, resolved) without a rationale of its own in the value's block.

    One :class:`ParameterError` with one line per block that lacks one, naming the file, the first key
    changed there and the fix; its message is the first line.
    """
    found: dict[tuple, list] = {}  # block -> [first key changed there, old, new, keys changed, rationale there]
    for parts, old, new in changes(raw, reference):
        block = owner(parts)
        if block is None:
            continue
        if block in found:
            found[block][3] += 1
            continue
        found[block] = [parts, old, new, 1, _text(_get(raw, (*block, RATIONALE)))]
    lines = []
    for block, (parts, old, new, count, mine) in found.items():
        if mine and mine != _text(_get(reference, (*block, RATIONALE))):
            continue
        key = ".".join(map(str, parts)) + (f"' (and {count - 1} more in its block)" if count > 1 else "'")
        where = ".".join(map(str, (*block, RATIONALE)))
        lacks = "its block has no rationale" if not mine else f"'{where}' is still {reference_name}'s"
        lines.append(f"{path}: key '{key} changes {reference_name}'s value ({_show(old)} -> {_show(new)}) but {lacks}; "
                     f"write why as '{where}' in this file (a YAML comment does not count: no page shows it)")
    if lines:
        extra = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
        raise ParameterError(lines[0] + extra, lines)


def stamp(raw: dict, before: dict, note: str) -> dict:
    """``raw`` (``before`` with overrides applied) with ``note`` as the rationale of every block whose
    values the overrides changed, unless the overrides wrote that block's rationale themselves."""
    blocks = {}
    for parts, _, new in changes(raw, before):
        block = owner(parts)
        if block is not None:
            blocks.setdefault(block, []).append(f"{'.'.join(map(str, parts))} = {_show(new)}")
    for block, listed in blocks.items():
        node = raw
        for part in block:
            node = node[part]
        if _get(raw, (*block, RATIONALE)) == _get(before, (*block, RATIONALE)):
            node[RATIONALE] = f"{note}: {'; '.join(listed)}."
    return raw


_MISSING = object()
NOT_SET = _MISSING  # the old value of a key the reference does not have


def _get(data, parts):
    for part in parts:
        if not isinstance(data, dict):
            return _MISSING
        if part in data:
            data = data[part]
        elif isinstance(part, str) and part.isdigit() and int(part) in data:
            data = data[int(part)]
        elif isinstance(part, int) and str(part) in data:
            data = data[str(part)]
        else:
            return _MISSING
    return data


def _text(value) -> str:
    return "" if value is _MISSING or value is None else str(value).strip()


def _leaves(data, prefix: tuple = ()):
    """(key path, value) of every leaf; an empty mapping, a list and an entry of a :data:`WHOLE` mapping are leaves."""
    if isinstance(data, dict) and data and prefix[:-1] not in WHOLE:
        for key, value in data.items():
            yield from _leaves(value, (*prefix, key))
    else:
        yield prefix, data


def _show(value) -> str:
    """A value in a few words: a number as written, none, not set, a prior by its parts but the rationale."""
    if value is _MISSING:
        return "not set"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        text = ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if k != RATIONALE)
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _alternatives(annotation) -> list:
    if typing.get_origin(annotation) is Annotated:
        return _alternatives(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(annotation) for alt in _alternatives(arg)]
    return [annotation]


def _record(annotation):
    return next((a for a in _alternatives(annotation) if isinstance(a, type) and issubclass(a, BaseModel)), None)


def _dict_value(annotation):
    return next((typing.get_args(a)[1] for a in _alternatives(annotation) if typing.get_origin(a) is dict), None)
