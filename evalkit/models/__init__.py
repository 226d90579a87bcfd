"""Model adapters: one module per model source; importing this package registers them all.

Modules import their framework (timm, transformers, gensim) inside functions, so a
missing optional dependency only matters to the adapter that needs it.
"""
from evalkit._autoload import import_submodules
from evalkit.models.base import ModelAdapter

import_submodules(__name__, __path__)

__all__ = ["ModelAdapter"]
