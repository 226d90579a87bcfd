"""The one interface every metric shares: declare state, keys and options; write ``update`` and ``score``.

State is kept per sample (sacrebleu-style sufficient statistics, declared as in :mod:`.state`),
so merging shards is concatenation, bootstrap intervals and paired tests re-score resamples, and
the state round-trips through JSON. The base class derives all of that plumbing, the options'
validation and the :class:`Signature`; a metric writes only what is its own.
"""
from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics import resampling
from evalkit.metrics.state import STATE_FORMAT, Column, MetricState, StateSpec


@dataclass(frozen=True)
class Signature:
    """What a number means (sacrebleu's idea, for every metric): two numbers compare only if these are equal."""

    metric: str
    options: tuple[tuple[str, Any], ...]
    evalkit: str
    reference: str

    def __str__(self) -> str:
        parts = [self.metric, *(f"{k}:{_short(v)}" for k, v in self.options), f"ref:{self.reference}",
                 f"evalkit:{self.evalkit}"]
        return "|".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "options": dict(self.options), "reference": self.reference,
                "evalkit": self.evalkit, "text": str(self)}


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def reference_version(distribution: str | None) -> str:
    """``name==version`` of the installed reference package (evalkit does not need it installed)."""
    if not distribution:
        return "none"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{distribution}=={version(distribution)}"
    except PackageNotFoundError:
        return f"{distribution} (not installed)"


class Metric(ABC):
    """A metric accumulated over batches; ``compute()`` gives the reference tool's numbers.

    Subclasses declare ``state`` (see :mod:`evalkit.metrics.state`), ``keys`` (every scalar
    ``score`` may return), ``main_key`` (unless there is only one key), ``higher_is_better``,
    ``defaults`` (every option, each of which can change the number) and ``reference``; they write
    :meth:`update` (adding samples with :meth:`add`) and :meth:`score`. Reset, merge, the state round trip, sample counts, bootstrap
    intervals, paired tests and the signature come from here.
    """

    name: ClassVar[str]
    state: ClassVar[StateSpec] = {}
    #: every scalar key ``score`` can return, in display order
    keys: ClassVar[tuple[str, ...]]
    #: the key that ranks systems (default: the only key, when there is one)
    main_key: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    #: put before every key in run records, where metrics of one run share key names (``coco-bbox.AP``)
    key_prefix: ClassVar[str] = ""
    #: every option with its default; all of them enter the signature
    defaults: ClassVar[Mapping[str, Any]] = {}
    #: options that cannot change a number (engines, caches): accepted, kept out of the signature
    neutral_options: ClassVar[Mapping[str, Any]] = {}
    #: dataset metadata this metric needs from its loader (see :meth:`bind`)
    requires_meta: ClassVar[tuple[str, ...]] = ()
    #: the distribution whose numbers this metric reproduces (its version goes into the signature)
    reference: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        keys = cls.__dict__.get("keys")
        if keys is not None and len(keys) == 1 and "main_key" not in cls.__dict__:
            cls.main_key = keys[0]  # a metric of one number ranks by it

    def __init__(self, **options: Any):
        self.options = self.check_options(options)
        self.dataset_meta: dict[str, Any] = {}
        self.reset()

    # --- options and signature -----------------------------------------------------------------------------
    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """The options with defaults filled in; an unknown option is an error with a did-you-mean."""
        known = {**cls.defaults, **cls.neutral_options}
        for key in options:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InputError(f"metric {cls.name!r} has no option {key!r}{hint} (options: "
                                 f"{', '.join(sorted(known)) or 'none'})", field=key)
        return {**known, **options}

    def signature_options(self) -> dict[str, Any]:
        """The options that can change the number, as the signature states them."""
        return {k: self.options[k] for k in sorted(self.options) if k not in self.neutral_options}

    def signature(self) -> Signature:
        from evalkit import __version__

        return Signature(self.name, tuple(self.signature_options().items()), __version__,
                         reference_version(self.reference))

    @classmethod
    def record_key(cls, key: str) -> str:
        """The name of ``key`` in run records: the same in every suite, whatever the other metrics."""
        return cls.key_prefix + key

    # --- dataset metadata ----------------------------------------------------------------------------------
    def bind(self, dataset_meta: Mapping[str, Any] | Any) -> None:
        """Receive the loader's ``dataset_meta`` (mmengine's idea) before the first update.

        Takes the mapping, or a dataset loader whose ``dataset_meta()`` gives it.
        """
        if not isinstance(dataset_meta, Mapping):
            dataset_meta = dataset_meta.dataset_meta()
        missing = [k for k in self.requires_meta if dataset_meta.get(k) is None]
        if missing:
            raise InputError(f"metric {self.name!r} needs dataset metadata {', '.join(map(repr, missing))}, "
                             "which this data set does not provide", field="metrics")
        self.dataset_meta = dict(dataset_meta)

    # --- state plumbing ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every sample (options and metadata stay)."""
        self._state = MetricState(self.state)
        self.reset_caches()

    def reset_caches(self) -> None:
        """Drop what the metric derived from its state (called whenever the state is replaced)."""

    def add(self, ids: Sequence[Any] | None, **columns: Any) -> None:
        """Append samples: one value per sample for every declared column."""
        n = len(next(iter(columns.values()))) if columns else 0
        ids = self.default_ids(n) if ids is None else list(ids)
        self._state.append(ids, columns)

    def default_ids(self, n: int) -> list[str]:
        """Ids for samples given without any: their positions in the state."""
        return [str(i) for i in range(self.num_samples(), self.num_samples() + n)]

    def column(self, name: str) -> Any:
        return self._state.column(name)

    def merge(self, other: "Metric") -> None:
        """Append the samples of ``other`` (another shard or process) to this state, exactly."""
        if type(other) is not type(self) or other.signature_options() != self.signature_options():
            raise TypeError(f"cannot merge {type(other).__name__}{other.signature_options()} into "
                            f"{type(self).__name__}{self.signature_options()}")
        try:
            self._state.merge(other._state)
        except ValueError as err:
            raise InputError(f"cannot merge {self.name} states: {err}") from None

    def num_samples(self) -> int:
        """How many resampling units (samples, images, questions) the state holds."""
        return len(self._state)

    def sample_ids(self) -> list[str]:
        """Stable ids of the samples in state order (used to align paired tests)."""
        return list(self._state.ids)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state with the options (no pickle), for shard files, caches and reports."""
        return {"format": STATE_FORMAT, "metric": self.name, "options": self.signature_options(),
                "state": self._state.to_json()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Replace the state by a saved one, which must have been written with this metric's options."""
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            raise InputError(f"not a {STATE_FORMAT} metric state (written by an older evalkit?)", field="format")
        if state.get("metric") != self.name:
            raise InputError(f"state of metric {state.get('metric')!r}, not {self.name!r}", field="metric")
        if state.get("options") != _jsonable(self.signature_options()):
            raise InputError(f"state was written with options {state.get('options')}, not "
                             f"{self.signature_options()}", field="options")
        self._state = MetricState.from_json(self.state, state.get("state") or {})
        self.reset_caches()

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any], **neutral: Any) -> "Metric":
        """A metric rebuilt with the options its saved state was written with."""
        options = state.get("options") if isinstance(state, Mapping) else None
        if not isinstance(options, Mapping):
            raise InputError("metric state has no options", field="options")
        metric = cls(**options, **neutral)
        metric.load_state_dict(state)
        return metric

    def resampled(self, indices: np.ndarray) -> "Metric":
        """A metric of the same options and metadata holding the multiset ``indices`` of this state."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._state = self._state.take(indices)
        clone.reset_caches()
        return clone

    # --- scores --------------------------------------------------------------------------------------------
    @abstractmethod
    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        """Add a batch of samples."""

    @abstractmethod
    def score(self) -> dict[str, float]:
        """The scalars on every sample of the state (a subset of ``keys``)."""

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        """The scalars on the samples ``indices`` (all when None); metrics may override with a faster path."""
        if indices is None:
            return self.score()
        return self.resampled(indices).score()

    def extras(self) -> dict[str, Any]:
        """Non-scalar outputs for the record (per-category AP, a breakdown...)."""
        return {}

    def per_sample(self) -> dict[str, Any]:
        """Columns of per-sample outputs, saved to Parquet beside the run record."""
        columns: dict[str, Any] = {"sample_id": self.sample_ids()}
        for name, spec in self.state.items():
            if isinstance(spec, Column):
                values = self.column(name)
                if spec.dtype is None or np.ndim(values) == 1:
                    columns[name] = values
        return columns

    def compute(self, ci: bool = False, n_resamples: int = 1000, seed: int = 12345,
                confidence: float = 0.95) -> dict[str, Any]:
        """Scalars of :meth:`aggregate`, extras, and with ``ci`` a bootstrap interval per scalar."""
        scalars, extras, intervals = self.compute_parts(ci, n_resamples, seed, confidence)
        result: dict[str, Any] = {**scalars, **extras}
        if ci:
            result["ci"] = intervals
        return result

    def compute_parts(self, ci: bool = False, n_resamples: int = 1000, seed: int = 12345, confidence: float = 0.95
                      ) -> tuple[dict[str, float], dict[str, Any], dict[str, list[float]]]:
        """``compute()`` kept apart: the scalars, the extras, and the intervals (empty unless ``ci``)."""
        intervals = resampling.bootstrap_ci(
            self.aggregate, self.num_samples(), n_resamples=n_resamples, seed=seed, confidence=confidence
        ) if ci else {}
        return dict(self.aggregate(None)), self.extras(), intervals

    def paired_test(self, other: "Metric", key: str | None = None, n_resamples: int = 1000,
                    seed: int = 12345) -> dict[str, Any]:
        """Paired bootstrap of ``other - self`` on the same samples (sacrebleu's ``--paired-bs``)."""
        if self.signature() != other.signature():
            raise TypeError(f"a paired test needs equal signatures: {self.signature()} vs {other.signature()}")
        if self.sample_ids() != other.sample_ids():
            raise ValueError("a paired test needs both systems scored on the same samples in the same order")
        return resampling.paired_bootstrap(
            self.aggregate, other.aggregate, self.num_samples(), key or self.main_key,
            n_resamples=n_resamples, seed=seed,
        )


def _jsonable(options: Mapping[str, Any]) -> Any:
    """Options as they read back from JSON (tuples become lists)."""
    import json

    return json.loads(json.dumps(dict(options), default=str))


class SampleMeanMetric(Metric):
    """A metric whose scalars are means (times a scale) of numeric per-sample columns."""

    #: column averaged → (output key, scale)
    mean_columns: ClassVar[dict[str, tuple[str, float]]] = {}

    def score(self) -> dict[str, float]:
        return self.aggregate(None)

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        out = {}
        for column, (key, scale) in self.mean_columns.items():
            values = self.column(column)
            if indices is not None:
                values = values[indices]
            # count × scale / n, as timm's accuracy(): exact for boolean columns
            out[key] = float(values.sum() * scale / len(values)) if len(values) else float("nan")
        return out
