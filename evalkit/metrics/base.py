"""The one interface every metric shares: reset / update / merge / compute.

State is kept per sample (sacrebleu-style sufficient statistics) so that merging shards
is concatenation, and bootstrap intervals and paired tests only re-aggregate subsets.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Sequence

import numpy as np

from evalkit.metrics import resampling


class Metric(ABC):
    """A metric accumulated over batches; ``compute()`` gives the reference tool's numbers.

    Subclasses keep their state per sample and implement :meth:`aggregate`, the score
    of any multiset of samples given as indices. Everything else (CIs, paired tests,
    merges of shards) is built on that.
    """

    name: ClassVar[str]
    #: the key of ``compute()`` that ranks systems
    main_key: ClassVar[str]
    higher_is_better: ClassVar[bool] = True

    def __init__(self, **options: Any):
        self.options = options
        self.reset()

    def bind(self, dataset: Any) -> None:
        """Attach data-set-level ground truth (a COCO annotation file...) before the first update."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every sample."""

    @abstractmethod
    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        """Add a batch of samples."""

    @abstractmethod
    def merge(self, other: "Metric") -> None:
        """Append the samples of ``other`` (another shard or process) to this state, exactly."""

    @abstractmethod
    def num_samples(self) -> int:
        """How many resampling units (samples, images, questions) the state holds."""

    @abstractmethod
    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        """The metric's scalar values on the samples ``indices`` (all samples when None)."""

    def extras(self) -> dict[str, Any]:
        """Non-scalar outputs for the record (per-category AP, a signature...)."""
        return {}

    def per_sample(self) -> dict[str, Any]:
        """Columns of per-sample outputs, saved to Parquet beside the run record."""
        return {}

    def sample_ids(self) -> list[Any]:
        """Stable ids of the samples in state order (used to align paired tests)."""
        return list(range(self.num_samples()))

    def compute(
        self,
        ci: bool = False,
        n_resamples: int = 1000,
        seed: int = 12345,
        confidence: float = 0.95,
    ) -> dict[str, Any]:
        """Scalars of :meth:`aggregate`, extras, and with ``ci`` a bootstrap interval per scalar."""
        scalars, extras, intervals = self.compute_parts(ci, n_resamples, seed, confidence)
        result: dict[str, Any] = {**scalars, **extras}
        if ci:
            result["ci"] = intervals
        return result

    def compute_parts(
        self, ci: bool = False, n_resamples: int = 1000, seed: int = 12345, confidence: float = 0.95
    ) -> tuple[dict[str, float], dict[str, Any], dict[str, list[float]]]:
        """``compute()`` kept apart: the scalars, the extras, and the intervals (empty unless ``ci``)."""
        intervals = resampling.bootstrap_ci(
            self.aggregate, self.num_samples(), n_resamples=n_resamples, seed=seed, confidence=confidence
        ) if ci else {}
        return dict(self.aggregate(None)), self.extras(), intervals

    def paired_test(
        self, other: "Metric", key: str | None = None, n_resamples: int = 1000, seed: int = 12345
    ) -> dict[str, Any]:
        """Paired bootstrap of ``other - self`` on the same samples (sacrebleu's ``--paired-bs``)."""
        if self.sample_ids() != other.sample_ids():
            raise ValueError("a paired test needs both systems scored on the same samples in the same order")
        return resampling.paired_bootstrap(
            self.aggregate, other.aggregate, self.num_samples(), key or self.main_key,
            n_resamples=n_resamples, seed=seed,
        )

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (no pickle), for shard files and caches."""
        raise NotImplementedError(f"{type(self).__name__} has no serialisable state yet")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no serialisable state yet")


class SampleMeanMetric(Metric):
    """A metric whose scalars are means (times a scale) of per-sample columns.

    Subclasses fill ``self._columns`` (name → list of per-sample arrays) in ``update``.
    """

    #: columns averaged by aggregate, with the output key and its scale
    mean_columns: ClassVar[dict[str, tuple[str, float]]] = {}

    def reset(self) -> None:
        self._ids: list[Any] = []
        self._chunks: dict[str, list[np.ndarray]] = {}

    def _append(self, ids: Sequence[Any], **columns: np.ndarray) -> None:
        n = len(ids)
        for name, values in columns.items():
            values = np.asarray(values)
            if len(values) != n:
                raise ValueError(f"column {name!r} has {len(values)} values for {n} samples")
            self._chunks.setdefault(name, []).append(values)
        self._ids.extend(ids)

    def column(self, name: str) -> np.ndarray:
        chunks = self._chunks.get(name, [])
        if len(chunks) > 1:  # compact once, so repeated aggregates stay cheap
            self._chunks[name] = chunks = [np.concatenate(chunks)]
        return chunks[0] if chunks else np.empty(0)

    def merge(self, other: Metric) -> None:
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        assert isinstance(other, SampleMeanMetric)
        for name in other._chunks:
            self._chunks.setdefault(name, []).append(other.column(name))
        self._ids.extend(other._ids)

    def num_samples(self) -> int:
        return len(self._ids)

    def sample_ids(self) -> list[Any]:
        return list(self._ids)

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        out = {}
        for column, (key, scale) in self.mean_columns.items():
            values = self.column(column)
            if indices is not None:
                values = values[indices]
            # count × scale / n, as timm's accuracy(): exact for boolean columns
            out[key] = float(values.sum() * scale / len(values)) if len(values) else float("nan")
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"ids": list(self._ids), "columns": {n: self.column(n).tolist() for n in self._chunks}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.reset()
        self._ids = list(state["ids"])
        self._chunks = {n: [np.asarray(v)] for n, v in state["columns"].items()}
