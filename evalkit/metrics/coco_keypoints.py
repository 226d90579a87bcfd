"""COCO keypoint AP (``coco-keypoints``): the 10 ``COCOeval.stats`` of pycocotools' ``iouType='keypoints'``.

OKS replaces IoU (per-keypoint ``kpt_oks_sigmas``, the 17 COCO ones by default; area from the GT; only the
GT's visible keypoints count), GT without keypoints (``num_keypoints == 0``) is ignored like a crowd, at most
20 detections per image and category, area ranges all/medium/large. Same engines and state as
:mod:`evalkit.metrics.coco`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit.metrics._coco import summary as acc
from evalkit.metrics.coco import CocoAP
from evalkit.registry import METRICS

if TYPE_CHECKING:
    from evalkit.metrics._coco.detections import Detections
    from evalkit.metrics._coco.evaluate import Rules


@METRICS.register("coco-keypoints")
class CocoKeypoints(CocoAP):
    """COCO keypoint AP/AR; option ``kpt_oks_sigmas``: ``coco`` (the 17 person keypoints) or a list of sigmas."""

    name = "coco-keypoints"
    iou_type = "keypoints"
    keys = acc.KEYPOINT_STAT_KEYS
    key_prefix = "coco-keypoints."
    defaults = {"kpt_oks_sigmas": "coco"}
    params = acc.KEYPOINTS

    def __init__(self, gt: Any = None, **options: Any):
        sigmas = options.get("kpt_oks_sigmas", "coco")
        if not (isinstance(sigmas, str) and sigmas == "coco"):
            from evalkit.metrics._coco.keypoints import check_sigmas

            options["kpt_oks_sigmas"] = check_sigmas(sigmas).tolist()
        self._gt_keypoints: tuple[np.ndarray, np.ndarray] | None = None
        super().__init__(gt, **options)

    @property
    def sigmas(self) -> np.ndarray:
        value = self.options["kpt_oks_sigmas"]
        return acc.COCO_KEYPOINT_SIGMAS if isinstance(value, str) else np.asarray(value, np.float64)

    def _set_gt(self, gt: Any) -> None:
        super()._set_gt(gt)
        if self.gt is not None:
            from evalkit.metrics._coco.keypoints import ground_truth_keypoints

            self._gt_keypoints = ground_truth_keypoints(self.gt, len(self.sigmas))

    def _detections(self, results: list[dict[str, Any]], file: Any) -> tuple["Detections", Any]:
        from evalkit.metrics._coco.keypoints import parse_keypoint_results

        return parse_keypoint_results(results, self._require_gt(), len(self.sigmas), self._state.shared["box_mode"],
                                      file)

    def _rules(self, dets: "Detections", extra: Any, det_sample: np.ndarray) -> "Rules":
        from evalkit.metrics._coco.evaluate import Rules
        from evalkit.metrics._coco.keypoints import KeypointArrays

        assert self._gt_keypoints is not None
        kpts, ignore = self._gt_keypoints
        return Rules(params=self.params, gt_ignore=ignore,
                     keypoints=KeypointArrays(extra, kpts, (self.sigmas * 2) ** 2))

    def summarize(self, precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
        return acc.summarize_keypoints(precision, recall)

    def _reference_params(self) -> dict[str, Any]:
        return {"sigmas": self.sigmas}

