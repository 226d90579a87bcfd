"""ROUGE-L as pycocoevalcap's ``Rouge`` computes it (the COCO caption table's ``ROUGE_L``).

Per image: the candidate and each reference are PTB-tokenised (as for CIDEr-D) and split on single
spaces (``str.split(" ")``, so an empty caption is one empty token, as in pycocoevalcap); the
longest common subsequence of the candidate with each reference gives a precision ``lcs/len(cand)``
and a recall ``lcs/len(ref)``; with the best precision ``P`` and the best recall ``R`` over the
references, the image scores ``(1 + β²)·P·R / (R + β²·P)`` with β = 1.2 (0 when P or R is 0). The
corpus score is ``numpy.mean`` of the image scores, as pycocoevalcap's.

The LCS is computed bit-parallel (Hyyrö's formulation of Allison–Dix, one big-integer step per
candidate token); its length is the same integer as pycocoevalcap's dynamic programme, and the
score is the same float expression, so image scores are bitwise equal.

State: each image's candidate and references as given (as :class:`~evalkit.metrics.cider.CiderD`
keeps them): the PTB tokens of a caption can depend on the next caption of the tokeniser's input
(see :mod:`evalkit.metrics.ptb_tokenizer`), so tokens and image scores are derived once over the
whole state (cached) rather than per batch. A bootstrap resample is the mean of its images' scores.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.metrics.ptb_tokenizer import tokenize
from evalkit.metrics.state import Column
from evalkit.registry import METRICS

TOKENIZERS = ("python", "java", "none")
BETA = 1.2


class CaptionMetric(Metric):
    """Shared by caption metrics scored per image: state, input checks, tokenisation (as ``CiderD``)."""

    state = {"candidate": Column(), "references": Column()}
    defaults = {"tokenizer": "python"}
    reference = "pycocoevalcap"

    def __init__(self, **options: Any):
        super().__init__(**options)
        if self.options["tokenizer"] not in TOKENIZERS:
            raise InputError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {self.options['tokenizer']!r}",
                             field="tokenizer")
        self.tokenizer = self.options["tokenizer"]

    def reset_caches(self) -> None:
        self._derived: tuple[int, Any] | None = None

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        from evalkit.metrics.cider import caption_text

        predictions, targets = list(predictions), list(targets)
        if len(predictions) != len(targets):
            raise InputError(f"{len(predictions)} captions but {len(targets)} reference lists")
        ids = [str(i) for i in ids] if ids is not None else self.default_ids(len(predictions))
        cands, all_refs = [], []
        for sample_id, prediction, refs in zip(ids, predictions, targets):
            if isinstance(refs, str) or not refs:
                raise InputError("every image needs a non-empty list of reference captions", record=sample_id,
                                 field="references")
            cands.append(caption_text(prediction, sample_id))
            all_refs.append([caption_text(r, sample_id) for r in refs])
        self.add(ids, candidate=cands, references=all_refs)

    def tokenized(self) -> tuple[list[str], list[list[str]]]:
        """Candidates and references tokenised as pycocoevalcap does: the candidates as one input, the
        references as another, each in state order."""
        cands, refs = list(self.column("candidate")), self.column("references")
        flat = [r for rs in refs for r in rs]
        if self.tokenizer != "none":
            cands, flat = tokenize(cands, self.tokenizer), tokenize(flat, self.tokenizer)
        out, at = [], 0
        for rs in refs:
            out.append(flat[at : at + len(rs)])
            at += len(rs)
        return cands, out

    def derived(self) -> Any:
        """What :meth:`derive` computes from the whole state, once per state version."""
        version = self._state.version
        if self._derived is None or self._derived[0] != version:
            self._derived = (version, self.derive(*self.tokenized()))
        return self._derived[1]

    def derive(self, cands: list[str], refs: list[list[str]]) -> Any:
        raise NotImplementedError

    def extras(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, "num_images": self.num_samples()}


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (bit-parallel, exact)."""
    if len(a) < len(b):
        a, b = b, a
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l_image(candidate: str, references: Sequence[str], beta: float = BETA) -> float:
    """pycocoevalcap's ``Rouge.calc_score`` for one tokenised candidate and its tokenised references."""
    token_c = candidate.split(" ")
    prec, rec = [], []
    for reference in references:
        token_r = reference.split(" ")
        lcs = lcs_length(token_r, token_c)
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
    main_key = "ROUGE_L"

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
