"""The prediction cache: what the model said, batch by batch, so a killed run resumes and metrics rescore.

A run's cache is one folder ``<output>/.cache/<run key>/``:

- ``run.json``: what produced the predictions (model, data, runtime: the run key hashes these),
  the chunk size, and once the run finished, its timing and skipped ids;
- ``chunk-000012-<sha256>.npz``: ``chunk_batches`` consecutive batches (ids, predictions, targets,
  skipped ids), written atomically; the name carries the sha256 of the file's bytes.

Resuming replays the longest run of verified chunks from chunk 0 into the metrics and computes the
rest. A chunk whose bytes do not match its checksum is never trusted: ``--resume`` names it, moves it
and the chunks after it into ``set-aside/`` (nothing is deleted) and recomputes them; reading commands
(``rescore``) only name it. Chunks end on batch boundaries, so the remaining batches are the
same batches an uninterrupted run makes. Files hold JSON and plain numpy arrays: no pickle (evalkit's own dataclasses are
rebuilt by name, nothing else).
"""
from __future__ import annotations

import dataclasses
import concurrent.futures
import hashlib
import io
import json
import zipfile
import zlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from evalkit.errors import InputError
from evalkit.records import write_atomic, write_json_atomic

CACHE_SCHEMA = "evalkit.cache/1"
CHUNK = re.compile(r"^chunk-(\d{6})-([0-9a-f]{64})\.npz$")
#: samples per chunk, rounded to whole batches: small enough to lose little on a kill, large enough to be cheap
CHUNK_SAMPLES = 256


@dataclass
class CachePolicy:
    """Where caches live, and whether an existing cache of the same run may be continued."""

    root: Path
    resume: bool = False
    #: what the cache cannot learn from the loop (suite, dataset component) for ``rescore``
    context: dict[str, Any] = field(default_factory=dict)
    chunk_samples: int = CHUNK_SAMPLES


@dataclass
class CachedBatch:
    ids: list[str]
    predictions: Any
    targets: Any
    skipped: list[str]


def run_key(identity: dict[str, Any]) -> str:
    """sha256 of everything that decides the predictions (model, weights, data, precision, batching, shard)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode("utf-8")).hexdigest()


class RunCache:
    """One run's cache folder: replay the verified prefix, then append chunks as batches are made."""

    def __init__(self, folder: Path, meta: dict[str, Any]):
        self.folder = Path(folder)
        self.meta = meta
        self.chunk_batches: int = meta["chunk_batches"]
        self._pending: list[list[Any]] = []
        self._arrays: dict[str, np.ndarray] = {}
        self._next_chunk = 0
        #: why caching stopped for this run (a prediction type that cannot be stored without pickle)
        self.disabled: str | None = None
        #: chunks moved to ``set-aside/`` by a resume (corrupt ones, and the ones after them)
        self.set_aside: list[str] = []
        #: chunks are serialised, hashed and fsynced on one background thread, in order, so the
        #: batch loop does not wait for the disk; a kill loses at most the chunks not yet renamed
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None
        self._writes: list[concurrent.futures.Future] = []

    @classmethod
    def open(cls, policy: CachePolicy, identity: dict[str, Any], batch_size: int) -> "RunCache":
        """The cache of this run; emptied unless resuming, and always emptied if it was made differently."""
        key = run_key(identity)
        folder = Path(policy.root) / key[:24]
        meta = {"schema": CACHE_SCHEMA, "key": key, "identity": identity, "context": policy.context,
                "chunk_batches": max(1, policy.chunk_samples // batch_size), "complete": False}
        old = read_meta(folder) if (folder / "run.json").exists() else None
        if not policy.resume or old is None or old.get("key") != key or old.get("chunk_batches") != meta[
                "chunk_batches"]:
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / "run.json", meta)
        return cls(folder, meta)

    def replay(self) -> Iterator[CachedBatch]:
        """Batches of the verified chunks 0..k-1; a bad chunk and those after it are set aside, named in ``set_aside``."""
        scan = scan_chunks(self.folder)
        for path in self.folder.glob(".chunk-*.tmp"):
            path.unlink(missing_ok=True)  # the temp file of this run's own write that was killed
        self.set_aside = scan.set_aside(self.folder)
        for index, path in enumerate(scan.good):
            for batch in read_chunk(path):
                yield batch
            self._next_chunk = index + 1

    def add(self, batch: CachedBatch) -> None:
        if self.disabled:
            return
        try:
            self._pending.append([batch.ids, encode(batch.predictions, self._arrays),
                                  encode(batch.targets, self._arrays), batch.skipped])
        except TypeError as err:
            self.disabled = f"predictions not cached: {err}"
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        if len(self._pending) >= self.chunk_batches:
            self.flush()

    def flush(self) -> None:
        if self._pending and not self.disabled:
            if self._writer is None:
                self._writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalkit-cache")
            self._raise_failed_writes()
            self._writes.append(self._writer.submit(write_chunk, self.folder, self._next_chunk, self._pending,
                                                    self._arrays))
            self._next_chunk += 1
        self._pending, self._arrays = [], {}

    def _raise_failed_writes(self, wait: bool = False) -> None:
        """Surface a background write error (disk full...) in the batch loop, where it can be reported."""
        pending = []
        for future in self._writes:
            if wait or future.done():
                future.result()
            else:
                pending.append(future)
        self._writes = pending

    def finish(self, summary: dict[str, Any]) -> None:
        """Write the last chunk and mark the cache complete (``rescore`` needs a complete cache)."""
        self.flush()
        self._raise_failed_writes(wait=True)
        if self._writer is not None:
            self._writer.shutdown()
        if self.disabled:
            return
        self.meta.update(complete=True, num_chunks=self._next_chunk, **summary)
        write_json_atomic(self.folder / "run.json", self.meta)


def read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((Path(folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"not a prediction cache folder: {err}", file=Path(folder) / "run.json") from None
    if not isinstance(meta, dict) or meta.get("schema") != CACHE_SCHEMA:
        raise InputError(f"not a prediction cache (schema {CACHE_SCHEMA!r})", file=Path(folder) / "run.json",
                         field="schema")
    if meta.get("complete"):  # what 'evalkit rescore' reads from a finished run
        from evalkit.shards import check_structure

        check_structure(meta, META_FIELDS, Path(folder) / "run.json")
    return meta


META_FIELDS: dict[str, Any] = {
    "identity": dict, "identity.model": (dict, str, list, int, float), "identity.dataset": (dict, str, list, int, float),
    "context": dict, "metric_specs": list,
    "runtime": dict, "timing": dict, "skipped": list, "task": str, "model": dict, "model.name": str,
    "num_chunks": int}


@dataclass
class ChunkScan:
    """What a cache folder holds: the usable prefix of chunks, and what cannot be used (nothing is touched)."""

    good: list[Path]
    #: chunk files whose bytes do not match their checksum, or with a name that is not a chunk's
    corrupt: list[Path]
    #: intact chunks that come after a missing or corrupt one (unusable: replay needs every batch in order)
    stranded: list[Path]
    #: the first chunk index that is missing or corrupt (None: the prefix is everything there is)
    first_gap: int | None

    def problem(self) -> str:
        """Which chunk is bad and why, for an error or a warning."""
        if self.corrupt:
            return f"{self.corrupt[0].name} is corrupt (its bytes do not match the checksum in its name)"
        return f"chunk {self.first_gap} is missing"

    def set_aside(self, folder: Path) -> list[str]:
        """Move the corrupt and stranded chunks to ``folder/set-aside/`` (kept, never deleted); their names."""
        moved = []
        if self.corrupt or self.stranded:
            aside = Path(folder) / "set-aside"
            aside.mkdir(exist_ok=True)
            for path in self.corrupt + self.stranded:
                path.replace(aside / path.name)
                moved.append(path.name)
        return moved


def scan_chunks(folder: Path) -> ChunkScan:
    """Chunks 0, 1, ... whose bytes match their checksum, up to the first missing or bad one. Reads only."""
    found: dict[int, list[Path]] = {}
    corrupt: list[Path] = []
    for path in sorted(Path(folder).glob("chunk-*")):
        match = CHUNK.match(path.name)
        if match:
            found.setdefault(int(match.group(1)), []).append(path)
        else:
            corrupt.append(path)
    good: list[Path] = []
    while len(good) in found:
        paths = found.pop(len(good))
        valid = [p for p in paths if _checksum_ok(p)][:1]
        corrupt += [p for p in paths if p not in valid]
        if not valid:
            break
        good.append(valid[0])
    stranded = sorted(p for paths in found.values() for p in paths if _checksum_ok(p))
    corrupt += sorted(p for paths in found.values() for p in paths if p not in stranded)
    first_gap = len(good) if corrupt or stranded else None
    return ChunkScan(good, corrupt, stranded, first_gap)


def _checksum_ok(path: Path) -> bool:
    match = CHUNK.match(path.name)
    return bool(match) and hashlib.sha256(path.read_bytes()).hexdigest() == match.group(2)


def write_chunk(folder: Path, index: int, tree: list[list[Any]], arrays: dict[str, np.ndarray]) -> Path:
    """One chunk: the encoded batches' JSON tree plus their arrays, in a checksum-named npz."""
    arrays = {**arrays}
    arrays["__tree__"] = np.frombuffer(json.dumps(tree).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    path = Path(folder) / f"chunk-{index:06d}-{hashlib.sha256(data).hexdigest()}.npz"
    return write_atomic(path, lambda f: f.write(data), binary=True, durable=False)  # the checksum guards it


def read_chunk(path: Path) -> list[CachedBatch]:
    try:
        with np.load(io.BytesIO(Path(path).read_bytes()), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        tree = json.loads(arrays.pop("__tree__").tobytes().decode("utf-8"))
        return [CachedBatch(ids, decode(p, arrays), decode(t, arrays), skipped) for ids, p, t, skipped in tree]
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise InputError(f"unreadable cache chunk: {err}", file=path) from None


def encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON tree for ``value``; arrays and tensors go to ``arrays`` (tagged nodes keep tuples, dicts, dtypes)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return {"l": [encode(v, arrays) for v in value]}
    if isinstance(value, tuple):
        return {"t": [encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"d": [[encode(k, arrays), encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (bytes, bytearray)):
        return {"b": _store(np.frombuffer(bytes(value), dtype=np.uint8), arrays)}
    if isinstance(value, np.generic):
        return {"s": _store(np.asarray(value), arrays)}
    if isinstance(value, np.ndarray):
        return {"a": _store(value, arrays)}
    if dataclasses.is_dataclass(value) and type(value).__module__.startswith("evalkit."):
        kind = f"{type(value).__module__}:{type(value).__qualname__}"
        return {"D": [kind, {f.name: encode(getattr(value, f.name), arrays) for f in dataclasses.fields(value)}]}
    if type(value).__module__.startswith("torch") and hasattr(value, "numpy"):
        return {"T": _store(value.detach().cpu().numpy(), arrays)}
    raise TypeError(f"cannot cache a {type(value).__name__} without pickle")


def _store(array: np.ndarray, arrays: dict[str, np.ndarray]) -> str:
    if array.dtype == object:
        raise TypeError("cannot cache an object array without pickle")
    name = f"a{len(arrays)}"
    arrays[name] = np.ascontiguousarray(array)
    return name


def _evalkit_dataclass(kind: str) -> Any:
    """Only evalkit's own dataclasses are rebuilt from a cache: a cache file cannot name arbitrary code."""
    import importlib

    module, _, qualname = kind.partition(":")
    if not module.startswith("evalkit."):
        raise ValueError(f"cache names a class outside evalkit: {kind}")
    cls = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not dataclasses.is_dataclass(cls):
        raise ValueError(f"cache names a class that is not a dataclass: {kind}")
    return cls


def decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if not isinstance(node, dict):
        return node
    (tag, body), = node.items()
    if tag == "l":
        return [decode(v, arrays) for v in body]
    if tag == "t":
        return tuple(decode(v, arrays) for v in body)
    if tag == "d":
        return {decode(k, arrays): decode(v, arrays) for k, v in body}
    if tag == "b":
        return arrays[body].tobytes()
    if tag == "s":
        return arrays[body][()]
    if tag == "a":
        return arrays[body]
    if tag == "D":
        return _evalkit_dataclass(body[0])(**{k: decode(v, arrays) for k, v in body[1].items()})
    if tag == "T":
        import torch

        return torch.from_numpy(arrays[body].copy())
    raise ValueError(f"unknown cache node {tag!r}")
