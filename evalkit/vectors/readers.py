"""Readers for word2vec binary/text, GloVe (no header), fastText ``.vec`` and gensim KeyedVectors files.

They follow gensim's ``load_word2vec_format`` conventions (first occurrence of a
duplicated word wins, ``limit`` keeps the first rows, float32 values) so that the
analogy numbers equal gensim's, but read binary files straight into one
preallocated float32 matrix: a 3M × 300 file needs about its own size in memory.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from evalkit.errors import InputError, MissingResourceError

_CHUNK = 1 << 20


@dataclass
class WordVectors:
    """Words in file order (most frequent first, by convention) and their float32 C-contiguous matrix."""

    words: list[str]
    matrix: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        self.matrix = np.ascontiguousarray(self.matrix, dtype=np.float32)
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(self.words):
            raise InputError(f"{len(self.words)} words but a matrix of shape {self.matrix.shape}", file=self.source or None)
        self._check_rows()

    def _check_rows(self, block: int = 4096) -> None:
        """Refuse vectors gensim cannot normalise: a NaN or infinite value, or an all-zero row (norm 0)."""
        for start in range(0, len(self.words), block):
            rows = self.matrix[start:start + block]
            bad = np.flatnonzero(~np.isfinite(rows).all(axis=1) | ~rows.any(axis=1))
            if len(bad):
                row = start + int(bad[0])
                what = "is all zeros (no direction: gensim would divide by a zero norm)" if not rows[bad[0]].any() \
                    else "has a NaN or infinite value"
                raise InputError(f"the vector of word {self.words[row]!r} {what}", file=self.source or None,
                                 record=f"vector {row + 1}", field="vector")

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def from_keyedvectors(cls, kv: Any, source: str = "") -> "WordVectors":
        """Wrap a gensim ``KeyedVectors`` (its matrix is shared when already float32)."""
        return cls(list(kv.index_to_key), kv.vectors, source)


def _parse_header(line: bytes, path: Path) -> tuple[int, int]:
    try:
        count, dim = (int(x) for x in line.decode("utf-8").split())
    except ValueError:
        raise InputError(f"expected a header 'WORDS DIMENSIONS', got {line[:80]!r}",
                         file=path, record=1, field="header") from None
    if count < 0 or dim <= 0:
        raise InputError(f"header gives {count} words of {dim} dimensions", file=path, record=1, field="header")
    return count, dim


#: below this matrix size a short file is reported at the entry where it ends; above it, before allocating
_PREALLOCATION_CHECK_BYTES = 64 << 20


def _read_header(f: Any, path: Path, limit: int | None, bytes_per_value: int, entry_overhead: int,
                 what: str) -> tuple[int, int]:
    """The header line's ``(count, dim)``, count cut to ``limit``.

    Fails at once, before a large allocation, when the header promises more than the file can hold
    (``what`` describes the entries, e.g. "lines of {dim} numbers").
    """
    count, dim = _parse_header(f.readline(), path)
    count = count if limit is None else min(count, limit)
    needed = count * (bytes_per_value * dim + entry_overhead)
    available = path.stat().st_size - f.tell()
    if needed > available and needed > _PREALLOCATION_CHECK_BYTES // 2:
        raise InputError(f"header promises {count} {what.format(dim=dim)}, at least {needed:,} bytes, "
                         f"but the file has {available:,} after it", file=path, record=1, field="header")
    return count, dim


def _decode_word(raw: bytes, path: Path, record: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"word is not UTF-8 ({err.reason} at byte {err.start})",
                         file=path, record=record, field="word") from None


class _Collector:
    """Rows into a preallocated matrix, keeping only the first occurrence of a word (as gensim does)."""

    def __init__(self, count: int, dim: int):
        self.matrix = np.empty((count, dim), dtype=np.float32)
        self.words: list[str] = []
        self.seen: set[str] = set()

    def add(self, word: str, values: Any) -> None:
        if word in self.seen:
            return
        self.seen.add(word)
        self.matrix[len(self.words)] = values
        self.words.append(word)

    def result(self, path: Path) -> WordVectors:
        return WordVectors(self.words, self.matrix[: len(self.words)], str(path))


def read_word2vec_binary(path: str | Path, limit: int | None = None) -> WordVectors:
    """The C word2vec binary format: header line, then ``word<space><dim float32 LE>`` entries."""
    path = _existing(path)
    with open(path, "rb") as f:
        count, dim = _read_header(f, path, limit, 4, 2, "vectors of {dim} float32 values")
        out = _Collector(count, dim)
        width = 4 * dim
        buf, pos, eof = b"", 0, False
        for entry in range(count):
            record = entry + 2
            while True:
                space = buf.find(b" ", pos)
                if space != -1 and len(buf) - space - 1 >= width:
                    break
                if eof:
                    raise InputError(f"file ends inside entry {entry + 1} of {count} (header promises {count})",
                                     file=path, record=record, field="vector" if space != -1 else "word")
                more = f.read(_CHUNK)
                eof = len(more) < _CHUNK
                buf, pos = buf[pos:] + more, 0
            word = _decode_word(buf[pos:space], path, record).lstrip("\n")
            out.add(word, np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1))
            pos = space + 1 + width
    return out.result(path)


def _read_text_rows(path: Path, lines: Any, count: int, dim: int | None, first_record: int) -> WordVectors:
    out: _Collector | None = _Collector(count, dim) if dim is not None else None
    for entry in range(count):
        record = first_record + entry
        line = lines.readline()
        if not line:
            raise InputError(f"file ends after {entry} of {count} vectors", file=path, record=record)
        parts = _decode_word(line.rstrip(), path, record).split(" ")
        try:
            values = np.array(parts[1:], dtype=np.float32)
        except ValueError as err:
            raise InputError(f"not a number: {err}", file=path, record=record, field="vector") from None
        if out is None:
            out = _Collector(count, len(values))
        if len(values) != out.matrix.shape[1]:
            raise InputError(f"{len(values)} values, expected {out.matrix.shape[1]}",
                             file=path, record=record, field="vector")
        out.add(parts[0], values)
    assert out is not None
    return out.result(path)


def read_word2vec_text(path: str | Path, limit: int | None = None) -> WordVectors:
    """word2vec text format (also fastText ``.vec``): header line, then ``word v1 v2 …`` lines."""
    path = _existing(path)
    with open(path, "rb") as f:
        count, dim = _read_header(f, path, limit, 2, 1, "lines of {dim} numbers")
        return _read_text_rows(path, f, count, dim, 2)


def read_glove_text(path: str | Path, limit: int | None = None) -> WordVectors:
    """GloVe text format: ``word v1 v2 …`` lines without a header (the dimension comes from the first line)."""
    path = _existing(path)
    with open(path, "rb") as f:
        count = sum(1 for _ in f)
    count = count if limit is None else min(count, limit)
    if count == 0:
        raise InputError("no vectors in file", file=path, record=1)
    with open(path, "rb") as f:
        return _read_text_rows(path, f, count, None, 1)


def read_keyedvectors(path: str | Path, limit: int | None = None, allow_pickle: bool = False) -> WordVectors:
    """A file saved by gensim's ``KeyedVectors.save``. gensim unpickles it, and a pickle can run code,
    so it is refused unless ``allow_pickle`` says the file is trusted."""
    from gensim.models import KeyedVectors

    path = _existing(path)
    if not allow_pickle:
        raise InputError("gensim KeyedVectors files are pickles, which can run code when loaded; set "
                         "'allow_pickle: true' (--allow-pickle) for a file you trust, or save the vectors with "
                         "save_word2vec_format", file=path, field="allow_pickle")
    try:
        kv = KeyedVectors.load(str(path), mmap="r")
    except Exception as err:  # gensim raises pickle, OS and attribute errors for foreign files
        raise InputError(f"not a gensim KeyedVectors file: {err}", file=path) from err
    n = len(kv.index_to_key) if limit is None else min(limit, len(kv.index_to_key))
    return WordVectors(list(kv.index_to_key[:n]), np.array(kv.vectors[:n], dtype=np.float32), str(path))


def _existing(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"vectors file not found: {path.resolve()}")
    return path


FORMATS: dict[str, Callable[..., WordVectors]] = {
    "word2vec-binary": read_word2vec_binary,
    "word2vec": read_word2vec_text,
    "fasttext": read_word2vec_text,
    "glove": read_glove_text,
    "keyedvectors": read_keyedvectors,
}


def guess_format(path: str | Path) -> str:
    """Format from the file name: ``.bin`` binary, ``.kv``/``.model`` gensim, ``.vec`` fastText, else a header check."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".bin",):
        return "word2vec-binary"
    if suffix in (".kv", ".model"):
        return "keyedvectors"
    if suffix == ".vec":
        return "fasttext"
    with open(_existing(path), "rb") as f:
        first = f.readline().split()
    return "word2vec" if len(first) == 2 and all(x.isdigit() for x in first) else "glove"


def load_vectors(path: str | Path, format: str | None = None, limit: int | None = None,
                 allow_pickle: bool = False) -> WordVectors:
    """Read ``path`` in ``format`` (guessed from the name and first line when None).

    ``allow_pickle`` is needed for gensim ``KeyedVectors`` files only (they are pickles)."""
    fmt = format or guess_format(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown vectors format {fmt!r} (known: {', '.join(FORMATS)})", field="format")
    if fmt == "keyedvectors":
        return read_keyedvectors(path, limit=limit, allow_pickle=allow_pickle)
    return FORMATS[fmt](path, limit=limit)
