"""COCOeval's parameters and ``summarize``: numpy only, so importing the metric never needs numba."""
from __future__ import annotations

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
MAX_DETS = np.array([1, 10, 100], np.int64)
AREA_RANGES = np.array([[0, 1e5**2], [0, 32**2], [32**2, 96**2], [96**2, 1e5**2]], np.float64)
AREA_LABELS = ("all", "small", "medium", "large")
STAT_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def summarize(precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    """The 12 ``COCOeval.stats``, with pycocotools' indexing so every mean sums in the same order."""

    def one(ap: bool, iou: float | None = None, area: str = "all", max_dets: int = 100) -> float:
        aind = [i for i, lbl in enumerate(AREA_LABELS) if lbl == area]
        mind = [i for i, m in enumerate(MAX_DETS.tolist()) if m == max_dets]
        s = precision if ap else recall
        if iou is not None:
            s = s[np.where(iou == IOU_THRESHOLDS)[0]]
        s = s[:, :, :, aind, mind] if ap else s[:, :, aind, mind]
        valid = s[s > -1]
        return -1.0 if len(valid) == 0 else float(np.mean(valid))

    values = [
        one(True), one(True, 0.5), one(True, 0.75),
        one(True, area="small"), one(True, area="medium"), one(True, area="large"),
        one(False, max_dets=1), one(False, max_dets=10), one(False),
        one(False, area="small"), one(False, area="medium"), one(False, area="large"),
    ]
    return dict(zip(STAT_KEYS, values))


def per_category_ap(precision: np.ndarray) -> np.ndarray:
    """AP per category (area all, 100 detections); NaN where the category has no ground truth."""
    p = precision[:, :, :, 0, -1]
    out = np.full(p.shape[2], np.nan)
    for k in range(p.shape[2]):
        v = p[:, :, k]
        v = v[v > -1]
        if len(v):
            out[k] = float(np.mean(v))
    return out
