"""Google analogies (19,544 questions) by 3CosAdd: evalkit's GEMM engine vs gensim vs the bare GEMMs it needs.

gensim is timed at restrict_vocab=30,000 (≈50 s; 300,000 takes ≈7 min, measured by hand
and in tests/metrics/test_analogy_engine_scale.py), the bare GEMM too (its 300k run is
proportional: ``run_gemm`` can be timed by hand). The ``track_`` ratios are measured
in one process so that machine load affects both sides alike.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from gen_analogy import google_questions_file, make_vectors  # noqa: E402


def run_evalkit(vectors, questions, n: int):
    from evalkit.vectors.engine import AnalogySolver

    return AnalogySolver(vectors, n).answer(questions)


def run_gemm(vectors, questions, n: int) -> None:
    """The floor: the engine's query vectors times the unit vocabulary matrix, in the engine's blocks, nothing else."""
    import torch

    from evalkit.vectors import exact
    from evalkit.vectors.engine import AnalogySolver

    solver = AnalogySolver(vectors, n)
    unit = solver._unit_matrix()
    rows = np.array([solver.rows(q)[:3] for q in questions])
    for start in range(0, len(rows), solver.block):
        a, b, c = rows[start:start + solver.block].T
        torch.from_numpy(exact.cosadd_queries(solver.matrix, solver.norms, a, b, c)) @ unit.T


def run_gensim(kv, n: int):
    return kv.evaluate_word_analogies(str(google_questions_file()), restrict_vocab=n)


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


class AnalogyGoogle:
    timeout = 1800
    number = 1
    repeat = 1

    def setup(self):
        from evalkit.datasets.analogy import AnalogyQuestions
        from evalkit.vectors import WordVectors

        words, matrix = make_vectors()
        self.vectors = WordVectors(words, matrix)
        self.questions = [q.words for q in AnalogyQuestions(google_questions_file()).questions]

    def time_evalkit_30k(self):
        run_evalkit(self.vectors, self.questions, 30_000)

    def time_gemm_30k(self):
        run_gemm(self.vectors, self.questions, 30_000)

    def time_evalkit_300k(self):
        run_evalkit(self.vectors, self.questions, 300_000)

    def track_floor_ratio_30k(self):
        """evalkit time / bare GEMM time (issue 6: ≤ 1.3)."""
        return _timed(run_evalkit, self.vectors, self.questions, 30_000) / _timed(
            run_gemm, self.vectors, self.questions, 30_000)

    track_floor_ratio_30k.unit = "ratio"


class AnalogyGensim30k:
    timeout = 1800
    number = 1
    repeat = 1

    def setup(self):
        from gensim.models import KeyedVectors

        from evalkit.vectors import WordVectors

        words, matrix = make_vectors()
        self.vectors = WordVectors(words, matrix)
        self.kv = KeyedVectors(matrix.shape[1])
        self.kv.add_vectors(words, matrix)
        from evalkit.datasets.analogy import AnalogyQuestions

        self.questions = [q.words for q in AnalogyQuestions(google_questions_file()).questions]

    def time_gensim_30k(self):
        run_gensim(self.kv, 30_000)

    def track_speedup_vs_gensim_30k(self):
        """gensim time / evalkit time at restrict_vocab=30,000 (issue 6: ≥ 15)."""
        return _timed(run_gensim, self.kv, 30_000) / _timed(run_evalkit, self.vectors, self.questions, 30_000)

    track_speedup_vs_gensim_30k.unit = "ratio"
