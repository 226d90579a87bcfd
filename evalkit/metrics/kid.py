"""KID (Bińkowski et al. 2018), identical to torch-fidelity for the same subset draws."""
from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics._generation import FeatureMetric
from evalkit.registry import METRICS


def polynomial_mmd2(x: np.ndarray, y: np.ndarray, degree: int, gamma: float | None, coef0: float) -> float:
    """Unbiased MMD² with the kernel ``(γ x·y + c)^d``, in float32 as torch-fidelity computes it."""
    g = 1.0 / x.shape[1] if gamma is None else gamma
    k_xx = (np.matmul(x, x.T) * g + coef0) ** degree
    k_yy = (np.matmul(y, y.T) * g + coef0) ** degree
    k_xy = (np.matmul(x, y.T) * g + coef0) ** degree
    m = k_xx.shape[0]
    within_x = (k_xx.sum(axis=1) - np.diagonal(k_xx)).sum()
    within_y = (k_yy.sum(axis=1) - np.diagonal(k_yy)).sum()
    across = k_xy.sum(axis=0).sum()
    value = (within_x + within_y) / (m * (m - 1))
    value -= 2 * across / (m * m)
    return float(value)


@METRICS.register("kid")
class KernelInceptionDistance(FeatureMetric):
    """Mean and std of the polynomial-kernel unbiased MMD² over ``subsets`` random subsets of ``subset_size``."""

    name = "kid"
    keys = ("KID_mean", "KID_std")
    main_key = "KID_mean"
    higher_is_better = False
    defaults = {"subsets": 100, "subset_size": 1000, "degree": 3, "gamma": None, "coef0": 1, "seed": 2020,
                "mode": "tf", "dims": 2048}
    reference = "torch-fidelity"

    def score(self) -> dict[str, float]:
        generated = self.features()
        real = self.reference_arrays("features")["features"]
        size = int(self.options["subset_size"])
        if len(generated) < size or len(real) < size:
            raise InputError(f"KID subsets of {size} need at least that many samples (generated: {len(generated)}, "
                             f"reference: {len(real)}); lower 'subset_size'", field="subset_size")
        rng = np.random.RandomState(self.options["seed"])
        values = np.zeros(int(self.options["subsets"]))
        for i in range(len(values)):
            x = generated[rng.choice(len(generated), size, replace=False)]
            y = real[rng.choice(len(real), size, replace=False)]
            values[i] = polynomial_mmd2(x, y, self.options["degree"], self.options["gamma"], self.options["coef0"])
        return {"KID_mean": float(np.mean(values)), "KID_std": float(np.std(values))}
