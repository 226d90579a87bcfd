"""Inception Score (Salimans et al. 2016), identical to torch-fidelity: logits without the final bias, 10 splits."""
from __future__ import annotations

import numpy as np

from evalkit.metrics._generation import FeatureMetric
from evalkit.registry import METRICS


@METRICS.register("isc")
class InceptionScore(FeatureMetric):
    """exp(E KL(p(y|x) ‖ p(y))) per split of the (seeded, shuffled) generated samples: mean and std."""

    name = "isc"
    keys = ("IS_mean", "IS_std")
    main_key = "IS_mean"
    higher_is_better = True
    requires_meta = ()
    defaults = {"splits": 10, "shuffle": True, "seed": 2020, "mode": "tf"}
    reference = "torch-fidelity"

    def layer(self) -> str:
        return "logits_unbiased"

    def score(self) -> dict[str, float]:
        logits = np.asarray(self.features(), np.float64)
        n, splits = len(logits), int(self.options["splits"])
        if n < splits:
            return {"IS_mean": float("nan"), "IS_std": float("nan")}
        if self.options["shuffle"]:
            logits = logits[np.random.RandomState(self.options["seed"]).permutation(n)]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        p = np.exp(log_p)
        scores = []
        for i in range(splits):
            part = slice(i * n // splits, (i + 1) * n // splits)
            q = p[part].mean(axis=0, keepdims=True)
            scores.append(float(np.exp((p[part] * (log_p[part] - np.log(q))).sum(axis=1).mean())))
        return {"IS_mean": float(np.mean(scores)), "IS_std": float(np.std(scores))}
