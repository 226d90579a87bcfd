"""A numba scanner for the three big VQA files that keeps only what scoring reads, with no Python object per record.

orjson turns VQA v2 val's 174 MB of annotations into 2.1M answer dicts and millions of strings, then scoring
reads one field of each and frees them all: that was ~2 s of a ~4 s ``evalkit score vqa``. This scanner walks
the bytes once, checks the whole document as JSON, and returns integer columns plus each distinct string once.

It is a fast path, never a second dialect: it answers only for input it is sure orjson reads to exactly these
values (ASCII, keys without escapes, no repeated field, integers of at most 18 digits, no surrogate escape,
nesting under 512, ...). Anything else, valid or not, returns None, and the caller reads the file as before,
so errors and the rare unusual file are exactly the orjson reader's.
"""
from __future__ import annotations

import mmap
from collections import defaultdict
from dataclasses import dataclass
from itertools import count

import numpy as np

from evalkit.jit import HAVE_NUMBA, njit

ANNOTATIONS, QUESTIONS, RESULTS = 0, 1, 2

_KEYS = [np.frombuffer(k, dtype=np.uint8) for k in
         (b"annotations", b"questions", b"question_id", b"answers", b"question_type", b"answer_type", b"answer",
          b"answer_id")]
_ANNOTATIONS_KEY, _QUESTIONS_KEY, _QID, _ANSWERS, _QTYPE, _ATYPE, _ANSWER, _ANSWER_ID = _KEYS
_MAX_DEPTH = 512
_FAIL = -1
#: files from this size are scanned in two parts on two threads (the kernels release the GIL)
SPLIT_BYTES = 32 << 20


@njit(cache=True, nogil=True)
def _ws(buf, i):
    n = len(buf)
    while i < n and (buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9):
        i += 1
    return i


@njit(cache=True, nogil=True)
def _hex(c):
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


@njit(cache=True, nogil=True)
def _string(buf, i):
    """``buf[i]`` is a quote: (index after the closing quote or -1, whether the string holds an escape)."""
    n = len(buf)
    i += 1
    escaped = False
    while i < n:
        c = buf[i]
        if c == 34:
            return i + 1, escaped
        if c == 92:
            escaped = True
            if i + 1 >= n:
                return _FAIL, escaped
            d = buf[i + 1]
            if d == 117:  # \uXXXX, not a surrogate (a pair is valid JSON, but rare: left to orjson)
                if i + 5 >= n:
                    return _FAIL, escaped
                value = 0
                for k in range(2, 6):
                    h = _hex(buf[i + k])
                    if h < 0:
                        return _FAIL, escaped
                    value = value * 16 + h
                if 0xD800 <= value <= 0xDFFF:
                    return _FAIL, escaped
                i += 6
            elif d == 34 or d == 92 or d == 47 or d == 98 or d == 102 or d == 110 or d == 114 or d == 116:
                i += 2
            else:
                return _FAIL, escaped
        elif c < 32 or c > 127:
            return _FAIL, escaped
        else:
            i += 1
    return _FAIL, escaped


@njit(cache=True, nogil=True)
def _number(buf, i):
    """(end or -1, value, whether it is an integer) of the JSON number at ``i``; integers of at most 18
    digits and exponents of at most 2 digits only, so every value is exact (ints) or finite (floats)."""
    n = len(buf)
    negative = i < n and buf[i] == 45
    if negative:
        i += 1
    if i >= n:
        return _FAIL, 0, False
    value = 0
    if buf[i] == 48:
        i += 1
    elif 49 <= buf[i] <= 57:
        digits = 0
        while i < n and 48 <= buf[i] <= 57:
            value = value * 10 + (buf[i] - 48)
            digits += 1
            i += 1
        if digits > 18:
            return _FAIL, 0, False
    else:
        return _FAIL, 0, False
    integer = True
    if i < n and buf[i] == 46:
        integer = False
        i += 1
        start = i
        while i < n and 48 <= buf[i] <= 57:
            i += 1
        if i == start:
            return _FAIL, 0, False
    if i < n and (buf[i] == 101 or buf[i] == 69):
        integer = False
        i += 1
        if i < n and (buf[i] == 43 or buf[i] == 45):
            i += 1
        start = i
        while i < n and 48 <= buf[i] <= 57:
            i += 1
        if i == start or i - start > 2:
            return _FAIL, 0, False
    return i, -value if negative else value, integer


@njit(cache=True, nogil=True)
def _literal(buf, i):
    """End of ``true``/``false``/``null`` at ``i`` (-1: none), and whether it is ``null``."""
    n = len(buf)
    if i + 4 <= n and buf[i] == 110 and buf[i + 1] == 117 and buf[i + 2] == 108 and buf[i + 3] == 108:
        return i + 4, True
    if i + 4 <= n and buf[i] == 116 and buf[i + 1] == 114 and buf[i + 2] == 117 and buf[i + 3] == 101:
        return i + 4, False
    if (i + 5 <= n and buf[i] == 102 and buf[i + 1] == 97 and buf[i + 2] == 108 and buf[i + 3] == 115
            and buf[i + 4] == 101):
        return i + 5, False
    return _FAIL, False


@njit(cache=True, nogil=True)
def _key(buf, i):
    """The object key at ``i`` (after whitespace): (index after its colon or -1, key start, key end, escaped)."""
    i = _ws(buf, i)
    if i >= len(buf) or buf[i] != 34:
        return _FAIL, 0, 0, False
    end, escaped = _string(buf, i)
    if end < 0:
        return _FAIL, 0, 0, False
    j = _ws(buf, end)
    if j >= len(buf) or buf[j] != 58:
        return _FAIL, 0, 0, False
    return j + 1, i + 1, end - 1, escaped


@njit(cache=True, nogil=True)
def _is(buf, start, end, word):
    if end - start != len(word):
        return False
    for k in range(len(word)):
        if buf[start + k] != word[k]:
            return False
    return True


@njit(cache=True, nogil=True)
def _skip(buf, i, stack):
    """End of the JSON value at ``i`` (after whitespace), -1 for what the fast path does not take."""
    n = len(buf)
    depth = 0
    while True:
        i = _ws(buf, i)
        if i >= n:
            return _FAIL
        c = buf[i]
        if c == 123 or c == 91:  # { or [, then its first key or value, or its end
            j = _ws(buf, i + 1)
            if j < n and buf[j] == c + 2:  # } is { + 2, ] is [ + 2
                i = j + 1
            else:
                if depth == len(stack):
                    return _FAIL
                stack[depth] = c
                depth += 1
                i = _key(buf, j)[0] if c == 123 else j
                if i < 0:
                    return _FAIL
                continue
        elif c == 34:
            i = _string(buf, i)[0]
        elif c == 45 or 48 <= c <= 57:
            i = _number(buf, i)[0]
        else:
            i = _literal(buf, i)[0]
        if i < 0:
            return _FAIL
        while True:  # after a value: close containers until a comma opens the next value
            if depth == 0:
                return i
            i = _ws(buf, i)
            if i >= n:
                return _FAIL
            if buf[i] == 44:
                i += 1
                if stack[depth - 1] == 123:
                    i = _key(buf, i)[0]
                    if i < 0:
                        return _FAIL
                break
            if buf[i] != stack[depth - 1] + 2:
                return _FAIL
            depth -= 1
            i += 1


@njit(cache=True, nogil=True)
def _next(buf, i, close):
    """After a member or element: (index of the next one or -1, whether ``close`` ended the container)."""
    i = _ws(buf, i)
    if i < len(buf) and buf[i] == 44:
        return i + 1, False
    if i < len(buf) and buf[i] == close:
        return i + 1, True
    return _FAIL, False


@njit(cache=True, nogil=True)
def _hash(buf, start, end):
    h = np.uint64(14695981039346656037)
    for k in range(start, end):
        h = (h ^ np.uint64(buf[k])) * np.uint64(1099511628211)
    return h


@njit(cache=True, nogil=True)
def _same(buf, s, e, start, stop):
    """Whether ``buf[s:e]`` and ``buf[start:stop]`` hold the same bytes."""
    if e - s != stop - start:
        return False
    for j in range(e - s):
        if buf[s + j] != buf[start + j]:
            return False
    return True


@njit(cache=True, nogil=True)
def _intern(buf, i, slots, spans, counts, table):
    """``buf[i]`` opens a string: (index after it or -1, its code among the distinct raw strings of ``table``,
    numbered in order of first appearance); ``slots`` is the open-addressing index into ``spans``."""
    end = _string(buf, i)[0]
    if end < 0:
        return _FAIL, 0
    start, stop = i + 1, end - 1
    h = _hash(buf, start, stop)
    mask = len(slots) - 1
    k = np.int64((h ^ (h >> np.uint64(32))) & np.uint64(mask))  # FNV's low bits alone cluster
    while slots[k] >= 0:
        u = slots[k]
        s, e = spans[u, 0], spans[u, 1]
        if np.uint64(spans[u, 2]) == h and _same(buf, s, e, start, stop):
            return end, np.int64(u)
        k = (k + 1) & mask
    u = counts[2 + table]
    if 2 * u >= len(slots):  # full: scan again with a bigger table
        counts[4] = 1
        return _FAIL, 0
    spans[u, 0], spans[u, 1], spans[u, 2] = start, stop, np.int64(h)
    slots[k] = u
    counts[2 + table] = u + 1
    return end, u


@njit(cache=True, nogil=True)
def _answers(buf, i, st):
    """The ``answers`` list at ``i``: non-empty, each ``{"answer": str, "answer_id": int, ...}`` with distinct ids
    in the record (else the official dict comparison may drop several answers: left to the full reader)."""
    records, answers, counts, stack = st[:4]
    n = len(buf)
    if i >= n or buf[i] != 91 or _ws(buf, i + 1) >= n or buf[_ws(buf, i + 1)] == 93:
        return _FAIL
    first = counts[1]
    recent = st[8]  # this record's distinct answers (start, stop, code): most repeat, and are still in cache
    m = 0
    i += 1
    done = False
    while not done:
        i = _ws(buf, i)
        if i >= n or buf[i] != 123:
            return _FAIL
        i += 1
        code, answer_id, have, closed = -1, 0, 0, False
        while not closed:
            i, ks, ke, escaped = _key(buf, i)
            if i < 0 or escaped:
                return _FAIL
            i = _ws(buf, i)
            if _is(buf, ks, ke, _ANSWER):
                if have & 1 or i >= n or buf[i] != 34:
                    return _FAIL
                have |= 1
                end = _string(buf, i)[0]
                if end < 0:
                    return _FAIL
                code = -1
                for r in range(m):
                    if _same(buf, recent[r, 0], recent[r, 1], i + 1, end - 1):
                        code = recent[r, 2]
                        break
                if code < 0:
                    j, code = _intern(buf, i, st[4], st[5], counts, 0)
                    if j < 0:
                        return _FAIL
                    if m < len(recent):
                        recent[m, 0], recent[m, 1], recent[m, 2] = i + 1, end - 1, code
                        m += 1
                i = end
            elif _is(buf, ks, ke, _ANSWER_ID):
                if have & 2:
                    return _FAIL
                have |= 2
                i, answer_id = _integer(buf, i)
            else:
                i = _skip(buf, i, stack)
            if i < 0:
                return _FAIL
            i, closed = _next(buf, i, 125)
            if i < 0:
                return _FAIL
        if have != 3:
            return _FAIL
        k = counts[1]
        if k == len(answers):
            return _FAIL
        for j in range(first, k):
            if answers[j, 1] == answer_id:
                return _FAIL
        answers[k, 0], answers[k, 1] = code, answer_id
        counts[1] = k + 1
        i, done = _next(buf, i, 93)
        if i < 0:
            return _FAIL
    return i


@njit(cache=True, nogil=True)
def _integer(buf, i):
    """(end or -1, value) of the JSON integer at ``i``."""
    if i >= len(buf) or not (buf[i] == 45 or 48 <= buf[i] <= 57):
        return _FAIL, 0
    end, value, integer = _number(buf, i)
    return (end, value) if integer else (_FAIL, 0)


@njit(cache=True, nogil=True)
def _record(buf, i, kind, st):
    """One record object at ``i``: its fields appended to ``st``; the index after it or -1."""
    records, answers, counts, stack = st[:4]
    n = len(buf)
    i = _ws(buf, i)
    if i >= n or buf[i] != 123:
        return _FAIL
    i += 1
    seen, qid, value, qtype, atype = 0, 0, -1, -1, -1
    first = counts[1]
    closed = False
    while not closed:
        i, ks, ke, escaped = _key(buf, i)
        if i < 0 or escaped:
            return _FAIL
        i = _ws(buf, i)
        field = 0
        if _is(buf, ks, ke, _QID):
            field = 1
        elif kind == ANNOTATIONS and _is(buf, ks, ke, _ANSWERS):
            field = 2
        elif kind == ANNOTATIONS and _is(buf, ks, ke, _QTYPE):
            field = 4
        elif kind == ANNOTATIONS and _is(buf, ks, ke, _ATYPE):
            field = 8
        elif kind == RESULTS and _is(buf, ks, ke, _ANSWER):
            field = 16
        if seen & field:  # a repeated field: orjson keeps the last one
            return _FAIL
        seen |= field
        if field == 0:
            i = _skip(buf, i, stack)
        elif field == 1:
            i, qid = _integer(buf, i)
        elif field == 2:
            i = _answers(buf, i, st)
        elif field == 16:
            i, value = _intern(buf, i, st[4], st[5], counts, 0) if i < n and buf[i] == 34 else (_FAIL, 0)
        else:  # question_type, answer_type: a string or null
            code = -1
            if i < n and buf[i] == 34:
                i, code = _intern(buf, i, st[6], st[7], counts, 1)
            else:
                i, null = _literal(buf, i)
                if not null:
                    return _FAIL
            if field == 4:
                qtype = code
            else:
                atype = code
        if i < 0:
            return _FAIL
        i, closed = _next(buf, i, 125)
        if i < 0:
            return _FAIL
    required = 3 if kind == ANNOTATIONS else (17 if kind == RESULTS else 1)
    if seen & required != required:
        return _FAIL
    r = counts[0]
    if r == len(records):
        return _FAIL
    records[r, 0] = qid
    records[r, 1] = counts[1] - first if kind == ANNOTATIONS else value
    records[r, 2], records[r, 3] = qtype, atype
    counts[0] = r + 1
    return i


@njit(cache=True, nogil=True)
def _scan(buf, kind, st, middle, second):
    """Scan a file into ``st`` in one part (``middle`` 0) or as one of two, split at :func:`_split_point` from
    ``middle``. The first part (or the only one): 1 when the fast path took the file, 0 when not, 2 when the next
    record of the records list starts at the split. The second: the rest of the file from the split, as if a
    record of the records list started there (which a first part's 2 confirms): 1 or 0."""
    stack = st[3]
    stop = _split_point(buf, middle, kind, stack) if middle > 0 else _FAIL
    if second:
        i = _records(buf, stop, kind, st, _FAIL) if stop >= 0 else _FAIL
        return 1 if i >= 0 and _rest(buf, i, kind, st) else 0
    n = len(buf)
    list_key = _ANNOTATIONS_KEY if kind == ANNOTATIONS else _QUESTIONS_KEY
    i = _ws(buf, 0)
    if kind != RESULTS:  # an object whose list_key (once) holds the records; other members checked and skipped
        if i >= n or buf[i] != 123:
            return 0
        i += 1
        while True:
            i, ks, ke, escaped = _key(buf, i)
            if i < 0 or escaped:
                return 0
            i = _ws(buf, i)
            if _is(buf, ks, ke, list_key):
                break
            i = _skip(buf, i, stack)
            if i < 0:
                return 0
            i, closed = _next(buf, i, 125)
            if i < 0 or closed:
                return 0
    if i >= n or buf[i] != 91:
        return 0
    j = _ws(buf, i + 1)
    if j < n and buf[j] == 93:
        i = j + 1
    else:
        i = _records(buf, i + 1, kind, st, stop)
        if i == stop and stop >= 0:
            return 2
    return 1 if i >= 0 and _rest(buf, i, kind, st) else 0


@njit(cache=True, nogil=True)
def _records(buf, i, kind, st, stop):
    """The records from ``i`` (after the list's ``[`` or a comma): the index after the list's ``]``, or ``stop``
    when the next record starts there, or -1."""
    while True:
        i = _record(buf, i, kind, st)
        if i < 0:
            return _FAIL
        i, done = _next(buf, i, 93)
        if i < 0 or done:
            return i
        if _ws(buf, i) == stop:
            return stop


@njit(cache=True, nogil=True)
def _rest(buf, i, kind, st):
    """After the records list: the file's other members (list_key again would replace the records), then its end."""
    stack = st[3]
    n = len(buf)
    list_key = _ANNOTATIONS_KEY if kind == ANNOTATIONS else _QUESTIONS_KEY
    if kind != RESULTS:
        while True:
            i, closed = _next(buf, i, 125)
            if i < 0:
                return False
            if closed:
                break
            i, ks, ke, escaped = _key(buf, i)
            if i < 0 or escaped or _is(buf, ks, ke, list_key):
                return False
            i = _skip(buf, i, stack)
            if i < 0:
                return False
    return _ws(buf, i) == n


@njit(cache=True, nogil=True)
def _split_point(buf, i, kind, stack):
    """A guess at a record's start from ``i`` on: a ``{`` after a comma whose object has a key that records have
    (answers, question_id) and the next element is far from; -1 when none is found. :func:`_scan` confirms it."""
    n = len(buf)
    key = _ANSWERS if kind == ANNOTATIONS else _QID
    tries = 0
    while i < n and tries < 1000:
        if buf[i] == 123:
            j = i - 1
            while j > 0 and (buf[j] == 32 or buf[j] == 10 or buf[j] == 13 or buf[j] == 9):
                j -= 1
            if buf[j] == 44:
                tries += 1
                if _has_key(buf, i, key, stack):
                    return i
        i += 1
    return _FAIL


@njit(cache=True, nogil=True)
def _has_key(buf, i, key, stack):
    """Whether the object at ``i`` is well-formed and has ``key`` among its own keys."""
    found, closed = False, False
    i += 1
    while i >= 0 and not closed:
        i, ks, ke, escaped = _key(buf, i)
        found = found or (i >= 0 and not escaped and _is(buf, ks, ke, key))
        i = _skip(buf, i, stack) if i >= 0 else _FAIL
        i, closed = _next(buf, i, 125) if i >= 0 else (_FAIL, False)
    return found and i >= 0


@dataclass(frozen=True)
class Scan:
    """What a file holds for scoring. ``records``: per record question_id, then (annotations) its number of
    answers, question_type code, answer_type code (-1: None), or (results) its answer's code into ``strings``.
    ``answers``: per answer its code into ``strings``. Codes follow first appearance."""

    records: np.ndarray
    answers: np.ndarray
    strings: list[str]
    types: list[str]


def _decode(data: bytes | mmap.mmap, spans: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The distinct strings of raw ``spans`` (escapes decoded by orjson itself, in one call) and each span's code
    among them: two raw spellings of one string (``a``, ``\\u0061``) share a code, first appearance first."""
    import orjson

    # the JSON array of the spans with their quotes, gathered by numpy: no bytes object per string
    starts, lengths = spans[:, 0] - 1, spans[:, 1] - spans[:, 0] + 2
    before = np.cumsum(lengths) - lengths  # the spans' bytes before each span
    array = np.full(1 + int(lengths.sum()) + max(len(spans), 1), 44, dtype=np.uint8)  # a comma after each
    array[0], array[-1] = 91, 93
    within = np.arange(len(array) - 1 - len(spans)) - np.repeat(before, lengths)
    array[np.repeat(1 + before + np.arange(len(spans)), lengths) + within] = np.frombuffer(data, np.uint8)[
        np.repeat(starts, lengths) + within]
    raw = orjson.loads(array.tobytes())
    index: defaultdict[str, int] = defaultdict(count().__next__)
    codes = np.fromiter(map(index.__getitem__, raw), dtype=np.int64, count=len(raw))
    return list(index), codes


def scan(data: bytes | mmap.mmap, kind: int) -> Scan | None:
    """The records of a VQA annotations/questions/results file's bytes, or None where the fast path does not
    apply (no numba, non-ASCII bytes, or anything unusual: see the module docstring).

    A file of :data:`SPLIT_BYTES` or more is scanned in two parts on two threads: the second from a guessed
    record start near the middle, kept only when the first part's scan reaches that very byte as the start of a
    record of the records list (else the first scan simply goes on to the end): the outcome is the one-pass one.
    """
    if not HAVE_NUMBA:  # (the scan itself gives up at the first byte over 127)
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    if len(buf) < SPLIT_BYTES:
        status, whole = _scan_part(buf, kind, 0, False)
        return _assemble(data, kind, [whole]) if status else None
    from concurrent.futures import ThreadPoolExecutor  # numba imports it anyway

    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(_scan_part, buf, kind, len(buf) // 2, True)
        status, first = _scan_part(buf, kind, len(buf) // 2, False)
        taken, rest = second.result()
    if status == 2:
        return _assemble(data, kind, [first, rest]) if taken else None
    return _assemble(data, kind, [first]) if status else None


def _scan_part(buf: np.ndarray, kind: int, middle: int, second: bool) -> tuple[int, tuple[np.ndarray, ...]]:
    """:func:`_scan` into fresh state, the string tables grown until the strings fit: its outcome and state."""
    size = 1 << 18  # string table slots: a small table stays in cache; VQA v2 has ~66k distinct answers
    while True:
        counts = np.zeros(5, dtype=np.int64)  # records, answers, distinct answers, distinct types, table full
        # room for every record and answer: ``{"question_id":0}`` and ``{"answer":"","answer_id":0}`` are the
        # shortest, and untouched pages of np.empty cost nothing
        nbytes = len(buf) - middle if second else len(buf)
        st = (np.empty((nbytes // 17 + 1, 4), dtype=np.int64),
              np.empty((nbytes // 27 + 1 if kind == ANNOTATIONS else 0, 2), dtype=np.int64), counts,
              np.empty(_MAX_DEPTH, dtype=np.uint8), np.full(size, -1, dtype=np.int32),
              np.empty((size // 2, 3), dtype=np.int64), np.full(size, -1, dtype=np.int32),
              np.empty((size // 2, 3), dtype=np.int64), np.empty((64, 3), dtype=np.int64))
        status = _scan(buf, kind, st, middle, second)
        if status or not counts[4] or size > 4 * len(buf):  # each distinct string takes 2 bytes or more
            return status, st
        size *= 8


def _assemble(data: bytes | mmap.mmap, kind: int, parts: list[tuple[np.ndarray, ...]]) -> Scan:
    """The :class:`Scan` of consecutive parts' states. Each part numbered its distinct raw strings from 0; their
    spans are decoded one part after the other, so first appearances keep file order."""
    record_parts, answer_parts, string_spans, type_spans = [], [], [], []
    string_base = type_base = 0
    for st in parts:
        counts = st[2]
        record_parts.append(st[0][: counts[0]])
        answer_parts.append(st[1][: counts[1], 0])  # (the answer ids were only checked distinct)
        string_spans.append(st[5][: counts[2]])
        type_spans.append(st[7][: counts[3]])
        if string_base:  # a later part's codes, into the parts' spans one after the other
            answer_parts[-1] += string_base
            if kind == RESULTS:
                record_parts[-1][:, 1] += string_base
        if type_base and kind == ANNOTATIONS:
            typed = record_parts[-1][:, 2:]
            typed[typed >= 0] += type_base
        string_base += counts[2]
        type_base += counts[3]
    records, answers = (np.concatenate(x) if len(x) > 1 else x[0] for x in (record_parts, answer_parts))
    strings, answer_codes = _decode(data, np.concatenate(string_spans))
    types, type_codes = _decode(data, np.concatenate(type_spans))
    if kind == RESULTS:
        records[:, 1] = answer_codes[records[:, 1]]
    else:
        for column in (2, 3):
            present = records[:, column] >= 0
            records[present, column] = type_codes[records[present, column]]
    return Scan(records, answer_codes[answers], strings, types)
