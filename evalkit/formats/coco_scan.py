"""A numba scanner for big COCO results files: detection columns with no Python object per detection.

orjson turns val2017-size segm results (500k detections, 167 MB) into 500k dicts, 2.5M more objects and their
strings; scoring reads a few fields of each into arrays and frees them all, which took about half of an
``evalkit score coco-segm``. This scanner walks the bytes once, checks the whole document as JSON, and returns
the columns scoring reads: image and category ids, scores, boxes, mask sizes and the RLE strings in one buffer.

It is a fast path, never a second dialect (the rules of :mod:`evalkit.formats.vqa_scan`, whose JSON grammar it
shares): it answers only for input it is sure orjson reads to exactly these values — ASCII, keys without
escapes, no repeated field, integer ids, numbers of at most 18 integer digits and a two-digit exponent, RLE
segmentations only. Anything else returns None and the caller reads the file with orjson, so errors and
unusual files are exactly the orjson reader's. Numbers are correctly rounded, as orjson rounds them: most in
the scan (Clinger's fast path: digits of at most 2^53 times or over a power of ten within ±22, one IEEE
operation), the rest (17 digits and more: full-precision floats) by numpy's parser, which is Python's.
"""
from __future__ import annotations

import mmap
from dataclasses import dataclass

import numpy as np

from evalkit.formats.vqa_scan import _FAIL, _MAX_DEPTH, _hex, _integer, _is, _key, _next, _skip, _ws
from evalkit.formats.vqa_scan import _number as _json_number
from evalkit.jit import HAVE_NUMBA, njit

#: the keys read, of a detection and of its RLE; a member's field is the bit of its key's position
_RECORD_KEYS = tuple(np.frombuffer(k, np.uint8) for k in (b"image_id", b"category_id", b"score", b"bbox", b"segmentation"))
_RLE_KEYS = tuple(np.frombuffer(k, np.uint8) for k in (b"size", b"counts"))
#: per-record field bits; a record needs the first three
IMAGE, CATEGORY, SCORE, BOX, MASK = 1, 2, 4, 8, 16
#: the character of each two-character escape (``\\n`` → newline, ...)
_ESCAPES = np.zeros(128, np.int64)
_ESCAPES[list(b'"\\/bfnrt')] = list(b'"\\/\b\f\n\r\t')
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
    end, whole, integer = _json_number(buf, i)  # the grammar, and the integer part (at most 18 digits)
    if end < 0:
        return _FAIL, 0.0, False
    negative = buf[i] == 45
    m = -whole if negative else whole
    digits = 0  # significant digits; past 17 the value is left to the caller
    t = m
    while t > 0:
        digits += 1
        t //= 10
    exponent = 0
    p = i + negative
    while p < end and 48 <= buf[p] <= 57:
        p += 1
    if p < end and buf[p] == 46:  # the fraction: its significant digits extend m
        p += 1
        while p < end and 48 <= buf[p] <= 57:
            if m > 0 or buf[p] != 48:
                if digits < 18:
                    m = m * 10 + (buf[p] - 48)
                digits += 1
            exponent -= 1
            p += 1
    if p < end:  # e or E, a sign, one or two digits
        sign = -1 if buf[p + 1] == 45 else 1
        e = 0
        for q in range(p + 1, end):
            if 48 <= buf[q] <= 57:
                e = e * 10 + (buf[q] - 48)
        exponent += sign * e
    if m == 0:  # ``-0`` is the integer 0, ``-0.0`` a negative zero
        return end, -0.0 if negative and not integer else 0.0, True
    if digits > 17 or m > 9007199254740992 or not -22 <= exponent <= 22:
        return end, 0.0, False
    value = np.float64(m) * _POWERS[exponent] if exponent >= 0 else np.float64(m) / _POWERS[-exponent]
    return end, -value if negative else value, True


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
def _unescape(buf, p):
    """The character of the escape at ``p`` (a backslash) and the index after it; -1 for an escape that is not
    JSON, or of a character that is not ASCII (left to orjson)."""
    if p + 1 >= len(buf):
        return 0, _FAIL
    if buf[p + 1] != 117:
        c = _ESCAPES[buf[p + 1]] if buf[p + 1] < 128 else 0
        return c, p + 2 if c else _FAIL
    c = 0
    for k in range(p + 2, p + 6):
        h = _hex(buf[k]) if k < len(buf) else -1
        if h < 0:
            return 0, _FAIL
        c = c * 16 + h
    return c, p + 6 if c < 128 else _FAIL


@njit(cache=True, nogil=True)
def _copy_string(buf, i, out, o):
    """The string at ``i`` (a quote) unescaped into ``out`` from ``o``: (index after it or -1, end in ``out``)."""
    n = len(buf)
    if i >= n or buf[i] != 34:
        return _FAIL, o
    i += 1
    while i < n:
        c = np.int64(buf[i])
        if c == 34:
            return i + 1, o
        if c == 92:
            c, i = _unescape(buf, i)
            if i < 0:
                return _FAIL, o
        elif c < 32 or c > 127:
            return _FAIL, o
        else:
            i += 1
        out[o] = c
        o += 1
    return _FAIL, o


@njit(cache=True, nogil=True)
def _member(buf, i, names):
    """The object member at ``i`` (after ``{`` or a comma): (index of its value or -1, its field: bit k for the
    key ``names[k]``, 0 for another key). Keys with escapes are left to orjson."""
    i, ks, ke, escaped = _key(buf, i)
    if i < 0 or escaped:
        return _FAIL, 0
    for k in range(len(names)):
        if _is(buf, ks, ke, names[k]):
            return _ws(buf, i), 1 << k
    return _ws(buf, i), 0


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
        i, field = _member(buf, i, _RLE_KEYS)
        if i < 0 or seen & field:
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
        if i >= 0:
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
        i, field = _member(buf, i, _RECORD_KEYS)
        if i < 0 or seen & field:  # (a repeated field: orjson keeps the last one)
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
        if i >= 0:
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
