"""Reading YAML: libyaml's safe loader when it is installed (about ten times faster than the pure
Python one), with the same safe constructors either way."""
from __future__ import annotations

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    """The content of a YAML document, built only from plain types (as :func:`yaml.safe_load`)."""
    return yaml.load(text, Loader=SAFE_LOADER)
