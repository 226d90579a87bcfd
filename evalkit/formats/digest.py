"""The SHA-256 of a file, as records state it for weights and data files; computed once per file version."""
from __future__ import annotations

import hashlib
from pathlib import Path

_HASHES: dict[tuple[str, int, int], str] = {}


def file_key(path: str | Path) -> tuple[str, int, int]:
    """What identifies one version of a file in this process: its resolved path, size and modification time."""
    stat = Path(path).stat()
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


def file_sha256(path: str | Path) -> str:
    """The file's SHA-256, read in 1 MiB blocks, cached per :func:`file_key`."""
    key = file_key(path)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]
