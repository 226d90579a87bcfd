"""COCO run-length masks kept as their compressed strings, decoded on the fly by numba kernels.

A mask is a slice ``buf[start:end]`` of one byte buffer in the LEB128-like text format of
``maskApi.c`` (``rleToString``), plus its height. Decoding to counts happens only where
a pixel-level IoU is needed, so 500k detection masks never sit in memory as count arrays.
Ground-truth polygons are rasterised by :mod:`polygon`; the rare odd inputs (uncompressed
RLEs, result polygons) go through pycocotools itself.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.jit import njit, prange, sized_kernel

OK, BAD_CHAR, BAD_COUNT, BAD_SUM = 0, 1, 2, 3
STATUS_MESSAGES = {
    BAD_CHAR: "RLE 'counts' string has characters outside the COCO alphabet ('0'..'o')",
    BAD_COUNT: "RLE 'counts' decodes to a negative or oversized run",
    BAD_SUM: "RLE runs do not add up to height*width (mask size differs from its 'size')",
}


@njit(cache=True)
def decode(buf: np.ndarray, start: int, end: int, out: np.ndarray) -> int:
    """Decode one string (checked already) into ``out`` (len >= end-start); returns the number of runs."""
    m = 0
    p = start
    while p < end:
        x, p = _value(buf, p, end)
        if p < 0:
            break
        if m > 2:
            x += out[m - 2]
        out[m] = x
        m += 1
    return m


@njit(cache=True, nogil=True)
def _value(buf: np.ndarray, p: int, end: int) -> tuple[int, int]:
    """The value at ``p`` (before the delta of ``rleFrString``) and the index after it; -1 for a character
    outside the alphabet ('0'..'o') or a value cut off by the end of the string."""
    x = np.int64(0)
    k = 0
    more = True
    while more:
        if p >= end or buf[p] < 48 or buf[p] > 111:
            return x, -1
        c = np.int64(buf[p]) - 48
        x |= (c & 0x1F) << (5 * k)
        more = (c & 0x20) != 0
        p += 1
        k += 1
        if not more and (c & 0x10) != 0:
            x |= np.int64(-1) << (5 * k)
    return x, p


@sized_kernel
def scan(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, heights: np.ndarray, widths: np.ndarray):
    """Area, ``rleToBbox`` box and a validity status of every string, decoded in one streaming pass."""
    n = len(starts)
    area = np.zeros(n, np.int64)
    box = np.zeros((n, 4), np.float64)
    status = np.zeros(n, np.int8)
    for i in prange(n):
        h, w = np.int64(heights[i]), np.int64(widths[i])
        p, end = starts[i], ends[i]
        m = 0
        prev1 = np.int64(0)  # value m-1
        prev2 = np.int64(0)  # value m-2
        cc = np.int64(0)
        xs, ys, xe, ye = w, h, np.int64(0), np.int64(0)
        x0 = np.int64(0)
        y0 = np.int64(0)
        bad = OK
        while p < end:
            x, p = _value(buf, p, end)
            if p < 0:
                bad = BAD_CHAR
                break
            if m > 2:
                x += prev2
            if x < 0 or x > 4294967295:
                bad = BAD_COUNT
                break
            prev2, prev1 = prev1, x
            cc += x
            if m % 2 == 0:
                t = cc  # first pixel of the next run of ones; applied once that run is known to exist
                y0 = t % h
                x0 = (t - y0) // h
            else:
                area[i] += x
                t = cc - 1
                y1 = t % h
                x1 = (t - y1) // h
                if x0 < x1:
                    ys = 0
                    ye = h - 1
                xs = min(xs, x0, x1)
                xe = max(xe, x0, x1)
                ys = min(ys, y0, y1)
                ye = max(ye, y0, y1)
            m += 1
        if bad == OK and cc != h * w:
            bad = BAD_SUM
        status[i] = bad
        if bad == OK and m >= 2:
            box[i, 0], box[i, 1], box[i, 2], box[i, 3] = xs, ys, xe - xs + 1, ye - ys + 1
    return area, box, status


@njit(cache=True, nogil=True)
def decode_checked(buf: np.ndarray, start: int, end: int, out: np.ndarray, h: int, w: int) -> int:
    """:func:`decode` with :func:`scan`'s checks: the number of runs, or minus the string's bad status."""
    m = 0
    p = start
    cc = np.int64(0)
    while p < end:
        x, p = _value(buf, p, end)
        if p < 0:
            return -BAD_CHAR
        if m > 2:
            x += out[m - 2]
        if x < 0 or x > 4294967295:
            return -BAD_COUNT
        out[m] = x
        cc += x
        m += 1
    return m if cc == np.int64(h) * np.int64(w) else -BAD_SUM


@njit(cache=True, nogil=True)
def measure(cnts: np.ndarray, m: int, h: int, w: int, box: np.ndarray) -> int:
    """The pixel area of decoded runs; their ``rleToBbox`` box (maskApi.c, quirks included: a run crossing
    columns spans the full height) into ``box``."""
    area = np.int64(0)
    for j in range(1, m, 2):
        area += cnts[j]
    box[:] = 0.0
    m = (m // 2) * 2
    if m == 0:
        return area
    xs, ys, xe, ye = np.int64(w), np.int64(h), np.int64(0), np.int64(0)
    cc = np.int64(0)
    xp = np.int64(0)
    for j in range(m):
        cc += cnts[j]
        t = cc - j % 2
        y = t % h
        x = (t - y) // h
        if j % 2 == 0:
            xp = x
        elif xp < x:
            ys = 0
            ye = h - 1
        xs = min(xs, x)
        xe = max(xe, x)
        ys = min(ys, y)
        ye = max(ye, y)
    box[0], box[1], box[2], box[3] = xs, ys, xe - xs + 1, ye - ys + 1
    return area


@njit(cache=True)
def intersection(a: np.ndarray, na: int, b: np.ndarray, nb: int) -> int:
    """Pixels set in both masks (equal totals assumed), walking run boundaries as ``rleIou`` does."""
    ia, ib = 0, 0
    ra, rb = a[0], b[0]
    va, vb = False, False
    inter = np.int64(0)
    while True:
        c = min(ra, rb)
        if va and vb:
            inter += c
        ra -= c
        rb -= c
        if ra == 0:
            ia += 1
            if ia >= na:
                break
            ra = a[ia]
            va = not va
        if rb == 0:
            ib += 1
            if ib >= nb:
                break
            rb = b[ib]
            vb = not vb
    return inter


class MaskBuffer:
    """Many compressed RLE strings in one byte buffer: ``buf[starts[i]:ends[i]]``."""

    def __init__(self, pieces: Sequence[bytes]):
        lengths = np.fromiter((len(p) for p in pieces), np.int64, len(pieces))
        self.ends = np.cumsum(lengths)
        self.starts = self.ends - lengths
        self.buf = np.frombuffer(b"".join(pieces), np.uint8) if pieces else np.zeros(0, np.uint8)
        self.area, self.box = np.zeros(len(pieces), np.int64), np.zeros((len(pieces), 4))  # set by scan()

    @classmethod
    def from_spans(cls, buf: np.ndarray, spans: np.ndarray) -> "MaskBuffer":
        """The strings ``buf[spans[i, 0]:spans[i, 1]]`` (as a scanned results file holds them)."""
        self = cls.__new__(cls)
        self.buf, self.starts, self.ends = buf, np.ascontiguousarray(spans[:, 0]), np.ascontiguousarray(spans[:, 1])
        self.area, self.box = np.zeros(len(spans), np.int64), np.zeros((len(spans), 4))
        return self

    @classmethod
    def from_strings(cls, strings: list[str]) -> "MaskBuffer":
        """Fast path for JSON strings: one join and one encode, ASCII checked by the scan."""
        lengths = np.fromiter(map(len, strings), np.int64, len(strings))
        self = cls.__new__(cls)
        self.ends = np.cumsum(lengths)
        self.starts = self.ends - lengths
        joined = "".join(strings).encode("utf-8", "surrogatepass")
        if len(joined) != int(self.ends[-1] if len(self.ends) else 0):
            raise UnicodeError("non-ASCII character in an RLE string")
        self.buf = np.frombuffer(joined, np.uint8)
        self.area, self.box = np.zeros(len(strings), np.int64), np.zeros((len(strings), 4))
        return self


def polygons_to_rle(polygons: list[Any], h: int, w: int) -> bytes:
    """One annotation's polygon list → compressed RLE, as ``COCO.annToRLE`` makes it."""
    from pycocotools import mask as mask_utils

    rles = mask_utils.frPyObjects(polygons, h, w)
    return mask_utils.merge(rles)["counts"]


def uncompressed_to_rle(segm: dict[str, Any], h: int, w: int) -> bytes:
    """An uncompressed ``{"counts": [...], "size": [h, w]}`` → compressed string, as pycocotools does."""
    from pycocotools import mask as mask_utils

    return mask_utils.frPyObjects(segm, h, w)["counts"]
