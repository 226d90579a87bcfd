"""Batches that survive running out of memory: split and retry, never losing or repeating a sample.

``predict_fitting`` halves a batch whose forward pass runs out of memory until the pieces fit;
``find_batch_size`` is ``batch_size: auto``: the largest batch (up to a cap) whose forward pass fits.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from evalkit.errors import EvalkitError
from evalkit.types import Batch

#: ``batch_size: auto`` starts here and halves until a batch fits (timm's validate.py default is 256)
AUTO_BATCH_SIZE_CAP = 256


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA's OutOfMemoryError, an allocator's "out of memory" RuntimeError, or Python's MemoryError."""
    if isinstance(error, MemoryError):
        return True
    try:
        import torch
    except ImportError:
        return False
    if isinstance(error, torch.OutOfMemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def release_memory() -> None:
    """Give the failed attempt's cached blocks back before the smaller retry."""
    try:
        import torch
    except ImportError:
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def split(batch: Batch, at: int) -> tuple[Batch, Batch]:
    """``batch`` as its first ``at`` samples and the rest (skipped ids stay with the first piece)."""
    try:
        first_inputs, rest_inputs = batch.inputs[:at], batch.inputs[at:]
    except TypeError:
        raise EvalkitError(f"out of memory on a batch of {len(batch)}, and its inputs "
                           f"({type(batch.inputs).__name__}) cannot be split: lower runtime.batch_size") from None
    targets = batch.targets
    return (dataclasses.replace(batch, ids=batch.ids[:at], inputs=first_inputs, targets=targets[:at]),
            dataclasses.replace(batch, ids=batch.ids[at:], inputs=rest_inputs, targets=targets[at:], skipped=[]))


def predict_fitting(predict: Callable[[Batch], Any], batch: Batch) -> list[tuple[Batch, Any]]:
    """``[(piece, predictions)]`` covering ``batch`` in order: the batch itself, or halves of it after an OOM."""
    try:
        return [(batch, predict(batch))]
    except Exception as error:  # noqa: BLE001 - only out-of-memory errors are retried, the rest re-raised
        if not is_out_of_memory(error):
            raise
        if len(batch) <= 1:
            raise EvalkitError(f"one sample ({batch.ids[0] if batch.ids else '?'}) does not fit in memory: "
                               f"{type(error).__name__}: {error}") from error
    release_memory()
    first, rest = split(batch, len(batch) // 2)
    return predict_fitting(predict, first) + predict_fitting(predict, rest)


def find_batch_size(predict: Callable[[Batch], Any], make_batch: Callable[[int], Batch], available: int,
                    cap: int = AUTO_BATCH_SIZE_CAP) -> int:
    """The largest batch size up to ``cap`` (and the samples available) whose forward pass fits, halving on OOM."""
    size = max(1, min(cap, available))
    while True:
        try:
            predict(make_batch(size))
            return size
        except Exception as error:  # noqa: BLE001
            if not is_out_of_memory(error):
                raise
            if size == 1:
                raise EvalkitError(f"batch_size auto: one sample does not fit in memory ({error})") from error
            release_memory()
            size //= 2
