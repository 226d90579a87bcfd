"""LVIS ground truth and lvis-api's federated selection of detections, as arrays for the COCO engine.

lvis-api (``LVISResults`` + ``LVISEval._prepare``) differs from pycocotools in what it evaluates, not in how
it matches: it keeps the 300 top-scoring results of each image (ties in file order), evaluates only
annotations and results with ``0 < area < inf`` (``get_ann_ids``' strict area filter), and per image only
categories that are in its GT (positive) or in its ``neg_category_ids``; a result of a category in the image's
``not_exhaustive_category_ids`` is ignored unless it matches. There are no crowds; a GT ``ignore`` field is
honoured.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics._coco.detections import Detections
from evalkit.metrics._coco.groundtruth import GroundTruth
from evalkit.metrics._coco.summary import LVIS_FREQUENCIES

#: ``LVISResults(max_dets=300)``
MAX_DETS_PER_IMAGE = 300


class LvisGroundTruth(GroundTruth):
    """An LVIS annotation file: COCO's layout plus per-image category lists and category frequencies."""

    def __init__(self, source: Any):
        super().__init__(source)
        images, cats = self._data["images"], self._data["categories"]
        K = len(self.category_ids)
        self.negative = self._image_category_keys(images, "neg_category_ids")
        self.not_exhaustive = self._image_category_keys(images, "not_exhaustive_category_ids")
        self.positive = np.unique(self.ann_image * K + self.ann_category)
        by_id = {c["id"]: (i, c) for i, c in enumerate(cats)}
        self.frequency = []
        for cat_id in self.category_ids.tolist():
            i, c = by_id[cat_id]
            if c.get("frequency") not in LVIS_FREQUENCIES:
                raise InputError(f"frequency must be one of {', '.join(LVIS_FREQUENCIES)}, got {c.get('frequency')!r}",
                                 file=self.file, record=f"categories[{i}]", field="frequency")
            self.frequency.append(c["frequency"])
        self.ignore = np.array([bool(a.get("ignore", 0)) for a in self._kept], np.bool_)

    def _flag(self, index: int, record: dict[str, Any], name: str) -> Any:
        return 0  # lvis-api has no crowds: ``iscrowd`` is neither required nor read

    def _read_annotations(self, data: dict[str, Any]) -> None:
        super()._read_annotations(data)
        keep = np.flatnonzero((self.area > 0) & (self.area < np.inf))
        if len(keep) == len(self.area):
            return
        self._ann_positions = [self._ann_positions[j] for j in keep]
        self._kept = [self._kept[j] for j in keep]
        self.ann_image, self.ann_category, self.area = self.ann_image[keep], self.ann_category[keep], self.area[keep]
        self.iscrowd, self.id_nonzero = self.iscrowd[keep], self.id_nonzero[keep]
        self.sorted_anns = np.lexsort((np.arange(len(keep)), self.ann_category, self.ann_image))
        self.image_start = np.searchsorted(self.ann_image[self.sorted_anns], np.arange(len(self.image_ids) + 1))

    def _image_category_keys(self, images: list[Any], name: str) -> np.ndarray:
        """Sorted ``image * K + category`` of an image list field (ids not among the categories dropped)."""
        K = len(self.category_ids)
        keys = []
        for i, im in enumerate(images):
            ids = self._field("images", i, im, name)
            if not isinstance(ids, list):
                raise InputError(f"{name!r} must be a list of category ids", file=self.file, record=f"images[{i}]",
                                 field=name)
            keys.extend(i * K + self.category_index[c] for c in ids if _hashable(c) and c in self.category_index)
        return np.unique(np.asarray(keys, np.int64))


def _hashable(value: Any) -> bool:
    return isinstance(value, (int, float, str))


def first_result(results: list[Any]) -> Any:
    """The result ``LVISResults`` puts first (after keeping each image's 300 best): it decides box areas."""
    head = results[0]
    if not isinstance(head, dict):
        return head
    same = [r for r in results if isinstance(r, dict) and r.get("image_id") == head.get("image_id")]
    if len(same) <= MAX_DETS_PER_IMAGE:
        return head
    try:
        return max(same, key=lambda r: r["score"])  # the first of the best, as a stable descending sort has it
    except (KeyError, TypeError):
        return head  # malformed: parsing names the record


def federated(gt: LvisGroundTruth, dets: Detections, det_sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``keep`` (evaluated at all) and ``not_exhaustive`` (ignored unless matched) per detection."""
    n = len(dets)
    order = np.lexsort((np.arange(n), -dets.score, det_sample))
    sample = det_sample[order]
    starts = np.flatnonzero(np.r_[True, sample[1:] != sample[:-1]]) if n else np.zeros(0, np.int64)
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    top = np.zeros(n, np.bool_)
    top[order[rank < MAX_DETS_PER_IMAGE]] = True
    key = dets.image * len(gt.category_ids) + dets.category
    keep = top & (dets.area > 0) & (dets.area < np.inf) & (np.isin(key, gt.positive) | np.isin(key, gt.negative))
    return keep, np.isin(key, gt.not_exhaustive)
