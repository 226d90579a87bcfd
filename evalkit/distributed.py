"""torch.distributed plumbing: who this process is, and collectives that never hang on a failed rank.

Metric states travel as ``state_dict()`` objects over a gloo group (host memory, never GPU
memory, even when the model runs on NCCL). Every collective first exchanges an ok/error
status, so a rank that raises makes every rank raise that rank's error instead of waiting.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from evalkit.errors import EvalkitError

T = TypeVar("T")
TIMEOUT_ENV = "EVALKIT_DIST_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 1800.0


class RankFailedError(EvalkitError):
    """Another rank raised: carries its message and exit status so every rank fails the same way."""

    def __init__(self, status: dict[str, Any]):
        self.status = status
        self.exit_code = int(status.get("exit_code", 1))
        super().__init__(f"rank {status['rank']} failed: {status['type']}: {status['message']}")


@dataclass
class DistContext:
    """This process's place in the group, and the gloo group that carries Python objects."""

    rank: int
    world_size: int
    local_rank: int
    group: Any
    owns_process_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, device: str) -> str:
        """Plain ``cuda`` becomes this rank's own GPU, ``cuda:LOCAL_RANK``; explicit devices stay."""
        return f"cuda:{self.local_rank}" if device == "cuda" else device


_CONTEXT: DistContext | None = None


def timeout() -> dt.timedelta:
    """How long a collective waits for a silent rank (a crashed process) before failing."""
    return dt.timedelta(seconds=float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)))


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def context(device: str = "cpu") -> DistContext | None:
    """The current group: an initialised one, or one started from torchrun's environment; None when single.

    ``device`` picks the model's backend when this call starts the group: NCCL for CUDA, gloo otherwise.
    """
    global _CONTEXT
    try:
        import torch.distributed as dist
    except ImportError:
        return None
    if not dist.is_available():
        return None
    if _CONTEXT is not None and dist.is_initialized():
        return _CONTEXT
    owns = False
    if not dist.is_initialized():
        if not launched_by_torchrun():
            return None
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        backend = "gloo"
        if str(device).startswith("cuda"):
            import torch

            torch.cuda.set_device(local_rank)
            backend = "nccl"
        dist.init_process_group(backend=backend, timeout=timeout())
        owns = True
    if dist.get_world_size() < 2:
        return None
    group = dist.new_group(backend="gloo", timeout=timeout()) if dist.get_backend() != "gloo" else None
    _CONTEXT = DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")),
                           group, owns)
    return _CONTEXT


def shutdown() -> None:
    """Destroy the process group when evalkit started it (torchrun launch), so the process exits cleanly."""
    global _CONTEXT
    if _CONTEXT is not None and _CONTEXT.owns_process_group:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
    _CONTEXT = None


def is_main_process() -> bool:
    """True unless this is a non-zero rank of an initialised group: the one process that writes files."""
    try:
        import torch.distributed as dist
    except ImportError:
        return True
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _status(ctx: DistContext, error: BaseException | None) -> dict[str, Any] | None:
    if error is None:
        return None
    if isinstance(error, RankFailedError):
        return error.status
    return {"rank": ctx.rank, "type": type(error).__name__, "message": str(error),
            "exit_code": getattr(error, "exit_code", 1)}


def _raise_first_failure(ctx: DistContext, error: BaseException | None) -> None:
    """Exchange statuses; re-raise our own error, else the lowest failed rank's."""
    import torch.distributed as dist

    statuses: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(statuses, _status(ctx, error), group=ctx.group)
    if error is not None:
        raise error
    failed = [s for s in statuses if s is not None]
    if failed:
        raise RankFailedError(failed[0])


def gather_to_main(ctx: DistContext, local: Callable[[], T]) -> list[T] | None:
    """Run ``local()`` on every rank; rank 0 receives every rank's value in rank order, the others None.

    A rank whose ``local()`` raises re-raises its error; every other rank raises RankFailedError with it.
    """
    import torch.distributed as dist

    value: T | None = None
    error: BaseException | None = None
    try:
        value = local()
    except Exception as err:  # noqa: BLE001 - reported to every rank, then re-raised
        error = err
    _raise_first_failure(ctx, error)
    gathered: list[Any] | None = [None] * ctx.world_size if ctx.is_main else None
    dist.gather_object(value, gathered, dst=0, group=ctx.group)
    return gathered


def share_from_main(ctx: DistContext, make: Callable[[], T]) -> T:
    """Rank 0 computes ``make()``; every rank returns its result, or raises rank 0's error."""
    import torch.distributed as dist

    box: list[Any] = [None]
    error: BaseException | None = None
    if ctx.is_main:
        try:
            box[0] = ("ok", make())
        except Exception as err:  # noqa: BLE001 - sent to every rank, then re-raised
            error = err
            box[0] = ("error", _status(ctx, err))
    dist.broadcast_object_list(box, src=0, group=ctx.group)
    if error is not None:
        raise error
    kind, payload = box[0]
    if kind == "error":
        raise RankFailedError(payload)
    return payload

