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


def mean_and_halfwidth(scores: np.ndarray) -> tuple[float, float]:
    """sacrebleu's ``estimate_ci``: the mean and half the width of the central 95% of sorted scores."""
    ordered = np.sort(scores)
    low = len(ordered) // 40
    return float(ordered.mean()), float(0.5 * (ordered[len(ordered) - low - 1] - ordered[low]))


def paired_bootstrap(
    baseline: Aggregate, system: Aggregate, n: int, key: str, n_resamples: int = 1000, seed: int = 12345
) -> dict[str, float]:
    """Paired bootstrap resampling (Koehn 2004) with sacrebleu's ``--paired-bs`` statistics.

    Both systems are scored on the same resampled sample sets. The p-value is sacrebleu's:
    with d = |system - baseline| per resample, p = (1 + #{d - mean(d) > |observed|}) / (1 + R).
    An observed difference of exactly zero gets p = 1. ``ci`` is the 2.5/97.5 percentile interval of the signed difference; it answers "how large
    is the difference", while the p-value tests "no difference", so the two can disagree near
    the 5% boundary.
    """
    real_base, real_sys = baseline(None)[key], system(None)[key]
    base_scores, sys_scores = [], []
    for idx in resample_indices(n, n_resamples, seed):
        base_scores.append(baseline(idx)[key])
        sys_scores.append(system(idx)[key])
    base_arr, sys_arr = np.asarray(base_scores), np.asarray(sys_scores)
    observed = real_sys - real_base
    absolute = np.abs(sys_arr - base_arr)
    p_value = (1 + int(np.sum(absolute - absolute.mean() > abs(observed)))) / (1 + n_resamples)
    if observed == 0:  # no observed difference is no evidence of one (sacrebleu never compares a system to itself)
        p_value = 1.0
    signed = sys_arr - base_arr
    sys_mean, sys_halfwidth = mean_and_halfwidth(sys_arr)
    base_mean, base_halfwidth = mean_and_halfwidth(base_arr)
    return {
        "key": key,
        "baseline": real_base,
        "system": real_sys,
        "difference": observed,
        "ci": [float(np.percentile(signed, 2.5)), float(np.percentile(signed, 97.5))],
        "p_value": float(p_value),
        "system_mean": sys_mean,
        "system_halfwidth": sys_halfwidth,
        "baseline_mean": base_mean,
        "baseline_halfwidth": base_halfwidth,
    }
