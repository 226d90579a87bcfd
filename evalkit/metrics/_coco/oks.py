"""OKS matrices from the ``exp(-e)`` terms of :mod:`.keypoints`, summed as ``np.sum`` sums (numba helpers)."""
from __future__ import annotations

import numpy as np

from evalkit.jit import njit


@njit(cache=True)
def pairwise_sum(a: np.ndarray, start: int, n: int) -> float:
    """numpy's ``pairwise_sum`` of ``a[start:start+n]`` (8 accumulators, blocks of 128): ``np.sum``'s rounding."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    if n <= 128:
        r = a[start:start + 8].copy()
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] += a[start + i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res += a[start + i]
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return pairwise_sum(a, start, half) + pairwise_sum(a, start + half, n - half)


@njit(cache=True)
def oks_matrix(q, d0, D, g0, G, terms, pair_base, g_offset, g_count):
    """``computeOks``' (D, G) matrix of group ``q``: the mean of its pairs' terms."""
    ious = np.zeros((D, G))
    row = g_offset[g0 + G] - g_offset[g0]
    for i in range(D):
        for j in range(G):
            p = pair_base[q] + i * row + g_offset[g0 + j] - g_offset[g0]
            c = g_count[g0 + j]
            ious[i, j] = pairwise_sum(terms, p, c) / c
    return ious
