"""Clocks users can trust: warm-up excluded, device synchronised, data wait split from compute."""
from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

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


def cuda_event() -> Any:
    """A timing CUDA event recorded now on the current stream (no host synchronisation)."""
    import torch

    event = torch.cuda.Event(enable_timing=True)
    event.record()
    return event


@dataclass
class BatchTimer:
    """Per-batch timings; the first ``warmup_batches`` are measured but not reported.

    ``data_wait`` is the host's time between the end of one batch's work and the arrival of the
    next batch (the input pipeline). On the CPU, ``compute`` (prediction plus metric update) ends
    with the batch. On a CUDA device each batch is bracketed by two CUDA events instead, read once
    at the end: the device time between them is the batch's latency, and nothing makes the host wait
    for the device per batch, so the next batch's loading overlaps this batch's kernels. The wall
    clock of the timed run always ends with one synchronisation, so throughput counts all queued work.
    ``event`` makes the events (a test passes fakes).
    """

    device: str
    warmup_batches: int = 1
    event: Callable[[], Any] | None = None
    _waits: list[float] = field(default_factory=list)
    _computes: list[float] = field(default_factory=list)
    _events: list[tuple[Any, Any]] = field(default_factory=list)
    _sizes: list[int] = field(default_factory=list)
    _mark: float = 0.0
    _wait_starts: list[float] = field(default_factory=list)
    _wall_end: float = 0.0

    def __post_init__(self) -> None:
        if self.event is None and str(self.device).startswith("cuda"):
            self.event = cuda_event

    def start(self) -> None:
        if str(self.device).startswith("cuda"):
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)
        self._mark = time.perf_counter()

    def batch_arrived(self) -> None:
        now = time.perf_counter()
        self._wait_starts.append(self._mark)
        self._waits.append(now - self._mark)
        self._mark = now
        if self.event is not None:
            self._events.append((self.event(), None))

    def batch_done(self, size: int) -> None:
        if self.event is not None:
            self._events[-1] = (self._events[-1][0], self.event())
        else:
            synchronize(self.device)
        now = time.perf_counter()
        self._computes.append(now - self._mark)
        self._sizes.append(size)
        self._mark = now
        self._wall_end = now

    def _finish(self) -> None:
        """One synchronisation for the whole run: the wall clock then covers the device work still queued,
        and each batch's host compute time becomes its device time between its two events."""
        if self.event is None or not self._sizes:
            return
        synchronize(self.device)
        self._wall_end = time.perf_counter()
        self._computes = [start.elapsed_time(end) / 1000.0 for start, end in self._events[:len(self._sizes)]]

    def summary(self) -> dict[str, Any]:
        self._finish()
        skip = min(self.warmup_batches, max(len(self._sizes) - 1, 0))
        waits = np.asarray(self._waits[skip:len(self._sizes)])
        computes = np.asarray(self._computes[skip:])
        samples = int(sum(self._sizes[skip:]))
        if self.event is None:
            wall = float(waits.sum() + computes.sum())
        else:  # device time overlaps host waits: the wall clock from the first timed batch's wait to the final sync
            wall = self._wall_end - self._wait_starts[skip] if self._sizes else 0.0
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
            "clock": "cuda-events" if self.event is not None else "host",
            "data_wait_fraction": float(waits.sum() / wall) if wall > 0 else None,
            "peak_gpu_memory_bytes": None,
            "peak_host_rss_bytes": peak_host_rss_bytes(),
        }
        if str(self.device).startswith("cuda"):
            import torch

            out["peak_gpu_memory_bytes"] = int(torch.cuda.max_memory_allocated(self.device))
        return out
