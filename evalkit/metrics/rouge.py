"""ROUGE-L as pycocoevalcap's ``Rouge`` computes it (the COCO caption table's ``ROUGE_L``).

Per image: the candidate and each reference are PTB-tokenised (as for CIDEr-D) and split on single
spaces (``str.split(" ")``, so an empty caption is one empty token, as in pycocoevalcap); the
longest common subsequence of the candidate with each reference gives a precision ``lcs/len(cand)``
and a recall ``lcs/len(ref)``; with the best precision ``P`` and the best recall ``R`` over the
references, the image scores ``(1 + β²)·P·R / (R + β²·P)`` with β = 1.2 (0 when P or R is 0). The
corpus score is ``numpy.mean`` of the image scores, as pycocoevalcap's.

The LCS is computed bit-parallel (Hyyrö's formulation of Allison–Dix: the candidate's token positions
as bits, one step per reference token); its length is the same integer as pycocoevalcap's dynamic programme, and the
score is the same float expression, so image scores are bitwise equal. The steps run vectorised over every
(candidate, reference) pair at once, on token ids in 64-bit lanes (:func:`rouge_l_images`); a candidate of more
than 63 tokens takes Python's big integers (:func:`rouge_l_image`).

State: each image's candidate and references as given (as :class:`~evalkit.metrics.cider.CiderD`
keeps them): the PTB tokens of a caption can depend on the next caption of the tokeniser's input
(see :mod:`evalkit.metrics.ptb_tokenizer`), so tokens and image scores are derived once over the
whole state (cached) rather than per batch. A bootstrap resample is the mean of its images' scores.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.metrics.caption_ngrams import sentence_words, space_split_words
from evalkit.metrics.captioning import CaptionMetric
from evalkit.registry import METRICS

BETA = 1.2


def _position_masks(tokens: Sequence[str]) -> dict[str, int]:
    """Each distinct token's positions in ``tokens`` as the bits of one integer."""
    masks: dict[str, int] = {}
    for i, token in enumerate(tokens):
        masks[token] = masks.get(token, 0) | (1 << i)
    return masks


def _lcs_with(masks: dict[str, int], length: int, other: Sequence[str]) -> int:
    """LCS length of the ``length`` tokens whose ``masks`` are given with ``other`` (one step per token of it)."""
    full = (1 << length) - 1
    v = full
    for token in other:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return length - v.bit_count()


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (bit-parallel, exact)."""
    return _lcs_with(_position_masks(a), len(a), b)


def rouge_l_image(candidate: str, references: Sequence[str], beta: float = BETA) -> float:
    """pycocoevalcap's ``Rouge.calc_score`` for one tokenised candidate and its tokenised references.

    The candidate's position masks are built once for all its references (the LCS length is symmetric).
    """
    token_c = candidate.split(" ")
    masks = _position_masks(token_c)
    prec, rec = [], []
    for reference in references:
        token_r = reference.split(" ")
        lcs = _lcs_with(masks, len(token_c), token_r)
        prec.append(lcs / float(len(token_c)))
        rec.append(lcs / float(len(token_r)))
    prec_max, rec_max = max(prec), max(rec)
    if prec_max != 0 and rec_max != 0:
        return ((1 + beta**2) * prec_max * rec_max) / float(rec_max + beta**2 * prec_max)
    return 0.0


#: candidates of at most this many tokens take the vectorised LCS: their position bits and the carry of
#: ``v + u`` fit an unsigned 64-bit integer
_LANE_TOKENS = 63


def rouge_l_images(candidates: Sequence[str], references: Sequence[Sequence[str]], beta: float = BETA) -> np.ndarray:
    """:func:`rouge_l_image` of every image, vectorised over all (candidate, reference) pairs: the same bit-parallel
    LCS on token ids, one numpy step per reference position for all pairs at once, then the same float expression
    (so the same float64 values). Candidates longer than ``_LANE_TOKENS`` and images without references take
    :func:`rouge_l_image`."""
    n = len(candidates)
    sentences = [*candidates, *(r for rs in references for r in rs)]
    words = sentence_words(sentences)  # CIDEr-D's encoding of the same captions, when it splits them alike
    ids, lengths = (words.ids, words.lengths) if words.spaced else space_split_words(sentences)
    cand_len, ref_len = lengths[:n], lengths[n:]
    refs_per = np.fromiter(map(len, references), dtype=np.int64, count=n)
    cand_ids, ref_ids = ids[: int(cand_len.sum())], ids[int(cand_len.sum()) :]
    lanes = (cand_len <= _LANE_TOKENS) & (refs_per > 0)
    pair_image = np.repeat(np.arange(n), refs_per)
    lcs = _lcs_lengths(cand_ids, cand_len, lanes, ref_ids, ref_len, pair_image)

    pair_starts = np.cumsum(refs_per) - refs_per
    has_refs = np.flatnonzero(refs_per > 0)
    prec = np.zeros(n)
    rec = np.zeros(n)
    if len(ref_len):
        prec[has_refs] = np.maximum.reduceat(lcs / cand_len[pair_image], pair_starts[has_refs])
        rec[has_refs] = np.maximum.reduceat(lcs / ref_len, pair_starts[has_refs])
    scores = np.zeros(n)
    scored = (prec != 0) & (rec != 0)
    p, r = prec[scored], rec[scored]
    scores[scored] = ((1 + beta**2) * p * r) / (r + beta**2 * p)
    for i in np.flatnonzero(~lanes):
        scores[i] = rouge_l_image(candidates[i], references[i], beta)
    return scores


def _lcs_lengths(cand_ids: np.ndarray, cand_len: np.ndarray, lanes: np.ndarray, ref_ids: np.ndarray,
                 ref_len: np.ndarray, pair_image: np.ndarray) -> np.ndarray:
    """LCS length of each (candidate, reference) pair whose candidate has a lane (others: garbage, unused)."""
    n_pairs = len(ref_len)
    vocab = int(max(cand_ids.max(initial=0), ref_ids.max(initial=0))) + 1
    # each (image, token) of the lane candidates: the token's positions in the candidate as the bits of a mask
    token_image = np.repeat(np.arange(len(cand_len)), cand_len)
    position = np.arange(len(cand_ids)) - np.repeat(np.cumsum(cand_len) - cand_len, cand_len)
    keep = lanes[token_image]
    key = token_image[keep] * vocab + cand_ids[keep]
    order = np.argsort(key, kind="stable")
    key = key[order]
    bits = np.left_shift(np.uint64(1), position[keep][order].astype(np.uint64))
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
    keys, masks = key[starts], np.bitwise_or.reduceat(bits, starts) if len(key) else np.zeros(0, dtype=np.uint64)
    # each reference token's mask in its pair's candidate (0 where the candidate lacks it)
    ref_key = np.repeat(pair_image, ref_len) * vocab + ref_ids
    at = np.minimum(np.searchsorted(keys, ref_key), max(len(keys) - 1, 0))
    ref_mask = np.where(keys[at] == ref_key, masks[at], np.uint64(0)) if len(keys) else np.zeros(len(ref_key), np.uint64)
    # Hyyrö's step for every pair still inside its reference, longest references first
    by_length = np.argsort(-ref_len, kind="stable")
    length = ref_len[by_length]
    start = (np.cumsum(ref_len) - ref_len)[by_length]
    lane_len = np.where(lanes, cand_len, 0)[pair_image][by_length].astype(np.uint64)
    full = np.left_shift(np.uint64(1), lane_len) - np.uint64(1)
    v = full.copy()
    for t in range(int(length[0]) if n_pairs else 0):
        k = int(np.searchsorted(-length, -t, side="left"))  # pairs whose reference has more than t tokens
        u = v[:k] & ref_mask[start[:k] + t]
        v[:k] = ((v[:k] + u) | (v[:k] - u)) & full[:k]
    lcs = np.empty(n_pairs, dtype=np.int64)
    lcs[by_length] = lane_len.astype(np.int64) - np.unpackbits(v.view(np.uint8)).reshape(-1, 64).sum(axis=1)
    return lcs


@METRICS.register("rouge")
class RougeL(CaptionMetric):
    """``ROUGE_L`` (0..1) of captions, pycocoevalcap's ``Rouge`` (LCS F-measure, β = 1.2, best reference).

    Option ``tokenizer``: ``python`` (default), ``java`` or ``none``, as for ``cider``.
    """

    name = "rouge"
    keys = ("ROUGE_L",)

    def derive(self, cands: list[str], refs: list[list[str]]) -> np.ndarray:
        return rouge_l_images(cands, refs)

    def image_scores(self) -> np.ndarray:
        """Per-image ROUGE-L in state order (pycocoevalcap's second return value)."""
        return self.derived() if self.num_samples() else np.zeros(0)

    def score(self) -> dict[str, float]:
        return self.aggregate(None)

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        if not self.num_samples():
            return {"ROUGE_L": float("nan")}
        scores = self.image_scores()
        if indices is not None:
            scores = scores[np.asarray(indices, dtype=np.int64)]
        return {"ROUGE_L": float(np.mean(scores))}

    def per_sample(self) -> dict[str, Any]:
        if not self.num_samples():
            return {}
        return {"sample_id": self.sample_ids(), "caption": list(self.column("candidate")),
                "ROUGE_L": self.image_scores()}
