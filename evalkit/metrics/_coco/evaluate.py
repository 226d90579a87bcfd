"""Evaluate one batch of images with the fast engine: per-detection match bits and per-image GT counts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics._coco import rle, summary as acc
from evalkit.metrics._coco.detections import Detections
from evalkit.metrics._coco.groundtruth import GroundTruth
from evalkit.metrics._coco.matching import BOXES, MASKS, evaluate_groups

if TYPE_CHECKING:
    from evalkit.metrics._coco.keypoints import KeypointArrays


@dataclass
class BatchResult:
    """Sufficient statistics of a batch: the top detections per (image, category) (100; keypoints 20) and GT counts."""

    sample: np.ndarray  # batch-local sample index of each kept detection
    category: np.ndarray
    score: np.ndarray
    rank: np.ndarray  # rank within its (sample, category) by score, ties in input order
    match: np.ndarray  # (n, A) uint16 bit t: matched at threshold t
    ignore: np.ndarray  # (n, A) uint16 bit t: ignored at threshold t
    npig: np.ndarray  # (n_samples, K, A) non-ignored GT per sample, category, area range


@dataclass
class Rules:
    """What differs from COCO boxes and masks: keypoints (OKS, 20 detections) and LVIS (federated, 300)."""

    params: acc.Params = acc.DETECTION
    keep: np.ndarray | None = None  # per detection: evaluated at all (LVIS drops some)
    unmatched_ignored: np.ndarray | None = None  # per detection: ignored unless matched (LVIS)
    gt_ignore: np.ndarray | None = None  # per GT annotation; default: crowd
    gt_crowd: np.ndarray | None = None  # per GT annotation: may match twice; default: iscrowd
    keypoints: "KeypointArrays | None" = None


DETECTION_RULES = Rules()


def evaluate_batch(gt: GroundTruth, dets: Detections, det_sample: np.ndarray, images: np.ndarray,
                   iou_type: str, rules: Rules = DETECTION_RULES) -> BatchResult:
    """Match the detections of samples ``images`` (GT image indices); ``det_sample`` says whose each is."""
    ranges = rules.params.area_ranges
    K, A = len(gt.category_ids), len(ranges)
    max_det = int(rules.params.max_dets[-1])
    key = det_sample * K + dets.category
    order = np.lexsort((-dets.score, key))  # (stable: ties in input order)
    if rules.keep is not None:
        order = order[rules.keep[order]]
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    rank = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    keep = rank < max_det
    kept, dkey, rank = order[keep], key[keep], rank[keep]

    per_image = gt.image_start[images + 1] - gt.image_start[images]
    ga = np.concatenate([gt.sorted_anns[gt.image_start[i]: gt.image_start[i + 1]] for i in images]) if len(images) else np.zeros(0, np.int64)
    ga = ga.astype(np.int64)
    gkey = np.repeat(np.arange(len(images)), per_image) * K + gt.ann_category[ga]

    groups = _sorted_unique(np.sort(np.concatenate([_sorted_unique(dkey), _sorted_unique(gkey)]), kind="stable"))
    bounds = (np.searchsorted(dkey, groups, "left"), np.searchsorted(dkey, groups, "right"),
              np.searchsorted(gkey, groups, "left"), np.searchsorted(gkey, groups, "right"))
    d_flag = np.zeros(len(kept), np.bool_) if rules.unmatched_ignored is None else rules.unmatched_ignored[kept]
    g_crowd = (gt.iscrowd if rules.gt_crowd is None else rules.gt_crowd)[ga]
    g_ignore = g_crowd if rules.gt_ignore is None else rules.gt_ignore[ga]
    work = len(kept) + 10 * len(groups)
    if iou_type == "keypoints":
        from evalkit.metrics._coco.keypoints import evaluate_keypoint_groups

        kp = rules.keypoints
        match, ignore, npig_groups = evaluate_keypoint_groups(
            *bounds, kp.detections[kept], dets.area[kept].astype(np.float64), d_flag,
            kp.ground_truth[ga], gt.boxes[ga].reshape(-1, 4), gt.area[ga], g_ignore, g_crowd, gt.id_nonzero[ga],
            kp.variances, acc.IOU_THRESHOLDS, ranges, work=work)
    else:
        match, ignore, npig_groups = _evaluate_regions(gt, dets, kept, dkey, gkey, ga, bounds, d_flag, g_ignore,
                                                       g_crowd, iou_type, ranges, work)
    npig = np.zeros((len(images), K, A), np.int32)
    npig[groups // K, groups % K] = npig_groups
    return BatchResult(det_sample[kept], dets.category[kept], dets.score[kept], rank.astype(np.int16),
                       match, ignore, npig)


def _evaluate_regions(gt: GroundTruth, dets: Detections, kept: np.ndarray, dkey: np.ndarray, gkey: np.ndarray,
                      ga: np.ndarray, bounds: tuple[np.ndarray, ...], d_flag: np.ndarray, g_ignore: np.ndarray,
                      g_crowd: np.ndarray, iou_type: str, ranges: np.ndarray,
                      work: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Box or mask IoU and the matching; masks decoded only where a detection meets a GT of its group."""
    use_masks = iou_type == "segm"
    empty_u8 = np.zeros(1, np.uint8)
    d_size = np.zeros((len(kept), 2), np.int64)
    if use_masks:
        dm, gm = dets.masks, gt.masks
        d_pix, d_box = np.zeros(len(kept), np.int64), np.zeros((len(kept), 4))
        meets_gt = np.isin(dkey, gkey)  # (only these masks are ever decoded)
        need = kept[meets_gt]
        if dets.scanned:
            d_pix[meets_gt], d_box[meets_gt] = dm.area[need], dm.box[need]
        else:  # measured and checked by the matching, which decodes them anyway
            d_pix[meets_gt] = -1
            d_size[meets_gt, 0], d_size[meets_gt, 1] = gt.heights[dets.image[need]], gt.widths[dets.image[need]]
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
    d_pix = np.asarray(d_pix, np.int64)
    out = evaluate_groups(
        *bounds, np.ascontiguousarray(d_box, np.float64), dets.area[kept].astype(np.float64), d_flag, d_buf,
        np.asarray(d_s, np.int64), np.asarray(d_e, np.int64), d_pix, d_size,
        np.ascontiguousarray(g_box, np.float64), gt.area[ga], g_ignore, g_crowd, gt.id_nonzero[ga], g_buf,
        np.asarray(g_s, np.int64), np.asarray(g_e, np.int64), np.asarray(g_pix, np.int64),
        MASKS if use_masks else BOXES, np.zeros(0), np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64),
        acc.IOU_THRESHOLDS, ranges, work=work,
    )
    bad = np.flatnonzero(d_pix < -1)  # the first bad mask in matching order, as rle.scan would have found it
    if len(bad):
        j = int(bad[0])
        raise InputError(rle.STATUS_MESSAGES[int(-1 - d_pix[j])], file=dets.file, record=int(kept[j]),
                         field="segmentation.counts")
    return out


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Distinct values of an already sorted array, in O(n)."""
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
