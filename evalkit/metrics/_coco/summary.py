"""COCOeval's parameters and ``summarize``: numpy only, so importing the metric never needs numba."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
MAX_DETS = np.array([1, 10, 100], np.int64)
AREA_RANGES = np.array([[0, 1e5**2], [0, 32**2], [32**2, 96**2], [96**2, 1e5**2]], np.float64)
AREA_LABELS = ("all", "small", "medium", "large")
STAT_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
#: ``COCOeval.stats`` of ``iouType='keypoints'`` (``_summarizeKps``), named as pycocotools prints them
KEYPOINT_STAT_KEYS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
#: ``COCOeval.params.kpt_oks_sigmas``: the 17 COCO person keypoints
COCO_KEYPOINT_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87,
                                 .89, .89]) / 10.0


@dataclass(frozen=True)
class Params:
    """The evaluation parameters that differ between boxes/masks, keypoints and LVIS."""

    area_ranges: np.ndarray
    area_labels: tuple[str, ...]
    max_dets: np.ndarray


DETECTION = Params(AREA_RANGES, AREA_LABELS, MAX_DETS)
#: ``Params.setKpParams``
KEYPOINTS = Params(np.array([[0, 1e5**2], [32**2, 96**2], [96**2, 1e5**2]], np.float64), ("all", "medium", "large"),
                   np.array([20], np.int64))
#: lvis-api's ``Params``: one maximum, 300 detections per image
LVIS = Params(AREA_RANGES, AREA_LABELS, np.array([300], np.int64))


def summary_stat(precision: np.ndarray, recall: np.ndarray, params: Params, ap: bool, iou: float | None = None,
                 area: str = "all", max_dets: int = 100) -> float:
    """One ``_summarize`` value, with pycocotools' indexing so every mean sums in the same order."""
    aind = [i for i, lbl in enumerate(params.area_labels) if lbl == area]
    mind = [i for i, m in enumerate(params.max_dets.tolist()) if m == max_dets]
    s = precision if ap else recall
    if iou is not None:
        s = s[np.where(iou == IOU_THRESHOLDS)[0]]
    s = s[:, :, :, aind, mind] if ap else s[:, :, aind, mind]
    return _mean_valid(s)


def _mean_valid(s: np.ndarray) -> float:
    valid = s[s > -1]
    return -1.0 if len(valid) == 0 else float(np.mean(valid))


def summarize(precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    """The 12 ``COCOeval.stats``."""

    def one(ap: bool, iou: float | None = None, area: str = "all", max_dets: int = 100) -> float:
        return summary_stat(precision, recall, DETECTION, ap, iou, area, max_dets)

    values = [
        one(True), one(True, 0.5), one(True, 0.75),
        one(True, area="small"), one(True, area="medium"), one(True, area="large"),
        one(False, max_dets=1), one(False, max_dets=10), one(False),
        one(False, area="small"), one(False, area="medium"), one(False, area="large"),
    ]
    return dict(zip(STAT_KEYS, values))


def summarize_keypoints(precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    """The 10 ``COCOeval.stats`` of keypoints (``_summarizeKps``: 20 detections)."""
    values = [summary_stat(precision, recall, KEYPOINTS, ap, iou, area, 20)
              for ap in (True, False)
              for iou, area in ((None, "all"), (0.5, "all"), (0.75, "all"), (None, "medium"), (None, "large"))]
    return dict(zip(KEYPOINT_STAT_KEYS, values))


LVIS_STAT_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf", "AR@300", "ARs@300", "ARm@300",
                  "ARl@300")
#: lvis-api's ``img_count_lbl``: category frequency groups rare, common, frequent
LVIS_FREQUENCIES = ("r", "c", "f")


def summarize_lvis(precision: np.ndarray, recall: np.ndarray, frequency: list[str]) -> dict[str, float]:
    """``LVISEval.summarize``'s results; ``precision`` (T,R,K,A,1) and ``recall`` (T,K,A,1) as accumulated here.

    Indexed as lvis-api indexes its (T,R,K,A) arrays, so every mean sums the same elements in the same order.
    """
    p, r = precision[..., 0], recall[..., 0]

    def ap(iou: float | None = None, area: str = "all", group: int | None = None) -> float:
        aidx = [i for i, lbl in enumerate(LVIS.area_labels) if lbl == area]
        s = p[np.where(iou == IOU_THRESHOLDS)[0]] if iou is not None else p
        if group is not None:
            cats = [k for k, f in enumerate(frequency) if f == LVIS_FREQUENCIES[group]]
            return _mean_valid(s[:, :, cats, aidx])
        return _mean_valid(s[:, :, :, aidx])

    def ar(area: str = "all") -> float:
        return _mean_valid(r[:, :, [i for i, lbl in enumerate(LVIS.area_labels) if lbl == area]])

    values = [ap(), ap(0.5), ap(0.75), ap(area="small"), ap(area="medium"), ap(area="large"),
              ap(group=0), ap(group=1), ap(group=2), ar(), ar("small"), ar("medium"), ar("large")]
    return dict(zip(LVIS_STAT_KEYS, values))


def per_category_ap(precision: np.ndarray) -> np.ndarray:
    """AP per category (area all, the largest detection limit); NaN where the category has no ground truth."""
    p = precision[:, :, :, 0, -1]
    out = np.full(p.shape[2], np.nan)
    for k in range(p.shape[2]):
        v = p[:, :, k]
        v = v[v > -1]
        if len(v):
            out[k] = float(np.mean(v))
    return out
