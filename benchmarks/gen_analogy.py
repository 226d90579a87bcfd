"""Issue 6's analogy workload: 300,000 × 300 float32 vectors whose first 30,000 words hold every Google question word.

Cached under benchmarks/.cache (regenerated when missing); the rows are random normal
vectors (fixed seed), so answers are arbitrary but near-ties are as common as in real data.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
N_WORDS, DIM, SEED = 300_000, 300, 6


def google_questions_file() -> Path:
    """The bundled quickstart copy (no gensim needed on a GPU machine), else the one gensim ships."""
    bundled = Path(__file__).resolve().parents[1] / "data" / "quickstart" / "analogy" / "questions-words.txt"
    if bundled.is_file():
        return bundled
    from gensim.test.utils import datapath

    return Path(datapath("questions-words.txt"))


def question_words(path: Path) -> list[str]:
    """Distinct words of a questions-words.txt file, in first-seen order."""
    seen: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith(": "):
            for word in line.split():
                seen.setdefault(word)
    return list(seen)


def make_vectors(n_words: int = N_WORDS, dim: int = DIM, seed: int = SEED) -> tuple[list[str], np.ndarray]:
    """``(words, matrix)``; cached as ``.npy`` + ``.txt`` so every benchmark process reads the same data."""
    stem = CACHE / f"analogy_{n_words}x{dim}_s{seed}"
    words_file, matrix_file = stem.with_suffix(".words.txt"), stem.with_suffix(".npy")
    if words_file.is_file() and matrix_file.is_file():
        return words_file.read_text(encoding="utf-8").split("\n"), np.load(matrix_file)
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n_words)]
    google = question_words(google_questions_file())
    slots = rng.choice(min(30_000, n_words), size=len(google), replace=False)
    for slot, word in zip(slots, google):
        words[slot] = word
    matrix = rng.standard_normal((n_words, dim), dtype=np.float32)
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n", encoding="utf-8")
    for path, write in ((words_file, lambda p: p.write_text("\n".join(words), encoding="utf-8")),
                        (matrix_file, lambda p: np.save(p, matrix))):
        tmp = path.with_name(path.name + ".tmp" + path.suffix)
        write(tmp)
        tmp.replace(path)
    return words, matrix
