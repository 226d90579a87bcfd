"""The batch loop shared by every task: dataset → model adapter → metrics, timed, recorded."""
from __future__ import annotations

import datetime as dt
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from evalkit.datasets.base import DatasetLoader
from evalkit.environment import describe_environment
from evalkit.metrics.base import Metric
from evalkit.models.base import ModelAdapter, resolve_device
from evalkit.records import SCHEMA, record_stem, save_run
from evalkit.registry import DATASETS, METRICS, MODELS, TASKS
from evalkit.suite import Evaluation, Runtime, Suite
from evalkit.timing import BatchTimer

RANDOM_WEIGHTS_NOTE = "weights are random: the accuracy is chance; this run shows the pipeline and its timing"
DATA_BOUND_HINT = 0.3


@dataclass
class RunResult:
    """One model's run: the record (as written) and the live metric objects."""

    record: dict[str, Any]
    metrics: list[Metric] = field(default_factory=list)
    path: Path | None = None

    @property
    def scores(self) -> dict[str, float]:
        return dict(self.record["metrics"])

    def to_dict(self) -> dict[str, Any]:
        return self.record

    def to_pandas(self) -> Any:
        """One row per metric key: model, task, metric, value, CI bounds."""
        import pandas as pd

        ci = self.record.get("ci", {})
        rows = [{"model": self.record["model"]["name"], "task": self.record["task"], "metric": key, "value": value,
                 "ci_low": ci.get(key, [None, None])[0], "ci_high": ci.get(key, [None, None])[1]}
                for key, value in self.record["metrics"].items()]
        return pd.DataFrame(rows)


def seed_everything(seed: int) -> None:
    """Same seed, same random weights and same sampling: runs are reproducible."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def build_metrics(evaluation_metrics: Sequence[tuple[str, dict[str, Any]]], dataset: DatasetLoader) -> list[Metric]:
    metrics = []
    for name, options in evaluation_metrics:
        metric = METRICS.get(name)(**options)
        metric.bind(dataset)
        metrics.append(metric)
    return metrics


def run_loop(dataset: DatasetLoader, adapter: ModelAdapter, metrics: list[Metric], runtime: Runtime,
             device: str, indices: Sequence[int], desc: str = "") -> tuple[dict[str, Any], list[str]]:
    """Feed every batch through the adapter into the metrics; returns timing and skipped ids."""
    from tqdm import tqdm

    pin = runtime.pin_memory if runtime.pin_memory is not None else device.startswith("cuda")
    batches = dataset.batches(indices, runtime.batch_size, adapter.transform(), runtime.workers, pin)
    timer = BatchTimer(device, runtime.warmup_batches)
    skipped: list[str] = []
    bar = tqdm(total=len(indices), desc=desc, unit="sample", file=sys.stderr, dynamic_ncols=True,
               disable=None if runtime.progress else True, leave=False)
    timer.start()
    try:
        for batch in batches:
            timer.batch_arrived()
            if len(batch):
                predictions = adapter.predict(batch)
                for metric in metrics:
                    metric.update(predictions, batch.targets, batch.ids)
            skipped.extend(batch.skipped)
            timer.batch_done(len(batch))
            bar.update(len(batch) + len(batch.skipped))
    finally:
        bar.close()
    return timer.summary(), skipped


def evaluate_adapter(
    *,
    task_name: str,
    dataset: DatasetLoader,
    adapter: ModelAdapter,
    metric_specs: Sequence[tuple[str, dict[str, Any]]],
    runtime: Runtime,
    shard: tuple[int, int] | None = None,
    desc: str = "",
) -> tuple[dict[str, Any], list[Metric]]:
    """Run one model on one dataset; returns the record body (without suite/paths) and the metrics."""
    task = TASKS.get(task_name)
    device = resolve_device(runtime.device)
    started = _now()
    seed_everything(runtime.seed)
    if hasattr(adapter, "bind"):
        adapter.bind(dataset, task_name)
    adapter.load(device, runtime.precision, channels_last=runtime.channels_last, compile=runtime.compile)
    metrics = build_metrics(metric_specs, dataset)
    indices = dataset.select(runtime.limit, shard)
    timing, skipped = run_loop(dataset, adapter, metrics, runtime, device, indices, desc)
    timing.update(device=device, precision=runtime.precision, batch_size=runtime.batch_size,
                  workers=runtime.workers, channels_last=runtime.channels_last, compile=runtime.compile)
    scalars: dict[str, float] = {}
    cis: dict[str, list[float]] = {}
    details: dict[str, Any] = {}
    for metric in metrics:
        result = metric.compute(ci=runtime.ci, n_resamples=runtime.n_resamples, seed=runtime.seed)
        cis.update(result.pop("ci", {}))
        for key, value in result.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                scalars[key] = float(value)
            else:
                details.setdefault(metric.name, {})[key] = value
    model_info = adapter.describe()
    for key in ("year", "label"):
        if key in adapter.options:
            model_info[key] = adapter.options[key]
    notes = [RANDOM_WEIGHTS_NOTE] if model_info.get("random_weights") else []
    if skipped:
        notes.append(f"{len(skipped)} samples skipped as unreadable (skip_corrupt): first {skipped[0]!r}")
    record = {
        "schema": SCHEMA,
        "run_id": f"{started.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}",
        "started_at": started.isoformat(timespec="milliseconds"),
        "finished_at": _now().isoformat(timespec="milliseconds"),
        "task": task_name,
        "main_metric": task.main_metric,
        "higher_is_better": task.higher_is_better,
        "model": model_info,
        "dataset": {**dataset.describe(), "num_evaluated": sum(m.num_samples() for m in metrics[:1]),
                    "num_skipped": len(skipped), "skipped_ids": skipped[:100], "limit": runtime.limit,
                    "shard": list(shard) if shard else None},
        "metrics": scalars,
        "ci": cis,
        "details": details,
        "metric_names": [m.name for m in metrics],
        "timing": timing,
        "environment": describe_environment(device),
        "notes": notes,
    }
    return record, metrics


def run_evaluation(suite: Suite, evaluation: Evaluation, output_dir: Path | None,
                   models: Iterable[str] | None = None, shard: tuple[int, int] | None = None) -> list[RunResult]:
    """Every selected model of one evaluation; the dataset is opened (and checked) before any model."""
    dataset = DATASETS.get(evaluation.dataset.name)(**evaluation.dataset.options)
    wanted = set(models) if models else None
    results = []
    for component in evaluation.models:
        adapter = MODELS.get(component.name)(**component.options)
        label = adapter.display_name()
        if wanted is not None and label not in wanted and component.name not in wanted:
            continue
        record, metrics = evaluate_adapter(
            task_name=evaluation.task, dataset=dataset, adapter=adapter,
            metric_specs=[(m.name, m.options) for m in evaluation.metrics], runtime=evaluation.runtime,
            shard=shard, desc=f"{evaluation.name}/{label}",
        )
        record["suite"] = {"name": suite.name, "path": str(suite.path) if suite.path else None,
                           "sha256": suite.sha256, "evaluation": evaluation.name, "spec": evaluation.spec}
        result = RunResult(record, metrics)
        if output_dir is not None:
            stem = record_stem(suite.name, evaluation.name, label, record["run_id"])
            per_sample = _merge_columns(metrics)
            state = {m.name: _state(m) for m in metrics}
            result.path = save_run(output_dir, stem, record, per_sample, state)
        results.append(result)
    return results


def _state(metric: Metric) -> Any:
    try:
        return metric.state_dict()
    except NotImplementedError:
        return None


def _merge_columns(metrics: list[Metric]) -> dict[str, Any]:
    """Per-sample columns of every metric, prefixed by the metric name when two metrics collide."""
    columns: dict[str, Any] = {}
    for metric in metrics:
        for key, values in metric.per_sample().items():
            if key == "sample_id" and "sample_id" in columns:
                continue
            columns[key if key not in columns else f"{metric.name}.{key}"] = values
    return columns


def run_suite(suite: Suite, output_dir: Path | None = Path("results"), models: Iterable[str] | None = None,
              shard: tuple[int, int] | None = None) -> list[RunResult]:
    results: list[RunResult] = []
    for evaluation in suite.evaluations:
        results.extend(run_evaluation(suite, evaluation, output_dir, models, shard))
    return results
