"""Vectorised n-gram tables of tokenised captions, the shared state of CIDEr-D and caption BLEU.

Every n-gram (orders 1..4) of every sentence gets an integer id; ids are assigned from
sorted keys, so the tables — and every floating-point sum built on them — do not depend on
the order in which images were added or shards merged.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import count, repeat
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


def build_tables(candidates: Sequence[str], references: Sequence[Sequence[str]],
                 order: Sequence[int] | None = None) -> NgramTables:
    """Tables for tokenised ``candidates[i]`` and its ``references[i]`` (strings split on whitespace), the images
    taken in ``order`` (indices into them; default: as given).

    Sentences are numbered image by image (candidate first), and the count rows come sorted by
    (n-gram, sentence): each (image, n-gram) group is then contiguous with its candidate row first,
    and a sentence's rows are in n-gram id order, so every later sum adds in a fixed order.
    """
    n_images = len(candidates)
    order = np.arange(n_images) if order is None else np.asarray(order, dtype=np.int64)
    words = sentence_words([*candidates, *(r for refs in references for r in refs)])
    refs_per = np.fromiter(map(len, references), dtype=np.int64, count=n_images)
    per_image = refs_per[order] + 1
    sentence_image = np.repeat(np.arange(n_images, dtype=np.int64), per_image)
    sentence_is_hyp = np.zeros(len(sentence_image), dtype=bool)
    sentence_is_hyp[np.cumsum(per_image) - per_image] = True
    sentence_ref = np.cumsum(~sentence_is_hyp) - 1  # index among references (of reference sentences)
    # where each sentence is in ``words`` (the candidates, then the references): the candidate of image i at i, its
    # j-th reference at n_images + (references before image i) + j
    first_ref = n_images + np.cumsum(refs_per) - refs_per
    given = np.where(sentence_is_hyp, order[sentence_image], first_ref[order][sentence_image] + sentence_ref
                     - (np.cumsum(refs_per[order]) - refs_per[order])[sentence_image])
    sent_len = words.lengths[given]
    word_start = np.cumsum(words.lengths) - words.lengths
    tokens = words.ids[np.repeat(word_start[given] - (np.cumsum(sent_len) - sent_len), sent_len)
                       + np.arange(int(sent_len.sum()))]
    ngram, sentence, counts, ngram_order = _count_rows(tokens, sent_len)
    n_ngrams = max(len(ngram_order), 1)

    image = sentence_image.take(sentence)
    group_id = np.cumsum(_run_starts((ngram, image), flags=True)) - 1
    n_groups = int(group_id[-1]) + 1 if len(group_id) else 0
    is_hyp = sentence_is_hyp.take(sentence)
    hyp, ref = np.flatnonzero(is_hyp), np.flatnonzero(~is_hyp)
    hyp_group, hyp_count = group_id.take(hyp), counts.take(hyp)
    ref_group, ref_count, ref_ngram = group_id.take(ref), counts.take(ref), ngram.take(ref)
    group_hyp_count = np.zeros(n_groups, dtype=np.int64)
    group_hyp_count[hyp_group] = hyp_count
    df_first = _run_starts((ref_group,))
    group_max_ref = np.zeros(n_groups, dtype=np.int64)
    if len(ref):  # a group's maximum: a running maximum of count + group * step, which each group starts above
        step = int(ref_count.max()) + 1
        last = np.append(df_first[1:], len(ref)) - 1
        last_group = ref_group.take(last)
        group_max_ref[last_group] = np.maximum.accumulate(ref_count + ref_group * step).take(last) - last_group * step
    return NgramTables(
        n_images=n_images, n_ngrams=n_ngrams, ngram_order=ngram_order,
        hyp_image=image.take(hyp), hyp_ngram=ngram.take(hyp), hyp_count=hyp_count,
        hyp_words=sent_len.compress(sentence_is_hyp),
        ref_sentence=sentence_ref.take(sentence.take(ref)), ref_ngram=ref_ngram, ref_count=ref_count,
        ref_hyp_count=group_hyp_count.take(ref_group), ref_image=sentence_image.compress(~sentence_is_hyp),
        ref_words=sent_len.compress(~sentence_is_hyp), df_image=image.take(ref.take(df_first)),
        df_ngram=ref_ngram.take(df_first), max_ref_count=group_max_ref.take(hyp_group),
    )


def _count_rows(tokens: np.ndarray, sent_len: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(n-gram id, sentence, count) of every distinct n-gram of every sentence, orders 1..4, sorted by
    (n-gram, sentence); and each id's order - 1.

    A k-gram's key is (id of its (k-1)-gram prefix, last token): exact, and ids rank n-grams by their
    token ids (which rank tokens by string), so they do not depend on the order of the sentences.
    Positions are sorted by key, ties by position: for k > 1 they come sorted by their (k-1)-gram
    already, so the stable sort only reorders within equal prefixes (a nearly sorted input).
    """
    owner = np.repeat(np.arange(len(sent_len), dtype=np.int64), sent_len)
    room = np.repeat(np.cumsum(sent_len), sent_len) - np.arange(len(tokens))  # tokens left from j on
    vocab = int(tokens.max()) + 1 if len(tokens) else 1
    ngrams, sentences, counts, orders = [], [], [], []
    at = _stable_order(tokens)  # positions sorted by unigram, ties by position
    key = tokens.take(at)
    offset = 0
    for k in range(ORDERS):
        if k:  # the positions with a k-gram, still sorted by their (k-1)-gram, then by the k-gram's last token
            longer = np.flatnonzero(room.take(at) > k)
            at = at.take(longer)
            key = gram.take(longer) * vocab + tokens.take(at + k)
            by_key = np.argsort(key, kind="stable")
            at, key = at.take(by_key), key.take(by_key)
        owners = owner.take(at)
        gram = np.cumsum(_run_starts((key,), flags=True)) - 1
        starts = _run_starts((key, owners))
        ngrams.append(gram[starts] + offset)
        sentences.append(owners[starts])
        counts.append(np.diff(np.append(starts, len(key))))
        n_grams = int(gram[-1]) + 1 if len(gram) else 0
        orders.append(np.full(n_grams, k, dtype=np.int64))
        offset += n_grams
    return np.concatenate(ngrams), np.concatenate(sentences), np.concatenate(counts), np.concatenate(orders)


def _run_starts(columns: tuple[np.ndarray, ...], flags: bool = False) -> np.ndarray:
    """Where a run of equal rows of the sorted ``columns`` begins (indices, or a boolean mask)."""
    n = len(columns[0])
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
        for column in columns:
            new[1:] |= column[1:] != column[:-1]
    return new if flags else np.flatnonzero(new)


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``argsort(keys, kind="stable")`` of non-negative keys, done the fastest way numpy offers: a radix sort
    of 16-bit keys, else a plain (SIMD) sort of (key, position) packed in 63 bits, else a merge sort."""
    n = len(keys)
    bits = max(n - 1, 1).bit_length()
    top = int(keys.max()) if n else 0
    if top < 1 << 15:
        return np.argsort(keys.astype(np.int16), kind="stable")
    if top >= 1 << (62 - bits):
        return np.argsort(keys, kind="stable")
    return np.sort((keys << bits) | np.arange(n, dtype=np.int64)) & ((1 << bits) - 1)


@dataclass(frozen=True)
class SentenceWords:
    """The ``str.split()`` tokens of sentences as ids ranked by the token's string, and each sentence's length."""

    ids: np.ndarray
    lengths: np.ndarray
    spaced: bool  # every sentence is tokens on single spaces: its ``split(" ")`` is its ``split()``


def sentence_words(sentences: Sequence[str]) -> SentenceWords:
    """:class:`SentenceWords` of ``sentences``; CIDEr-D, BLEU and ROUGE-L of one run encode the same tokenised
    captions, so the last results are kept (read-only arrays)."""
    return _sentence_words(tuple(sentences))


@functools.lru_cache(maxsize=2)
def _sentence_words(sentences: tuple[str, ...]) -> SentenceWords:
    text = " ".join(sentences)
    # no other blank (isprintable() is False for every whitespace character but " "), no empty sentence
    spaced = bool(sentences) and all(sentences) and text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "
    if spaced:
        ids, lengths = space_split_words(sentences)
    else:
        ids = word_ids(text.split())
        lengths = np.fromiter(map(len, map(str.split, sentences)), dtype=np.int64, count=len(sentences))
    ids.flags.writeable = lengths.flags.writeable = False
    return SentenceWords(ids, lengths, spaced)


def space_split_words(sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Ids (as :func:`word_ids`) of every sentence's ``split(" ")`` in turn, and each sentence's count of them."""
    lengths = np.fromiter(map(str.count, sentences, repeat(" ")), dtype=np.int64, count=len(sentences)) + 1
    words = " ".join(sentences).split(" ") if sentences else []  # the join's split(" ") is each one's in turn
    return word_ids(words), lengths


def word_ids(words: list[str]) -> np.ndarray:
    """An id per word, equal for equal strings, ranked by the string (so they do not depend on the words' order)."""
    first: dict[str, int] = {}
    at = np.fromiter(map(first.setdefault, words, count()), dtype=np.int64, count=len(words))  # first occurrence
    vocab = list(first)
    rank = np.empty(len(words), dtype=np.int64)
    by_string = sorted(range(len(vocab)), key=vocab.__getitem__)
    rank[np.fromiter(first.values(), dtype=np.int64, count=len(vocab))[by_string]] = np.arange(len(vocab))
    return rank[at]
