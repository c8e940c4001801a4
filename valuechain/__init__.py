"""valuechain: who captures the profit in the AI value chain, and is downstream demand
catching up with upstream spending?

The library computes; the notebooks in ``notebooks/`` tell the story.
"""
from valuechain.dataset import Dataset, load_dataset
from valuechain.exceptions import ValuechainError

__all__ = ["Dataset", "ValuechainError", "load_dataset"]
__version__ = "0.1.0"
