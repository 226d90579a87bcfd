"""Dataset loaders: stable sample ids, batches, and a description for the run record."""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Sequence

from evalkit.errors import MissingResourceError
from evalkit.formats.text import open_text  # noqa: F401 - moved; still importable from here
from evalkit.types import Batch


class _Skipped:
    """Marker an item returns in place of a sample it was told to skip."""

    def __init__(self, sample_id: str, reason: str):
        self.sample_id, self.reason = sample_id, reason


def shard_range(n: int, rank: int, world_size: int) -> range:
    """Contiguous, disjoint shard ``rank`` of ``n`` samples; sizes differ by at most one, no padding."""
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return range(start, start + base + (1 if rank < extra else 0))


class DatasetLoader(ABC):
    """A data set as a list of samples with stable string ids.

    Subclasses implement ``sample_ids`` and ``item``; batching, ``limit``, sharding
    and DataLoader workers are handled here once for every task.
    """

    name: ClassVar[str]
    #: the task whose prediction/target format this loader produces
    task: ClassVar[str]
    #: the public benchmark these samples are, when the files show it (``imagenet``, ``wmt14-en-de``): reports
    #: draw a run on a benchmark's history only when its data is that benchmark's. None: the files do not say
    benchmark: str | None = None

    def __init__(self, root: str | Path | None = None, **options: Any):
        self.root = Path(root).expanduser() if root is not None else None
        self.options = options

    @abstractmethod
    def sample_ids(self) -> list[str]:
        """Stable ids of every sample, in evaluation order."""

    @abstractmethod
    def item(self, index: int, transform: Callable | None) -> tuple[Any, Any]:
        """``(input, target)`` of sample ``index``; may return a ``_Skipped``."""

    def collate(self, inputs: list[Any], targets: list[Any]) -> tuple[Any, Any]:
        """Stack a batch; the default keeps Python lists."""
        return inputs, targets

    def __len__(self) -> int:
        return len(self.sample_ids())

    def require_root(self, what: str) -> Path:
        """The root folder, or an error naming where it was looked for."""
        if self.root is None:
            raise MissingResourceError(f"the {self.name} dataset needs a 'root' ({what})")
        if not self.root.exists():
            raise MissingResourceError(
                f"{self.name} data not found: {self.root.resolve()} does not exist ({what}); "
                "set dataset.root in the suite or pass --data-root"
            )
        return self.root

    def fingerprint(self) -> str:
        """sha256 of the sample id list: two runs with equal fingerprints saw the same samples."""
        digest = hashlib.sha256()
        for sample_id in self.sample_ids():
            digest.update(sample_id.encode("utf-8", "surrogateescape") + b"\n")
        return digest.hexdigest()

    def dataset_meta(self) -> dict[str, Any]:
        """What metrics need to know of the whole data set (mmengine's ``dataset_meta``): ground truth, sections."""
        return {}

    def describe(self) -> dict[str, Any]:
        return {
            "loader": self.name,
            "benchmark": self.benchmark,
            "root": str(self.root.resolve()) if self.root is not None else None,
            "num_samples": len(self),
            "fingerprint": self.fingerprint(),
            "options": {k: v for k, v in self.options.items() if _jsonable(v)},
        }

    def select(self, limit: int | None = None, shard: tuple[int, int] | None = None) -> list[int]:
        """Indices evaluated: the first ``limit`` samples, then this process's contiguous shard."""
        indices = list(range(len(self)))
        if limit is not None:
            indices = indices[:limit]
        if shard is not None:
            rank, world = shard
            indices = [indices[i] for i in shard_range(len(indices), rank, world)]
        return indices

    def batches(
        self,
        indices: Sequence[int],
        batch_size: int,
        transform: Callable | None = None,
        workers: int = 0,
        pin_memory: bool = False,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> Iterator[Batch]:
        """Batches over ``indices`` in order; with ``workers`` > 0 through a torch DataLoader.

        With ``persistent_workers`` the DataLoader and its workers are kept on this loader and
        reused by the next call that asks for the same batches with the same preprocessing (the
        next model of a suite); :meth:`release_workers` stops them.
        """
        ids = self.sample_ids()
        chunks = [list(indices[i : i + batch_size]) for i in range(0, len(indices), batch_size)]
        make = _BatchMaker(self, ids, transform)
        if workers > 0:
            import torch.utils.data

            options = dict(num_workers=workers, pin_memory=pin_memory, prefetch_factor=prefetch_factor or 2)
            key = _reuse_key(indices, batch_size, transform, options) if persistent_workers else None
            loader = self._persistent_loaders.get(key) if key is not None else None
            if loader is None:
                loader = torch.utils.data.DataLoader(chunks, batch_size=None, shuffle=False, collate_fn=make,
                                                     persistent_workers=key is not None, **options)
                if key is not None:
                    self._persistent_loaders[key] = loader
            yield from loader
        else:
            for chunk in chunks:
                batch = make(chunk)
                if pin_memory and hasattr(batch.inputs, "pin_memory"):
                    batch.inputs = batch.inputs.pin_memory()
                yield batch


    @property
    def _persistent_loaders(self) -> dict[Any, Any]:
        if "_loaders" not in self.__dict__:
            self.__dict__["_loaders"] = {}
        return self.__dict__["_loaders"]

    def release_workers(self) -> None:
        """Stop the workers that ``persistent_workers`` kept alive."""
        self.__dict__.pop("_loaders", None)

    def __getstate__(self) -> dict[str, Any]:
        """Workers receive the loader without the kept DataLoaders (those hold processes)."""
        state = dict(self.__dict__)
        state.pop("_loaders", None)
        return state


def _reuse_key(indices: Sequence[int], batch_size: int, transform: Callable | None,
               options: dict[str, Any]) -> tuple[Any, ...] | None:
    """What makes two calls' batches equal, or None when the preprocessing cannot be compared.

    Preprocessing compares by ``repr``, which names every step and setting for torchvision and timm
    transforms; a repr that shows an object address says nothing, so such a transform is not reused.
    """
    described = repr(transform)
    if " at 0x" in described:
        return None
    return tuple(indices), batch_size, described, tuple(sorted(options.items()))


class _BatchMaker:
    """Turns a list of indices into a Batch (picklable, so DataLoader workers can run it)."""

    def __init__(self, loader: DatasetLoader, ids: list[str], transform: Callable | None):
        self.loader, self.ids, self.transform = loader, ids, transform

    def __call__(self, chunk: list[int]) -> Batch:
        inputs, targets, kept, skipped = [], [], [], []
        for index in chunk:
            out = self.loader.item(index, self.transform)
            if isinstance(out, _Skipped):
                skipped.append(out.sample_id)
                continue
            inputs.append(out[0])
            targets.append(out[1])
            kept.append(self.ids[index])
        if kept:
            inputs, targets = self.loader.collate(inputs, targets)
        return Batch(kept, inputs, targets, skipped)


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))
