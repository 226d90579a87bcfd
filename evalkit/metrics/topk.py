"""ImageNet top-1 / top-5 error in percent, as timm's ``validate.py`` reports them."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics.base import SampleMeanMetric
from evalkit.registry import METRICS


def topk_predictions(logits: Any, k: int = 5) -> np.ndarray:
    """Indices of the ``k`` largest logits per row, ties broken as ``torch.topk`` breaks them."""
    import torch

    tensor = logits if isinstance(logits, torch.Tensor) else torch.from_numpy(np.asarray(logits))
    if tensor.ndim != 2:
        raise InputError(f"logits must be 2-D (samples × classes), got shape {tuple(tensor.shape)}")
    if tensor.is_floating_point() and bool(torch.isnan(tensor).any()):
        raise InputError("logits contain NaN")
    k = min(k, tensor.shape[1])
    return tensor.topk(k, dim=1, largest=True, sorted=True).indices.cpu().numpy()


@METRICS.register("topk")
class TopKError(SampleMeanMetric):
    """Top-1 and top-5 error (percent). State: each sample's top-5 classes and its label."""

    name = "topk"
    main_key = "top1_error"
    higher_is_better = False
    mean_columns = {
        "error1": ("top1_error", 100.0),
        "error5": ("top5_error", 100.0),
        "correct1": ("top1_accuracy", 100.0),
        "correct5": ("top5_accuracy", 100.0),
    }

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        top = topk_predictions(predictions, 5)
        labels = np.asarray(targets.cpu() if hasattr(targets, "cpu") else targets, dtype=np.int64).reshape(-1)
        if len(labels) != len(top):
            raise InputError(f"{len(top)} rows of logits but {len(labels)} labels")
        ids = list(ids) if ids is not None else list(range(self.num_samples(), self.num_samples() + len(labels)))
        self.add_topk(top, labels, ids)

    def add_topk(self, top: np.ndarray, labels: np.ndarray, ids: Sequence[Any]) -> None:
        """Add samples given their top-k class indices (best first) instead of logits."""
        hits = top == labels[:, None]
        correct1 = hits[:, :1].any(axis=1)
        correct5 = hits[:, :5].any(axis=1)
        padded = np.full((len(top), 5), -1, dtype=np.int64)
        padded[:, : top.shape[1]] = top[:, :5]
        self._append(
            ids,
            label=labels,
            top5=padded,
            correct1=correct1,
            correct5=correct5,
            error1=~correct1,
            error5=~correct5,
        )

    def extras(self) -> dict[str, Any]:
        labels, correct1 = self.column("label"), self.column("correct1")
        if not len(labels):
            return {}
        classes, inverse = np.unique(labels, return_inverse=True)
        per_class = np.bincount(inverse, weights=correct1) / np.bincount(inverse) * 100.0
        return {"mean_per_class_accuracy": float(per_class.mean())}

    def per_class_accuracy(self) -> dict[int, float]:
        labels, correct1 = self.column("label"), self.column("correct1")
        classes, inverse = np.unique(labels, return_inverse=True)
        acc = np.bincount(inverse, weights=correct1) / np.bincount(inverse) * 100.0
        return {int(c): float(a) for c, a in zip(classes, acc)}

    def per_sample(self) -> dict[str, Any]:
        top5 = self.column("top5")
        return {
            "sample_id": [str(i) for i in self._ids],
            "label": self.column("label"),
            "top5": [row.tolist() for row in top5] if len(top5) else [],
            "correct1": self.column("correct1"),
            "correct5": self.column("correct5"),
        }


def topk_error(logits: Any, labels: Any) -> dict[str, float]:
    """Functional form: ``{"top1_error", "top5_error", ...}`` for one set of logits."""
    metric = TopKError()
    metric.update(logits, labels)
    return metric.aggregate()
