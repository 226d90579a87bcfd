"""The vectorised caption paths against the per-image ones they stand for, on hypothesis-generated tokenised
captions: ROUGE-L's numpy LCS over all pairs (bitwise the same image scores), the shared word encoding (both
splits), and CIDEr-D's tables built in a given image order (the same tables as from reordered inputs)."""
from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.metrics.caption_ngrams import build_tables, sentence_words, space_split_words
from evalkit.metrics.rouge import _LANE_TOKENS, rouge_l_image, rouge_l_images

#: a few tokens (repeats make long common subsequences), with blanks that split() and split(" ") treat apart
TOKEN = st.sampled_from(["a", "b", "c", "dog", "a.", "1\u00a01/2", "x\ty", ""])
CAPTION = st.one_of(
    st.lists(TOKEN, max_size=8).map(" ".join),
    st.lists(st.sampled_from(["a", "b"]), min_size=_LANE_TOKENS - 2, max_size=_LANE_TOKENS + 3).map(" ".join),
)
IMAGES = st.lists(st.tuples(CAPTION, st.lists(CAPTION, max_size=4)), min_size=1, max_size=8)
SPACED = st.lists(st.tuples(st.lists(st.sampled_from(["a", "b", "dog"]), min_size=1, max_size=6).map(" ".join),
                            st.lists(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=6).map(" ".join),
                                     min_size=1, max_size=4)), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.one_of(IMAGES, SPACED))
def test_rouge_l_images_equal_rouge_l_image(images):
    images = [(c, refs) for c, refs in images if refs]  # every image has references (update() checks it)
    if not images:
        return
    cands, refs = [c for c, _ in images], [r for _, r in images]
    expected = np.array([rouge_l_image(c, r) for c, r in zip(cands, refs)])
    assert np.array_equal(rouge_l_images(cands, refs), expected)  # bitwise


@settings(max_examples=200, deadline=None)
@given(st.lists(CAPTION, max_size=12))
def test_sentence_words_are_each_sentence_split(sentences):
    words = sentence_words(sentences)
    split = [s.split() for s in sentences]
    assert words.lengths.tolist() == [len(t) for t in split]
    flat = [t for ts in split for t in ts]
    assert _same_ranks(words.ids, flat)
    assert words.spaced == (bool(sentences) and all(s.split(" ") == s.split() for s in sentences))
    ids, lengths = space_split_words(sentences)
    assert lengths.tolist() == [len(s.split(" ")) for s in sentences]
    assert _same_ranks(ids, [t for s in sentences for t in s.split(" ")])


def _same_ranks(ids: np.ndarray, words: list[str]) -> bool:
    """Whether ``ids`` number ``words`` by their rank among the distinct words."""
    rank = {w: i for i, w in enumerate(sorted(set(words)))}
    return ids.tolist() == [rank[w] for w in words]


@settings(max_examples=200, deadline=None)
@given(st.one_of(IMAGES, SPACED), st.randoms(use_true_random=False))
def test_tables_in_an_order_equal_tables_of_reordered_inputs(images, rnd):
    cands, refs = [c for c, _ in images], [r for _, r in images]
    order = list(range(len(images)))
    rnd.shuffle(order)
    ordered = build_tables(cands, refs, order)
    reordered = build_tables([cands[i] for i in order], [refs[i] for i in order])
    for field in dataclasses.fields(ordered):
        a, b = getattr(ordered, field.name), getattr(reordered, field.name)
        assert np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype, field.name
