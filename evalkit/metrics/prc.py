"""Improved precision and recall (Kynkäänniemi et al. 2019, k = 3), identical to torch-fidelity's ``prc``."""
from __future__ import annotations

from evalkit.metrics._generation import FeatureMetric
from evalkit.registry import METRICS


def _cdist(a, b, batch_size: int):  # noqa: ANN001 - torch tensors
    import torch

    rows = []
    for a_part in a.split(batch_size):
        rows.append(torch.cat([torch.cdist(a_part, b_part).cpu() for b_part in b.split(batch_size)], dim=1))
    return torch.cat(rows, dim=0)


def precision_recall(generated, real, k: int = 3, batch_size: int = 10000) -> tuple[float, float]:  # noqa: ANN001
    """Precision: generated samples inside some real sample's k-NN ball; recall: the converse."""
    import torch

    gen, ref = torch.from_numpy(generated), torch.from_numpy(real)
    radius_gen = _cdist(gen, gen, batch_size).kthvalue(k + 1).values
    radius_ref = _cdist(ref, ref, batch_size).kthvalue(k + 1).values
    ref_to_gen = _cdist(ref, gen, batch_size)
    recall = (ref_to_gen <= radius_gen).any(dim=1).float().mean().item()
    precision = (ref_to_gen.T <= radius_ref).any(dim=1).float().mean().item()
    return precision, recall


@METRICS.register("precision-recall")
class PrecisionRecall(FeatureMetric):
    name = "precision-recall"
    keys = ("precision", "recall")
    main_key = "precision"
    higher_is_better = True
    defaults = {"neighborhood": 3, "mode": "tf", "dims": 2048}
    neutral_options = {"batch_size": 10000}
    reference = "torch-fidelity"

    def score(self) -> dict[str, float]:
        import numpy as np

        generated = np.ascontiguousarray(self.features(), np.float32)
        real = np.ascontiguousarray(self.reference_arrays("features")["features"], np.float32)
        k = int(self.options["neighborhood"])
        if len(generated) <= k or len(real) <= k:
            return {"precision": float("nan"), "recall": float("nan")}
        precision, recall = precision_recall(generated, real, k, int(self.options["batch_size"]))
        return {"precision": precision, "recall": recall}
