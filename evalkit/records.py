"""Run records: one JSON per (evaluation, model) run, plus per-sample Parquet and metric state."""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import re
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

from evalkit.errors import InputError

SCHEMA = "evalkit.run/2"
#: where runs write records, parts and caches by default: results/ itself holds the curated, committed tables
RUNS_DIR = Path("results") / "runs"
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, max_len: int = 80) -> str:
    """A file-name component that cannot leave its folder (no separators, no '..')."""
    cleaned = UNSAFE.sub("_", str(text)).strip("._") or "unnamed"
    return cleaned[:max_len]


def write_atomic(path: Path, write: Callable[[Any], None], binary: bool = False, durable: bool = True) -> Path:
    """Write through a temp file in the same folder, fsync, then rename: no partial file ever.

    ``durable=False`` skips the fsync: the rename is still atomic for a killed process, and only an
    OS crash can leave a torn file (for checksummed data that is detected and recomputed anyway).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    return write_atomic(path, lambda f: f.write(data), binary=True)


def write_text_atomic(path: Path, text: str) -> Path:
    return write_atomic(path, lambda f: f.write(text))


def write_json_atomic(path: Path, data: Any) -> Path:
    return write_atomic(path, lambda f: json.dump(_finite(data), f, indent=2, ensure_ascii=False, allow_nan=False))


def _finite(value: Any) -> Any:
    """JSON has no NaN: store non-finite floats as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and hasattr(value, "dtype"):  # numpy scalar
        return _finite(value.item())
    return value


def record_stem(suite: str, evaluation: str, model: str, timestamp: str) -> str:
    return "__".join(safe_name(p) for p in (suite, evaluation, model, timestamp))


def save_run(output_dir: Path, stem: str, record: dict[str, Any], per_sample: dict[str, Any] | None,
             state: dict[str, Any] | None) -> Path:
    """Write predictions and state first, the record last: a record always has its companions."""
    output_dir = Path(output_dir)
    if per_sample:
        record["predictions_file"] = f"{stem}.predictions.parquet"
        write_predictions(output_dir / record["predictions_file"], per_sample)
    if state is not None:
        record["state_file"] = f"{stem}.state.json.gz"
        payload = json.dumps(_finite(state)).encode("utf-8")
        record["state_sha256"] = hashlib.sha256(payload).hexdigest()
        write_atomic(output_dir / record["state_file"], lambda f: f.write(gzip.compress(payload, mtime=0)),
                     binary=True)
    return write_json_atomic(output_dir / f"{stem}.json", record)


def write_predictions(path: Path, columns: dict[str, Any]) -> None:
    import pandas as pd

    frame = pd.DataFrame({k: list(v) if not hasattr(v, "ndim") or v.ndim > 1 else v for k, v in columns.items()})
    write_atomic(path, lambda f: frame.to_parquet(f, index=False), binary=True)


def load_record(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err}", file=path) from None
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("evalkit.run/"):
        raise InputError("not an evalkit run record (no 'schema': 'evalkit.run/...')", file=path, field="schema")
    return data


def load_state(record_path: Path, record: dict[str, Any]) -> dict[str, Any]:
    """The metric states saved beside a record (``{metric name: state_dict}``)."""
    name = record.get("state_file")
    if not name:
        raise InputError("record has no saved metric state", file=record_path, field="state_file")
    state_path = Path(record_path).parent / Path(name).name
    return read_state_file(state_path, record.get("state_sha256"))


def read_state_file(path: Path, sha256: str | None) -> Any:
    """A record's metric states, checked against the checksum its record holds (records from format 2 on)."""
    try:
        payload = gzip.decompress(Path(path).read_bytes())
    except (OSError, EOFError, zlib.error) as err:  # zlib.error: a damaged deflate stream
        raise InputError(f"not a readable gzip metric state file: {err}", file=path) from None
    if sha256 is not None and hashlib.sha256(payload).hexdigest() != sha256:
        raise InputError("its content does not match the checksum in its record (edited or damaged since the run)",
                         file=path, field="state_sha256")
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"not JSON: {err}", file=path) from None
