"""Reproducible VQA v2 val-scale inputs: 214,354 questions × 10 human answers and a results list.

Realistic where it matters for speed: answer types in VQA v2 val proportions (yes/no 38%,
number 12%, other 50%), Zipf-distributed answer vocabulary, unanimous and split questions,
and surface variants (case, articles, punctuation, number words) that force normalisation.
Cached as JSON under ``$EVALKIT_BENCH_CACHE`` (default ``~/.cache/evalkit-bench``).
"""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

VAL2014_QUESTIONS = 214_354
QUESTION_TYPES = ["how many", "is the", "what", "what color is the", "what is the", "is this", "are there",
                  "what kind of", "is there a", "what is", "does the", "which", "where is the", "why"]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
SYLLABLES = ["ba", "ko", "ri", "tem", "lo", "sun", "mar", "pe", "dri", "van", "cha", "ol", "nus", "ti", "gra"]


def cache_dir() -> Path:
    path = Path(os.environ.get("EVALKIT_BENCH_CACHE", Path.home() / ".cache" / "evalkit-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _vocabulary(rng: np.random.Generator, size: int = 4000) -> list[str]:
    words = set()
    while len(words) < size:
        n = int(rng.integers(1, 5))
        words.add("".join(rng.choice(SYLLABLES, size=n)))
    return sorted(words)


VARIANTS = (str.capitalize, lambda t: "the " + t, lambda t: t + ".", lambda t: t + "!",
            lambda t: NUMBER_WORDS[int(t)] if t.isdigit() and int(t) <= 10 else t,
            lambda t: t.replace(" ", "-"), lambda t: " " + t, lambda t: t.upper())


def generate(n: int = VAL2014_QUESTIONS, seed: int = 2017) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(annotations, results)`` in the official formats; every random draw is made up front in bulk."""
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng)
    zipf = 1.0 / np.arange(1, len(vocab) + 1) ** 1.1
    words = np.asarray(vocab, dtype=object)[rng.choice(len(vocab), size=(n, 3, 2), p=zipf / zipf.sum())]
    two_words = rng.random((n, 3)) < 0.3
    numbers = rng.integers(0, 12, size=(n, 3))
    kinds = rng.choice(3, size=n, p=[0.38, 0.12, 0.50])
    agreement = rng.random(n)
    majority = rng.random((n, 10)) < agreement[:, None]
    picks = rng.integers(0, 3, size=(n, 11))
    variant = np.where(rng.random((n, 11)) < np.r_[[0.08] * 10, 0.15], rng.integers(0, len(VARIANTS), (n, 11)), -1)
    confident = rng.random((n, 10)) < 0.8
    qtypes = rng.integers(0, len(QUESTION_TYPES), size=n)
    guess_majority = rng.random(n) < 0.6
    annotations, results = [], []
    for i in range(n):
        kind = int(kinds[i])
        if kind == 0:
            pool = ["yes", "no", "yes"]
        elif kind == 1:
            pool = [str(v) for v in numbers[i]]
        else:
            pool = [f"{a} {b}" if two else a for (a, b), two in zip(words[i], two_words[i])]
        texts = [pool[0] if majority[i, k] else pool[picks[i, k]] for k in range(10)]
        texts.append(pool[0] if guess_majority[i] else pool[picks[i, 10]])
        texts = [VARIANTS[v](t) if v >= 0 else t for t, v in zip(texts, variant[i].tolist())]
        qid = 1000 * (i // 3 + 1) + i % 3
        annotations.append({
            "question_id": qid, "image_id": i // 3 + 1,
            "answers": [{"answer": texts[k], "answer_confidence": "yes" if confident[i, k] else "maybe",
                         "answer_id": k + 1} for k in range(10)],
            "question_type": QUESTION_TYPES[int(qtypes[i])] if kind else "is the",
            "answer_type": ("yes/no", "number", "other")[kind], "multiple_choice_answer": pool[0],
        })
        results.append({"question_id": qid, "answer": texts[10]})
    return annotations, results


def cached(n: int = VAL2014_QUESTIONS, seed: int = 2017) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """:func:`generate`, written once to the cache (atomically) and read back afterwards."""
    path = cache_dir() / f"vqa_{n}_{seed}.json.gz"
    if not path.exists():
        annotations, results = generate(n, seed)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump({"annotations": annotations, "results": results}, f)
        os.replace(tmp, path)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    return data["annotations"], data["results"]
