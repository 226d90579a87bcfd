"""ImageNet top-1 / top-5 error in percent, as timm's ``validate.py`` reports them."""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.formats.imagenet import class_subset
from evalkit.metrics.base import SampleMeanMetric, Signature
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


def pad_top5(top: np.ndarray) -> np.ndarray:
    """The top-k rows as a fixed (n, 5) state column: -1 where there are fewer than 5 classes."""
    padded = np.full((len(top), 5), -1, dtype=np.int64)
    padded[:, : top.shape[1]] = top[:, :5]
    return padded


@METRICS.register("topk")
class TopKError(SampleMeanMetric):
    """Top-1 and top-5 error (percent). State: each sample's top-5 classes and its label.

    ``class_subset`` (``imagenet-a``, ``imagenet-r``) ranks only the subset's logits, as timm's
    ``validate.py --valid-labels`` does (``output[:, valid_labels]``) for the 200-class test sets; labels and
    the top-5 stay 1000-class indices.
    """

    name = "topk"
    state = {"label": Column("int64"), "top5": Column("int64"), "correct1": Column("bool"),
             "correct5": Column("bool"), "num_classes": Shared()}
    keys = ("top1_error", "top5_error", "top1_accuracy", "top5_accuracy")
    main_key = "top1_error"
    higher_is_better = False
    defaults = {"class_subset": None}
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

    @classmethod
    def check_options(cls, options: Any) -> dict[str, Any]:
        """A class_subset must be a named subset (checked when the suite is validated, before any model runs)."""
        checked = super().check_options(options)
        if checked["class_subset"] is not None:
            class_subset(checked["class_subset"])
        return checked

    def signature_options(self) -> dict[str, Any]:
        """All classes (no subset) is left out, so such numbers keep the signature they always had."""
        return {k: v for k, v in super().signature_options().items() if not (k == "class_subset" and v is None)}

    def signature(self) -> Signature:
        """A device decoder (``decode:gpu``, ``decode:dali``) is named: its resize rounds differently from PIL's, so
        a few predictions may differ. PIL decoding is left out, so CPU-pipeline signatures stay as they were."""
        plain = super().signature()
        decode = self.dataset_meta.get("decode", "pil")
        if decode == "pil":
            return plain
        return dataclasses.replace(plain, options=plain.options + (("decode", decode),))

    def bind(self, dataset_meta: Any) -> None:
        """A 200-class data set (ImageNet-A/-R) is scored on its own classes only: the option must say which."""
        super().bind(dataset_meta)
        subset = self.dataset_meta.get("class_subset")
        if subset is not None and subset != self.options["class_subset"]:
            raise InputError(f"the data set has the {subset} classes only: set class_subset: {subset} on topk "
                             "(logits restricted to them, as timm's --valid-labels and the paper)", field="metrics")

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        labels = np.asarray(targets.cpu() if hasattr(targets, "cpu") else targets, dtype=np.int64).reshape(-1)
        subset = self.options["class_subset"]
        if subset is None:
            top = topk_predictions(predictions, 5)
            self._state.set_shared("num_classes", int(np.shape(predictions)[1]))
        else:
            top = self._subset_topk(predictions, labels, np.asarray(class_subset(subset), dtype=np.int64))
        if len(labels) != len(top):
            raise InputError(f"{len(top)} rows of logits but {len(labels)} labels")
        self.add_topk(top, labels, ids)

    def _subset_topk(self, predictions: Any, labels: np.ndarray, subset: np.ndarray) -> np.ndarray:
        """Top-5 among the subset's logits, as 1000-class indices; a label outside the subset is an error."""
        if np.ndim(predictions) != 2 or np.shape(predictions)[1] != 1000:
            raise InputError(f"class_subset {self.options['class_subset']} needs 1000-class logits, got shape "
                             f"{tuple(np.shape(predictions))}")
        outside = labels[~np.isin(labels, subset)]
        if len(outside):
            raise InputError(f"label {int(outside[0])} is not one of the {len(subset)} "
                             f"{self.options['class_subset']} classes")
        self._state.set_shared("num_classes", len(subset))
        if hasattr(predictions, "index_select"):  # a torch tensor, possibly on the GPU
            import torch

            restricted = predictions.index_select(1, torch.as_tensor(subset, device=predictions.device))
        else:
            restricted = np.asarray(predictions)[:, subset]
        return subset[topk_predictions(restricted, 5)]

    def add_topk(self, top: np.ndarray, labels: np.ndarray, ids: Sequence[Any] | None) -> None:
        """Add samples given their top-k class indices (best first) instead of logits."""
        hits = top == labels[:, None]
        correct1 = hits[:, :1].any(axis=1)
        correct5 = hits[:, :5].any(axis=1)
        self.add(ids, label=labels, top5=pad_top5(top), correct1=correct1, correct5=correct5)

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
