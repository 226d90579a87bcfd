"""A numba scanner for big COCO results files: detection columns with no Python object per detection.

orjson turns val2017-size segm results (500k detections, 167 MB) into 500k dicts, 2.5M more objects and their
strings; scoring reads a few fields of each into arrays and frees them all, which took about half of an
``evalkit score coco-segm``. This scanner walks the bytes once, checks the whole document as JSON, and returns
the columns scoring reads: image and category ids, scores, boxes, mask sizes and the RLE strings in one buffer.

It is a fast path, never a second dialect (the rules of :mod:`evalkit.formats.vqa_scan`, whose JSON grammar it
shares): it answers only for input it is sure orjson reads to exactly these values — ASCII, keys without
escapes, no repeated field, integer ids, numbers whose decimal digits convert exactly (Clinger's fast path:
at most 2^53 and a power of ten within ±22, one correctly rounded operation, as every exact parser rounds),
RLE segmentations only. Anything else returns None and the caller reads the file with orjson, so errors and
unusual files are exactly the orjson reader's.
"""
from __future__ import annotations

import mmap
from dataclasses import dataclass

import numpy as np

from evalkit.formats.vqa_scan import _FAIL, _MAX_DEPTH, _hex, _integer, _is, _key, _next, _skip, _ws
from evalkit.jit import HAVE_NUMBA, njit

_IMAGE_ID, _CATEGORY_ID, _SCORE, _BBOX, _SEGMENTATION, _SIZE, _COUNTS = (
    np.frombuffer(k, dtype=np.uint8) for k in
    (b"image_id", b"category_id", b"score", b"bbox", b"segmentation", b"size", b"counts"))
#: per-record field bits; a record needs the first three
IMAGE, CATEGORY, SCORE, BOX, MASK = 1, 2, 4, 8, 16
_POWERS = np.array([10.0 ** k for k in range(23)])  # each exact in a float64
#: ``{"image_id":0,"category_id":0,"score":0}``, the shortest record, is 41 bytes
_MIN_RECORD = 41
#: the longest number text left to numpy's parser (longer ones are left to orjson)
_MAX_NUMBER = 32


@njit(cache=True, nogil=True)
def _float(buf, i):
    """(end or -1, value, exact) of the JSON number at ``i``. ``exact``: its digits (at most 2^53) and a power
    of ten within ±22 gave the correctly rounded value in one IEEE operation; otherwise the caller has the
    number's text converted (see :func:`_number`)."""
    n = len(buf)
    negative = i < n and buf[i] == 45
    if negative:
        i += 1
    if i >= n or not 48 <= buf[i] <= 57:
        return _FAIL, 0.0, False
    m = np.int64(0)
    digits = 0  # significant digits so far; past 17 the value is only checked, not computed
    exponent = 0
    if buf[i] == 48:
        i += 1
    else:
        while i < n and 48 <= buf[i] <= 57:
            if digits < 18:
                m = m * 10 + (buf[i] - 48)
            digits += 1
            i += 1
    integer = True
    if i < n and buf[i] == 46:
        integer = False
        i += 1
        start = i
        while i < n and 48 <= buf[i] <= 57:
            if digits < 18 and (m > 0 or buf[i] != 48):
                m = m * 10 + (buf[i] - 48)
                exponent -= 1
                digits += 1
            elif m == 0:
                exponent -= 1
            else:
                digits += 1
            i += 1
        if i == start:
            return _FAIL, 0.0, False
    if i < n and (buf[i] == 101 or buf[i] == 69):
        integer = False
        i += 1
        sign = 1
        if i < n and (buf[i] == 43 or buf[i] == 45):
            sign = -1 if buf[i] == 45 else 1
            i += 1
        start = i
        e = 0
        while i < n and 48 <= buf[i] <= 57:
            e = e * 10 + (buf[i] - 48)
            i += 1
            if i - start > 3:
                return _FAIL, 0.0, False
        if i == start:
            return _FAIL, 0.0, False
        exponent += sign * e
    if m == 0:  # ``-0`` is the integer 0, ``-0.0`` a negative zero
        return i, -0.0 if negative and not integer else 0.0, True
    if digits > 17 or m > 9007199254740992 or not -22 <= exponent <= 22:
        return i, 0.0, False
    value = np.float64(m) * _POWERS[exponent] if exponent >= 0 else np.float64(m) / _POWERS[-exponent]
    return i, -value if negative else value, True


@njit(cache=True, nogil=True)
def _number(buf, i, st, row, column):
    """The number at ``i`` into ``numbers[row, column]`` (score, then the box); a number that does not convert
    exactly here is listed in ``slow`` for :func:`_convert`. The index after it or -1."""
    numbers, slow, counts = st[1], st[6], st[7]
    end, value, exact = _float(buf, i)
    if end < 0 or (not exact and end - i > _MAX_NUMBER):
        return _FAIL
    numbers[row, column] = value
    if not exact:
        k = counts[2]
        slow[k, 0], slow[k, 1], slow[k, 2] = i, end, row * 5 + column
        counts[2] = k + 1
    return end


@njit(cache=True, nogil=True)
def _box(buf, i, st, r):
    """``[x, y, w, h]`` of four numbers at ``i`` into columns 1-4 of row ``r``; the index after it or -1."""
    n = len(buf)
    if i >= n or buf[i] != 91:
        return _FAIL
    i += 1
    for k in range(4):
        i = _number(buf, _ws(buf, i), st, r, k + 1)
        if i < 0:
            return _FAIL
        i, closed = _next(buf, i, 93)
        if i < 0 or closed != (k == 3):
            return _FAIL
    return i


@njit(cache=True, nogil=True)
def _size(buf, i, sizes, r):
    """``[height, width]`` of two integers at ``i`` into ``sizes[r]``; the index after it or -1."""
    if i >= len(buf) or buf[i] != 91:
        return _FAIL
    i += 1
    for k in range(2):
        i, value = _integer(buf, _ws(buf, i))
        if i < 0:
            return _FAIL
        sizes[r, k] = value
        i, closed = _next(buf, i, 93)
        if i < 0 or closed != (k == 1):
            return _FAIL
    return i


@njit(cache=True, nogil=True)
def _copy_string(buf, i, out, o):
    """The string at ``i`` (a quote) unescaped into ``out`` from ``o``: (index after it or -1, end in ``out``).
    ``\\u`` escapes of non-ASCII characters are left to orjson."""
    n = len(buf)
    if i >= n or buf[i] != 34:
        return _FAIL, o
    i += 1
    while i < n:
        c = buf[i]
        if c == 34:
            return i + 1, o
        if c == 92:
            if i + 1 >= n:
                return _FAIL, o
            d = buf[i + 1]
            if d == 117:
                if i + 5 >= n:
                    return _FAIL, o
                value = 0
                for k in range(2, 6):
                    h = _hex(buf[i + k])
                    if h < 0:
                        return _FAIL, o
                    value = value * 16 + h
                if value > 127:
                    return _FAIL, o
                c = value
                i += 6
            else:
                if d == 34 or d == 92 or d == 47:
                    c = d
                elif d == 98:
                    c = 8
                elif d == 102:
                    c = 12
                elif d == 110:
                    c = 10
                elif d == 114:
                    c = 13
                elif d == 116:
                    c = 9
                else:
                    return _FAIL, o
                i += 2
        elif c < 32 or c > 127:
            return _FAIL, o
        else:
            i += 1
        out[o] = c
        o += 1
    return _FAIL, o


@njit(cache=True, nogil=True)
def _segmentation(buf, i, st, r):
    """An RLE ``{"size": [h, w], "counts": "..."}`` at ``i`` (other members skipped); -1 for anything else
    (polygons, list counts)."""
    sizes, spans, out, counts, stack = st[3], st[4], st[5], st[7], st[8]
    if i >= len(buf) or buf[i] != 123:
        return _FAIL
    i += 1
    seen = 0
    closed = False
    while not closed:
        i, ks, ke, escaped = _key(buf, i)
        if i < 0 or escaped:
            return _FAIL
        i = _ws(buf, i)
        field = 1 if _is(buf, ks, ke, _SIZE) else (2 if _is(buf, ks, ke, _COUNTS) else 0)
        if seen & field:
            return _FAIL
        seen |= field
        if field == 1:
            i = _size(buf, i, sizes, r)
        elif field == 2:
            i, end = _copy_string(buf, i, out, counts[1])
            spans[r, 0], spans[r, 1] = counts[1], end
            counts[1] = end
        else:
            i = _skip(buf, i, stack)
        if i < 0:
            return _FAIL
        i, closed = _next(buf, i, 125)
        if i < 0:
            return _FAIL
    return i if seen == 3 else _FAIL


@njit(cache=True, nogil=True)
def _record(buf, i, st):
    """One detection object at ``i`` into row ``counts[0]`` of the columns; the index after it or -1."""
    ids, fields, counts, stack = st[0], st[2], st[7], st[8]
    n = len(buf)
    r = counts[0]
    if r == len(fields):
        return _FAIL
    i = _ws(buf, i)
    if i >= n or buf[i] != 123:
        return _FAIL
    i += 1
    seen = 0
    closed = False
    while not closed:
        i, ks, ke, escaped = _key(buf, i)
        if i < 0 or escaped:
            return _FAIL
        i = _ws(buf, i)
        field = 0
        if _is(buf, ks, ke, _IMAGE_ID):
            field = IMAGE
        elif _is(buf, ks, ke, _CATEGORY_ID):
            field = CATEGORY
        elif _is(buf, ks, ke, _SCORE):
            field = SCORE
        elif _is(buf, ks, ke, _BBOX):
            field = BOX
        elif _is(buf, ks, ke, _SEGMENTATION):
            field = MASK
        if seen & field:  # a repeated field: orjson keeps the last one
            return _FAIL
        seen |= field
        if field == IMAGE or field == CATEGORY:
            i, value = _integer(buf, i)
            ids[r, field - 1] = value
        elif field == SCORE:
            i = _number(buf, i, st, r, 0)
        elif field == BOX:
            i = _box(buf, i, st, r)
        elif field == MASK:
            i = _segmentation(buf, i, st, r)
        else:
            i = _skip(buf, i, stack)
        if i < 0:
            return _FAIL
        i, closed = _next(buf, i, 125)
        if i < 0:
            return _FAIL
    if seen & (IMAGE | CATEGORY | SCORE) != IMAGE | CATEGORY | SCORE:
        return _FAIL
    fields[r] = seen
    counts[0] = r + 1
    return i


@njit(cache=True, nogil=True)
def _scan(buf, st):
    """A whole results file (a non-empty list of detections) into ``st``; True when the fast path took it."""
    n = len(buf)
    i = _ws(buf, 0)
    if i >= n or buf[i] != 91:
        return False
    i += 1
    done = False
    while not done:
        i = _record(buf, i, st)
        if i < 0:
            return False
        i, done = _next(buf, i, 93)
        if i < 0:
            return False
    return _ws(buf, i) == n


@dataclass(frozen=True)
class ScannedResults:
    """The columns of a results file, one row per detection in file order. ``fields``: which of ``BOX`` and
    ``MASK`` each detection has (rows without them hold garbage there); ``rle[spans[r, 0]:spans[r, 1]]``:
    detection r's ``counts`` string, unescaped."""

    image_id: np.ndarray
    category_id: np.ndarray
    score: np.ndarray
    bbox: np.ndarray
    fields: np.ndarray
    size: np.ndarray
    spans: np.ndarray
    rle: np.ndarray

    def __len__(self) -> int:
        return len(self.score)


def scan(data: bytes | mmap.mmap) -> ScannedResults | None:
    """The detections of a COCO results file's bytes, or None where the fast path does not apply (no numba,
    an empty list, or anything unusual: see the module docstring)."""
    if not HAVE_NUMBA:
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    rows = len(data) // _MIN_RECORD + 1  # room for every record; untouched pages of np.empty cost nothing
    counts = np.zeros(3, dtype=np.int64)  # records, bytes of RLE strings, numbers left to convert
    st = (np.empty((rows, 2), np.int64), np.empty((rows, 5), np.float64), np.empty(rows, np.uint8),
          np.empty((rows, 2), np.int64), np.empty((rows, 2), np.int64), np.empty(len(data), np.uint8),
          np.empty((5 * rows, 3), np.int64), counts, np.empty(_MAX_DEPTH, np.uint8))
    if not _scan(buf, st):
        return None
    r = int(counts[0])
    numbers = st[1][:r]
    if counts[2] and not _convert(buf, st[6][: counts[2]], numbers.reshape(-1)):
        return None
    ids, column = st[0][:r], np.ascontiguousarray
    return ScannedResults(column(ids[:, 0]), column(ids[:, 1]), column(numbers[:, 0]), column(numbers[:, 1:]),
                          st[2][:r], st[3][:r], st[4][:r], st[5][: counts[1]])


@njit(cache=True, nogil=True)
def _gather(buf, slow, texts):
    for k in range(len(slow)):
        start, end = slow[k, 0], slow[k, 1]
        texts[k, : end - start] = buf[start:end]


def _convert(buf: np.ndarray, slow: np.ndarray, numbers: np.ndarray) -> bool:
    """Numbers the scan could not convert exactly (17 or more digits, big exponents), converted by numpy's
    correctly rounded parser (Python's own) into ``numbers``; False for one that overflows (orjson's error)."""
    texts = np.zeros((len(slow), _MAX_NUMBER), np.uint8)
    _gather(buf, slow, texts)
    values = texts.view(f"S{_MAX_NUMBER}").reshape(-1).astype(np.float64)
    numbers[slow[:, 2]] = values
    return bool(np.all(np.isfinite(values)))
