"""Synthetic MT corpora for the BLEU benchmarks: a reference and noisy "systems" (fixed seeds)."""
from __future__ import annotations

import random

VOCAB = [f"w{i}" for i in range(2000)] + [",", ".", "!", "?", "Straße", "über", "l'homme", "3.5", "e-mail", "(", ")"]


def make_corpus(n_sentences: int = 3000, n_systems: int = 16, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    """``(references, systems)``: Zipf-ish words, 5–40 per sentence; system k drops/swaps/replaces words at rate ~k%."""
    rnd = random.Random(seed)
    weights = [1.0 / (i + 1) for i in range(len(VOCAB))]
    refs = [" ".join(rnd.choices(VOCAB, weights, k=rnd.randint(5, 40))) for _ in range(n_sentences)]
    systems = []
    for k in range(n_systems):
        noise = 0.1 + 0.02 * k
        hyps = []
        for ref in refs:
            words = [w if rnd.random() > noise else rnd.choice(VOCAB) for w in ref.split() if rnd.random() > noise / 3]
            if len(words) > 2 and rnd.random() < noise:
                i = rnd.randrange(len(words) - 1)
                words[i], words[i + 1] = words[i + 1], words[i]
            hyps.append(" ".join(words))
        systems.append(hyps)
    return refs, systems
