"""GPU check (issue 6): the 300k analogy search on CUDA gives the CPU engine's answers, in under 1 s on an H100.

Run from the repository root on a CUDA machine: ``python benchmarks/gpu_analogy_check.py``.
Exit status 0 when every answer matches; prints a small table of timings.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
# last, not first: asv imports this module with the others, and evalkit must come from the commit asv installed
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gen_analogy import google_questions_file, make_vectors  # noqa: E402


def main() -> int:
    import torch

    from evalkit.datasets.analogy import AnalogyQuestions
    from evalkit.vectors import WordVectors
    from evalkit.vectors.engine import AnalogySolver

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    words, matrix = make_vectors()
    vectors = WordVectors(words, matrix)
    questions = [q.words for q in AnalogyQuestions(google_questions_file()).questions]
    rows = []
    answers = {}
    for device in ("cuda", "cpu"):
        solver = AnalogySolver(vectors, 300_000, device=device, block_bytes=(2 << 30) if device == "cuda" else 256 << 20)
        if device == "cuda":
            solver._unit_matrix()
            solver.answer(questions[:512])  # warm-up: kernels, allocator
            torch.cuda.synchronize()
        start = time.perf_counter()
        answers[device] = [a.word for a in solver.answer(questions)]
        if device == "cuda":
            torch.cuda.synchronize()
        rows.append((device, time.perf_counter() - start, solver.exact_count))
    same = sum(x == y for x, y in zip(answers["cuda"], answers["cpu"]))
    print(f"{'device':8} {'seconds':>9} {'exact re-scores':>16}")
    for device, seconds, exact_count in rows:
        print(f"{device:8} {seconds:9.3f} {exact_count:16d}")
    print(f"same answer: {same}/{len(questions)}  GPU: {torch.cuda.get_device_name()}")
    ok = same == len(questions) and rows[0][1] < 1.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
