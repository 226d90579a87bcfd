"""Polygons → compressed RLE strings in numba, pixel-identical to pycocotools' ``frPyObjects`` + ``merge``.

Rasterisation follows ``rleFrPoly`` of maskApi.c: vertices scaled by 5 and rounded, the
boundary walked densely, points where it crosses a pixel column downsampled to a
column boundary, and the mask is the parity of those boundary positions (column-major).
Parts of one annotation are OR-ed as ``rleMerge`` does. Only the pixel set matters
downstream (area, intersections, boxes that contain every pixel), and that is exact.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

SCALE = 5.0


@njit(cache=True)
def _boundaries(xy: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sorted column-major positions where one polygon's mask toggles (before pairing)."""
    k = xy.shape[0] // 2
    x = np.empty(k + 1, np.int64)
    y = np.empty(k + 1, np.int64)
    for j in range(k):
        x[j] = np.int64(SCALE * xy[2 * j] + 0.5)
        y[j] = np.int64(SCALE * xy[2 * j + 1] + 0.5)
    if k > 0:
        x[k], y[k] = x[0], y[0]
    n = 0
    for j in range(k):
        n += max(abs(x[j] - x[j + 1]), abs(y[j] - y[j + 1])) + 1
    u = np.empty(n, np.int64)
    v = np.empty(n, np.int64)
    n = 0
    for j in range(k):
        xs, xe, ys, ye = x[j], x[j + 1], y[j], y[j + 1]
        dx, dy = abs(xe - xs), abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe = xe, xs
            ys, ye = ye, ys
        if dx >= dy:
            s = (ye - ys) / dx if dx != 0 else 0.0
            for d in range(dx + 1):
                t = dx - d if flip else d
                u[n] = t + xs
                v[n] = np.int64(ys + s * t + 0.5)
                n += 1
        else:
            s = (xe - xs) / dy
            for d in range(dy + 1):
                t = dy - d if flip else d
                v[n] = t + ys
                u[n] = np.int64(xs + s * t + 0.5)
                n += 1
    out = np.empty(n + 1, np.int64)
    m = 0
    for j in range(1, n):
        if u[j] == u[j - 1]:
            continue
        xd = np.float64(u[j] if u[j] < u[j - 1] else u[j] - 1)
        xd = (xd + 0.5) / SCALE - 0.5
        if math.floor(xd) != xd or xd < 0 or xd > w - 1:
            continue
        yd = np.float64(v[j] if v[j] < v[j - 1] else v[j - 1])
        yd = (yd + 0.5) / SCALE - 0.5
        if yd < 0:
            yd = 0.0
        elif yd > h:
            yd = np.float64(h)
        yd = math.ceil(yd)
        out[m] = np.int64(xd) * h + np.int64(yd)
        m += 1
    out[m] = h * w
    return np.sort(out[: m + 1])


@njit(cache=True)
def _encode_counts(cnts: np.ndarray, m: int, out: np.ndarray, p: int) -> int:
    """``rleToString`` of ``cnts[:m]`` written at ``out[p:]``; returns the new end."""
    for i in range(m):
        x = cnts[i]
        if i > 2:
            x -= cnts[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if (c & 0x10) else x != 0
            if more:
                c |= 0x20
            out[p] = c + 48
            p += 1
    return p


@njit(cache=True)
def polygons_to_strings(coords: np.ndarray, poly_offsets: np.ndarray, ann_offsets: np.ndarray,
                        heights: np.ndarray, widths: np.ndarray):
    """Annotation ``a`` owns polygons ``ann_offsets[a]:ann_offsets[a+1]``; polygon ``q`` is
    ``coords[poly_offsets[q]:poly_offsets[q+1]]``. Returns (buffer, starts, ends) of RLE strings."""
    n_ann = ann_offsets.shape[0] - 1
    buf = np.empty(1024, np.uint8)
    starts = np.empty(n_ann, np.int64)
    ends = np.empty(n_ann, np.int64)
    p = 0
    for a in range(n_ann):
        h, w = np.int64(heights[a]), np.int64(widths[a])
        total = h * w
        # ones-intervals of every part, from the parity of its boundary positions
        lo = np.empty(0, np.int64)
        hi = np.empty(0, np.int64)
        for q in range(ann_offsets[a], ann_offsets[a + 1]):
            b = _boundaries(coords[poly_offsets[q]: poly_offsets[q + 1]], h, w)
            toggles = np.empty(b.shape[0] + 1, np.int64)
            nt = 0
            i = 0
            while i < b.shape[0]:
                j = i
                while j < b.shape[0] and b[j] == b[i]:
                    j += 1
                if (j - i) % 2 == 1:
                    toggles[nt] = b[i]
                    nt += 1
                i = j
            if nt % 2 == 1:  # a run of ones reaching the end of the image
                toggles[nt] = total
                nt += 1
            n_iv = nt // 2
            new_lo = np.empty(lo.shape[0] + n_iv, np.int64)
            new_hi = np.empty(hi.shape[0] + n_iv, np.int64)
            new_lo[: lo.shape[0]] = lo
            new_hi[: hi.shape[0]] = hi
            for t in range(n_iv):
                new_lo[lo.shape[0] + t] = min(toggles[2 * t], total)
                new_hi[hi.shape[0] + t] = min(toggles[2 * t + 1], total)
            lo, hi = new_lo, new_hi
        order = np.argsort(lo, kind="mergesort")
        cnts = np.empty(2 * lo.shape[0] + 2, np.int64)
        m = 0
        pos = np.int64(0)  # end of the last ones-run written
        cur_lo, cur_hi = np.int64(-1), np.int64(-1)
        for idx in order:
            l, r = lo[idx], hi[idx]
            if r <= l:
                continue
            if cur_hi >= l and cur_lo >= 0:
                cur_hi = max(cur_hi, r)
                continue
            if cur_lo >= 0:
                cnts[m] = cur_lo - pos
                cnts[m + 1] = cur_hi - cur_lo
                m += 2
                pos = cur_hi
            cur_lo, cur_hi = l, r
        if cur_lo >= 0:
            cnts[m] = cur_lo - pos
            cnts[m + 1] = cur_hi - cur_lo
            m += 2
            pos = cur_hi
        if pos < total or m == 0:
            cnts[m] = total - pos
            m += 1
        need = p + 7 * m + 1
        if need > buf.shape[0]:
            grown = np.empty(max(need, 2 * buf.shape[0]), np.uint8)
            grown[:p] = buf[:p]
            buf = grown
        starts[a] = p
        p = _encode_counts(cnts, m, buf, p)
        ends[a] = p
    return buf[:p].copy(), starts, ends
