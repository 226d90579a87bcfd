"""A third-party plugin: numbers in a text file, a model that halves them, and their mean absolute error."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from evalkit.datasets.base import DatasetLoader
from evalkit.metrics import Column, Metric
from evalkit.models.base import ModelAdapter
from evalkit.tasks.base import Task
from evalkit.types import Batch

TASK = Task("plugin-numbers", default_loader="plugin-numbers", default_metrics=("plugin-mae",),
            description="a number per line; predict it")


class NumbersFile(DatasetLoader):
    """``root``: a text file with one number per line; each line is a sample with itself as the target."""

    name = "plugin-numbers"
    task = "plugin-numbers"

    def __init__(self, root: str, **options: Any):
        super().__init__(root, **options)
        self.values = [float(line) for line in self.require_root("a text file").read_text().split()]

    def sample_ids(self) -> list[str]:
        return [f"line-{i + 1}" for i in range(len(self.values))]

    def item(self, index: int, transform: Callable | None) -> tuple[Any, Any]:
        return self.values[index], self.values[index]


class Halver(ModelAdapter):
    """Predicts half of each input, so the error is half the target. ``max_batch`` makes a larger batch run out
    of memory (as a GPU would), to test evalkit's split-and-retry."""

    name = "plugin-halver"
    tasks = ("plugin-numbers",)

    def predict(self, batch: Batch) -> Any:
        if len(batch) > self.options.get("max_batch", len(batch)):
            raise MemoryError(f"out of memory: a batch of {len(batch)} (injected)")
        return [x / 2 for x in batch.inputs]


class MeanAbsoluteError(Metric):
    """Mean absolute error of numeric predictions, times ``scale`` (the README's "adding a metric" example)."""

    name = "plugin-mae"
    state = {"abs_error": Column("float64")}
    keys = ("MAE",)
    higher_is_better = False
    defaults = {"scale": 1.0}

    def update(self, predictions: Any, targets: Any, ids: Any = None) -> None:
        self.add(ids, abs_error=np.abs(np.asarray(predictions, float) - np.asarray(targets, float)))

    def score(self) -> dict[str, float]:
        errors = self.column("abs_error")
        return {"MAE": float(errors.mean()) * self.options["scale"] if len(errors) else float("nan")}
