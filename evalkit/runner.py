"""The batch loop shared by every task: dataset → model adapter → metrics, timed, recorded."""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from evalkit import distributed, shards
from evalkit.cache import CHUNK_SAMPLES, CachedBatch, CachePolicy, RunCache, read_chunk, read_meta, verified_chunks
from evalkit.datasets.base import DatasetLoader
from evalkit.environment import describe_environment
from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.models.base import ModelAdapter, resolve_device
from evalkit.records import SCHEMA, record_stem, save_run
from evalkit.registry import DATASETS, METRICS, MODELS
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
        metric.bind(dataset.dataset_meta())
        metrics.append(metric)
    return metrics


def run_loop(dataset: DatasetLoader, adapter: ModelAdapter, metrics: list[Metric], runtime: Runtime,
             device: str, indices: Sequence[int], desc: str = "",
             run_cache: RunCache | None = None) -> tuple[dict[str, Any], list[str]]:
    """Feed every batch through the adapter into the metrics; returns timing and skipped ids.

    With ``run_cache`` the cached batches of an interrupted run are replayed first (untimed) and
    every new batch's predictions are appended to the cache.
    """
    from tqdm import tqdm

    skipped: list[str] = []
    replayed = 0
    for cached in run_cache.replay() if run_cache is not None else ():
        if cached.ids:
            for metric in metrics:
                metric.update(cached.predictions, cached.targets, cached.ids)
        skipped.extend(cached.skipped)
        replayed += 1
    resumed_samples = min(replayed * runtime.batch_size, len(indices))
    indices = indices[resumed_samples:]
    pin = runtime.pin_memory if runtime.pin_memory is not None else device.startswith("cuda")
    batches = dataset.batches(indices, runtime.batch_size, adapter.transform(), runtime.workers, pin,
                              runtime.prefetch_factor, runtime.persistent_workers)
    timer = BatchTimer(device, runtime.warmup_batches)
    bar = tqdm(total=len(indices), desc=desc, unit="sample", file=sys.stderr, dynamic_ncols=True,
               disable=None if runtime.progress else True, leave=False)
    timer.start()
    try:
        for batch in batches:
            timer.batch_arrived()
            predictions = None
            if len(batch):
                predictions = adapter.predict(batch)
                for metric in metrics:
                    metric.update(predictions, batch.targets, batch.ids)
            if run_cache is not None:
                run_cache.add(CachedBatch(list(batch.ids), predictions, batch.targets, list(batch.skipped)))
            skipped.extend(batch.skipped)
            timer.batch_done(len(batch))
            bar.update(len(batch) + len(batch.skipped))
    finally:
        bar.close()
    timing = timer.summary()
    if run_cache is not None:
        timing["resumed_samples"] = resumed_samples
    return timing, skipped


def evaluate_adapter(
    *,
    task_name: str,
    dataset: DatasetLoader,
    adapter: ModelAdapter,
    metric_specs: Sequence[tuple[str, dict[str, Any]]],
    runtime: Runtime,
    shard: tuple[int, int] | None = None,
    desc: str = "",
    cache: CachePolicy | None = None,
) -> tuple[dict[str, Any], list[Metric]]:
    """Run one model on one dataset; returns the record body (without suite/paths) and the metrics.

    In a process group each rank evaluates its own contiguous shard; rank 0 merges the metric
    states and every rank returns the same record (the merged metrics only on rank 0).
    With ``cache`` predictions are cached per chunk (each rank its own) and ``cache.resume`` continues a cache.
    """
    started = _now()
    device = resolve_device(runtime.device)
    ctx = distributed.context(device)
    if ctx is not None and shard is not None:
        raise InputError("--shard splits a run for job arrays; it cannot be combined with a process group")
    if ctx is not None:
        device, shard = ctx.device(device), (ctx.rank, ctx.world_size)
    make_metrics = lambda: build_metrics(metric_specs, dataset)  # noqa: E731

    def local() -> tuple[list[Metric], dict[str, Any], list[str]]:
        seed_everything(runtime.seed)
        adapter.bind(dataset, task_name)
        adapter.load(device, runtime.precision, channels_last=runtime.channels_last, compile=runtime.compile)
        metrics = make_metrics()
        run_cache = None
        if cache is not None:
            run_cache = RunCache.open(cache, cache_identity(task_name, dataset, adapter, runtime, device, shard),
                                      runtime.batch_size)
        timing, skipped = run_loop(dataset, adapter, metrics, runtime, device, dataset.select(runtime.limit, shard),
                                   desc, run_cache)
        timing.update(device=device, precision=runtime.precision, batch_size=runtime.batch_size,
                      workers=runtime.workers, channels_last=runtime.channels_last, compile=runtime.compile)
        if run_cache is not None:
            run_cache.finish({"task": task_name, "model": model_description(adapter), "timing": timing,
                              "skipped": skipped, "metric_specs": [list(s) for s in metric_specs],
                              "runtime": dataclasses.asdict(runtime), "shard": list(shard) if shard else None})
            timing["cache_dir"] = run_cache.disabled or str(run_cache.folder)
        return metrics, timing, skipped

    if ctx is None:
        metrics, timing, skipped = local()
        caches = _pop_cache_dirs([timing])
        record = build_record(task_name, dataset, model_description(adapter), metrics, timing, skipped, runtime,
                              shard, started, describe_environment(device))
        return {**record, **caches}, metrics
    parts = distributed.gather_to_main(ctx, lambda: shards.local_part(*local()))
    merged: list[Metric] = []

    def finish() -> dict[str, Any]:
        assert parts is not None
        merged.extend(shards.merge_metrics(make_metrics, parts))
        caches = _pop_cache_dirs([p["timing"] for p in parts])
        record = build_record(task_name, dataset, model_description(adapter), merged,
                              shards.merge_timings([p["timing"] for p in parts]),
                              [i for p in parts for i in p["skipped"]], runtime, None, started,
                              describe_environment(device))
        return {**record, **caches}

    return distributed.share_from_main(ctx, finish), merged


def _pop_cache_dirs(timings: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"cache_dirs": [one per rank]}`` taken out of the clocks; a string instead of a folder says why not cached."""
    dirs = [t.pop("cache_dir") for t in timings if "cache_dir" in t]
    return {"cache_dirs": dirs} if dirs else {}


def cache_identity(task_name: str, dataset: DatasetLoader, adapter: ModelAdapter, runtime: Runtime, device: str,
                   shard: tuple[int, int] | None) -> dict[str, Any]:
    """Everything that decides a run's predictions and batches: a cache made otherwise is not reused."""
    return {"task": task_name, "model": adapter.describe(), "dataset": dataset.fingerprint(),
            "dataset_options": dataset.describe().get("options"), "device": device.split(":")[0],
            "shard": list(shard) if shard else None,
            **{k: getattr(runtime, k) for k in ("precision", "batch_size", "limit", "channels_last", "compile",
                                                "seed")}}


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
        "finished_at": _now().isoformat(timespec="milliseconds"),
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


def run_evaluation(suite: Suite, evaluation: Evaluation, output_dir: Path | None,
                   models: Iterable[str] | None = None, shard: tuple[int, int] | None = None,
                   cache: bool = True, resume: bool = False, cache_chunk: int = CHUNK_SAMPLES) -> list[RunResult]:
    """Every selected model of one evaluation; the dataset is opened (and checked) before any model.

    With ``shard`` each run writes a partial state file (``evalkit merge`` makes the record); in a
    process group only rank 0 writes. With ``cache`` (and an output folder) predictions are cached
    under ``<output_dir>/.cache/``; ``resume`` continues the caches of interrupted runs.
    """
    dataset = DATASETS.get(evaluation.dataset.name)(**evaluation.dataset.options)
    try:
        return _run_models(suite, evaluation, dataset, output_dir, models, shard, cache, resume, cache_chunk)
    finally:
        dataset.release_workers()


def _run_models(suite: Suite, evaluation: Evaluation, dataset: Any, output_dir: Path | None,
                models: Iterable[str] | None, shard: tuple[int, int] | None, cache: bool, resume: bool,
                cache_chunk: int) -> list[RunResult]:
    wanted = set(models) if models else None
    results = []
    for component in evaluation.models:
        adapter = MODELS.get(component.name)(**component.options)
        label = adapter.display_name()
        if wanted is not None and label not in wanted and component.name not in wanted:
            continue
        specs = [(m.name, m.options) for m in evaluation.metrics]
        policy = None
        if cache and output_dir is not None:
            policy = CachePolicy(Path(output_dir) / ".cache", resume, {
                "suite": suite_description(suite, evaluation), "dataset_component": dataclasses.asdict(evaluation.dataset)},
                cache_chunk)
        record, metrics = evaluate_adapter(
            task_name=evaluation.task, dataset=dataset, adapter=adapter, metric_specs=specs,
            runtime=evaluation.runtime, shard=shard, desc=f"{evaluation.name}/{label}", cache=policy,
        )
        record["suite"] = suite_description(suite, evaluation)
        result = RunResult(record, metrics)
        if output_dir is not None and shard is not None:
            part = {"shard": list(shard), "run": {**record, "dataset_component": dataclasses.asdict(evaluation.dataset),
                                                  "metric_specs": specs, "runtime": dataclasses.asdict(evaluation.runtime)},
                    **shards.local_part(metrics, record["timing"], record["dataset"]["skipped_ids"])}
            result.path = shards.write_part(
                Path(output_dir) / shards.part_file_name(suite.name, evaluation.name, label, shard), part)
        elif output_dir is not None and distributed.is_main_process():
            result.path = save_result(output_dir, suite.name, evaluation.name, label, record, metrics)
        results.append(result)
    return results


def suite_description(suite: Suite, evaluation: Evaluation) -> dict[str, Any]:
    return {"name": suite.name, "path": str(suite.path) if suite.path else None,
            "sha256": suite.sha256, "evaluation": evaluation.name, "spec": evaluation.spec}


def save_result(output_dir: Path, suite_name: str, evaluation_name: str, label: str, record: dict[str, Any],
                metrics: list[Metric]) -> Path:
    stem = record_stem(suite_name, evaluation_name, label, record["run_id"])
    return save_run(output_dir, stem, record, _merge_columns(metrics), {m.name: _state(m) for m in metrics})


def merge_part_files(paths: Sequence[Path], output_dir: Path) -> list[RunResult]:
    """``evalkit merge``: the records a single run would give, from the partial state files of every shard."""
    results = []
    for parts in shards.group_parts(paths):
        run = parts[0]["run"]
        component = run["dataset_component"]
        dataset = DATASETS.get(component["name"])(**component["options"])
        if dataset.fingerprint() != run["dataset"]["fingerprint"]:
            raise InputError(f"the data set at {run['dataset']['root']} changed since the shards ran "
                             "(its sample ids differ)", field="dataset.fingerprint")
        specs = [(name, options) for name, options in run["metric_specs"]]
        metrics = shards.merge_metrics(lambda: build_metrics(specs, dataset), parts)
        runtime = Runtime(**run["runtime"])
        record = build_record(run["task"], dataset, run["model"], metrics,
                              shards.merge_timings([p["timing"] for p in parts]),
                              [i for p in parts for i in p["skipped"]], runtime, None,
                              dt.datetime.fromisoformat(min(p["run"]["started_at"] for p in parts)),
                              run["environment"], sum(p["run"]["dataset"]["num_skipped"] for p in parts))
        record["suite"] = run["suite"]
        record["notes"].append(f"merged from {len(parts)} shard files")
        result = RunResult(record, metrics)
        result.path = save_result(output_dir, run["suite"]["name"], run["suite"]["evaluation"],
                                  run["model"]["name"], record, metrics)
        results.append(result)
    return results


def rescore_caches(folders: Sequence[Path], output_dir: Path | None,
                   metric_specs: Sequence[tuple[str, dict[str, Any]]] | None = None, ci: bool | None = None) -> RunResult:
    """``evalkit rescore``: metrics recomputed from complete prediction caches (the ranks of one run, in order)."""
    metas = [read_meta(Path(f)) for f in folders]
    for folder, meta in zip(folders, metas):
        if not meta.get("complete"):
            raise InputError("the cached run did not finish: resume it with 'evalkit run ... --resume' first",
                             file=Path(folder) / "run.json", field="complete")
    meta = metas[0]
    if any(m["identity"]["model"] != meta["identity"]["model"] or m["identity"]["dataset"] != meta["identity"][
            "dataset"] for m in metas):
        raise InputError("these caches belong to different runs (model or data set differ)")
    component = meta["context"].get("dataset_component")
    if not component:
        raise InputError("this cache has no data set description (made through the Python API); rescore needs "
                         "a cache made by 'evalkit run'", file=Path(folders[0]) / "run.json", field="context")
    dataset = DATASETS.get(component["name"])(**component["options"])
    specs = list(metric_specs) if metric_specs else [(n, o) for n, o in meta["metric_specs"]]
    runtime = dataclasses.replace(Runtime(**meta["runtime"]), **({} if ci is None else {"ci": ci}))
    metrics = build_metrics(specs, dataset)
    for folder in folders:
        for path in verified_chunks(Path(folder)):
            for batch in read_chunk(path):
                if batch.ids:
                    for metric in metrics:
                        metric.update(batch.predictions, batch.targets, batch.ids)
    if sum(m["num_chunks"] for m in metas) != sum(len(verified_chunks(Path(f))) for f in folders):
        raise InputError("a chunk of the cache is missing or corrupt; re-run with --resume to recompute it")
    timings = [m["timing"] for m in metas]
    record = build_record(meta["task"], dataset, meta["model"], metrics, shards.merge_timings(timings),
                          [i for m in metas for i in m["skipped"]], runtime, None, _now(),
                          describe_environment("cpu"))
    record["suite"] = meta["context"].get("suite")
    record["cache_dirs"] = [str(Path(f).resolve()) for f in folders]
    record["notes"].append("rescored from the prediction cache (no model ran); timing is the original run's")
    result = RunResult(record, metrics)
    if output_dir is not None:
        suite_info = record["suite"] or {}
        result.path = save_result(output_dir, suite_info.get("name", "rescore"), suite_info.get("evaluation", "rescore"),
                                  meta["model"]["name"], record, metrics)
    return result


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
              shard: tuple[int, int] | None = None, cache: bool = True, resume: bool = False,
              cache_chunk: int = CHUNK_SAMPLES) -> list[RunResult]:
    results: list[RunResult] = []
    for evaluation in suite.evaluations:
        results.extend(run_evaluation(suite, evaluation, output_dir, models, shard, cache, resume, cache_chunk))
    return results
