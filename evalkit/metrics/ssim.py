"""``ssim``: structural similarity of each stylised image to its content image, averaged over pairs.

Identical to ``skimage.metrics.structural_similarity(content, stylised, channel_axis=-1, data_range=255,
gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`` on 8-bit RGB (Wang et al. 2004's settings):
float64, Gaussian window truncated at 3.5 σ (11×11), reflect borders, the means of each channel's SSIM map
cropped by the window radius, averaged over channels. The five filtered images of all channels are one
``scipy.ndimage`` call (the same 1-D passes, in the same order, as scikit-image's per-channel filters).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics import Column, Metric
from evalkit.metrics._style_common import pairs
from evalkit.registry import METRICS


def ssim_rgb(im1: np.ndarray, im2: np.ndarray, data_range: float = 255.0, gaussian_weights: bool = True,
             sigma: float = 1.5, use_sample_covariance: bool = False, win_size: int | None = None,
             K1: float = 0.01, K2: float = 0.03) -> float:
    """scikit-image's mean SSIM of two H×W×C images (``channel_axis=-1``)."""
    from scipy import ndimage

    truncate = 3.5
    if win_size is None:
        win_size = 2 * int(truncate * sigma + 0.5) + 1 if gaussian_weights else 7
    if win_size % 2 != 1:
        raise InputError("win_size must be odd", field="win_size")
    if im1.shape != im2.shape:
        raise InputError(f"images of different shapes {im1.shape} and {im2.shape}")
    if min(im1.shape[:2]) < win_size:
        raise InputError(f"image of {im1.shape[1]}×{im1.shape[0]} is smaller than the {win_size}×{win_size} window")
    x = im1.astype(np.float64)
    y = im2.astype(np.float64)
    stack = np.stack([x, y, x * x, y * y, x * y])
    if gaussian_weights:
        filtered = ndimage.gaussian_filter(stack, (0, sigma, sigma, 0), mode="reflect", truncate=truncate)
    else:
        filtered = ndimage.uniform_filter(stack, size=(1, win_size, win_size, 1))
    ux, uy, uxx, uyy, uxy = filtered
    np_ = win_size ** 2
    cov_norm = np_ / (np_ - 1) if use_sample_covariance else 1.0
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    a1, a2, b1, b2 = 2 * ux * uy + c1, 2 * vxy + c2, ux ** 2 + uy ** 2 + c1, vx + vy + c2
    s = (a1 * a2) / (b1 * b2)
    pad = (win_size - 1) // 2
    cropped = s[pad:s.shape[0] - pad, pad:s.shape[1] - pad]
    per_channel = np.array([cropped[..., c].mean(dtype=np.float64) for c in range(cropped.shape[-1])])
    return float(per_channel.mean())


@METRICS.register("ssim")
class SSIM(Metric):
    """Mean SSIM of stylised images against their content images (scikit-image's numbers)."""

    name = "ssim"
    state = {"ssim": Column("float64")}
    keys = ("SSIM",)
    defaults = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False, "data_range": 255,
                "resize": "bicubic"}
    reference = "scikit-image"

    def update(self, predictions: Sequence[Any], targets: Sequence[Any], ids: Sequence[Any] | None = None) -> None:
        o = self.options
        ids, items = pairs(predictions, targets, ids if ids is not None else self.default_ids(len(predictions)),
                           o["resize"])
        values = [ssim_rgb(content, stylised, float(o["data_range"]), bool(o["gaussian_weights"]), float(o["sigma"]),
                           bool(o["use_sample_covariance"])) for stylised, content, _ in items]
        self.add(ids, ssim=np.asarray(values, np.float64))

    def score(self) -> dict[str, float]:
        values = self.column("ssim")
        return {"SSIM": float(values.mean()) if len(values) else float("nan")}
