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

from evalkit.jit import njit

SCALE = 5.0


@njit(cache=True)
def _emit(ua: int, va: int, ub: int, vb: int, h: int, w: int, out: np.ndarray, m: int) -> int:
    """Append the column-boundary position of the dense boundary step (ua, va) → (ub, vb), if any."""
    if ub == ua:
        return m
    xd = np.float64(ub if ub < ua else ub - 1)
    xd = (xd + 0.5) / SCALE - 0.5
    if math.floor(xd) != xd or xd < 0 or xd > w - 1:
        return m
    yd = np.float64(vb if vb < va else va)
    yd = (yd + 0.5) / SCALE - 0.5
    if yd < 0:
        yd = 0.0
    elif yd > h:
        yd = np.float64(h)
    out[m] = np.int64(xd) * h + np.int64(math.ceil(yd))
    return m + 1


@njit(cache=True)
def _steep_u(xs: int, s: float, t: int) -> int:
    return np.int64(xs + s * t + 0.5)


@njit(cache=True)
def _steep_edge(xs: int, ys: int, dy: int, s: float, h: int, w: int, out: np.ndarray, m: int) -> int:
    """Boundary positions of a steep edge (|slope| < 1 in u): u(t) moves by at most 1 per step and
    monotonically, so each column change c -> c+1 with c = 2 (mod 5) is found by bisection."""
    ua, ub = _steep_u(xs, s, 0), _steep_u(xs, s, dy)
    lo_u, hi_u = min(ua, ub), max(ua, ub)
    increasing = ub > ua
    c = lo_u + (2 - lo_u) % 5
    while c < hi_u:
        # first t whose u is on the far side of the c | c+1 column change
        lo, hi = 0, dy
        while lo < hi:
            mid = (lo + hi) // 2
            um = _steep_u(xs, s, mid)
            if (um >= c + 1) if increasing else (um <= c):
                hi = mid
            else:
                lo = mid + 1
        m = _emit(_steep_u(xs, s, lo - 1), lo - 1 + ys, _steep_u(xs, s, lo), lo + ys, h, w, out, m)
        c += 5
    return m


@njit(cache=True)
def _boundaries(xy: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sorted column-major positions where one polygon's mask toggles (before pairing).

    The dense walk of ``rleFrPoly`` visits every upsampled point; only steps whose
    column index lands on a pixel centre (every 5th step of a flat edge) can yield a
    position, so flat edges jump straight to those steps.
    """
    k = xy.shape[0] // 2
    x = np.empty(k + 1, np.int64)
    y = np.empty(k + 1, np.int64)
    for j in range(k):
        x[j] = np.int64(SCALE * xy[2 * j] + 0.5)
        y[j] = np.int64(SCALE * xy[2 * j + 1] + 0.5)
    if k > 0:
        x[k], y[k] = x[0], y[0]
    cap = 1
    for j in range(k):
        cap += abs(x[j] - x[j + 1]) + 2
    out = np.empty(cap, np.int64)
    m = 0
    pu, pv = np.int64(0), np.int64(0)
    for j in range(k):
        xs, xe, ys, ye = x[j], x[j + 1], y[j], y[j + 1]
        dx, dy = abs(xe - xs), abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe = xe, xs
            ys, ye = ye, ys
        if dx >= dy:
            s = (ye - ys) / dx if dx != 0 else 0.0
            t0 = dx if flip else 0
            u0, v0 = t0 + xs, np.int64(ys + s * t0 + 0.5)
            if j > 0:
                m = _emit(pu, pv, u0, v0, h, w, out, m)
            d = (xs + dx - 2) % 5 if flip else (3 - xs) % 5
            if d == 0:
                d = 5
            while d <= dx:
                ta, tb = (dx - d + 1, dx - d) if flip else (d - 1, d)
                m = _emit(ta + xs, np.int64(ys + s * ta + 0.5), tb + xs, np.int64(ys + s * tb + 0.5), h, w, out, m)
                d += 5
            tn = 0 if flip else dx
            pu, pv = tn + xs, np.int64(ys + s * tn + 0.5)
        else:
            s = (xe - xs) / dy
            t = dy if flip else 0
            u, v = np.int64(xs + s * t + 0.5), t + ys
            if j > 0:
                m = _emit(pu, pv, u, v, h, w, out, m)
            m = _steep_edge(xs, ys, dy, s, h, w, out, m)
            tn = 0 if flip else dy
            pu, pv = np.int64(xs + s * tn + 0.5), tn + ys
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


@njit(cache=True, nogil=True)
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
