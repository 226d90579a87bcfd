"""A factory of run records (docs/records.md) and their metric state files, for the report tests."""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.metrics.topk import TopKError

NUM_CLASSES = 20


def topk_metric(accuracy: float, n: int, seed: int) -> TopKError:
    """A top-k metric over ``n`` shared samples from logits where about ``accuracy`` of top-1 guesses are right."""
    rng = np.random.default_rng(seed)
    labels = np.random.default_rng(0).integers(0, NUM_CLASSES, n)  # the same samples for every system
    logits = rng.normal(size=(n, NUM_CLASSES)).astype(np.float32)
    right = rng.random(n) < accuracy
    logits[right, labels[right]] += 10.0
    top5 = np.argsort(-logits, axis=1, kind="stable")[:, :5]  # numpy, so the tests need no torch import
    metric = TopKError()
    metric.add_topk(top5, labels, [f"img{i:05d}" for i in range(n)])
    return metric


class RecordFactory:
    """Writes ``<stem>.json`` + ``<stem>.state.json.gz`` like the runner does."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def imagenet_run(self, model: str, accuracy: float, *, n: int = 400, seed: int = 1, year: int | None = None,
                     throughput: float | None = 1000.0, random_weights: bool = False,
                     fingerprint: str = "fp-imagenet-val", started_at: str = "2026-11-26T05:15:00+00:00",
                     drop: tuple[str, ...] = (), precision: str = "fp32", benchmark: str | None = "imagenet") -> Path:
        metric = topk_metric(accuracy, n, seed)
        result = metric.compute(ci=True, n_resamples=100)
        keys = ("top1_error", "top5_error")
        record = self.record(model, "imagenet", {k: result[k] for k in keys},
                             {k: result["ci"][k] for k in keys}, year=year, throughput=throughput,
                             random_weights=random_weights, fingerprint=fingerprint, started_at=started_at,
                             main=("top1_error", False), precision=precision, num_samples=n, benchmark=benchmark)
        return self.write(record, {"topk": metric.state_dict()}, drop)

    def record(self, model: str, task: str, metrics: dict[str, float], ci: dict[str, list[float]], *,
               main: tuple[str, bool], year: int | None = None, throughput: float | None = 1000.0,
               random_weights: bool = False, fingerprint: str = "fp", started_at: str = "2026-11-26T05:15:00+00:00",
               precision: str = "fp32", num_samples: int = 100, benchmark: str | None = None,
               suite_benchmark: str | None = None) -> dict[str, Any]:
        stamp = started_at[:19].replace("-", "").replace(":", "") + "Z"
        return {
            "schema": "evalkit.run/1",
            "run_id": f"{stamp}-{model}-{precision}",
            "started_at": started_at,
            "finished_at": started_at,
            "suite": {"name": "unit", "path": "/abs/unit.yaml", "sha256": "0" * 64, "evaluation": f"{task}-val",
                      "spec": {"task": task, **({"benchmark": suite_benchmark} if suite_benchmark else {})}},
            "task": task,
            "main_metric": main[0],
            "higher_is_better": main[1],
            "model": {"adapter": "predictions", "runs_model": True, "name": model, "parameters": 25_000_000, "weights_file": None,
                      "weights_sha256": None, "random_weights": random_weights, "year": year, "options": {}},
            "dataset": {"loader": task, "benchmark": benchmark, "root": f"/data/{task}", "num_samples": num_samples,
                        "num_evaluated": num_samples, "num_skipped": 0, "fingerprint": fingerprint, "options": {}},
            "metrics": metrics,
            "ci": ci,
            "details": {},
            "metric_names": ["topk"] if task == "imagenet" else [],
            "timing": {"device": "cpu", "precision": precision, "batch_size": 64, "warmup_batches": 1,
                       "timed_batches": 5, "timed_samples": 320, "wall_s": 0.3, "throughput": throughput,
                       "latency_ms": {"mean": 0.4, "p50": 0.4, "p90": 0.5, "p99": 0.7}, "data_wait_s": 0.1,
                       "compute_s": 0.2, "data_wait_fraction": 0.3, "peak_gpu_memory_bytes": None,
                       "peak_host_rss_bytes": 812_345_344},
            "environment": {"evalkit": "0.1.0", "git_commit": "abc", "python": "3.11.7", "torch": "2.5",
                            "cuda": None, "gpu": None, "cpu": "x86", "hostname": "box", "platform": "Linux"},
            "notes": ["weights are random"] if random_weights else [],
        }

    def write(self, record: dict[str, Any], states: dict[str, Any] | None = None, drop: tuple[str, ...] = ()) -> Path:
        """Write the record (minus the dotted ``drop`` fields, as an older evalkit would) and its states."""
        stem = f"unit__{record['task']}__{record['model']['name']}__{record['run_id'][:16]}"
        stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem) + f"_{record['timing']['precision']}"
        if states is not None:
            record["state_file"] = f"{stem}.state.json.gz"
            with gzip.open(self.root / record["state_file"], "wt", encoding="utf-8") as handle:
                json.dump(states, handle)
        for dotted in drop:
            *parents, leaf = dotted.split(".")
            target = record
            for part in parents:
                target = target[part]
            target.pop(leaf, None)
        path = self.root / f"{stem}.json"
        path.write_text(json.dumps(record, indent=1), encoding="utf-8")
        return path
