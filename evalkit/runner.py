"""The batch loop shared by every task: dataset → model adapter → metrics, timed; one process or a process group.

What a run leaves behind is built in :mod:`evalkit.run_record`; records made without the model (merged
shards, rescored caches) in :mod:`evalkit.recompute`.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from evalkit import distributed, shards
from evalkit.cache import CHUNK_SAMPLES, CachedBatch, CachePolicy, RunCache
from evalkit.datasets.base import DatasetLoader
from evalkit.device_pipeline import OneBatchLater, prefetch_to_device
from evalkit.environment import describe_environment
from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.models.base import ModelAdapter, resolve_device
from evalkit.oom import find_batch_size, predict_fitting
from evalkit.records import RUNS_DIR
from evalkit.registry import DATASETS, METRICS, MODELS
from evalkit.result import RunResult
from evalkit.run_record import build_record, model_description, now, save_result, suite_description
from evalkit.suite import Evaluation, Runtime, Suite
from evalkit.timing import BatchTimer


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
    replayed = 0  # samples, not batches: a batch split after running out of memory is cached in pieces
    for cached in run_cache.replay() if run_cache is not None else ():
        if cached.ids:
            for metric in metrics:
                metric.update(cached.predictions, cached.targets, cached.ids)
        skipped.extend(cached.skipped)
        replayed += len(cached.ids) + len(cached.skipped)
    if run_cache is not None and run_cache.set_aside:
        print(f"evalkit: warning: {run_cache.set_aside[0]} and {len(run_cache.set_aside) - 1} later chunk(s) of the "
              f"cache could not be used (corrupt, or after a corrupt or missing chunk): moved to "
              f"{run_cache.folder / 'set-aside'} and recomputed", file=sys.stderr)
    resumed_samples = min(replayed, len(indices))
    indices = indices[resumed_samples:]
    pin = runtime.pin_memory if runtime.pin_memory is not None else device.startswith("cuda")
    batches = prefetch_to_device(dataset.batches(indices, runtime.batch_size, adapter.transform(), runtime.workers,
                                                 pin, runtime.prefetch_factor, runtime.persistent_workers),
                                 adapter.prepare if adapter.prepares_on_device else None, device)

    def consume(piece: Any, predictions: Any) -> None:
        if len(piece):
            for metric in metrics:
                metric.update(predictions, piece.targets, piece.ids)
        if run_cache is not None:
            run_cache.add(CachedBatch(list(piece.ids), predictions, piece.targets, list(piece.skipped)))

    later = OneBatchLater(consume)  # on CUDA each batch's results are read after the next batch is queued
    timer = BatchTimer(device, runtime.warmup_batches)
    bar = tqdm(total=len(indices), desc=desc, unit="sample", file=sys.stderr, dynamic_ncols=True,
               disable=None if runtime.progress else True, leave=False)
    timer.start()
    try:
        for batch in batches:
            timer.batch_arrived()
            pieces = predict_fitting(adapter.predict, batch) if len(batch) else [(batch, None)]
            for piece, predictions in pieces:
                later.push(piece, predictions)
            skipped.extend(batch.skipped)
            timer.batch_done(len(batch))
            bar.update(len(batch) + len(batch.skipped))
        later.flush()
    finally:
        bar.close()
    timing = timer.summary()
    if run_cache is not None:
        timing["resumed_samples"] = resumed_samples
        if run_cache.set_aside:
            timing["cache_set_aside"] = run_cache.set_aside
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
    started = now()
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
        indices = dataset.select(runtime.limit, shard)
        fitted = _resolve_batch_size(runtime, dataset, adapter, indices)
        run_cache = None
        if cache is not None:
            run_cache = RunCache.open(cache, cache_identity(task_name, dataset, adapter, runtime, device, shard),
                                      fitted.batch_size)
        timing, skipped = run_loop(dataset, adapter, metrics, fitted, device, indices, desc, run_cache)
        timing.update(device=device, precision=runtime.precision, batch_size=fitted.batch_size,
                      workers=runtime.workers, channels_last=runtime.channels_last, compile=runtime.compile)
        if runtime.batch_size == "auto":
            timing["batch_size_auto"] = True
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


def _resolve_batch_size(runtime: Runtime, dataset: DatasetLoader, adapter: ModelAdapter,
                        indices: Sequence[int]) -> Runtime:
    """``batch_size: auto``: the largest batch of the first samples whose forward pass fits (untimed probe)."""
    if runtime.batch_size != "auto":
        return runtime

    def first(size: int) -> Any:
        return next(iter(dataset.batches(indices[:size], size, adapter.transform())))

    size = find_batch_size(adapter.predict, first, len(indices)) if len(indices) else 1
    return dataclasses.replace(runtime, batch_size=size)


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


def run_suite(suite: Suite, output_dir: Path | None = RUNS_DIR, models: Iterable[str] | None = None,
              shard: tuple[int, int] | None = None, cache: bool = True, resume: bool = False,
              cache_chunk: int = CHUNK_SAMPLES) -> list[RunResult]:
    results: list[RunResult] = []
    for evaluation in suite.evaluations:
        results.extend(run_evaluation(suite, evaluation, output_dir, models, shard, cache, resume, cache_chunk))
    return results
