"""Word vectors for the analogy task: readers for the common file formats and the 3CosAdd/3CosMul search."""
from evalkit.vectors.readers import FORMATS, WordVectors, load_vectors

__all__ = ["FORMATS", "WordVectors", "load_vectors"]
