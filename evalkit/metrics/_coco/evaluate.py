"""Evaluate one batch of images with the fast engine: per-detection match bits and per-image GT counts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit.metrics._coco import summary as acc
from evalkit.metrics._coco.detections import Detections
from evalkit.metrics._coco.groundtruth import GroundTruth
from evalkit.metrics._coco.matching import evaluate_groups


@dataclass
class BatchResult:
    """Sufficient statistics of a batch: the top-100 detections per (image, category) and GT counts."""

    sample: np.ndarray  # batch-local sample index of each kept detection
    category: np.ndarray
    score: np.ndarray
    rank: np.ndarray  # rank within its (sample, category) by score, ties in input order
    match: np.ndarray  # (n, A) uint16 bit t: matched at threshold t
    ignore: np.ndarray  # (n, A) uint16 bit t: ignored at threshold t
    npig: np.ndarray  # (n_samples, K, A) non-ignored GT per sample, category, area range


def evaluate_batch(gt: GroundTruth, dets: Detections, det_sample: np.ndarray, images: np.ndarray,
                   iou_type: str) -> BatchResult:
    """Match the detections of samples ``images`` (GT image indices); ``det_sample`` says whose each is."""
    K, A = len(gt.category_ids), len(acc.AREA_RANGES)
    max_det = int(acc.MAX_DETS[-1])
    order = np.lexsort((np.arange(len(dets)), -dets.score, dets.category, det_sample))
    key = det_sample[order] * K + dets.category[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    rank = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    keep = rank < max_det
    kept, dkey, rank = order[keep], key[keep], rank[keep]

    per_image = gt.image_start[images + 1] - gt.image_start[images]
    ga = np.concatenate([gt.sorted_anns[gt.image_start[i]: gt.image_start[i + 1]] for i in images]) if len(images) else np.zeros(0, np.int64)
    ga = ga.astype(np.int64)
    gkey = np.repeat(np.arange(len(images)), per_image) * K + gt.ann_category[ga]

    groups = _sorted_unique(np.sort(np.concatenate([_sorted_unique(dkey), _sorted_unique(gkey)]), kind="stable"))
    use_masks = iou_type == "segm"
    empty_u8, empty_i = np.zeros(1, np.uint8), np.zeros(0, np.int64)
    if use_masks:
        dm, gm = dets.masks, gt.masks
        d_pix, d_box = np.zeros(len(kept), np.int64), np.zeros((len(kept), 4))
        meets_gt = np.isin(dkey, gkey)
        need = kept[meets_gt]
        d_pix[meets_gt], d_box[meets_gt] = dets.mask_stats(need, gt.heights[dets.image[need]], gt.widths[dets.image[need]])
        d_buf, d_s, d_e = dm.buf, dm.starts[kept], dm.ends[kept]
        g_box, g_buf, g_s, g_e, g_pix = gm.box[ga], gm.buf, gm.starts[ga], gm.ends[ga], gm.area[ga]
        if len(d_buf) == 0:
            d_buf = empty_u8
        if len(g_buf) == 0:
            g_buf = empty_u8
    else:
        d_box, g_box = dets.box[kept].reshape(-1, 4), gt.boxes[ga].reshape(-1, 4)
        d_buf = g_buf = empty_u8
        d_s = d_e = np.zeros(len(kept), np.int64)
        g_s = g_e = np.zeros(len(ga), np.int64)
        d_pix, g_pix = d_s, g_s
    match, ignore, npig_groups = evaluate_groups(
        np.searchsorted(dkey, groups, "left"), np.searchsorted(dkey, groups, "right"),
        np.searchsorted(gkey, groups, "left"), np.searchsorted(gkey, groups, "right"),
        np.ascontiguousarray(d_box, np.float64), dets.area[kept].astype(np.float64), d_buf,
        np.asarray(d_s, np.int64), np.asarray(d_e, np.int64), np.asarray(d_pix, np.int64),
        np.ascontiguousarray(g_box, np.float64), gt.area[ga], gt.iscrowd[ga], gt.id_nonzero[ga], g_buf,
        np.asarray(g_s, np.int64), np.asarray(g_e, np.int64), np.asarray(g_pix, np.int64),
        use_masks, acc.IOU_THRESHOLDS, acc.AREA_RANGES, work=len(kept) + 10 * len(groups),
    )
    npig = np.zeros((len(images), K, A), np.int32)
    npig[groups // K, groups % K] = npig_groups
    return BatchResult(det_sample[kept], dets.category[kept], dets.score[kept], rank.astype(np.int16),
                       match, ignore, npig)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Distinct values of an already sorted array, in O(n)."""
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
