"""Analogy candidates from the cosines of the question words only: ~20× fewer FLOPs than one GEMM per question.

3CosAdd's query is ``k (b̂ + ĉ − â)`` up to a rounding residue ``δ``, so a row's score is
``k (cos(d, b) + cos(d, c) − cos(d, a)) + d̂·δ``; 3CosMul reads the same three cosines. The
Google set asks 19,544 questions about ~900 distinct words, so one GEMM of the vocabulary against
those words (``m × n × D``) replaces the ``Q × n × D`` of a query per question, and a numba kernel
combines the three cosines of each question while keeping its best rows. Every rounding is
bounded, so the result is what :meth:`AnalogySolver._candidates` gives: candidate rows and a
sure upper bound on gensim's score of every other row.
"""
from __future__ import annotations

import numpy as np

from evalkit.jit import HAVE_NUMBA, njit, prange

_U = 2.0 ** -24  # float32 unit roundoff
#: questions per parallel task, and vocabulary rows per cache tile (m × TILE float32 stay in L2)
_QUESTION_BLOCK = 64
_TILE = 256
#: GEMM output per chunk of the vocabulary
_CHUNK_BYTES = 128 << 20

available = HAVE_NUMBA


@njit(cache=True, nogil=True, parallel=True, fastmath={"reassoc", "nnan", "nsz"})
def _keep_best(cosines, qa, qb, qc, offset, top_val, top_idx, cosmul, e):  # pragma: no cover - numba
    """Merge each question's combined scores over ``cosines`` (m × C) into its sorted top list."""
    n_questions = qa.shape[0]
    columns = cosines.shape[1]
    k = top_val.shape[1]
    blocks = (n_questions + _QUESTION_BLOCK - 1) // _QUESTION_BLOCK
    one = np.float32(1.0)
    half = np.float32(0.5)
    zero = np.float32(0.0)
    eps = np.float32(0.000001)
    for block in prange(blocks):
        buf = np.empty(_TILE, dtype=np.float32)
        first = block * _QUESTION_BLOCK
        last = min(n_questions, first + _QUESTION_BLOCK)
        for t0 in range(0, columns, _TILE):
            t1 = min(columns, t0 + _TILE)
            for i in range(first, last):
                sa = cosines[qa[i]]
                sb = cosines[qb[i]]
                sc = cosines[qc[i]]
                best = np.float32(-np.inf)
                if cosmul:
                    for j in range(t0, t1):
                        pb = max(zero, one + sb[j] + e) * half
                        pc = max(zero, one + sc[j] + e) * half
                        pa = max(zero, (one + sa[j] - e) * half)
                        v = pb * pc / (pa + eps)
                        buf[j - t0] = v
                        best = max(best, v)
                else:
                    for j in range(t0, t1):
                        v = sb[j] + sc[j] - sa[j]
                        buf[j - t0] = v
                        best = max(best, v)
                if best <= top_val[i, k - 1]:
                    continue
                for j in range(t0, t1):
                    v = buf[j - t0]
                    if v > top_val[i, k - 1]:
                        p = k - 1
                        while p > 0 and top_val[i, p - 1] < v:
                            top_val[i, p] = top_val[i, p - 1]
                            top_idx[i, p] = top_idx[i, p - 1]
                            p -= 1
                        top_val[i, p] = v
                        top_idx[i, p] = offset + j


def candidates(unit: np.ndarray, questions: np.ndarray, queries: np.ndarray | None, k: int, cos_err: float,
               gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, outside)`` as :meth:`AnalogySolver._candidates` defines them, for all questions at once.

    ``unit``: the float32 unit vocabulary (n × D); ``questions``: rows ``(a, b, c)``; ``queries``:
    gensim's 3CosAdd query vectors, or None for 3CosMul.
    """
    import torch

    n = unit.shape[0]
    words, inverse = np.unique(questions, return_inverse=True)
    qa, qb, qc = (np.ascontiguousarray(col, dtype=np.int64) for col in inverse.reshape(questions.shape).T)
    k = min(k, n)
    top_val = np.full((len(questions), k), -np.inf, dtype=np.float32)
    top_idx = np.zeros((len(questions), k), dtype=np.int64)
    cosmul = queries is None
    e_kernel = np.float32(cos_err + 8 * _U)
    unit_t = torch.from_numpy(unit)
    word_t = unit_t[torch.from_numpy(words)]
    chunk = max(_TILE, _CHUNK_BYTES // (4 * len(words)))
    with torch.inference_mode():
        for start in range(0, n, chunk):
            cosines = (word_t @ unit_t[start:start + chunk].T).numpy()
            _keep_best(cosines, qa, qb, qc, start, top_val, top_idx, cosmul, e_kernel)
    if k == n:
        return top_idx, np.full(len(questions), -np.inf)
    kth = top_val[:, -1].astype(np.float64)
    if cosmul:
        return top_idx, kth * (1 + 64 * _U)
    return top_idx, kth_bound(unit, questions, queries, kth, cos_err, gamma)


def kth_bound(unit: np.ndarray, questions: np.ndarray, queries: np.ndarray, kth: np.ndarray, cos_err: float,
              gamma: float) -> np.ndarray:
    """Upper bound on gensim's 3CosAdd score of a row whose combined cosines are at most ``kth``.

    With ``s = b̂ + ĉ − â`` and the query ``q = κ s + δ`` (κ the least-squares scale), a row's exact
    ``d̂·q`` is ``κ (d̂·b̂ + d̂·ĉ − d̂·â) + d̂·δ``: each GEMM cosine is within gamma of its exact value,
    the float32 combination within 8u, and ``|d̂·δ| ≤ |δ|``; ``cos_err`` covers gensim's own rounding.
    A question whose scale is not positive gets an infinite bound (the exact path settles it).
    """
    scale, residue = _scale_and_residue(unit, np.ascontiguousarray(questions), np.ascontiguousarray(queries))
    slack = scale * (3 * gamma * (1 + 1e-4) + 8 * _U) + residue * (1 + 1e-4) + cos_err + 1e-12
    bound = scale * kth + slack
    return np.where((scale > 0) & np.isfinite(bound), bound, np.inf)


@njit(cache=True, nogil=True)
def _scale_and_residue(unit, questions, queries):  # pragma: no cover - numba
    """Per question, in float64: κ = q·s / s·s and |q − κ s| for ``s = b̂ + ĉ − â``."""
    n, dim = queries.shape
    scale = np.empty(n)
    residue = np.empty(n)
    s = np.empty(dim)
    for i in range(n):
        a, b, c = questions[i, 0], questions[i, 1], questions[i, 2]
        qs = 0.0
        ss = 0.0
        for j in range(dim):
            s[j] = np.float64(unit[b, j]) + np.float64(unit[c, j]) - np.float64(unit[a, j])
            qs += np.float64(queries[i, j]) * s[j]
            ss += s[j] * s[j]
        k = qs / ss if ss > 0 else 0.0
        r = 0.0
        for j in range(dim):
            d = np.float64(queries[i, j]) - k * s[j]
            r += d * d
        scale[i] = k
        residue[i] = np.sqrt(r)
    return scale, residue


def candidate_cosines(matrix: np.ndarray, norms: np.ndarray, rows: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """``matrix[rows] · term / norms[rows]`` in float64, shaped (terms per question, questions, candidates).

    ``terms`` is (Q, D) for 3CosAdd or (Q, 3, D) for 3CosMul; no (Q, K, D) float64 copy is made.
    """
    terms3 = np.ascontiguousarray(terms.reshape(len(rows), -1, terms.shape[-1]))
    return _candidate_cosines(matrix, norms, np.ascontiguousarray(rows), terms3)


@njit(cache=True, nogil=True, parallel=True)
def _candidate_cosines(matrix, norms, rows, terms):  # pragma: no cover - numba
    n_questions, k = rows.shape
    n_terms, dim = terms.shape[1], terms.shape[2]
    out = np.empty((n_terms, n_questions, k))
    for q in prange(n_questions):
        for c in range(k):
            row = rows[q, c]
            norm = np.float64(norms[row])
            for t in range(n_terms):
                acc = 0.0
                for j in range(dim):
                    acc += np.float64(matrix[row, j]) * np.float64(terms[q, t, j])
                out[t, q, c] = acc / norm
    return out
