"""Word vectors for the analogy task: readers for the common file formats and the 3CosAdd/3CosMul search."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.vectors.readers import FORMATS, WordVectors, load_vectors


def as_word_vectors(vectors: Any, format: str | None = None, limit: int | None = None) -> WordVectors:
    """A :class:`WordVectors` from a path, a gensim ``KeyedVectors``, a ``(words, matrix)`` pair or itself."""
    if isinstance(vectors, WordVectors):
        return vectors
    if isinstance(vectors, (str, Path)):
        return load_vectors(vectors, format, limit)
    if hasattr(vectors, "index_to_key") and hasattr(vectors, "vectors"):
        return WordVectors.from_keyedvectors(vectors)
    if isinstance(vectors, tuple) and len(vectors) == 2:
        return WordVectors(list(vectors[0]), vectors[1])
    raise InputError(f"cannot read word vectors from a {type(vectors).__name__}", field="vectors")


__all__ = ["FORMATS", "WordVectors", "as_word_vectors", "load_vectors"]
