"""ROUGE-L as pycocoevalcap's ``Rouge`` computes it (the COCO caption table's ``ROUGE_L``).

Per image: the candidate and each reference are PTB-tokenised (as for CIDEr-D) and split on single
spaces (``str.split(" ")``, so an empty caption is one empty token, as in pycocoevalcap); the
longest common subsequence of the candidate with each reference gives a precision ``lcs/len(cand)``
and a recall ``lcs/len(ref)``; with the best precision ``P`` and the best recall ``R`` over the
references, the image scores ``(1 + β²)·P·R / (R + β²·P)`` with β = 1.2 (0 when P or R is 0). The
corpus score is ``numpy.mean`` of the image scores, as pycocoevalcap's.

The LCS is computed bit-parallel (Hyyrö's formulation of Allison–Dix: the candidate's token positions
as bits, one big-integer step per reference token); its length is the same integer as pycocoevalcap's dynamic programme, and the
score is the same float expression, so image scores are bitwise equal.

State: each image's candidate and references as given (as :class:`~evalkit.metrics.cider.CiderD`
keeps them): the PTB tokens of a caption can depend on the next caption of the tokeniser's input
(see :mod:`evalkit.metrics.ptb_tokenizer`), so tokens and image scores are derived once over the
whole state (cached) rather than per batch. A bootstrap resample is the mean of its images' scores.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

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


@METRICS.register("rouge")
class RougeL(CaptionMetric):
    """``ROUGE_L`` (0..1) of captions, pycocoevalcap's ``Rouge`` (LCS F-measure, β = 1.2, best reference).

    Option ``tokenizer``: ``python`` (default), ``java`` or ``none``, as for ``cider``.
    """

    name = "rouge"
    keys = ("ROUGE_L",)

    def derive(self, cands: list[str], refs: list[list[str]]) -> np.ndarray:
        return np.array([rouge_l_image(c, r) for c, r in zip(cands, refs)], dtype=np.float64)

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
