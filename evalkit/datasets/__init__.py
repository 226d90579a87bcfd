"""Dataset loaders: one module per data format; importing this package registers them all."""
from evalkit._autoload import import_submodules
from evalkit.datasets.base import Batch, DatasetLoader

import_submodules(__name__, __path__)

__all__ = ["Batch", "DatasetLoader"]
