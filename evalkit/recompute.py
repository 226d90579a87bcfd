"""Records made without running the model again: merging shard files, rescoring a prediction cache."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Sequence

from evalkit import shards
from evalkit.cache import read_chunk, read_meta, scan_chunks
from evalkit.environment import describe_environment
from evalkit.errors import InputError
from evalkit.registry import DATASETS
from evalkit.result import RunResult
from evalkit.run_record import build_record, now, save_result
from evalkit.runner import build_metrics
from evalkit.suite import runtime_from


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
        runtime = runtime_from(run["runtime"], parts[0]["_file"], "run.runtime")
        ids = dataset.sample_ids()
        for part in parts:
            shards.check_shard_samples(part, [ids[i] for i in dataset.select(runtime.limit, tuple(part["shard"]))])
        metrics = shards.merge_metrics(lambda: build_metrics(specs, dataset), parts)
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
    runtime = dataclasses.replace(runtime_from(meta["runtime"], Path(folders[0]) / "run.json"),
                                  **({} if ci is None else {"ci": ci}))
    scans = [scan_chunks(Path(f)) for f in folders]  # reads only: a rescore never deletes or moves a chunk
    for folder, scan, meta_of in zip(folders, scans, metas):
        if scan.first_gap is not None or len(scan.good) != meta_of["num_chunks"]:
            problem = scan.problem() if scan.first_gap is not None else (
                f"chunk {len(scan.good)} of {meta_of['num_chunks']} is missing")
            raise InputError(f"{problem}; nothing was changed. Run the suite again with --resume to recompute it",
                             file=folder)
    metrics = build_metrics(specs, dataset)
    for scan in scans:
        for path in scan.good:
            try:
                for batch in read_chunk(path):
                    if batch.ids:
                        for metric in metrics:
                            metric.update(batch.predictions, batch.targets, batch.ids)
            except (InputError, TypeError, ValueError, KeyError, IndexError, AttributeError) as err:
                # a chunk edited and re-signed: its predictions or targets are not what the run made (values of
                # another type reach the metric, which trusts what its own loader and adapter produce)
                raise InputError(f"its predictions cannot be scored ({type(err).__name__}: {err}); "
                                 "nothing was changed", file=path) from None
    timings = [m["timing"] for m in metas]
    record = build_record(meta["task"], dataset, meta["model"], metrics, shards.merge_timings(timings),
                          [i for m in metas for i in m["skipped"]], runtime, None, now(),
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
