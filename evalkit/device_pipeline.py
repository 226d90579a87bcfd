"""Keeping a GPU's queue full in the batch loop: no host synchronisation per batch.

Two pieces, both no-ops on the CPU (the loop then runs exactly as a plain sequential one):

- ``OneBatchLater`` hands a batch's predictions to the metrics one batch late. A CUDA tensor is copied to
  pinned host memory with ``non_blocking=True`` right after its forward pass is queued, and read only
  after the *next* batch's forward pass is queued, so the host never waits with an empty GPU queue.
- ``prefetch_to_device`` prepares each batch (nvjpeg/DALI decode and resize, or the host-to-device copy)
  on a side CUDA stream; the compute stream waits on an event, so batch k+1's preprocessing overlaps
  batch k's forward pass.

``cuda`` arguments take fakes in the tests, which check the calls without a GPU.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from evalkit.types import Batch


@dataclass
class Staged:
    """Predictions on their way to the host: ``ready`` is None when they are there already."""

    value: Any
    ready: Any = None


def stage_on_host(predictions: Any) -> Staged:
    """Queue the copy of a CUDA tensor to pinned host memory (no wait); anything else is already usable."""
    if not (type(predictions).__module__.startswith("torch") and getattr(predictions, "is_cuda", False)):
        return Staged(predictions)
    import torch

    host = torch.empty(predictions.shape, dtype=predictions.dtype, pin_memory=True)
    host.copy_(predictions, non_blocking=True)
    event = torch.cuda.Event()
    event.record()
    return Staged(host, event)


class OneBatchLater:
    """Calls ``consume(item, predictions)`` for every pushed item, in push order, with host-side predictions.

    An item whose predictions needed a device copy is consumed when the next item is pushed (or at
    ``flush``); the others at once, after any pending one.
    """

    def __init__(self, consume: Callable[[Any, Any], None], stage: Callable[[Any], Staged] = stage_on_host):
        self.consume, self.stage = consume, stage
        self._pending: tuple[Any, Staged] | None = None

    def push(self, item: Any, predictions: Any) -> None:
        staged = self.stage(predictions)
        self.flush()
        if staged.ready is None:
            self.consume(item, staged.value)
        else:
            self._pending = (item, staged)

    def flush(self) -> None:
        """Consume the pending item, waiting for its copy (the end of the loop)."""
        if self._pending is None:
            return
        item, staged = self._pending
        self._pending = None
        staged.ready.synchronize()
        self.consume(item, staged.value)


class TorchCuda:
    """The CUDA stream and event calls ``prefetch_to_device`` makes (a test passes a recording fake)."""

    def __init__(self, device: str):
        import torch

        self.torch, self.device = torch, device

    def side_stream(self) -> Any:
        return self.torch.cuda.Stream(self.device)

    def current_stream(self) -> Any:
        return self.torch.cuda.current_stream(self.device)

    def on(self, stream: Any) -> Any:
        return self.torch.cuda.stream(stream)

    def event(self) -> Any:
        return self.torch.cuda.Event()


def prefetch_to_device(batches: Iterable[Batch], prepare: Callable[[Batch], Batch] | None, device: str,
                       cuda: Any = None) -> Iterator[Batch]:
    """``batches`` with ``prepare`` applied on a side stream, the compute stream made to wait for each.

    Without CUDA (or without ``prepare``) the batches pass through unchanged: the adapter then
    preprocesses inside ``predict``, as before.
    """
    if prepare is None or (cuda is None and not str(device).startswith("cuda")):
        yield from batches
        return
    cuda = cuda or TorchCuda(device)
    side, compute = cuda.side_stream(), cuda.current_stream()
    for batch in batches:
        with cuda.on(side):
            ready = prepare(batch)
            done = cuda.event()
            done.record(side)
        compute.wait_event(done)
        if hasattr(ready.inputs, "record_stream"):  # made on the side stream, used (and freed) on the compute stream
            ready.inputs.record_stream(compute)
        yield ready
