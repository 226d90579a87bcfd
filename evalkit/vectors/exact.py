"""Gensim's analogy arithmetic reproduced operation by operation, in its float32/float64 mix.

``KeyedVectors.evaluate_word_analogies`` scores one question at a time with a
matrix-vector product over the vocabulary. The fast engine only uses this module
to (a) build each question's query vector bit for bit as gensim builds it and
(b) settle the rare questions whose top candidates are too close to order
without gensim's exact float32 values (then this module recomputes them the way
gensim does, ties broken by the same numpy partial sort).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np

#: how many candidates gensim ranks: ``topn=5`` plus the three question words
RANKED = 8
#: answers gensim keeps after dropping the question words
KEPT = 5
#: the epsilon of gensim's 3CosMul denominator, as the float32 it becomes
COSMUL_EPS = np.float32(0.000001)


@lru_cache(maxsize=1)
def _dnrm2() -> Any:
    from scipy.linalg.blas import get_blas_funcs

    return get_blas_funcs("nrm2", (np.zeros(1, dtype=np.float64),))


def unit_rows(matrix: np.ndarray, norms: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``vectors[i] / norms[i]`` in float32, gensim's ``get_vector(norm=True)``."""
    return matrix[rows] / norms[rows][:, None]


def cosadd_queries(matrix: np.ndarray, norms: np.ndarray, a: np.ndarray, b: np.ndarray,
                   c: np.ndarray) -> np.ndarray:
    """Unit mean of ``b + c - a`` as gensim's ``get_mean_vector`` computes it (float32 result).

    Accumulated in a float32 buffer from float64 products, divided by the float64 total weight,
    scaled by BLAS ``dnrm2`` (the norm gensim's ``unitvec`` uses) and rounded to float32.
    """
    mean = np.zeros((len(a), matrix.shape[1]), dtype=np.float32)
    for weight, rows in ((1.0, b), (1.0, c), (-1.0, a)):
        mean += np.float64(weight) * unit_rows(matrix, norms, rows)
    mean64 = mean / np.float64(3.0)
    nrm2 = _dnrm2()
    lengths = np.array([nrm2(row) for row in mean64], dtype=np.float64)
    scale = np.ones_like(lengths)
    positive = lengths > 0.0
    scale[positive] = 1.0 / lengths[positive]
    return (mean64 * scale[:, None]).astype(np.float32)


def exact_scores(matrix: np.ndarray, norms: np.ndarray, method: str, query: np.ndarray) -> np.ndarray:
    """Gensim's float32 scores of every row for one question.

    ``query`` is the 3CosAdd mean (D,) or, for 3CosMul, the unit rows of (b, c, a) (3, D).
    """
    if method == "3cosadd":
        return np.dot(matrix, query) / norms
    pos = [(1 + np.dot(matrix, term) / norms) / 2 for term in query[:2]]
    neg = [(1 + np.dot(matrix, query[2]) / norms) / 2]
    return np.prod(pos, axis=0) / (np.prod(neg, axis=0) + COSMUL_EPS)


def ranked(scores: np.ndarray) -> np.ndarray:
    """The ``RANKED`` best rows, best first, with ties broken as gensim's ``matutils.argsort``."""
    negated = -scores
    if RANKED >= negated.size:
        return np.argsort(negated)[:RANKED]
    top = np.argpartition(negated, RANKED)[:RANKED]
    return top.take(np.argsort(negated.take(top)))


def choose(order: Sequence[int], question_rows: Sequence[int], ignore: set[str],
           keys: Sequence[str]) -> tuple[int | None, int]:
    """Gensim's answer among ``order`` (rows best first) and how many leading rows decided it.

    Question rows are dropped, ``KEPT`` answers remain, and the first whose key is not a
    question word wins; when every kept answer is a case variant of a question word,
    gensim leaves the last one as its prediction (and None when nothing is left).
    """
    kept = [row for row in order[:RANKED] if row not in question_rows][:KEPT]
    for row in kept:
        if keys[row] not in ignore:
            return row, list(order).index(row) + 1
    return (kept[-1] if kept else None), min(len(order), RANKED)
