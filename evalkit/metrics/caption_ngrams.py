"""Vectorised n-gram tables of tokenised captions, the shared state of CIDEr-D and caption BLEU.

Every n-gram (orders 1..4) of every sentence gets an integer id; ids are assigned from
sorted keys, so the tables — and every floating-point sum built on them — do not depend on
the order in which images were added or shards merged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

ORDERS = 4


@dataclass
class NgramTables:
    """Per-image candidate and reference n-gram counts.

    ``hyp_*``: one row per distinct (image, n-gram) of the candidates; ``ref_*``: one row
    per distinct (reference, n-gram); ``df_*``: one row per distinct (image, n-gram) over
    an image's references (document-frequency units).
    """

    n_images: int
    n_ngrams: int
    ngram_order: np.ndarray  # (n_ngrams,) order - 1
    hyp_image: np.ndarray
    hyp_ngram: np.ndarray
    hyp_count: np.ndarray
    hyp_words: np.ndarray  # (n_images,) candidate lengths in words
    ref_sentence: np.ndarray
    ref_ngram: np.ndarray
    ref_count: np.ndarray
    ref_hyp_count: np.ndarray  # the candidate's count of the same n-gram (0 if absent)
    ref_image: np.ndarray  # (n_refs,) image of each reference sentence
    ref_words: np.ndarray  # (n_refs,) reference lengths in words
    df_image: np.ndarray
    df_ngram: np.ndarray
    max_ref_count: np.ndarray  # aligned with hyp rows: max count of the n-gram in any reference


def build_tables(candidates: Sequence[str], references: Sequence[Sequence[str]]) -> NgramTables:
    """Tables for tokenised ``candidates[i]`` and its ``references[i]`` (strings split on whitespace)."""
    n_images = len(candidates)
    sentences = list(candidates) + [r for refs in references for r in refs]
    ref_image = np.repeat(np.arange(n_images, dtype=np.int64), [len(r) for r in references])
    tokens, sent_len = _token_ids(sentences)
    vocab = max(int(tokens.max()) + 1 if len(tokens) else 1, 1)
    owner = np.repeat(np.arange(len(sentences), dtype=np.int64), sent_len)
    starts = np.cumsum(sent_len) - sent_len
    room = np.repeat(starts + sent_len, sent_len) - np.arange(len(tokens))  # tokens left from j on

    owners, grams, orders = [], [], []
    previous = tokens
    offset = 0
    for k in range(ORDERS):
        valid = room > k
        where = np.flatnonzero(valid)
        key = previous[where] * vocab + tokens[where + k] if k else tokens
        uniq, inverse = np.unique(key, return_inverse=True)
        owners.append(owner[where])
        grams.append(inverse.astype(np.int64) + offset)
        orders.append(np.full(len(uniq), k, dtype=np.int64))
        offset += len(uniq)
        previous = np.full(len(tokens), -1, dtype=np.int64)
        previous[where] = inverse
    n_ngrams = max(offset, 1)
    pairs, counts = np.unique(np.concatenate(owners) * n_ngrams + np.concatenate(grams), return_counts=True)
    sentence, ngram = np.divmod(pairs, n_ngrams)
    is_hyp = sentence < n_images

    hyp_image, hyp_ngram, hyp_count = sentence[is_hyp], ngram[is_hyp], counts[is_hyp]
    ref_sentence, ref_ngram, ref_count = sentence[~is_hyp] - n_images, ngram[~is_hyp], counts[~is_hyp]
    ref_key = ref_image[ref_sentence] * n_ngrams + ref_ngram
    hyp_key = hyp_image * n_ngrams + hyp_ngram
    ref_hyp_count = _lookup(hyp_key, hyp_count, ref_key)

    by_key = np.argsort(ref_key, kind="stable")
    sorted_keys = ref_key[by_key]
    first = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if len(sorted_keys) else np.zeros(0, np.int64)
    df_key = sorted_keys[first]
    max_count = np.maximum.reduceat(ref_count[by_key], first) if len(first) else np.zeros(0, np.int64)
    df_image, df_ngram = np.divmod(df_key, n_ngrams)
    return NgramTables(
        n_images=n_images, n_ngrams=n_ngrams, ngram_order=np.concatenate(orders) if orders else np.zeros(0, np.int64),
        hyp_image=hyp_image, hyp_ngram=hyp_ngram, hyp_count=hyp_count, hyp_words=sent_len[:n_images],
        ref_sentence=ref_sentence, ref_ngram=ref_ngram, ref_count=ref_count, ref_hyp_count=ref_hyp_count,
        ref_image=ref_image, ref_words=sent_len[n_images:], df_image=df_image, df_ngram=df_ngram,
        max_ref_count=_lookup(df_key, max_count, hyp_key),
    )


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values`` at ``queries`` in the sorted ``keys``; 0 where a query is absent."""
    if not len(keys):
        return np.zeros(len(queries), dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[at] == queries, values[at], 0)


def _token_ids(sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids ranked by the token's string (order-independent) and each sentence's length."""
    index: dict[str, int] = {}
    flat: list[int] = []
    lengths = np.empty(len(sentences), dtype=np.int64)
    for i, sentence in enumerate(sentences):
        words = sentence.split()
        lengths[i] = len(words)
        flat.extend([index.setdefault(w, len(index)) for w in words])
    rank = np.empty(len(index), dtype=np.int64)
    rank[np.argsort(np.array(list(index), dtype=object), kind="stable")] = np.arange(len(index))
    return (rank[np.asarray(flat, dtype=np.int64)] if flat else np.zeros(0, np.int64)), lengths
