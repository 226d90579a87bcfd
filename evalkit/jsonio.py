"""Reading the official JSON files (COCO, VQA, captions): fast, compressed or not, with precise errors."""
from __future__ import annotations

import contextlib
import gc
import json
from pathlib import Path
from typing import Any, Iterator

from evalkit.errors import InputError, MissingResourceError


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block (as it was after it).

    Parsed JSON files are millions of fresh dicts, lists and strings that no collection can free (nothing
    parsed is a cycle) but every collection walks: parsing and scoring them runs 3-4x faster without it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_json(data: str | bytes, file: Any = None) -> Any:
    """Parse with orjson, the cyclic GC paused; ``NaN``/``Infinity`` (which Python's json writes) are
    accepted so that later checks can name the record that holds them.

    A results file is millions of fresh dicts and lists: with the GC on, its repeated full
    collections make parsing 3-4x slower, and nothing parsed can be a cycle.
    """
    import orjson

    with gc_paused():
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as err:
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            if "NaN" in text or "Infinity" in text:
                try:
                    return json.loads(text)
                except ValueError:
                    pass
            raise InputError(f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno} (char {err.pos})",
                             file=file) from None


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed for ``.gz``/``.xz``/``.bz2``."""
    if path.suffix in (".gz", ".xz", ".bz2"):
        import bz2
        import gzip
        import lzma

        opener: Any = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}[path.suffix]
    else:
        opener = open
    with opener(path, "rb") as f:
        head = f.read(1 << 16)
        start = head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
        if head and start and start not in b'[{"-0123456789tfn':
            # fail at once: a 1 GB file of zero bytes otherwise takes seconds to read before it fails
            raise ValueError(f"not JSON: it starts with byte {start!r}")
        return head + f.read()


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """Parse a file, transparently decompressing ``.gz``/``.xz``/``.bz2``.

    orjson parses the bytes themselves (it checks UTF-8 as it goes): no decoded copy of a 300 MB file.
    Any failure is redone on the text, as UTF-8 text was always read, so errors are the same words.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"{what} not found: {path.resolve()}")
    try:
        data = _read_bytes(path)
    except (OSError, EOFError, ValueError) as err:
        raise InputError(f"cannot read {what} as JSON: {err}", file=path) from None
    if not data.startswith(b"\xef\xbb\xbf"):  # a BOM: the text path decides, as before
        import orjson

        with gc_paused():
            try:
                return orjson.loads(data)
            except orjson.JSONDecodeError:
                pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"cannot read {what} as UTF-8 text: {err}", file=path) from None
    del data
    return parse_json(text, file=path)


def map_file(path: Path, min_bytes: int) -> Any:
    """A read-only memory map of a plain ``.json`` file of ``min_bytes`` or more, for a byte scanner; None for a
    smaller, compressed, empty or unreadable file, which the orjson reader then reads (and names what is wrong).
    The map is closed when its last view goes: a traceback may still hold one."""
    import mmap

    try:
        if path.suffix != ".json" or path.stat().st_size < min_bytes:
            return None
        with path.open("rb") as f:  # mapped, not read: no copy of a file of hundreds of MB
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None
