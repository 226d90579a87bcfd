"""IoU and greedy matching of ``COCOeval.evaluateImg`` for many (image, category) groups at once.

One numba kernel per batch, parallel over groups. Pixel IoU is computed only where the
``rleToBbox`` boxes overlap, which is exactly where ``rleIou`` computes it; elsewhere the
reference's IoU is 0 too. Outputs per detection and area range a bit per IoU threshold:
``match`` (matched to a ground truth whose id is non-zero: ``dtm`` truthy) and ``ignore`` (``dtIg``).
"""
from __future__ import annotations

import numpy as np

from evalkit.metrics._coco import rle
from evalkit.metrics._coco.oks import oks_matrix
from evalkit.jit import njit, prange, sized_kernel

#: what ``evaluate_groups`` compares: ``bbIou``, ``rleIou`` or ``computeOks``
BOXES, MASKS, OKS = 0, 1, 2


@njit(cache=True)
def _box_iou(d: np.ndarray, g: np.ndarray, crowd: bool) -> float:
    """``bbIou`` of maskApi.c for one pair, same operations in the same order."""
    w = min(d[2] + d[0], g[2] + g[0]) - max(d[0], g[0])
    if w <= 0:
        return 0.0
    h = min(d[3] + d[1], g[3] + g[1]) - max(d[1], g[1])
    if h <= 0:
        return 0.0
    i = w * h
    da = d[2] * d[3]
    u = da if crowd else da + g[2] * g[3] - i
    return i / u


@njit(cache=True)
def _measure_detection(k, d_box, d_buf, d_start, d_end, d_area, d_size, d_cnt):
    """Decode detection ``k``'s mask; when its area is not known yet (-1), check the string as
    :func:`rle.scan` does and set its area and box (or ``-1 - status`` for a bad string).
    The decoded runs (a buffer big enough) and their number (-1: bad)."""
    n = max(d_end[k] - d_start[k], 1)
    if d_cnt.shape[0] < n:
        d_cnt = np.empty(n, np.int64)
    if d_area[k] >= 0:
        return d_cnt, rle.decode(d_buf, d_start[k], d_end[k], d_cnt)
    h, w = d_size[k, 0], d_size[k, 1]
    dm = rle.decode_checked(d_buf, d_start[k], d_end[k], d_cnt, h, w)
    if dm < 0:
        d_area[k] = -1 + dm
        return d_cnt, -1
    d_area[k] = rle.measure(d_cnt, dm, h, w, d_box[k])
    return d_cnt, dm


@njit(cache=True)
def _group_ious(d0, d1, g0, g1, d_box, g_box, g_crowd, use_masks,
                d_buf, d_start, d_end, d_area, d_size, g_buf, g_start, g_end, g_area):
    D, G = d1 - d0, g1 - g0
    ious = np.zeros((D, G))
    if not use_masks:
        for i in range(D):
            for j in range(G):
                ious[i, j] = _box_iou(d_box[d0 + i], g_box[g0 + j], g_crowd[g0 + j])
        return ious
    g_off = np.zeros(G + 1, np.int64)
    for j in range(G):
        g_off[j + 1] = g_off[j] + max(g_end[g0 + j] - g_start[g0 + j], 1)
    g_cnt = np.empty(g_off[G], np.int64)
    g_m = np.full(G, -1, np.int64)
    d_cnt = np.empty(1, np.int64)
    for i in range(D):
        decoded = d_area[d0 + i] < 0  # area and box unknown: decoded (and checked) first
        dm = 0
        if decoded:
            d_cnt, dm = _measure_detection(d0 + i, d_box, d_buf, d_start, d_end, d_area, d_size, d_cnt)
            if dm < 0:
                continue
        for j in range(G):
            if _box_iou(d_box[d0 + i], g_box[g0 + j], g_crowd[g0 + j]) <= 0:
                continue
            if not decoded:
                d_cnt, dm = _measure_detection(d0 + i, d_box, d_buf, d_start, d_end, d_area, d_size, d_cnt)
                decoded = True
            if g_m[j] < 0:
                g_m[j] = rle.decode(g_buf, g_start[g0 + j], g_end[g0 + j], g_cnt[g_off[j]:g_off[j + 1]])
            inter = rle.intersection(d_cnt, dm, g_cnt[g_off[j]:], g_m[j])
            if inter == 0:
                continue
            union = d_area[d0 + i] if g_crowd[g0 + j] else d_area[d0 + i] + g_area[g0 + j] - inter
            ious[i, j] = np.float64(inter) / np.float64(union)
    return ious


@njit(cache=True)
def _match_group(q, d0, D, g0, G, ious, d_area, d_flag, g_area, g_ignore, g_crowd, g_idnz,
                thresholds, ranges, match, ignore, npig):
    """``evaluateImg``'s greedy matching of one group, every area range and threshold, into the bit sets.

    A GT is ignored when ``g_ignore`` (crowd; no keypoints; LVIS ``ignore``) or its area is out of range;
    only ``g_crowd`` GT can be matched twice. An unmatched detection is ignored when its area is out of
    range or ``d_flag`` (LVIS: category not exhaustively annotated in the image).
    """
    A, T = ranges.shape[0], thresholds.shape[0]
    all_bits = np.uint16((1 << T) - 1)
    if G == 0:  # nothing to match: a detection is ignored exactly when its area is out of range (or flagged)
        for a in range(A):
            lo, hi = ranges[a, 0], ranges[a, 1]
            for i in range(d0, d0 + D):
                if d_area[i] < lo or d_area[i] > hi or d_flag[i]:
                    ignore[i, a] = all_bits
        return
    gig = np.empty(G, np.bool_)
    taken = np.empty(G, np.bool_)
    for a in range(A):
        lo, hi = ranges[a, 0], ranges[a, 1]
        n_valid = 0
        for j in range(G):
            ar = g_area[g0 + j]
            gig[j] = g_ignore[g0 + j] or ar < lo or ar > hi
            if not gig[j]:
                n_valid += 1
        npig[q, a] = n_valid
        if D == 0:
            continue
        order = np.argsort(gig, kind="mergesort")
        for t in range(T):
            thr = min(thresholds[t], 1 - 1e-10)
            taken[:] = False
            bit = np.uint16(1 << t)
            for i in range(D):
                best = thr
                m = -1
                for jj in range(G):
                    j = order[jj]
                    if taken[jj] and not g_crowd[g0 + j]:
                        continue
                    if m > -1 and not gig[order[m]] and gig[j]:
                        break
                    if ious[i, j] < best:
                        continue
                    best = ious[i, j]
                    m = jj
                matched = False
                ig = False
                if m > -1:
                    gm = order[m]
                    ig = gig[gm]
                    matched = g_idnz[g0 + gm]
                    taken[m] = True
                if not matched and (d_area[d0 + i] < lo or d_area[d0 + i] > hi or d_flag[d0 + i]):
                    ig = True
                if matched:
                    match[d0 + i, a] |= bit
                if ig:
                    ignore[d0 + i, a] |= bit


@sized_kernel
def evaluate_groups(gd0, gd1, gg0, gg1,
                    d_box, d_area, d_flag, d_buf, d_start, d_end, d_pix, d_size,
                    g_box, g_area, g_ignore, g_crowd, g_idnz, g_buf, g_start, g_end, g_pix,
                    kind, oks_terms, pair_base, g_offset, g_count, thresholds, ranges):
    """Per detection ``match``/``ignore`` bit sets (bit t = threshold t) and per group ``npig``.

    ``kind`` OKS reads the keypoint terms (see :mod:`.keypoints`); the others the boxes or masks. A mask
    whose ``d_pix`` is -1 is measured here, where it is decoded anyway: ``d_pix`` and ``d_box`` receive its
    area and box (``d_size``: its height and width), or ``d_pix`` ``-1 - status`` for a bad string.
    """
    n_dt = d_area.shape[0]
    A = ranges.shape[0]
    match = np.zeros((n_dt, A), np.uint16)
    ignore = np.zeros((n_dt, A), np.uint16)
    npig = np.zeros((gd0.shape[0], A), np.int64)
    for q in prange(gd0.shape[0]):
        d0, d1, g0, g1 = gd0[q], gd1[q], gg0[q], gg1[q]
        D, G = d1 - d0, g1 - g0
        ious = np.zeros((D, G))
        if D > 0 and G > 0 and kind == OKS:
            ious = oks_matrix(q, d0, D, g0, G, oks_terms, pair_base, g_offset, g_count)
        elif D > 0 and G > 0:
            ious = _group_ious(d0, d1, g0, g1, d_box, g_box, g_crowd, kind == MASKS,
                               d_buf, d_start, d_end, d_pix, d_size, g_buf, g_start, g_end, g_pix)
        _match_group(q, d0, D, g0, G, ious, d_area, d_flag, g_area, g_ignore, g_crowd, g_idnz,
                    thresholds, ranges, match, ignore, npig)
    return match, ignore, npig
