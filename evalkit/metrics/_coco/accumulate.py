"""``COCOeval.accumulate`` and ``summarize`` over a multiset of images.

Images are taken in the order pycocotools takes them (sorted image id); an image drawn
k times by the bootstrap counts as k distinct, adjacent copies (as if re-labelled with
consecutive new ids). Within a category, detections are ordered by score (stable), then
image, then rank in the image, as pycocotools' mergesort over the concatenation orders them;
a copy repeats the image's block of tied detections, so the result equals pycocotools
on the re-labelled copies exactly.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from evalkit.metrics._coco.jit import sized_kernel

IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
MAX_DETS = np.array([1, 10, 100], np.int64)
AREA_RANGES = np.array([[0, 1e5**2], [0, 32**2], [32**2, 96**2], [96**2, 1e5**2]], np.float64)
AREA_LABELS = ("all", "small", "medium", "large")
STAT_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


@sized_kernel
def accumulate(cat_offsets, sample, score, rank, match, ignore, copies, npig, thresholds, rec_thrs, max_dets):
    """precision (T,R,K,A,M) and recall (T,K,A,M) of detections sorted by (category, -score, image, rank)."""
    K, A = npig.shape
    T, R, M = thresholds.shape[0], rec_thrs.shape[0], max_dets.shape[0]
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    eps = np.spacing(1.0)
    for k in prange(K):
        s0, s1 = cat_offsets[k], cat_offsets[k + 1]
        for mi in range(M):
            md = max_dets[mi]
            nd = 0
            for p in range(s0, s1):
                if rank[p] < md:
                    nd += copies[sample[p]]
            tp = np.empty((T, nd))
            fp = np.empty((T, nd))
            for a in range(A):
                if npig[k, a] == 0:
                    continue
                tpc = np.zeros(T, np.int64)
                fpc = np.zeros(T, np.int64)
                pos = 0
                p = s0
                while p < s1:
                    q = p + 1
                    while q < s1 and score[q] == score[p] and sample[q] == sample[p]:
                        q += 1
                    for _ in range(copies[sample[p]]):
                        for r in range(p, q):
                            if rank[r] >= md:
                                break
                            mb, ib = match[r, a], ignore[r, a]
                            for t in range(T):
                                bit = 1 << t
                                if not ib & bit:
                                    if mb & bit:
                                        tpc[t] += 1
                                    else:
                                        fpc[t] += 1
                                tp[t, pos] = tpc[t]
                                fp[t, pos] = fpc[t]
                            pos += 1
                    p = q
                n_gt = np.float64(npig[k, a])
                for t in range(T):
                    if nd == 0:
                        recall[t, k, a, mi] = 0.0
                        for ri in range(R):
                            precision[t, ri, k, a, mi] = 0.0
                        continue
                    rc = tp[t] / n_gt
                    pr = tp[t] / (fp[t] + tp[t] + eps)
                    recall[t, k, a, mi] = rc[nd - 1]
                    for i in range(nd - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    i = 0
                    for ri in range(R):
                        while i < nd and rc[i] < rec_thrs[ri]:
                            i += 1
                        precision[t, ri, k, a, mi] = pr[i] if i < nd else 0.0
    return precision, recall


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
