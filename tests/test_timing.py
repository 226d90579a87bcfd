"""The batch timer: host clocks on the CPU; on CUDA, events read once at the end and no per-batch synchronisation."""
from __future__ import annotations

import time

import pytest

import evalkit.timing as timing
from evalkit.timing import BatchTimer


class FakeEvent:
    """A CUDA event stand-in: its 'device time' is set by the test, in milliseconds from an origin."""

    def __init__(self, device_ms: float):
        self.device_ms = device_ms

    def elapsed_time(self, end: "FakeEvent") -> float:
        return end.device_ms - self.device_ms


def test_events_give_device_latency_and_synchronise_once(monkeypatch):
    syncs: list[str] = []
    monkeypatch.setattr(timing, "synchronize", lambda device: syncs.append(device))
    device_clock = iter([0.0, 5.0, 5.0, 12.0, 12.0, 20.0, 20.0, 30.0])  # start/end of 4 batches, in ms
    timer = BatchTimer("cpu", warmup_batches=1, event=lambda: FakeEvent(next(device_clock)))
    timer.start()
    for size in (4, 4, 4, 2):
        time.sleep(0.002)  # the loader
        timer.batch_arrived()
        timer.batch_done(size)
    assert syncs == [], "no host synchronisation per batch"
    summary = timer.summary()
    assert syncs == ["cpu"], "one synchronisation, at the end"
    assert summary["clock"] == "cuda-events"
    assert summary["timed_batches"] == 3 and summary["timed_samples"] == 10
    assert summary["compute_s"] == pytest.approx((7 + 8 + 10) / 1000)
    assert summary["latency_ms"]["p50"] == pytest.approx(8.0)
    # the wall clock runs from the first timed batch's wait to the final synchronisation, loader waits included
    assert summary["wall_s"] >= summary["data_wait_s"] >= 3 * 0.002
    assert summary["throughput"] == pytest.approx(10 / summary["wall_s"])
    assert summary["data_wait_fraction"] == pytest.approx(summary["data_wait_s"] / summary["wall_s"])


def test_host_clock_on_the_cpu_synchronises_per_batch(monkeypatch):
    syncs: list[str] = []
    monkeypatch.setattr(timing, "synchronize", lambda device: syncs.append(device))
    timer = BatchTimer("cpu", warmup_batches=1)
    timer.start()
    for size in (3, 3, 3):
        timer.batch_arrived()
        timer.batch_done(size)
    summary = timer.summary()
    assert summary["clock"] == "host" and len(syncs) == 3
    assert summary["wall_s"] == pytest.approx(summary["data_wait_s"] + summary["compute_s"])


def test_a_cuda_device_uses_events_by_default():
    assert BatchTimer("cuda:0").event is timing.cuda_event
    assert BatchTimer("cpu").event is None
