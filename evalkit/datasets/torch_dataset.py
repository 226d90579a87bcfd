"""Live torch data for the Python API: a map-style ``Dataset`` of (input, target) or a ``DataLoader``."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from evalkit.datasets.base import Batch, DatasetLoader


class TorchDatasetLoader(DatasetLoader):
    """Wraps a ``torch.utils.data.Dataset`` whose items are ``(input, target)``; ids are indices."""

    name = "torch-dataset"
    task = "imagenet"

    def __init__(self, dataset: Any, ids: Sequence[str] | None = None):
        super().__init__(None)
        self.dataset = dataset
        self._ids = [str(i) for i in ids] if ids is not None else [str(i) for i in range(len(dataset))]

    def sample_ids(self) -> list[str]:
        return self._ids

    def item(self, index: int, transform: Callable | None) -> tuple[Any, Any]:
        x, y = self.dataset[index]
        return (transform(x) if transform else x), y

    def collate(self, inputs: list[Any], targets: list[Any]) -> tuple[Any, Any]:
        from torch.utils.data import default_collate

        return default_collate(inputs), default_collate(targets)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "loader": f"torch-dataset:{type(self.dataset).__name__}"}


class DataLoaderLoader(DatasetLoader):
    """Wraps a ready ``DataLoader`` yielding ``(inputs, targets)`` batches; its own transforms apply."""

    name = "torch-dataloader"
    task = "imagenet"

    def __init__(self, loader: Any):
        super().__init__(None)
        self.loader = loader
        self._n = len(loader.dataset) if hasattr(loader, "dataset") else None

    def sample_ids(self) -> list[str]:
        if self._n is None:
            raise TypeError("the DataLoader's dataset has no length")
        return [str(i) for i in range(self._n)]

    def item(self, index: int, transform: Callable | None) -> tuple[Any, Any]:
        raise NotImplementedError("a DataLoader is consumed batch by batch")

    def batches(self, indices: Sequence[int], batch_size: int, transform: Callable | None = None,
                workers: int = 0, pin_memory: bool = False, prefetch_factor: int | None = None,
                persistent_workers: bool = False) -> Iterator[Batch]:
        """The user's DataLoader as it is: its own workers and pinning apply, evalkit's settings do not."""
        wanted = len(indices)
        seen = 0
        for inputs, targets in self.loader:
            if seen >= wanted:
                break
            take = min(len(targets), wanted - seen)
            ids = [str(i) for i in range(seen, seen + take)]
            seen += take
            yield Batch(ids, inputs[:take], targets[:take])

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "loader": "torch-dataloader"}
