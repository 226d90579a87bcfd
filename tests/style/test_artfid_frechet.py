"""The low-rank Fréchet distance ArtFID uses when a set has fewer samples than dimensions, against pytorch-fid's
``sqrtm`` computation (art-fid's) and the ``eigh`` one, on hypothesis-generated feature sets."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.features.frechet import frechet_distance, frechet_distance_of_features, statistics


def _sets(seed: int, n1: int, n2: int, dims: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dims, dims))
    return (rng.normal(size=(n1, dims)) @ mixing).astype(np.float32), \
        (rng.normal(shift, 1.0, size=(n2, dims)) @ mixing).astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n1=st.integers(2, 30), n2=st.integers(2, 30), dims=st.integers(1, 24),
       shift=st.floats(-2, 2))
def test_equals_sqrtm_for_any_sample_counts(seed, n1, n2, dims, shift):
    f1, f2 = _sets(seed, n1, n2, dims, shift)
    (mu1, sigma1), (mu2, sigma2) = statistics(f1), statistics(f2)
    expected, _ = frechet_distance(mu1, sigma1, mu2, sigma2, "sqrtm")
    scale = np.trace(sigma1) + np.trace(sigma2) + 1.0
    assert frechet_distance_of_features(f1, f2) == pytest.approx(expected, rel=1e-6, abs=1e-6 * scale)


def test_equals_eigh_with_more_samples_than_dimensions():
    f1, f2 = _sets(3, 300, 200, 32, 0.5)
    (mu1, sigma1), (mu2, sigma2) = statistics(f1), statistics(f2)
    expected, info = frechet_distance(mu1, sigma1, mu2, sigma2, "eigh")
    assert info["method"] == "eigh"
    assert frechet_distance_of_features(f1, f2) == pytest.approx(expected, rel=1e-10)


def test_identical_sets_are_at_distance_zero():
    f1, _ = _sets(4, 5, 5, 64, 0.0)
    assert abs(frechet_distance_of_features(f1, f1)) < 1e-9 * np.abs(f1).max() ** 2 * 64
