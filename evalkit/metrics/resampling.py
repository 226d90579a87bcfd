"""Bootstrap confidence intervals and paired bootstrap tests, shared by every metric.

Each metric exposes ``aggregate(indices)``; resampling draws index multisets and
re-aggregates, so one code path serves BLEU, COCO AP (images resampled), VQA and the rest.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

Aggregate = Callable[[np.ndarray | None], dict[str, float]]


def resample_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """``(n_resamples, n)`` indices drawn with replacement, as sacrebleu draws them."""
    rng = np.random.default_rng(seed)
    return rng.choice(n, size=(n_resamples, n), replace=True)


def bootstrap_ci(
    aggregate: Aggregate, n: int, n_resamples: int = 1000, seed: int = 12345, confidence: float = 0.95
) -> dict[str, list[float]]:
    """Percentile interval for every scalar ``aggregate`` returns."""
    if n == 0:
        return {}
    draws: dict[str, list[float]] = {}
    for idx in resample_indices(n, n_resamples, seed):
        for key, value in aggregate(idx).items():
            draws.setdefault(key, []).append(value)
    tail = (1 - confidence) / 2 * 100
    return {
        key: [float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))]
        for key, v in draws.items()
        if all(map(math.isfinite, v))
    }


def paired_bootstrap(
    baseline: Aggregate, system: Aggregate, n: int, key: str, n_resamples: int = 1000, seed: int = 12345
) -> dict[str, float]:
    """Paired bootstrap resampling (Koehn 2004) as sacrebleu's ``--paired-bs`` does it.

    The p-value tests "no difference": the resampled differences are centred on zero,
    and p = (1 + #{|centred diff| >= |observed diff|}) / (1 + n_resamples).
    """
    real_base, real_sys = baseline(None)[key], system(None)[key]
    diffs = []
    for idx in resample_indices(n, n_resamples, seed):
        diffs.append(system(idx)[key] - baseline(idx)[key])
    arr = np.asarray(diffs)
    observed = real_sys - real_base
    centred = arr - arr.mean()
    p_value = (1 + np.sum(np.abs(centred) >= abs(observed))) / (1 + n_resamples)
    return {
        "key": key,
        "baseline": real_base,
        "system": real_sys,
        "difference": observed,
        "ci": [float(np.percentile(arr, 2.5)), float(np.percentile(arr, 97.5))],
        "p_value": float(p_value),
    }
