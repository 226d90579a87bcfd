"""Batched 3CosAdd / 3CosMul analogy search that chooses exactly gensim's answer for every question.

Questions are scored against the (restricted) vocabulary in large float32 GEMMs
(torch, on CPU or GPU). Float32 sums in another order differ from gensim's by a
few ulps, so the GEMM only nominates candidates: each question's best rows are
re-scored in float64 with a rigorous bound on how far gensim's float32 value can
lie, and when two rows that decide the answer cannot be ordered within those
bounds (exact ties included) the question is recomputed exactly as gensim does.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.types import AnalogyAnswer
from evalkit.vectors import exact, factored
from evalkit.vectors.readers import WordVectors

METHODS = ("3cosadd", "3cosmul")
#: candidate search: one GEMM per question block, or the factored cosines of the question words
SEARCHES = ("auto", "gemm", "factored")
_U = 2.0 ** -24  # float32 unit roundoff
#: candidates taken from the GEMM per question
_TOPK = 10


@dataclass
class Answer:
    """The chosen row (None: nothing left to choose) for one in-vocabulary question."""

    row: int | None
    exact: bool  # True when the exact (gensim-order) path settled it


class AnalogySolver:
    """Gensim's ``evaluate_word_analogies`` search over the first ``restrict_vocab`` words."""

    def __init__(self, vectors: WordVectors, restrict_vocab: int | None = 300000, case_insensitive: bool = True,
                 method: str = "3cosadd", device: str = "cpu", block_bytes: int = 256 << 20, search: str = "auto"):
        if method not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}", field="method")
        if search not in SEARCHES:
            raise InputError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}", field="search")
        if search == "factored" and not (factored.available and device == "cpu"):
            raise InputError("search: factored needs numba and device: cpu", field="search")
        self.search = search
        n = len(vectors) if restrict_vocab is None else min(int(restrict_vocab), len(vectors))
        self.method, self.device, self.case_insensitive = method, device, case_insensitive
        self.words = vectors.words
        self.matrix = vectors.matrix[:n]
        self.norms = np.linalg.norm(self.matrix, axis=1)
        self.keys = [w.upper() for w in self.words[:n]] if case_insensitive else list(self.words[:n])
        self.vocab: dict[str, int] = {}
        for row, key in enumerate(self.keys):
            self.vocab.setdefault(key, row)  # the first (most frequent) casing wins
        #: each row's key as the row of its first casing (equal keys, equal numbers)
        self._key_rows = np.array([self.vocab[key] for key in self.keys], dtype=np.int64)
        self.block = max(1, block_bytes // max(1, 4 * n))
        self._unit = None
        self._raw = None
        d = self.matrix.shape[1]
        self._gamma = d * _U / (1 - d * _U)
        #: bound on |GEMM score − gensim score| for one cosine (both within gamma of the exact value)
        self._cos_err = 2.2 * self._gamma + 8 * _U
        self.exact_count = 0
        self._finite: bool | None = None

    def key(self, word: str) -> str:
        return word.upper() if self.case_insensitive else word

    def rows(self, words: Sequence[str]) -> list[int] | None:
        """Vocabulary rows of ``words``, or None when one is out of the restricted vocabulary."""
        get = self.vocab.get
        rows = [get(w.upper()) for w in words] if self.case_insensitive else [get(w) for w in words]
        return None if None in rows else rows  # type: ignore[return-value]

    def _unit_matrix(self):
        import torch

        if self._unit is None:
            unit = self.matrix / np.where(self.norms > 0, self.norms, 1)[:, None]
            self._unit = torch.from_numpy(np.ascontiguousarray(unit, dtype=np.float32)).to(self.device)
        return self._unit

    def answer(self, questions: Sequence[Sequence[str]]) -> list[AnalogyAnswer]:
        """Answers to ``(a, b, c, expected)`` word questions; out-of-vocabulary ones are skipped."""
        rows = [self.rows(q) for q in questions]
        known = [r[:3] for r in rows if r is not None]
        solved = iter(self.solve(known))
        out = []
        for r in rows:
            if r is None:
                out.append(AnalogyAnswer(None, True, self.case_insensitive))
                continue
            row = next(solved).row
            out.append(AnalogyAnswer(None if row is None else self.words[row], False, self.case_insensitive))
        return out

    def solve(self, questions: Sequence[tuple[int, int, int]]) -> list[Answer]:
        """Gensim's chosen row for each question given as in-vocabulary rows ``(a, b, c)``."""
        rows = np.asarray(questions, dtype=np.int64).reshape(-1, 3)
        out: list[Answer] = []
        if self._use_factored(rows):
            queries = self._queries(rows)
            cand, outside = factored.candidates(
                self._unit_matrix().numpy(), rows, queries if self.method == "3cosadd" else None, _TOPK,
                self._cos_err, self._gamma)
            step = max(self.block, 4096)
            for start in range(0, len(rows), step):
                part = slice(start, start + step)
                out.extend(self._settle(rows[part], queries[part], cand[part], outside[part]))
            return out
        for start in range(0, len(rows), self.block):
            q = rows[start:start + self.block]
            queries = self._queries(q)
            out.extend(self._settle(q, queries, *self._candidates(queries)))
        return out

    def _use_factored(self, rows: np.ndarray) -> bool:
        """The factored search pays off when questions share words (the Google set: 19,544 on ~900 words).

        It runs on CPU with numba and finite vectors (its kernel assumes no NaN); the GPU keeps one
        GEMM per question block.
        """
        if self.search == "gemm" or not len(rows):
            return False
        if self.search == "auto" and not (factored.available and self.device == "cpu"
                                          and len(np.unique(rows)) <= len(rows)):
            return False
        if self._finite is None:
            self._finite = bool(np.isfinite(self.matrix).all() and np.isfinite(self.norms).all())
        return self._finite

    def _queries(self, q: np.ndarray) -> np.ndarray:
        a, b, c = q[:, 0], q[:, 1], q[:, 2]
        if self.method == "3cosadd":
            return exact.cosadd_queries(self.matrix, self.norms, a, b, c)
        return np.stack([exact.unit_rows(self.matrix, self.norms, r) for r in (b, c, a)], axis=1)

    def _settle(self, q: np.ndarray, queries: np.ndarray, cand: np.ndarray, outside: np.ndarray) -> list[Answer]:
        """Each question's answer from its GEMM candidates, or from the exact path when they cannot decide."""
        lo, hi, mid = self._rescore(queries, cand)
        order = np.argsort(-mid, axis=1, kind="stable")
        take = lambda x: np.take_along_axis(x, order, axis=1)  # noqa: E731
        ranked, lo, hi = take(cand), take(lo), take(hi)
        winner, settled = self._settled_winners(q, ranked, lo, hi, outside)
        out = []
        for i in range(len(q)):
            if settled[i]:
                out.append(Answer(int(ranked[i, winner[i]]), False))
                continue
            self.exact_count += 1
            qrows = q[i].tolist()
            scores = exact.exact_scores(self.matrix, self.norms, self.method, queries[i])
            ignore = {self.keys[r] for r in qrows}
            out.append(Answer(exact.choose(exact.ranked(scores).tolist(), qrows, ignore, self.keys)[0], True))
        return out

    def _settled_winners(self, q: np.ndarray, ranked: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                         outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :func:`exact.choose` for the usual case, and whether its order is certain.

        The winner is the first candidate among gensim's ``RANKED`` that is neither a question row
        nor, by key, a question word, within the first ``KEPT`` non-question rows. Its choice is
        certain when every candidate up to it beats all later candidates and every row the GEMM did
        not nominate. Other cases (no such winner, overlap, NaN) are left to the exact path.
        """
        k = ranked.shape[1]
        pos = np.arange(k)[None, :]
        key = self._key_rows[ranked]
        a, b, c = (q[:, j:j + 1] for j in range(3))
        question = (ranked == a) | (ranked == b) | (ranked == c)
        variant = (key == a) | (key == b) | (key == c)  # a, b, c are the first-casing rows of their keys
        kept_rank = np.cumsum(~question, axis=1)
        eligible = ~variant & (kept_rank <= exact.KEPT) & (pos < exact.RANKED)
        has = eligible.any(axis=1)
        winner = np.argmax(eligible, axis=1)
        later = np.maximum.accumulate(hi[:, ::-1], axis=1)[:, ::-1]
        beaten = np.concatenate([later[:, 1:], np.full((len(q), 1), -np.inf)], axis=1)
        with np.errstate(invalid="ignore"):
            certain = lo > np.maximum(beaten, outside[:, None])
        prefix = np.cumprod(certain, axis=1).astype(bool)
        settled = has & prefix[np.arange(len(q)), winner]
        return winner, settled

    def _candidates(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The best GEMM rows per question, and a bound on gensim's score of every other row."""
        import torch

        unit = self._unit_matrix()
        k = min(_TOPK, unit.shape[0])
        e = self._cos_err
        with _exact_fp32(torch), torch.inference_mode():
            x = torch.from_numpy(queries).to(self.device)
            if self.method == "3cosadd":
                top = torch.topk(x @ unit.T, k, dim=1)
                outside = top.values[:, -1] + e
            else:
                sb, sc, sa = (x[:, j] @ unit.T for j in range(3))
                top = torch.topk(_cosmul_bound(sb + e, sc + e, sa - e) * (1 + 64 * _U), k, dim=1)
                outside = top.values[:, -1]
            if k == unit.shape[0]:
                outside = torch.full_like(outside, -float("inf"))
            return top.indices.cpu().numpy(), outside.cpu().numpy().astype(np.float64)

    def _rescore(self, queries: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Float64 scores of the candidates with an interval that surely holds gensim's float32 value.

        Gensim's float32 dot product lies within gamma_D * sum|v_j m_j| <= gamma_D * |v| |m| of the exact
        one (any summation order, FMA or not); its division adds one rounding. The float64 cosines come
        from a numba kernel on CPU and from torch on a GPU: either is accurate to far below these bounds.
        """
        import torch

        eps = float(exact.COSMUL_EPS)
        with torch.inference_mode():
            g = self._gamma * (1 + 1e-4)  # 1e-4: float32 norms vs exact ones
            terms = torch.from_numpy(queries).to(self.device).double()
            if self.device == "cpu" and factored.available:
                dots = torch.from_numpy(factored.candidate_cosines(self.matrix, self.norms, cand, queries))
            else:
                raw, norms_t = self._raw_matrix()
                idx = torch.from_numpy(cand).to(self.device)
                rows = raw[idx].double()  # (q, k, d)
                norms = norms_t[idx].double()
                dots = torch.einsum("qkd,qjd->jqk", rows, terms.reshape(len(cand), -1, rows.shape[-1])) / norms
            if self.method == "3cosadd":
                dot = dots[0]
                err = g * torch.linalg.vector_norm(terms, dim=1)[:, None] + 2 * _U * dot.abs() + 1e-12
                return tuple(t.cpu().numpy() for t in (dot - err, dot + err, dot))  # type: ignore[return-value]
            errs = g * torch.linalg.vector_norm(terms, dim=2).T[:, :, None] + 2 * _U * dots.abs() + 1e-12
            mid = _cosmul_bound(dots[0], dots[1], dots[2])
            slack = 16 * _U * mid.abs()  # the few float32 roundings of gensim's formula
            lo = _cosmul_bound(dots[0] - errs[0], dots[1] - errs[1], dots[2] + errs[2]) - slack
            hi = _cosmul_bound(dots[0] + errs[0], dots[1] + errs[1], dots[2] - errs[2]) + slack
            bad = (1 + dots[2] - errs[2]) / 2 + eps <= 0
            lo, hi = lo.masked_fill(bad, -float("inf")), hi.masked_fill(bad, float("inf"))
            return lo.cpu().numpy(), hi.cpu().numpy(), mid.cpu().numpy()

    def _raw_matrix(self):
        """The float32 vectors and gensim's norms as torch tensors on the engine's device (shared on CPU)."""
        import torch

        if self._raw is None:
            self._raw = (torch.from_numpy(self.matrix).to(self.device), torch.from_numpy(self.norms).to(self.device))
        return self._raw


def _cosmul_bound(b, c, a):
    """3CosMul of torch tensors, factors clamped at zero: monotone in each cosine, so it bounds intervals."""
    denom = ((1 + a) / 2).clamp_min(0) + float(exact.COSMUL_EPS)
    return (1 + b).clamp_min(0) / 2 * ((1 + c).clamp_min(0) / 2) / denom


@contextlib.contextmanager
def _exact_fp32(torch):
    """Plain float32 matmuls (no TF32) while the engine runs on a GPU."""
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old
