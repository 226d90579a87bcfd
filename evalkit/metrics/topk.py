"""ImageNet top-1 / top-5 error in percent, as timm's ``validate.py`` reports them."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics.base import SampleMeanMetric
from evalkit.metrics.state import Column, Shared
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
    state = {"label": Column("int64"), "top5": Column("int64"), "correct1": Column("bool"),
             "correct5": Column("bool"), "num_classes": Shared()}
    keys = ("top1_error", "top5_error", "top1_accuracy", "top5_accuracy")
    main_key = "top1_error"
    higher_is_better = False
    reference = "timm"
    mean_columns = {"correct1": ("top1_accuracy", 100.0), "correct5": ("top5_accuracy", 100.0)}

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        """Accuracies as means of the hit columns, errors as means of the misses (timm's two numbers)."""
        accuracy = super().aggregate(indices)
        n = self.num_samples() if indices is None else len(indices)
        out = {}
        for k in (1, 5):
            hits = self.column(f"correct{k}")
            misses = (~(hits if indices is None else hits[indices])).sum()
            out[f"top{k}_error"] = float(misses * 100.0 / n) if n else float("nan")
        return {**out, **accuracy}

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        top = topk_predictions(predictions, 5)
        self._state.set_shared("num_classes", int(np.shape(predictions)[1]))
        labels = np.asarray(targets.cpu() if hasattr(targets, "cpu") else targets, dtype=np.int64).reshape(-1)
        if len(labels) != len(top):
            raise InputError(f"{len(top)} rows of logits but {len(labels)} labels")
        self.add_topk(top, labels, ids)

    def add_topk(self, top: np.ndarray, labels: np.ndarray, ids: Sequence[Any] | None) -> None:
        """Add samples given their top-k class indices (best first) instead of logits."""
        hits = top == labels[:, None]
        correct1 = hits[:, :1].any(axis=1)
        correct5 = hits[:, :5].any(axis=1)
        padded = np.full((len(top), 5), -1, dtype=np.int64)
        padded[:, : top.shape[1]] = top[:, :5]
        self.add(ids, label=labels, top5=padded, correct1=correct1, correct5=correct5)

    def extras(self) -> dict[str, Any]:
        labels, correct1 = self.column("label"), self.column("correct1")
        if not len(labels):
            return {}
        classes, inverse = np.unique(labels, return_inverse=True)
        per_class = np.bincount(inverse, weights=correct1) / np.bincount(inverse) * 100.0
        out: dict[str, Any] = {"mean_per_class_accuracy": float(per_class.mean())}
        num_classes = self._state.shared["num_classes"]
        if num_classes is not None and num_classes <= 5:
            out["note"] = (f"only {num_classes} classes: the top 5 hold every class, so top5_error is 0 by "
                           "construction (timm's accuracy() gives the same)")
        return out

    def per_class_accuracy(self) -> dict[int, float]:
        labels, correct1 = self.column("label"), self.column("correct1")
        classes, inverse = np.unique(labels, return_inverse=True)
        acc = np.bincount(inverse, weights=correct1) / np.bincount(inverse) * 100.0
        return {int(c): float(a) for c, a in zip(classes, acc)}

    def per_sample(self) -> dict[str, Any]:
        top5 = self.column("top5")
        return {
            "sample_id": self.sample_ids(),
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
