"""Clocks users can trust: warm-up excluded, device synchronised, data wait split from compute."""
from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def synchronize(device: str) -> None:
    """Wait for queued GPU work so that a wall-clock reading covers it."""
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def peak_host_rss_bytes() -> int:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


@dataclass
class BatchTimer:
    """Per-batch timings; the first ``warmup_batches`` are measured but not reported.

    ``data_wait`` is the time between the end of one batch's work and the arrival of the
    next batch (the input pipeline); ``compute`` is prediction plus metric update, ended
    by a device synchronisation so that asynchronous GPU work is counted.
    """

    device: str
    warmup_batches: int = 1
    _waits: list[float] = field(default_factory=list)
    _computes: list[float] = field(default_factory=list)
    _sizes: list[int] = field(default_factory=list)
    _mark: float = 0.0
    _wall_start: float | None = None
    _wall_end: float = 0.0

    def start(self) -> None:
        if str(self.device).startswith("cuda"):
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)
        self._mark = time.perf_counter()

    def batch_arrived(self) -> None:
        now = time.perf_counter()
        self._waits.append(now - self._mark)
        self._mark = now
        if len(self._waits) == self.warmup_batches + 1:
            self._wall_start = self._mark - self._waits[-1]

    def batch_done(self, size: int) -> None:
        synchronize(self.device)
        now = time.perf_counter()
        self._computes.append(now - self._mark)
        self._sizes.append(size)
        self._mark = now
        self._wall_end = now

    def summary(self) -> dict[str, Any]:
        skip = min(self.warmup_batches, max(len(self._sizes) - 1, 0))
        waits = np.asarray(self._waits[skip:len(self._sizes)])
        computes = np.asarray(self._computes[skip:])
        samples = int(sum(self._sizes[skip:]))
        wall = float(waits.sum() + computes.sum())
        latency = computes * 1000.0
        out: dict[str, Any] = {
            "warmup_batches": skip,
            "timed_batches": len(computes),
            "timed_samples": samples,
            "wall_s": wall,
            "throughput": samples / wall if wall > 0 else None,
            "latency_ms": {
                "mean": float(latency.mean()) if len(latency) else None,
                "p50": float(np.percentile(latency, 50)) if len(latency) else None,
                "p90": float(np.percentile(latency, 90)) if len(latency) else None,
                "p99": float(np.percentile(latency, 99)) if len(latency) else None,
            },
            "data_wait_s": float(waits.sum()),
            "compute_s": float(computes.sum()),
            "data_wait_fraction": float(waits.sum() / wall) if wall > 0 else None,
            "peak_gpu_memory_bytes": None,
            "peak_host_rss_bytes": peak_host_rss_bytes(),
        }
        if str(self.device).startswith("cuda"):
            import torch

            out["peak_gpu_memory_bytes"] = int(torch.cuda.max_memory_allocated(self.device))
        return out
