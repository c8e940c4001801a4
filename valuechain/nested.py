"""Key paths of nested mappings (a resolved scenario, a notebook's parameters): the one walk that
the scenario's override keys, the parameters' page, the comparison and the workbook read."""
from __future__ import annotations

from typing import Callable


def leaves(data, whole: Callable[[dict], bool] | None = None, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    """Key path -> value of every leaf of ``data``, in the mapping's order.

    A leaf is a value that is not a mapping, an empty mapping, or a mapping ``whole`` keeps whole
    (say, one keyed by year). ``data`` itself, when it is not a mapping, is the leaf of the empty path.
    """
    if not isinstance(data, dict) or (prefix and (not data or (whole is not None and whole(data)))):
        return {prefix: data}
    out: dict[tuple[str, ...], object] = {}
    for key, value in data.items():
        out.update(leaves(value, whole, (*prefix, str(key))))
    return out


def dotted(data, whole: Callable[[dict], bool] | None = None) -> dict[str, object]:
    """:func:`leaves` with each path written as a dotted key (``layers.cloud.pass_through``)."""
    return {".".join(path): value for path, value in leaves(data, whole).items()}
