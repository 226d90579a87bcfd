"""Statistics and the Fréchet distance, numpy and SciPy only (no torch).

``sqrtm`` is pytorch-fid 0.3.0's computation: ``scipy.linalg.sqrtm`` of ``Σ1·Σ2``, the retry with 1e-6
added to both diagonals when the root is not finite, and the check that the imaginary part of the
diagonal is within 1e-3 of zero. ``eigh`` uses the same trace, ``tr √(Σ1Σ2) = Σ √λ(Lᵀ Σ2 L)`` with
``Σ1 = L Lᵀ`` (Cholesky; ``Lᵀ Σ2 L`` is symmetric and similar to ``Σ1Σ2``): one Cholesky, two triangular
products and one symmetric eigenvalue problem, several times faster than ``sqrtm``, and equal to it to
float rounding when the covariances are well conditioned. ``auto`` takes ``eigh`` when both sets have
more samples than dimensions and Σ1 is positive definite, else the reference tool's own computation
(``sqrtm`` for pytorch-fid and clean-fid, ``eigvals`` for torch-fidelity).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from evalkit.errors import InputError

METHODS = ("auto", "sqrtm", "eigh", "eigvals")


def statistics(features: np.ndarray, mean_dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (N−1) in float64, as pytorch-fid computes them.

    ``mean_dtype="float32"`` keeps torch-fidelity's mean of float32 features in float32.
    """
    features = np.asarray(features)
    if mean_dtype == "float32":
        mu = np.mean(np.asarray(features, np.float32), axis=0)
    else:
        mu = np.mean(np.asarray(features, np.float64), axis=0)
    sigma = np.cov(np.asarray(features, np.float64), rowvar=False)  # np.cov of float32 promotes to float64 too
    return mu, np.atleast_2d(sigma)


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    from scipy import linalg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy ≥1.16 deprecates ``disp``; pytorch-fid passes it
        try:
            root = linalg.sqrtm(matrix, disp=False)
        except TypeError:  # SciPy without ``disp``
            return linalg.sqrtm(matrix)
    return root[0] if isinstance(root, tuple) else root


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: str = "sqrtm", eps: float = 1e-6
                       ) -> tuple[float, dict[str, Any]]:
    """``tr √(Σ1 Σ2)`` and what the computation did (method, diagonal offset)."""
    info: dict[str, Any] = {"method": method}
    if method == "sqrtm":
        covmean = _sqrtm(sigma1.dot(sigma2))
        if not np.isfinite(covmean).all():
            info["offset"] = eps
            offset = np.eye(sigma1.shape[0]) * eps
            covmean = _sqrtm((sigma1 + offset).dot(sigma2 + offset))
        if np.iscomplexobj(covmean):
            if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
                raise InputError(f"the Fréchet distance has an imaginary component "
                                 f"{np.max(np.abs(covmean.imag))} (pytorch-fid raises the same)")
            covmean = covmean.real
        return float(np.trace(covmean)), info
    if method == "eigvals":  # torch-fidelity's computation
        return float(np.sum(np.sqrt(np.linalg.eigvals(sigma1.dot(sigma2)).astype("complex128")).real)), info
    if method == "eigh":
        from scipy import linalg

        lower = np.linalg.cholesky(sigma1)
        inner = lower.T @ sigma2 @ lower
        eigenvalues = linalg.eigvalsh((inner + inner.T) / 2, driver="evd")
        return float(np.sqrt(np.clip(eigenvalues, 0, None)).sum()), info
    raise InputError(f"unknown Fréchet method {method!r}; one of {', '.join(METHODS)}", field="sqrt")


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     method: str = "sqrtm", n1: int | None = None, n2: int | None = None,
                     fallback: str = "sqrtm") -> tuple[float, dict[str, Any]]:
    """``‖μ1−μ2‖² + tr Σ1 + tr Σ2 − 2 tr √(Σ1Σ2)`` and details; ``auto`` picks ``eigh`` when safe."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise InputError(f"statistics of different dimensions: {mu1.shape}/{sigma1.shape} vs {mu2.shape}/{sigma2.shape}")
    if method == "auto":
        dims = mu1.shape[0]
        method = fallback
        if n1 is not None and n2 is not None and n1 > dims and n2 > dims:
            try:
                np.linalg.cholesky(sigma1)
                method = "eigh"
            except np.linalg.LinAlgError:
                pass
    diff = mu1 - mu2
    tr_covmean, info = trace_sqrt_product(sigma1, sigma2, method)
    value = diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean
    return float(value), info


def frechet_distance_of_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """The Fréchet distance of :func:`statistics` of two feature sets, by way of their centred features.

    With ``A`` the centred features, ``Σ = AᵀA/(n−1)``, and the nonzero eigenvalues of ``Σ1Σ2`` are those of
    ``M Mᵀ/c`` with ``M = A1·A2ᵀ`` (n1×n2) and ``c = (n1−1)(n2−1)``, so ``tr √(Σ1Σ2)`` is the sum of ``M``'s
    singular values over ``√c``. When a set has fewer samples than dimensions (ArtFID's style images),
    that is the exact value that ``sqrtm`` of the singular d×d product approximates, at the cost of an
    n1×n2 SVD instead of a d×d matrix root.
    """
    a1 = np.asarray(features1, np.float64)
    a2 = np.asarray(features2, np.float64)
    mu1, mu2 = a1.mean(axis=0), a2.mean(axis=0)
    a1, a2 = a1 - mu1, a2 - mu2
    c1, c2 = len(a1) - 1, len(a2) - 1
    singular = np.linalg.svd(a1 @ a2.T, compute_uv=False)
    diff = mu1 - mu2
    return float(diff.dot(diff) + (a1 * a1).sum() / c1 + (a2 * a2).sum() / c2 - 2 * singular.sum() / np.sqrt(c1 * c2))
