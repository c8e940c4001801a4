"""valuechain: who captures the profit in the AI value chain, and is downstream demand
catching up with upstream spending?

The library computes; the notebooks in ``notebooks/`` tell the story. Attributes are imported
on first use, so a command that needs little starts quickly.
"""
__all__ = ["Dataset", "ValuechainError", "load_dataset"]
__version__ = "0.1.0"


def __getattr__(name):
    if name in ("Dataset", "load_dataset"):
        from valuechain.dataset import load

        return getattr(load, name)
    if name == "ValuechainError":
        from valuechain.exceptions import ValuechainError

        return ValuechainError
    raise AttributeError(f"module 'valuechain' has no attribute {name!r}")
