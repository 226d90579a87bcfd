"""PPL, StyleGAN's perceptual path length, identical to torch-fidelity's ``ppl`` for the same latents.

The ``generator`` adapter computes one distance per sample (its ``ppl:`` option): LPIPS-VGG16 (torch-fidelity's
``lpips-vgg16``, inputs resized to ``similarity_resize``) between the images of z0 and of z0 moved by
``epsilon`` towards z1 (``z_interp_mode``), divided by ε². This metric keeps the distances (bootstrap
resamples them), drops those below the ``discard_lower`` and above the ``discard_upper`` percentile (NumPy's
``lower``/``higher`` percentiles, as torch-fidelity), and reports their mean (``PPL``) and std (``PPL_std``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.features import PPL_DEFAULTS, ppl_key
from evalkit.metrics.base import Metric
from evalkit.metrics.state import Column
from evalkit.registry import METRICS

@METRICS.register("ppl")
class PerceptualPathLength(Metric):
    """Mean and std of per-sample path lengths, the lowest and highest percentiles discarded."""

    name = "ppl"
    state = {"distance": Column("float32")}
    keys = ("PPL", "PPL_std")
    main_key = "PPL"
    higher_is_better = False
    defaults = {**PPL_DEFAULTS, "discard_lower": 1, "discard_upper": 99}
    reference = "torch-fidelity"

    def update(self, predictions: Any, targets: Any = None, ids: Sequence[Any] | None = None) -> None:
        key = ppl_key(self.options)
        if isinstance(predictions, Mapping):
            if key not in predictions:
                raise InputError(f"metric 'ppl' needs path lengths {key!r}; the model computed "
                                 f"{', '.join(sorted(predictions)) or 'none'}: give the generator adapter "
                                 "'ppl: true' (or the same ppl options as the metric)", field="metrics")
            predictions = predictions[key]
        self.add(ids, distance=np.asarray(predictions, np.float32).reshape(-1))

    def score(self) -> dict[str, float]:
        distances = np.asarray(self.column("distance"), np.float32)  # float32 statistics, as torch-fidelity
        if len(distances) == 0:
            return {"PPL": float("nan"), "PPL_std": float("nan")}
        lower, upper = self.options["discard_lower"], self.options["discard_upper"]
        keep = np.ones(len(distances), bool)
        if lower is not None:
            keep &= np.percentile(distances, lower, method="lower") <= distances
        if upper is not None:
            keep &= distances <= np.percentile(distances, upper, method="higher")
        kept = distances[keep]
        return {"PPL": float(np.mean(kept)), "PPL_std": float(np.std(kept))}
