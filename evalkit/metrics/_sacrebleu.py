"""Shared machinery of the sacrebleu metrics (BLEU, chrF, TER): sacrebleu computes, evalkit keeps the stats.

Each segment's sufficient statistics come from sacrebleu's own methods (``_preprocess_segment``,
``_extract_reference_info``, ``_compute_segment_statistics``: the loop of its ``_extract_corpus_statistics``)
and scores from its ``_compute_score_from_stats``, so nothing of the metrics is re-implemented.
Reference n-grams are cached across metric objects with the same options, as sacrebleu caches them
across systems. Keeping the per-segment rows makes merges concatenation and resampling a re-summation.
"""
from __future__ import annotations

import json
import math
from collections import OrderedDict
from functools import lru_cache
from typing import Any, ClassVar, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.metrics.resampling import resample_indices
from evalkit.metrics.state import Column


#: reference segments whose extracted n-grams stay cached, per (metric class, options)
REFERENCE_CACHE_SIZE = 50_000
#: sacrebleu options that change a score but are not in sacrebleu's own signature
UNSIGNED_OPTIONS = ("max_ngram_order", "smooth_value")
_SHARED: dict[str, tuple[Any, OrderedDict]] = {}


def _shared_reference(class_name: str, options: dict[str, Any]) -> tuple[Any, OrderedDict]:
    """One sacrebleu metric object and one reference cache per (class, options)."""
    key = class_name + json.dumps(options, sort_keys=True, default=repr)
    if key not in _SHARED:
        import sacrebleu.metrics

        _SHARED[key] = (getattr(sacrebleu.metrics, class_name)(**options), OrderedDict())
    return _SHARED[key]


def clear_reference_cache() -> None:
    """Forget cached reference n-grams (benchmarks start cold; long-lived processes free memory)."""
    _SHARED.clear()


@lru_cache(maxsize=2)
def _resample_counts(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """How often each segment is drawn in each resample (rows of sacrebleu's index matrix as counts)."""
    idxs = resample_indices(n, n_resamples, seed)
    flat = (idxs + np.arange(n_resamples)[:, None] * n).ravel()
    counts = np.bincount(flat, minlength=n_resamples * n).reshape(n_resamples, n).astype(np.float64)
    counts.flags.writeable = False
    return counts


def sacrebleu_ci(scores: np.ndarray) -> tuple[float, float]:
    """sacrebleu's ``estimate_ci``: the mean of the resampled scores and half the 95% order-statistic range."""
    ordered = np.sort(scores)
    lower = len(ordered) // 40
    return float(ordered.mean()), float(0.5 * (ordered[len(ordered) - lower - 1] - ordered[lower]))


def sample_references(targets: Sequence[Any], ids: Sequence[Any]) -> list[list[str]]:
    """Each sample's references as a list (a bare string is one reference)."""
    refs = []
    for sample_id, target in zip(ids, targets):
        sample_refs = [target] if isinstance(target, str) else [r for r in target if r is not None]
        if not sample_refs or not all(isinstance(r, str) for r in sample_refs):
            raise InputError("each sample needs one or more reference strings", record=sample_id, field="references")
        refs.append(sample_refs)
    return refs


class SacrebleuMetric(Metric):
    """A corpus-level sacrebleu metric with per-segment statistics as its state.

    Options are the sacrebleu class's own (``tokenize``, ``lowercase``, ``char_order``...); the
    signature states them as sacrebleu's own signature does.
    """

    #: name of the class in ``sacrebleu.metrics``
    sacrebleu_class: ClassVar[str]
    #: whether the statistics are integer counts (BLEU, chrF) or floats (TER)
    integer_stats: ClassVar[bool] = True
    state = {"stats": Column("int64"), "nrefs": Column("int64")}
    reference = "sacrebleu"

    def __init__(self, **options: Any):
        self._reference: Any = None
        self._ref_cache: OrderedDict = OrderedDict()
        super().__init__(**options)
        self.reference_metric()  # unknown options fail here, before any data

    @classmethod
    def check_options(cls, options: Any) -> dict[str, Any]:
        """sacrebleu validates its own options (in :meth:`reference_metric`)."""
        return dict(options)

    def reference_metric(self) -> Any:
        """The sacrebleu metric object (shared by metrics with the same options)."""
        if self._reference is None:
            try:
                self._reference, self._ref_cache = _shared_reference(self.sacrebleu_class, self.options)
            except (TypeError, AssertionError, KeyError) as err:
                raise InputError(f"bad {self.name} option: {err}", field=self.name) from None
        return self._reference

    def signature_options(self) -> dict[str, Any]:
        """sacrebleu's signature fields (tokenizer, case, smoothing...) without its data-dependent ``nrefs``,
        plus the options its signature leaves out."""
        reference = self.reference_metric()
        saved = getattr(reference, "num_refs", None)
        reference.num_refs = 1
        try:
            info = dict(reference.get_signature().info)
        finally:
            reference.num_refs = saved
        out = {k: v for k, v in info.items() if k not in ("nrefs", "version") and v is not None}
        out.update({k: self.options[k] for k in UNSIGNED_OPTIONS if k in self.options})
        return dict(sorted(out.items()))

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "sacrebleu_options": dict(self.options)}

    @classmethod
    def from_state_dict(cls, state: Any, **neutral: Any) -> "Metric":
        metric = cls(**(state.get("sacrebleu_options") or {}), **neutral)
        metric.load_state_dict(state)
        return metric

    def segment_stats(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[list]:
        """sacrebleu's per-segment statistics of each hypothesis against its own references."""
        reference, cache = self.reference_metric(), self._ref_cache
        preprocess = reference._preprocess_segment
        rows = []
        for hyp, sample_refs in zip(hyps, refs):
            key = tuple(sample_refs)
            info = cache.get(key)
            if info is None:
                info = self._reference_info([preprocess(r) for r in sample_refs])
                cache[key] = info
                if len(cache) > REFERENCE_CACHE_SIZE:
                    cache.popitem(last=False)
            rows.append(self._segment_row(preprocess(hyp), info))
        return rows

    def _reference_info(self, refs: list[str]) -> Any:
        """What sacrebleu keeps of one segment's preprocessed references (its own format, shared cache)."""
        return self.reference_metric()._extract_reference_info(refs)

    def _segment_row(self, hyp: str, info: Any) -> list:
        """sacrebleu's statistics of one preprocessed hypothesis."""
        return self.reference_metric()._compute_segment_statistics(hyp, info)

    def reset_caches(self) -> None:
        self._resampled: dict[tuple[int, int, int, int], np.ndarray] = {}

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        hyps = list(predictions)
        ids = list(ids) if ids is not None else self.default_ids(len(hyps))
        if not (len(hyps) == len(targets) == len(ids)):
            raise InputError(f"{len(hyps)} hypotheses, {len(targets)} reference sets and {len(ids)} ids in one batch")
        for sample_id, hyp in zip(ids, hyps):
            if not isinstance(hyp, str):
                raise InputError(f"a hypothesis must be a string, got {type(hyp).__name__}", record=sample_id,
                                 field="hypothesis")
        refs = sample_references(targets, ids)
        if not hyps:
            return
        stats = self.segment_stats(hyps, refs)
        self.add(ids, stats=np.asarray(stats, dtype=np.int64 if self.integer_stats else np.float64),
                 nrefs=[len(r) for r in refs])

    def stats(self) -> np.ndarray:
        """The per-segment statistics, one row per sample in state order."""
        stats = self.column("stats")
        return stats if stats.ndim == 2 else stats.reshape(0, 0)

    def _summed(self, indices: np.ndarray | None) -> list:
        """Column sums, exact and independent of sample order (so merges in any order agree).

        Integer counts sum exactly; float statistics (TER's average reference length) use
        ``math.fsum``, equal to sacrebleu's in-order sum whenever that sum is exact.
        """
        stats = self.stats()
        if indices is not None:
            stats = stats[np.asarray(indices, dtype=np.int64)]
        if self.integer_stats:
            return stats.sum(axis=0).tolist()
        return [math.fsum(column) for column in stats.T.tolist()]

    def corpus_score(self, indices: np.ndarray | None = None) -> Any:
        """sacrebleu's Score object for the samples ``indices`` (all when None)."""
        return self.reference_metric()._compute_score_from_stats(self._summed(indices))

    def score(self) -> dict[str, float]:
        return self.aggregate(None)

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        n = self.num_samples() if indices is None else len(indices)
        return {self.main_key: float(self.corpus_score(indices).score) if n else float("nan")}

    def sacrebleu_signature(self) -> str:
        """sacrebleu's own signature; ``nrefs:var`` when samples have different reference counts."""
        reference = self.reference_metric()
        counts = set(self.column("nrefs").tolist())
        reference.num_refs = counts.pop() if len(counts) == 1 else (-1 if counts else 1)
        return str(reference.get_signature())

    def extras(self) -> dict[str, Any]:
        return {"signature": self.sacrebleu_signature()}

    def per_sample(self) -> dict[str, Any]:
        stats = self.stats()
        return {"sample_id": self.sample_ids(), f"{self.name}_stats": [row.tolist() for row in stats],
                "num_refs": self.column("nrefs").tolist()}

    def resampled_scores(self, n_resamples: int, seed: int) -> np.ndarray:
        """Scores of sacrebleu's bootstrap resamples, bit for bit as ``--paired-bs`` computes them.

        sacrebleu sums float32 statistics; integer statistics sum exactly either way, so they
        are summed at once by a counts-matrix product and cast to float32 before scoring.
        """
        key = (self._state.version, self.num_samples(), n_resamples, seed)
        if key not in self._resampled:
            reference, n = self.reference_metric(), self.num_samples()
            if self.integer_stats:
                sums = (_resample_counts(n, n_resamples, seed) @ self.stats().astype(np.float64)).astype(np.float32)
            else:
                stats32 = self.stats().astype(np.float32)
                sums = np.stack([stats32[idx].sum(0) for idx in resample_indices(n, n_resamples, seed)])
            self._resampled = {key: np.array([reference._compute_score_from_stats(row).score for row in sums])}
        return self._resampled[key]

    def paired_test(self, other: Metric, key: str | None = None, n_resamples: int = 1000,
                    seed: int = 12345) -> dict[str, Any]:
        """sacrebleu's paired bootstrap (``--paired-bs``) of ``other`` (system) against ``self`` (baseline).

        p = (1 + #{|d_i| - mean|d| > |observed|}) / (1 + n_resamples), d_i the resampled
        system-minus-baseline differences; ``system_mean``/``system_ci`` are sacrebleu's
        "mean ± half-width" numbers. ``ci`` is the 2.5/97.5 percentile interval of d_i.
        """
        if type(other) is not type(self) or other.signature() != self.signature():
            raise TypeError("a paired test needs the same metric with the same options on both systems")
        if self.sample_ids() != other.sample_ids():
            raise ValueError("a paired test needs both systems scored on the same samples in the same order")
        assert isinstance(other, SacrebleuMetric)
        base, system = self.resampled_scores(n_resamples, seed), other.resampled_scores(n_resamples, seed)
        real_base, real_sys = self.aggregate()[self.main_key], other.aggregate()[self.main_key]
        observed = real_sys - real_base
        spread = np.abs(system - base)
        p_value = (int(np.sum(spread - spread.mean() > abs(observed))) + 1) / (n_resamples + 1)
        diffs = system - base
        base_mean, base_ci = sacrebleu_ci(base)
        sys_mean, sys_ci = sacrebleu_ci(system)
        return {
            "key": self.main_key, "baseline": real_base, "system": real_sys, "difference": observed,
            "ci": [float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))],
            "p_value": p_value, "baseline_mean": base_mean, "baseline_ci": base_ci,
            "system_mean": sys_mean, "system_ci": sys_ci, "n_resamples": n_resamples, "seed": seed,
        }


def corpus_scores(metric: SacrebleuMetric, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> dict:
    """Functional form: ``references`` as sacrebleu takes them, one stream per reference set."""
    streams = [list(stream) for stream in references]
    if any(len(s) != len(hypotheses) for s in streams):
        raise InputError(f"{len(hypotheses)} hypotheses but reference streams of lengths {[len(s) for s in streams]}")
    targets = [[s[i] for s in streams if s[i] is not None] for i in range(len(hypotheses))]
    metric.update(list(hypotheses), targets)
    return metric.compute()
