"""ImageNet ReaL top-1 / top-5 (Beyer et al. 2020, "Are we done with ImageNet?"), as timm's
``validate.py --real-labels`` computes them with ``RealLabelsImagenet``.

A prediction counts as correct at k when any of its top k classes is in the image's ReaL label set; images
whose set is empty (no label fits) are left out of both the count and the mean.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import PurePosixPath
from typing import Any, Mapping, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.formats.imagenet import read_real_labels, real_file_name, real_labels_path
from evalkit.metrics.base import Metric, Signature
from evalkit.metrics.state import Column, Shared
from evalkit.metrics.topk import TopKError, pad_top5, topk_predictions
from evalkit.registry import METRICS

VAL_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.(JPEG|jpeg|jpg|JPG|png)$")


def val_position(sample_id: str) -> int:
    """0 for ``…/ILSVRC2012_val_00000001.JPEG``: where real.json holds the image's set; -1 for any other name."""
    match = VAL_NAME.search(PurePosixPath(sample_id.replace("\\", "/")).name)
    return int(match.group(1)) - 1 if match else -1


@METRICS.register("real-topk")
class RealTopK(Metric):
    """ReaL top-1/top-5 accuracy and error (percent). State: each image's top-5, ReaL set and hits.

    ``real_labels`` is the path of ``real.json``; by default the copy shipped with evalkit
    (google-research/reassessed-imagenet, Apache-2.0). The path cannot change the number, the file's
    content can: the signature names the file's SHA-256, not its path.
    """

    name = "real-topk"
    key_prefix = "real."
    state = {"top5": Column("int64"), "real": Column(), "rated": Column("bool"), "correct1": Column("bool"),
             "correct5": Column("bool"), "labels_sha256": Shared()}
    keys, main_key, higher_is_better, reference = (TopKError.keys, TopKError.main_key, TopKError.higher_is_better,
                                                   TopKError.reference)  # the numbers timm reports, on other labels
    neutral_options = {"real_labels": None}

    def signature(self) -> Signature:
        plain = super().signature()
        return dataclasses.replace(plain, options=plain.options + (("labels", f"ReaL:{self.labels_sha256()[:12]}"),))

    def labels_sha256(self) -> str:
        """The SHA-256 of the label file these samples were scored with (the configured file before any)."""
        return self._state.shared["labels_sha256"] or self._labels()[1]

    def _labels(self) -> tuple[tuple[tuple[int, ...], ...], str]:
        return read_real_labels(real_labels_path(self.options["real_labels"]))

    def bind(self, dataset_meta: Mapping[str, Any] | Any) -> None:
        """The label file must hold one set per image of the data set, as timm's RealLabelsImagenet asserts."""
        super().bind(dataset_meta)
        count = self.dataset_meta.get("image_count")
        sets = self._labels()[0]
        if count is not None and count != len(sets):
            raise InputError(f"the ReaL labels file has {len(sets)} label sets but the data set has {count} images: "
                             "it must hold one set per ILSVRC2012 val image (50,000)",
                             file=real_labels_path(self.options["real_labels"]))

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        top = topk_predictions(predictions, 5)
        if ids is None or len(ids) != len(top):
            raise InputError("real-topk needs the sample ids (ILSVRC2012_val_XXXXXXXX.JPEG file names) of every row "
                             "of logits: ReaL labels are looked up by file name")
        sets, digest = self._labels()
        real = [list(sets[self._position(str(sample_id), len(sets))]) for sample_id in ids]
        self._state.set_shared("labels_sha256", digest)
        hits = np.array([[p in labels for p in row] for row, labels in zip(top.tolist(), real)], dtype=bool)
        hits = hits.reshape(len(top), top.shape[1])
        self.add(ids, top5=pad_top5(top), real=real, rated=np.array([bool(r) for r in real], dtype=bool),
                 correct1=hits[:, :1].any(axis=1), correct5=hits[:, :5].any(axis=1))

    def _position(self, sample_id: str, count: int) -> int:
        position = val_position(sample_id)
        if not 0 <= position < count:
            raise InputError(f"no ReaL label set for sample {sample_id!r}: ReaL labels the ILSVRC2012 val images "
                             f"{real_file_name(0)} … {real_file_name(count - 1)} by file name",
                             file=real_labels_path(self.options["real_labels"]))
        return position

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        """Accuracy = mean over rated images of the hits, times 100 (RealLabelsImagenet.get_accuracy); error = 100 - it."""
        rated = self.column("rated")
        rated = rated if indices is None else rated[indices]
        out: dict[str, float] = {}
        for k in (1, 5):
            hits = self.column(f"correct{k}")
            hits = (hits if indices is None else hits[indices])[rated]
            accuracy = float(np.mean(hits)) * 100 if len(hits) else float("nan")
            out[f"top{k}_accuracy"], out[f"top{k}_error"] = accuracy, 100.0 - accuracy
        return out

    def score(self) -> dict[str, float]:
        return self.aggregate(None)

    def extras(self) -> dict[str, Any]:
        rated = self.column("rated")
        return {"rated_images": int(rated.sum()), "unrated_images": int(len(rated) - rated.sum())}

    def per_sample(self) -> dict[str, Any]:
        top5 = self.column("top5")
        return {"sample_id": self.sample_ids(), "top5": [row.tolist() for row in top5] if len(top5) else [],
                "real": [list(r) for r in self.column("real")], "rated": self.column("rated"),
                "correct1": self.column("correct1"), "correct5": self.column("correct5")}
