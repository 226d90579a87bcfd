"""Run records (docs/records.md) → one tidy pandas DataFrame, the input of every report.

One row per (run, metric key). Optional fields of older record versions become
missing values instead of errors; JSON files that are not run records are skipped
and listed in ``df.attrs["skipped"]`` so a report can say what it ignored, except evalkit's own other
files (the prediction cache next to the records), which are expected there.
"""
from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import InputError, UnknownNameError
from evalkit.records import write_bytes_atomic

SCHEMA_PREFIX = "evalkit.run/"
#: record format versions this evalkit reads (1: keys prefixed by metric order, no signatures)
SUPPORTED_MAJORS = ("1", "2")

#: every column of the tidy frame, in order (a frame with no rows still has them)
COLUMNS = [
    "file", "run_id", "suite", "evaluation", "task", "model", "adapter", "random_weights", "runs_model", "model_year",
    "parameters", "dataset", "benchmark", "suite_benchmark", "dataset_key", "num_samples", "metric", "value", "ci_low", "ci_high",
    "signature", "main_metric", "higher_is_better", "is_main", "throughput", "latency_ms_mean", "latency_ms_p50",
    "latency_ms_p99", "peak_gpu_memory_bytes", "peak_host_rss_bytes", "peak_memory_bytes", "device",
    "precision", "batch_size", "started_at", "evalkit_version", "git_commit", "python", "torch", "gpu",
    "hostname", "state_file", "state_sha256", "metric_names", "notes",
]


def load_records(path: str | Path) -> pd.DataFrame:
    """Every run record under ``path`` (a folder, searched recursively, or one record file)."""
    root = Path(path)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(p for p in root.rglob("*.json") if p.is_file())
    else:
        raise InputError("no such results file or folder", file=root)
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for file in files:
        record = _read_json(file)
        reason = _not_a_record(record)
        if reason and _evalkit_file(record) and not root.is_file():
            continue  # evalkit's own other files (prediction caches) are expected next to records, not warned about
        if reason:
            if root.is_file():
                raise InputError(f"not an evalkit run record: {reason}", file=file)
            skipped.append(f"{file}: {reason}")
            continue
        rows.extend(record_rows(record, file))
    if skipped:
        warnings.warn(f"skipped {len(skipped)} file(s) that are not run records: " + "; ".join(skipped),
                      stacklevel=2)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True, errors="coerce", format="ISO8601")
    for column in ("value", "ci_low", "ci_high", "throughput", "latency_ms_mean", "latency_ms_p50",
                   "latency_ms_p99", "peak_gpu_memory_bytes", "peak_host_rss_bytes", "peak_memory_bytes",
                   "model_year", "num_samples", "batch_size", "parameters"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame.attrs["skipped"] = skipped
    return frame


def to_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the frame as Parquet, atomically (``attrs`` are not part of the file)."""
    buffer = io.BytesIO()
    plain = frame.copy()
    plain.attrs = {}
    plain.to_parquet(buffer, index=False)
    return write_bytes_atomic(Path(path), buffer.getvalue())


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _Unreadable(str(exc))


class _Unreadable:
    """Marks a file that is not JSON at all, with the parser's reason."""

    def __init__(self, why: str):
        self.why = why


def _not_a_record(obj: Any) -> str | None:
    """Why ``obj`` is not a run record, or None when it is one (possibly of an older version)."""
    if isinstance(obj, _Unreadable):
        return f"not valid JSON ({obj.why})"
    if not isinstance(obj, dict):
        return f"a JSON {type(obj).__name__}, not an object"
    schema = obj.get("schema")
    if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX):
        return None
    if schema is None and {"metrics", "model"} <= obj.keys() and ("task" in obj or "suite" in obj):
        return None  # records written before the schema field existed
    return f"no {SCHEMA_PREFIX}* schema field" if schema is None else f"schema {schema!r} is not a run record"


def _evalkit_file(obj: Any) -> bool:
    """A file evalkit writes that is not a run record (a prediction cache's ``run.json``, ``evalkit.cache/1``)."""
    return isinstance(obj, dict) and isinstance(obj.get("schema"), str) and obj["schema"].startswith("evalkit.")


def record_rows(record: dict[str, Any], file: Path) -> list[dict[str, Any]]:
    """The tidy rows of one record; raises InputError naming the field when one is malformed."""
    rec_id = record.get("run_id") or file.stem

    def bad(field: str, message: str) -> InputError:
        return InputError(message, file=file, record=rec_id, field=field)

    schema = record.get("schema")
    if schema is not None and schema.split("/", 1)[1].split(".")[0] not in SUPPORTED_MAJORS:
        raise bad("schema", f"{schema!r} is newer than this evalkit understands "
                            f"({', '.join(SCHEMA_PREFIX + m for m in SUPPORTED_MAJORS)})")
    suite = _section(record, "suite", bad)
    model = _section(record, "model", bad)
    dataset = _section(record, "dataset", bad)
    timing = _section(record, "timing", bad)
    env = _section(record, "environment", bad)
    latency = timing.get("latency_ms") if isinstance(timing.get("latency_ms"), dict) else {}
    spec = suite.get("spec") if isinstance(suite.get("spec"), dict) else {}

    for section_name, section, fields in _TYPED_FIELDS:
        value_of = {"suite": suite, "spec": spec, "model": model, "dataset": dataset, "timing": timing,
                    "environment": env}[section]
        for field, types in fields.items():
            value = value_of.get(field)
            if value is not None and (not isinstance(value, types) or isinstance(value, bool) and bool not in types):
                names = " or ".join(t.__name__ for t in types)
                raise bad(f"{section_name}.{field}", f"must be {names}, got {type(value).__name__} {value!r}")
    task = record.get("task") or spec.get("task")
    if not isinstance(task, str) or not task:
        raise bad("task", "missing: the record names no task")
    model_name = model.get("label") or model.get("name")  # the suite's label is what users call the model
    if not isinstance(model_name, str) or not model_name:
        raise bad("model.name", "missing: the record names no model")
    metrics = record.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        raise bad("metrics", "must be a non-empty object of metric name → number")
    ci = record.get("ci") or {}
    if not isinstance(ci, dict):
        raise bad("ci", "must be an object of metric name → [low, high]")

    main_metric, higher = main_metric_of(record, task, metrics)
    gpu_mem, host_mem = timing.get("peak_gpu_memory_bytes"), timing.get("peak_host_rss_bytes")
    state_file = record.get("state_file")
    base = {
        "file": str(file),
        "run_id": rec_id,
        "suite": suite.get("name"),
        "evaluation": suite.get("evaluation"),
        "task": task,
        "model": model_name,
        "adapter": model.get("adapter"),
        "random_weights": bool(model.get("random_weights", False)),
        # records before format 2 do not say; their predictions-file runs are known by adapter name
        "runs_model": bool(model.get("runs_model", model.get("adapter") != "predictions")),
        "model_year": model_year(record),
        "parameters": model.get("parameters"),
        "dataset": _dataset_label(suite, dataset, task),
        "benchmark": dataset.get("benchmark"),
        "suite_benchmark": spec.get("benchmark"),
        "dataset_key": dataset.get("fingerprint") or f"{suite.get('evaluation')}|{dataset.get('root')}",
        "num_samples": dataset.get("num_evaluated", dataset.get("num_samples")),
        "main_metric": main_metric,
        "higher_is_better": higher,
        "throughput": timing.get("throughput"),
        "latency_ms_mean": latency.get("mean"),
        "latency_ms_p50": latency.get("p50"),
        "latency_ms_p99": latency.get("p99"),
        "peak_gpu_memory_bytes": gpu_mem,
        "peak_host_rss_bytes": host_mem,
        "peak_memory_bytes": gpu_mem if gpu_mem is not None else host_mem,
        "device": timing.get("device") or env.get("gpu") or None,
        "precision": timing.get("precision"),
        "batch_size": timing.get("batch_size"),
        "started_at": record.get("started_at"),
        "evalkit_version": env.get("evalkit"),
        "git_commit": env.get("git_commit"),
        "python": env.get("python"),
        "torch": env.get("torch"),
        "gpu": env.get("gpu"),
        "hostname": env.get("hostname"),
        "state_file": str(file.parent / state_file) if isinstance(state_file, str) else None,
        "state_sha256": record.get("state_sha256"),
        "metric_names": ",".join(record.get("metric_names") or []),
        "notes": "; ".join(str(n) for n in record.get("notes") or []),
    }
    signature_of = _signatures_by_key(record)
    rows = []
    for key, value in metrics.items():
        if not _is_number(value):
            raise bad(f"metrics.{key}", f"must be a number, got {value!r}")
        bounds = ci.get(key)
        if bounds is not None and not (isinstance(bounds, list) and len(bounds) == 2 and all(map(_is_number, bounds))):
            raise bad(f"ci.{key}", f"must be [low, high], got {bounds!r}")
        low, high = bounds if bounds is not None else (None, None)
        rows.append({**base, "metric": key, "value": value, "ci_low": low, "ci_high": high,
                     "signature": signature_of.get(key), "is_main": key == main_metric})
    return rows


def _signatures_by_key(record: dict[str, Any]) -> dict[str, str]:
    """Each metric key's signature text (format 2 records; older records have none)."""
    signatures, keys = record.get("signatures"), record.get("metric_keys")
    if not isinstance(signatures, dict) or not isinstance(keys, dict):
        return {}
    out = {}
    for metric, metric_keys in keys.items():
        text = signatures.get(metric, {}).get("text") if isinstance(signatures.get(metric), dict) else None
        for key in metric_keys if isinstance(metric_keys, list) else []:
            out[key] = text
    return out


def main_metric_of(record: dict[str, Any], task: str, metrics: dict[str, Any]) -> tuple[str, bool]:
    """The record's ranking metric and direction, falling back to the task's default metrics."""
    main, higher = record.get("main_metric"), record.get("higher_is_better")
    if main is None or higher is None:
        from evalkit.registry import TASKS

        try:
            task_def = TASKS.get(task)
            main = main if main is not None else task_def.main_metric
            higher = higher if higher is not None else task_def.higher_is_better
        except UnknownNameError:
            main = main if main is not None else next(iter(metrics))
            higher = higher if higher is not None else not main.endswith("error")
    return str(main), bool(higher)


def model_year(record: dict[str, Any]) -> int | None:
    """The year the model was published: ``model.year``, else a year given in the suite."""
    model = record.get("model") if isinstance(record.get("model"), dict) else {}
    suite = record.get("suite") if isinstance(record.get("suite"), dict) else {}
    spec = suite.get("spec") if isinstance(suite.get("spec"), dict) else {}
    candidates = [model.get("year")]
    for entry in spec.get("models") or []:
        if isinstance(entry, dict) and (entry.get("label") or entry.get("name")) == (model.get("label") or model.get("name")):
            candidates.append(entry.get("year"))
    candidates += [suite.get("year"), spec.get("year")]
    for year in candidates:
        if isinstance(year, (int, float, str)) and str(year).isdigit():
            return int(year)
    return None


#: fields the tidy frame copies into typed columns: a record with another type there is malformed
_TYPED_FIELDS = [
    ("suite", "suite", {"name": (str,), "evaluation": (str,)}),
    ("suite.spec", "spec", {"benchmark": (str,)}),
    ("model", "model", {"adapter": (str,), "parameters": (int, float), "random_weights": (bool,), "runs_model": (bool,)}),
    ("dataset", "dataset", {"benchmark": (str,), "fingerprint": (str,), "root": (str,), "num_evaluated": (int,), "num_samples": (int,)}),
    ("timing", "timing", {"throughput": (int, float), "device": (str,), "precision": (str,), "batch_size": (int, str),
                          "peak_gpu_memory_bytes": (int,), "peak_host_rss_bytes": (int,)}),
    ("environment", "environment", {"evalkit": (str,), "git_commit": (str,), "python": (str,), "torch": (str,),
                                    "gpu": (str,), "hostname": (str,)}),
]


def _section(record: dict[str, Any], name: str, bad) -> dict[str, Any]:
    value = record.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(name, f"must be an object, got {type(value).__name__}")
    return value


def _dataset_label(suite: dict[str, Any], dataset: dict[str, Any], task: str) -> str:
    root = dataset.get("root")
    return suite.get("evaluation") or (Path(root).name if root else None) or task


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
