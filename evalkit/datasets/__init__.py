"""Dataset loaders: one module per data format; the registry imports them all on first lookup."""
from evalkit.datasets.base import Batch, DatasetLoader

__all__ = ["Batch", "DatasetLoader"]
