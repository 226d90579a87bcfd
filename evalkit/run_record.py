"""The run record: built from finished metrics (one process or merged shards) and saved beside its predictions."""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputError
from evalkit.records import SCHEMA, record_stem, save_run

if TYPE_CHECKING:
    from evalkit.datasets.base import DatasetLoader
    from evalkit.metrics.base import Metric
    from evalkit.models.base import ModelAdapter
    from evalkit.suite import Evaluation, Runtime, Suite

RANDOM_WEIGHTS_NOTE = "weights are random: the accuracy is chance; this run shows the pipeline and its timing"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def model_description(adapter: ModelAdapter) -> dict[str, Any]:
    model_info = adapter.describe()
    for key in ("year", "label"):
        if key in adapter.options:
            model_info[key] = adapter.options[key]
    return model_info


def build_record(task_name: str, dataset: DatasetLoader, model_info: dict[str, Any], metrics: list[Metric],
                 timing: dict[str, Any], skipped: list[str], runtime: Runtime, shard: tuple[int, int] | None,
                 started: dt.datetime, environment: dict[str, Any], num_skipped: int | None = None
                 ) -> dict[str, Any]:
    """The record body from finished metrics: one place, whether the states came from one process or many.

    ``num_skipped`` counts skipped samples when ``skipped`` lists only the first ones (merged shard files).
    """
    num_skipped = len(skipped) if num_skipped is None else num_skipped
    scalars: dict[str, float] = {}
    cis: dict[str, list[float]] = {}
    details: dict[str, Any] = {}
    keys_of: dict[str, list[str]] = {}
    for metric in metrics:
        values, extras, metric_ci = metric.compute_parts(runtime.ci, runtime.n_resamples, runtime.seed)
        keys_of[metric.name] = []
        for key, value in values.items():
            name = metric.record_key(key)  # declared by the metric: the same whatever the other metrics
            if name in scalars:
                raise InputError(f"two metrics of one evaluation both give {name!r}; list each metric once",
                                 field="metrics")
            scalars[name] = float(value)
            keys_of[metric.name].append(name)
            if key in metric_ci:
                cis[name] = metric_ci[key]
        if extras:
            details[metric.name] = extras
    main = metrics[0]
    notes = [RANDOM_WEIGHTS_NOTE] if model_info.get("random_weights") else []
    if skipped:
        notes.append(f"{num_skipped} samples skipped as unreadable (skip_corrupt): first {skipped[0]!r}")
    return {
        "schema": SCHEMA,
        "run_id": f"{started.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}",
        "started_at": started.isoformat(timespec="milliseconds"),
        "finished_at": now().isoformat(timespec="milliseconds"),
        "task": task_name,
        "main_metric": main.record_key(main.main_key),
        "higher_is_better": main.higher_is_better,
        "model": model_info,
        "dataset": {**dataset.describe(), "num_evaluated": sum(m.num_samples() for m in metrics[:1]),
                    "num_skipped": num_skipped, "skipped_ids": skipped[:100], "limit": runtime.limit,
                    "shard": list(shard) if shard else None},
        "metrics": scalars,
        "ci": cis,
        "details": details,
        "metric_names": [m.name for m in metrics],
        "metric_keys": keys_of,
        "signatures": {m.name: m.signature().to_dict() for m in metrics},
        "timing": timing,
        "environment": environment,
        "notes": notes,
    }


def suite_description(suite: Suite, evaluation: Evaluation) -> dict[str, Any]:
    return {"name": suite.name, "path": str(suite.path) if suite.path else None,
            "sha256": suite.sha256, "evaluation": evaluation.name, "spec": evaluation.spec,
            "overrides": list(suite.overrides)}


def save_result(output_dir: Path, suite_name: str, evaluation_name: str, label: str, record: dict[str, Any],
                metrics: list[Metric]) -> Path:
    stem = record_stem(suite_name, evaluation_name, label, record["run_id"])
    return save_run(output_dir, stem, record, merge_columns(metrics), {m.name: m.state_dict() for m in metrics})


def merge_columns(metrics: list[Metric]) -> dict[str, Any]:
    """Per-sample columns of every metric, prefixed by the metric name when two metrics collide."""
    columns: dict[str, Any] = {}
    for metric in metrics:
        for key, values in metric.per_sample().items():
            if key == "sample_id" and "sample_id" in columns:
                continue
            columns[key if key not in columns else f"{metric.name}.{key}"] = values
    return columns
