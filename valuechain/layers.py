"""The layers of the AI value chain, spelled once.

Every other list of layers derives from :data:`LAYERS`: the dataset's ``known_layer`` rule,
the scenario schema's :data:`LayerName`, the chain order the profit model walks and the
charts' colours.
"""
from __future__ import annotations

from typing import Literal

LAYERS: tuple[str, ...] = ("chips", "servers", "cloud", "labs", "apps")  # upstream -> downstream
CHAIN_ORDER: tuple[str, ...] = tuple(reversed(LAYERS))  # downstream -> upstream: the way a dollar of end-user spend flows
LayerName = Literal[LAYERS]  # a typing.Literal of the names above, for the scenario schema
