"""Model adapters: one module per model source; the registry imports them all on first lookup.

Modules import their framework (timm, transformers, gensim) inside functions, so a
missing optional dependency only matters to the adapter that needs it.
"""
from evalkit.models.base import ModelAdapter

__all__ = ["ModelAdapter"]
