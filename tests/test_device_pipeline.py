"""The batch loop's GPU pipelining, checked on the CPU with fakes: results read one batch late (no host sync
per batch), and preprocessing on a side stream that the compute stream waits for."""
from __future__ import annotations

import contextlib

import torch

from evalkit.device_pipeline import OneBatchLater, Staged, prefetch_to_device, stage_on_host
from evalkit.types import Batch


class FakeEvent:
    def __init__(self, log: list, name: str):
        self.log, self.name = log, name

    def record(self, stream=None):
        self.log.append(("record", self.name, getattr(stream, "name", None)))

    def synchronize(self):
        self.log.append(("wait", self.name))


def test_device_results_are_consumed_one_batch_later_in_order():
    log: list = []

    def stage(predictions):
        log.append(("copy", predictions))
        return Staged(f"host-{predictions}", FakeEvent(log, predictions))

    later = OneBatchLater(lambda item, value: log.append(("consume", item, value)), stage)
    for k in range(3):
        later.push(k, f"p{k}")
    later.flush()
    later.flush()  # nothing pending: no second consume
    assert log == [("copy", "p0"),
                   ("copy", "p1"), ("wait", "p0"), ("consume", 0, "host-p0"),
                   ("copy", "p2"), ("wait", "p1"), ("consume", 1, "host-p1"),
                   ("wait", "p2"), ("consume", 2, "host-p2")]


def test_host_results_are_consumed_at_once_after_any_pending_one():
    log: list = []
    stage = lambda p: Staged(p, FakeEvent(log, p) if p.startswith("gpu") else None)  # noqa: E731
    later = OneBatchLater(lambda item, value: log.append(("consume", item)), stage)
    later.push(0, "gpu0")
    later.push(1, "cpu1")
    later.push(2, "cpu2")
    assert log == [("wait", "gpu0"), ("consume", 0), ("consume", 1), ("consume", 2)]


def test_stage_on_host_leaves_cpu_values_alone():
    logits = torch.randn(4, 10)
    staged = stage_on_host(logits)
    assert staged.ready is None and staged.value is logits
    assert stage_on_host([{"boxes": 1}]).ready is None


class FakeCuda:
    """Records the stream and event calls prefetch_to_device makes."""

    def __init__(self, log: list):
        self.log, self.count = log, 0
        self.current = None

    def side_stream(self):
        return Stream("side", self.log)

    def current_stream(self):
        return Stream("compute", self.log)

    @contextlib.contextmanager
    def on(self, stream):
        self.log.append(("enter", stream.name))
        self.current = stream.name
        yield
        self.current = None
        self.log.append(("exit", stream.name))

    def event(self):
        self.count += 1
        return FakeEvent(self.log, f"e{self.count}")


class Stream:
    def __init__(self, name: str, log: list):
        self.name, self.log = name, log

    def wait_event(self, event):
        self.log.append(("wait_event", self.name, event.name))


class Inputs(list):
    """A tensor stand-in that records record_stream."""

    log: list = []

    def record_stream(self, stream):
        self.log.append(("record_stream", stream.name))


def batches(n: int):
    return [Batch([f"s{k}"], [k], [k]) for k in range(n)]


def test_prefetch_prepares_on_the_side_stream_and_the_compute_stream_waits():
    log: list = []
    cuda = FakeCuda(log)
    Inputs.log = log

    def prepare(batch):
        log.append(("prepare", batch.ids[0], cuda.current))
        return Batch(batch.ids, Inputs(batch.inputs), batch.targets)

    out = list(prefetch_to_device(batches(2), prepare, "cuda", cuda))
    assert [b.ids for b in out] == [["s0"], ["s1"]] and [list(b.inputs) for b in out] == [[0], [1]]
    assert log == [("enter", "side"), ("prepare", "s0", "side"), ("record", "e1", "side"), ("exit", "side"),
                   ("wait_event", "compute", "e1"), ("record_stream", "compute"),
                   ("enter", "side"), ("prepare", "s1", "side"), ("record", "e2", "side"), ("exit", "side"),
                   ("wait_event", "compute", "e2"), ("record_stream", "compute")]


def test_prefetch_is_lazy_so_the_next_batch_is_prepared_after_this_one_is_queued():
    log: list = []
    cuda = FakeCuda(log)
    stream = prefetch_to_device(batches(3), lambda b: (log.append(("prepare", b.ids[0])), b)[1], "cuda", cuda)
    for batch in stream:
        log.append(("forward", batch.ids[0]))
    order = [entry for entry in log if entry[0] in ("prepare", "forward")]
    assert order == [("prepare", "s0"), ("forward", "s0"), ("prepare", "s1"), ("forward", "s1"),
                     ("prepare", "s2"), ("forward", "s2")]


def test_without_cuda_the_batches_pass_through_unchanged():
    data = batches(4)
    assert list(prefetch_to_device(iter(data), lambda b: 1 / 0, "cpu")) == data
    assert list(prefetch_to_device(iter(data), None, "cuda")) == data


class Ready:
    """A copy that has finished: waiting on it returns at once."""

    def synchronize(self):
        pass


def test_results_read_one_batch_late_give_the_record_of_a_plain_run(tmp_path, monkeypatch):
    """Every prediction deferred (as CUDA ones are), batches split after running out of memory, and cached:
    the same metrics, states and cache as the plain loop."""
    import evalkit.runner as runner
    from tests._dist_suite import assert_same_run
    from tests.test_oom import record_of, write_suite

    plain = record_of(tmp_path, write_suite(tmp_path, 8, max_batch=3), "plain")
    deferred: list = []

    class AllLater(OneBatchLater):
        def __init__(self, consume):
            super().__init__(consume, lambda p: (deferred.append(p), Staged(p, Ready()))[1])

    monkeypatch.setattr(runner, "OneBatchLater", AllLater)
    lagged = record_of(tmp_path, write_suite(tmp_path, 8, max_batch=3), "lagged")
    assert len(deferred) > 2
    assert_same_run(lagged, plain, tmp_path / "lagged")
