"""The ``predictions`` adapter: a file of a system's outputs stands in for the model.

Each task registers how its prediction files are read with ``@prediction_format(task)``;
the reader returns ``{sample id: prediction}``. Sample ids are the dataset loader's ids.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.predictions import PREDICTION_FORMATS, PredictionFormat, prediction_format
from evalkit.models.base import ModelAdapter, sha256_file
from evalkit.registry import MODELS
from evalkit.types import Batch

if TYPE_CHECKING:
    from evalkit.datasets.base import DatasetLoader

__all__ = ["PREDICTION_FORMATS", "PredictionFormat", "PredictionsFile", "prediction_format"]


def _load_registered_formats() -> None:
    """Formats register where their task's loader or adapter lives: import those modules."""
    from evalkit.registry import DATASETS

    DATASETS.names()
    MODELS.names()


@MODELS.register("predictions")
class PredictionsFile(ModelAdapter):
    """Outputs read from ``path`` (format chosen by the suite's task)."""

    name = "predictions"
    runs_model = False

    def __init__(self, path: str, task: str | None = None, **options: Any):
        super().__init__(path=path, task=task, **options)
        self.path = Path(path).expanduser()
        self.task = task
        self._predictions: dict[str, Any] | None = None


    def bind(self, dataset: "DatasetLoader", task: str) -> None:
        """Read the file and check its ids against the dataset's, before any batch runs."""
        self.task = self.task or task
        _load_registered_formats()
        fmt = PREDICTION_FORMATS.get(self.task)
        if fmt is None:
            raise InputError(f"no prediction-file format for task {self.task!r} "
                             f"(known: {', '.join(sorted(PREDICTION_FORMATS))})", file=self.path)
        if not self.path.is_file():
            raise MissingResourceError(f"predictions file not found: {self.path.resolve()}")
        self._format = fmt
        self._predictions = fmt.read(self.path)
        if fmt.strict_ids:
            known = set(dataset.sample_ids())
            unknown = [k for k in self._predictions if k not in known]
            if unknown:
                raise InputError(f"{len(unknown)} predictions for ids the dataset does not have, "
                                 f"first {unknown[0]!r}", file=self.path, record=unknown[0])

    def predict(self, batch: Batch) -> list[Any]:
        if self._predictions is None:
            raise RuntimeError("PredictionsFile.bind() must run before predict()")
        out = []
        for sample_id in batch.ids:
            if sample_id in self._predictions:
                out.append(self._predictions[sample_id])
            elif self._format.missing is not None:
                out.append(self._format.missing())
            else:
                raise InputError(f"no prediction for sample {sample_id!r}", file=self.path, record=sample_id)
        return out

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["weights_file"] = str(self.path.resolve())
        info["weights_sha256"] = sha256_file(self.path) if self.path.is_file() else None
        return info
