"""COCO keypoints: the arrays of ``iouType='keypoints'`` and OKS (``COCOeval.computeOks``) bit for bit.

OKS is computed in three passes so that every float operation is pycocotools': a numba pass writes the
exponents ``e`` (compacted to the visible keypoints, in order), numpy's own ``exp`` takes ``exp(-e)`` (numba's
libm ``exp`` differs from numpy's SIMD one in the last bit), and a numba pass adds them with numpy's pairwise
summation, divides by their count and matches as ``evaluateImg`` does.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from evalkit.errors import InputError
from evalkit.jit import prange, sized_kernel
from evalkit.metrics._coco.detections import Detections, parse_results, results_use_box_area
from evalkit.metrics._coco.groundtruth import GroundTruth
from evalkit.metrics._coco.matching import OKS, evaluate_groups


@dataclass
class KeypointArrays:
    """Keypoints ``(n, 3k)`` of the detections and of the GT annotations, and ``(2 sigma)^2`` per keypoint."""

    detections: np.ndarray
    ground_truth: np.ndarray
    variances: np.ndarray


def check_sigmas(sigmas: Any) -> np.ndarray:
    """``kpt_oks_sigmas`` as a float array: positive, finite, at least one."""
    try:
        arr = np.asarray(sigmas, np.float64)
    except (TypeError, ValueError):
        arr = np.zeros(0)
    if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise InputError(f"kpt_oks_sigmas must be a non-empty list of positive numbers, got {sigmas!r}",
                         field="kpt_oks_sigmas")
    return arr


def keypoint_rows(rows: list[Any], k: int, where: Any, file: Any) -> np.ndarray:
    """``(n, 3k)`` float array of keypoint lists; ``where(i)`` names record ``i`` of a bad one."""
    if not rows:
        return np.zeros((0, 3 * k))
    try:
        if set(map(len, rows)) == {3 * k}:  # then the flat read cannot shift values between records
            arr = np.fromiter(chain.from_iterable(rows), np.float64, 3 * k * len(rows)).reshape(len(rows), 3 * k)
            if np.all(np.isfinite(arr)):
                return arr
    except (TypeError, ValueError):
        pass
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
            raise InputError("keypoints must be a list of numbers [x1, y1, v1, ...]", file=file, record=where(i),
                             field="keypoints")
        if len(row) != 3 * k:
            raise InputError(f"keypoints has {len(row)} values; {k} keypoints (kpt_oks_sigmas) need {3 * k}",
                             file=file, record=where(i), field="keypoints")
        if not np.all(np.isfinite(row)):
            raise InputError("keypoints must be finite numbers", file=file, record=where(i), field="keypoints")
    raise AssertionError("unreachable")  # pragma: no cover


def ground_truth_keypoints(gt: GroundTruth, k: int) -> tuple[np.ndarray, np.ndarray]:
    """GT keypoints ``(n, 3k)`` and ``ignore`` (crowd, or ``num_keypoints == 0``, as ``COCOeval._prepare``)."""
    where = [f"annotations[{i}]" for i in gt._ann_positions]
    missing = [j for j, a in enumerate(gt._kept) if "keypoints" not in a or "num_keypoints" not in a]
    if missing:
        j = missing[0]
        name = "keypoints" if "keypoints" not in gt._kept[j] else "num_keypoints"
        raise InputError(f"annotation has no {name!r} (keypoint ground truth needs both)", file=gt.file,
                         record=where[j], field=name)
    kpts = keypoint_rows([a["keypoints"] for a in gt._kept], k, where.__getitem__, gt.file)
    counts = [a["num_keypoints"] for a in gt._kept]
    for j, c in enumerate(counts):
        if not isinstance(c, (int, float)) or isinstance(c, bool):
            raise InputError(f"'num_keypoints' must be a number, got {c!r}", file=gt.file, record=where[j],
                             field="num_keypoints")
    return kpts, gt.iscrowd | (np.asarray(counts, np.float64) == 0)


def parse_keypoint_results(results: Any, gt: GroundTruth, k: int, box_mode: bool | None,
                           file: Any = None) -> tuple[Detections, np.ndarray]:
    """Detections with ``loadRes``'s area (box area if the first result has a box, else mask area if it has a
    segmentation, else the keypoints' extent) and their keypoints."""
    if not isinstance(results, list):
        raise InputError("results must be a JSON list of objects", file=file)
    first = results[0] if results and isinstance(results[0], dict) else {}
    box_mode = results_use_box_area(results) if box_mode is None else box_mode
    regions = box_mode or "segmentation" in first
    dets = parse_results(results, gt, "keypoints", box_mode=box_mode, file=file, regions=regions)
    missing = next((i for i, r in enumerate(results) if "keypoints" not in r), None)
    if missing is not None:
        raise InputError("result has no 'keypoints'", file=file, record=missing, field="keypoints")
    kpts = keypoint_rows([r["keypoints"] for r in results], k, lambda i: i, file)
    if not regions and len(results):
        x, y = kpts[:, 0::3], kpts[:, 1::3]
        dets.area = (x.max(axis=1) - x.min(axis=1)) * (y.max(axis=1) - y.min(axis=1))
    return dets, kpts.reshape(-1, 3 * k)


@sized_kernel
def _exponents(gd0, gd1, gg0, gg1, d_kpts, g_kpts, g_box, g_area, g_visible, variances, pair_base, g_offset):
    """``e`` of every (detection, GT) pair of every group, visible keypoints only when the GT has any."""
    k = variances.shape[0]
    out = np.empty(pair_base[-1])
    eps = np.spacing(1.0)
    for q in prange(gd0.shape[0]):
        d0, d1, g0, g1 = gd0[q], gd1[q], gg0[q], gg1[q]
        if d1 == d0 or g1 == g0:
            continue
        row = g_offset[g1] - g_offset[g0]
        for j in range(g0, g1):
            x0 = g_box[j, 0] - g_box[j, 2]
            x1 = g_box[j, 0] + g_box[j, 2] * 2
            y0 = g_box[j, 1] - g_box[j, 3]
            y1 = g_box[j, 1] + g_box[j, 3] * 2
            scale = g_area[j] + eps
            for i in range(d0, d1):
                p = pair_base[q] + (i - d0) * row + g_offset[j] - g_offset[g0]
                for t in range(k):
                    xd, yd = d_kpts[i, 3 * t], d_kpts[i, 3 * t + 1]
                    if g_visible[j] > 0:
                        if g_kpts[j, 3 * t + 2] <= 0:
                            continue
                        dx = xd - g_kpts[j, 3 * t]
                        dy = yd - g_kpts[j, 3 * t + 1]
                    else:
                        dx = max(0.0, x0 - xd) + max(0.0, xd - x1)
                        dy = max(0.0, y0 - yd) + max(0.0, yd - y1)
                    out[p] = (dx * dx + dy * dy) / variances[t] / scale / 2
                    p += 1
    return out


def evaluate_keypoint_groups(gd0: np.ndarray, gd1: np.ndarray, gg0: np.ndarray, gg1: np.ndarray,
                             d_kpts: np.ndarray, d_area: np.ndarray, d_flag: np.ndarray, g_kpts: np.ndarray,
                             g_box: np.ndarray, g_area: np.ndarray, g_ignore: np.ndarray, g_crowd: np.ndarray,
                             g_idnz: np.ndarray, variances: np.ndarray, thresholds: np.ndarray, ranges: np.ndarray,
                             work: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``evaluate_groups`` with OKS: per detection match/ignore bits and per group non-ignored GT counts."""
    k = len(variances)
    g_visible = np.count_nonzero(g_kpts[:, 2::3] > 0, axis=1) if len(g_kpts) else np.zeros(0, np.int64)
    g_count = np.where(g_visible > 0, g_visible, k).astype(np.int64)
    g_offset = np.r_[0, np.cumsum(g_count)].astype(np.int64)
    block = (gd1 - gd0) * (g_offset[gg1] - g_offset[gg0])
    pair_base = np.r_[0, np.cumsum(block)].astype(np.int64)
    args = (np.ascontiguousarray(d_kpts, np.float64), np.ascontiguousarray(g_kpts, np.float64),
            np.ascontiguousarray(g_box, np.float64), np.asarray(g_area, np.float64))
    e = _exponents(gd0, gd1, gg0, gg1, *args, g_visible, variances, pair_base, g_offset, work=work)
    n_dt, n_gt = len(d_area), len(g_area)
    no_masks = np.zeros(1, np.uint8)
    no_d, no_g = np.zeros(n_dt, np.int64), np.zeros(n_gt, np.int64)
    return evaluate_groups(gd0, gd1, gg0, gg1, np.zeros((n_dt, 4)), d_area, d_flag, no_masks, no_d, no_d, no_d,
                           np.zeros((n_dt, 2), np.int64), args[2], g_area, g_ignore, g_crowd, g_idnz, no_masks, no_g, no_g, no_g,
                           OKS, np.exp(-e), pair_base, g_offset, g_count, thresholds, ranges, work=work)
