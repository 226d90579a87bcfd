"""CIDEr-D and BLEU-1..4 as pycocoevalcap's ``Cider`` and ``Bleu`` compute them, vectorised.

CIDEr-D (n=4, sigma=6, x10): tf-idf n-gram vectors whose document frequencies come from the
evaluated set's references, clipped cosine similarity, Gaussian length penalty on the
number of *bigrams* (pycocoevalcap's length), mean over references and images. BLEU is
pycocoevalcap's corpus BLEU with the closest reference length.

State: per image its id, candidate and references (raw and tokenised). Because document
frequencies depend on the whole set, ``aggregate(indices)`` recomputes them over the
multiset of images drawn: a bootstrap resample is scored as if it were the evaluated set,
a drawn-twice image counting twice in the document frequencies and in N.

Degenerate set: when no reference caption of the evaluated set has a token (every reference
empty or blank), pycocoevalcap's ``Cider`` raises ``ValueError`` (``max()`` of its empty
document frequencies); here every image's CIDEr-D is 0.0 (no n-gram, so no tf-idf vector) and
BLEU is what pycocoevalcap's ``Bleu`` gives on the same captions.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics.caption_ngrams import ORDERS, NgramTables, build_tables
from evalkit.metrics.captioning import CaptionMetric
from evalkit.registry import METRICS

BLEU_KEYS = tuple(f"BLEU-{k}" for k in range(1, ORDERS + 1))


@METRICS.register("cider")
class CiderD(CaptionMetric):
    """``CIDEr`` (pycocoevalcap scale, about 0..10) and ``BLEU-1``..``BLEU-4`` (0..1).

    Options: ``tokenizer`` — ``python`` (default; the Java tokenizer only for the captions the port cannot
    guarantee, when Java is there), ``java`` (CoreNLP, as pycocoevalcap) or ``none`` (captions are already
    tokenised); ``sigma`` (6.0).
    """

    name = "cider"
    keys = ("CIDEr", *BLEU_KEYS)
    main_key = "CIDEr"
    defaults = {"tokenizer": "python", "sigma": 6.0}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.options["sigma"] = float(self.options["sigma"])
        self.sigma = self.options["sigma"]

    def derive(self, cands: list[str], refs: list[list[str]]) -> "_Engine":
        return _Engine(self.sample_ids(), cands, refs, self.sigma)

    def engine(self) -> "_Engine":
        """The n-gram tables of the whole state (built once per state version)."""
        return self.derived()

    def score(self) -> dict[str, float]:
        return self.aggregate(None)

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        if not self.num_samples():
            return {"CIDEr": float("nan"), **{k: float("nan") for k in BLEU_KEYS}}
        return self.engine().aggregate(indices)

    def image_scores(self) -> np.ndarray:
        """Per-image CIDEr-D over the whole evaluated set, in state order (pycocoevalcap's ``scores``)."""
        engine = self.engine()
        return engine.cider_scores(None)[engine.position]

    def per_sample(self) -> dict[str, Any]:
        if not self.num_samples():
            return {}
        return {"sample_id": self.sample_ids(), "caption": list(self.column("candidate")),
                "CIDEr": self.image_scores()}

class _Engine:
    """The n-gram tables of one state, in a canonical image order, and the scores on any multiset."""

    def __init__(self, ids: list[str], cands: list[str], refs: list[list[str]], sigma: float):
        order = sorted(range(len(ids)), key=lambda i: (ids[i], cands[i], refs[i]))
        self.position = np.empty(len(ids), dtype=np.int64)  # state index -> canonical index
        self.position[np.asarray(order, dtype=np.int64)] = np.arange(len(ids))
        self.tables: NgramTables = build_tables(cands, refs, order)
        t = self.tables
        self.hyp_slot = t.hyp_image * ORDERS + t.ngram_order[t.hyp_ngram]
        self.ref_slot = t.ref_sentence * ORDERS + t.ngram_order[t.ref_ngram]
        self.refs_per_image = np.bincount(t.ref_image, minlength=t.n_images)
        # pycocoevalcap's "length" is the number of bigrams: max(words - 1, 0)
        delta = (np.maximum(t.hyp_words - 1, 0)[t.ref_image] - np.maximum(t.ref_words - 1, 0)).astype(np.float64)
        self.penalty = np.e ** (-(delta**2) / (2 * sigma**2))
        self.bleu_stats = _bleu_stats(t, self.hyp_slot)

    def weights(self, indices: np.ndarray | None) -> np.ndarray:
        n = self.tables.n_images
        if indices is None:
            return np.ones(n, dtype=np.int64)
        return np.bincount(self.position[np.asarray(indices, dtype=np.int64)], minlength=n)

    def cider_scores(self, indices: np.ndarray | None) -> np.ndarray:
        """Per-image CIDEr-D (canonical order) with document frequencies over the multiset ``indices``."""
        t = self.tables
        weight = self.weights(indices)
        n_docs = float(weight.sum())
        df = np.bincount(t.df_ngram, weights=weight[t.df_image], minlength=t.n_ngrams)
        idf = np.log(n_docs) - np.log(np.maximum(1.0, df))
        hyp_vec = t.hyp_count * idf[t.hyp_ngram]
        ref_idf = idf[t.ref_ngram]
        ref_vec = t.ref_count * ref_idf
        n_refs = len(t.ref_words)
        hyp_norm = np.sqrt(np.bincount(self.hyp_slot, weights=hyp_vec**2, minlength=t.n_images * ORDERS))
        ref_norm = np.sqrt(np.bincount(self.ref_slot, weights=ref_vec**2, minlength=n_refs * ORDERS))
        clipped = np.minimum(t.ref_hyp_count * ref_idf, ref_vec) * ref_vec
        dot = np.bincount(self.ref_slot, weights=clipped, minlength=n_refs * ORDERS).astype(np.float64)
        dot = dot.reshape(n_refs, ORDERS)
        denom = hyp_norm.reshape(-1, ORDERS)[t.ref_image] * ref_norm.reshape(n_refs, ORDERS)
        sim = np.divide(dot, denom, out=dot.copy(), where=denom != 0) * self.penalty[:, None]
        per_image = np.zeros((t.n_images, ORDERS))
        np.add.at(per_image, t.ref_image, sim)
        return per_image.mean(axis=1) / self.refs_per_image * 10.0

    def aggregate(self, indices: np.ndarray | None) -> dict[str, float]:
        weight = self.weights(indices)
        scores = self.cider_scores(indices)
        out = {"CIDEr": float(np.dot(weight, scores) / weight.sum())}
        out.update(_corpus_bleu((self.bleu_stats * weight[:, None]).sum(axis=0)))
        return out


def _bleu_stats(t: NgramTables, hyp_slot: np.ndarray) -> np.ndarray:
    """Per image: test length, closest reference length, guesses and matches per order (integers); ``hyp_slot``:
    each hyp row's image * ORDERS + order - 1."""
    n = t.n_images
    stats = np.zeros((n, 2 + 2 * ORDERS), dtype=np.int64)
    test_len = t.hyp_words
    stats[:, 0] = test_len
    # closest reference length, ties to the shorter one: min over (|len - test|, len)
    gap = np.abs(t.ref_words - test_len[t.ref_image])
    pick = np.lexsort((t.ref_words, gap, t.ref_image))
    first = np.r_[True, t.ref_image[pick][1:] != t.ref_image[pick][:-1]]
    stats[t.ref_image[pick][first], 1] = t.ref_words[pick][first]
    for k in range(ORDERS):
        stats[:, 2 + k] = np.maximum(0, test_len - k)
    matched = np.minimum(t.hyp_count, t.max_ref_count)
    stats[:, 2 + ORDERS :] = np.bincount(hyp_slot, weights=matched, minlength=n * ORDERS).reshape(n, ORDERS)
    return stats


def _corpus_bleu(totals: np.ndarray) -> dict[str, float]:
    """pycocoevalcap's corpus BLEU (its ``tiny``/``small`` smoothing) from summed statistics."""
    tiny, small = 1e-15, 1e-9
    test_len, ref_len = int(totals[0]), int(totals[1])
    guess, correct = totals[2 : 2 + ORDERS], totals[2 + ORDERS :]
    bleus, bleu = [], 1.0
    for k in range(ORDERS):
        bleu *= float(int(correct[k]) + tiny) / (int(guess[k]) + small)
        bleus.append(bleu ** (1.0 / (k + 1)))
    ratio = (test_len + tiny) / (ref_len + small)
    if ratio < 1:
        bleus = [b * math.exp(1 - 1 / ratio) for b in bleus]
    return dict(zip(BLEU_KEYS, bleus))


def cider_d(
    references: Mapping[Any, Sequence[str]], candidates: Mapping[Any, str | Sequence[str]], tokenizer: str = "python"
) -> dict[str, float]:
    """Functional form on pycocoevalcap-style dicts ``{image: [refs]}``, ``{image: caption or [caption]}``."""
    missing = set(references) ^ set(candidates)
    if missing:
        raise InputError(f"references and candidates cover different images, e.g. {sorted(map(str, missing))[0]!r}")
    metric = CiderD(tokenizer=tokenizer)
    keys = list(references)
    cands = [candidates[k] if isinstance(candidates[k], str) else _single(candidates[k], k) for k in keys]
    metric.update(cands, [references[k] for k in keys], [str(k) for k in keys])
    return metric.aggregate()


def _single(captions: Sequence[str], key: Any) -> str:
    if len(captions) != 1:
        raise InputError(f"expected exactly one candidate caption, got {len(captions)}", record=key, field="caption")
    return captions[0]
