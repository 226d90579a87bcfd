"""LVIS AP (``lvis-segm`` masks, ``lvis-bbox`` boxes): ``LVISEval.results`` of lvis-api.

Federated evaluation (see :mod:`evalkit.metrics._coco.lvis`), 300 detections per image, COCO's area ranges,
and AP per category frequency (APr, APc, APf). Matching, accumulation and the state are the COCO engine's;
``engine: reference`` has lvis-api's ``LVISEval.evaluate`` do the matching (same numbers).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit.metrics._coco import summary as acc
from evalkit.metrics.coco import CocoAP
from evalkit.metrics.state import Shared
from evalkit.registry import METRICS

if TYPE_CHECKING:
    from evalkit.metrics._coco.detections import Detections
    from evalkit.metrics._coco.evaluate import BatchResult, Rules
    from evalkit.metrics._coco.lvis import LvisGroundTruth


class LvisAP(CocoAP):
    """LVIS AP/AR for one ``iou_type``; ground truth from ``gt=`` (an LVIS file or dict) or the dataset's
    ``coco_gt``."""

    state = {**CocoAP.state, "category_frequency": Shared()}
    keys = acc.LVIS_STAT_KEYS
    defaults: dict[str, Any] = {}
    reference = "lvis"
    params = acc.LVIS

    @classmethod
    def read_gt(cls, source: Any) -> "LvisGroundTruth":
        from evalkit.metrics._coco.lvis import LvisGroundTruth

        return source if isinstance(source, LvisGroundTruth) else LvisGroundTruth(source)

    def reset(self) -> None:
        super().reset()
        gt = getattr(self, "gt", None)
        if gt is not None:
            self._state.set_shared("category_frequency", list(gt.frequency))

    def _box_mode(self, results: list[dict[str, Any]]) -> bool:
        from evalkit.metrics._coco.lvis import first_result

        first = first_result(results)
        return isinstance(first, dict) and "bbox" in first

    def _rules(self, dets: "Detections", extra: Any, det_sample: np.ndarray) -> "Rules":
        from evalkit.metrics._coco.evaluate import Rules
        from evalkit.metrics._coco.lvis import federated

        gt = self._require_gt()
        keep, not_exhaustive = federated(gt, dets, det_sample)
        return Rules(params=self.params, keep=keep, unmatched_ignored=not_exhaustive, gt_ignore=gt.ignore)

    def _reference_batch(self, results: list[dict[str, Any]], image_ids: list[int]) -> "BatchResult":
        from evalkit.metrics._coco.reference import lvis_gt, lvis_reference_batch

        if self._gt_coco is None:
            self._gt_coco = lvis_gt(self._require_gt().as_dict())
        return lvis_reference_batch(self._gt_coco, results, image_ids, self.iou_type)

    def summarize(self, precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
        return acc.summarize_lvis(precision, recall, self._state.shared["category_frequency"] or [])


@METRICS.register("lvis-segm")
class LvisSegm(LvisAP):
    name = "lvis-segm"
    key_prefix = "lvis-segm."
    iou_type = "segm"


@METRICS.register("lvis-bbox")
class LvisBbox(LvisAP):
    name = "lvis-bbox"
    key_prefix = "lvis-bbox."
    iou_type = "bbox"
