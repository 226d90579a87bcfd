"""Text files: compressed or not, read exactly as sacrebleu's command line reads them (translation)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from evalkit.errors import InputError, MissingResourceError


def open_text(path: Path) -> Any:
    """Open a text file, transparently decompressing ``.gz``/``.xz``/``.bz2`` (bundled data is compressed)."""
    path = Path(path)
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    if path.suffix == ".xz":
        import lzma

        return lzma.open(path, "rt", encoding="utf-8", newline="\n")
    if path.suffix == ".bz2":
        import bz2

        return bz2.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed for ``.gz``/``.xz``/``.bz2``."""
    if path.suffix == ".gz":
        import gzip

        opener: Callable[..., Any] = gzip.open
    elif path.suffix == ".xz":
        import lzma

        opener = lzma.open
    elif path.suffix == ".bz2":
        import bz2

        opener = bz2.open
    else:
        opener = open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise MissingResourceError(f"text file not found: {path.resolve()}") from None
    except (OSError, EOFError) as err:  # corrupt gzip/xz streams
        raise InputError(f"cannot read: {err}", file=path) from err


def read_lines(path: str | Path) -> list[str]:
    """Segments of a text file, as ``sacrebleu`` reads ``-i``/reference files.

    UTF-8 (a BOM is kept), split on ``\\n`` only, each line ``rstrip()``-ed.
    """
    path = Path(path).expanduser()
    data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 at byte {err.start} ({err.reason})", file=path, record=f"line {line}") from None
    lines = text.split("\n")
    if lines[-1] == "":  # a final newline ends the last line, it does not start a new one
        lines.pop()
    return [line.rstrip() for line in lines]
