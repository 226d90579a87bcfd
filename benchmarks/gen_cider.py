"""Issue 6's CIDEr-D workload: images x (5 references + 1 candidate), ~10 words, Zipfian 10k vocabulary."""
from __future__ import annotations

import numpy as np


def make_captions(n_images: int = 5000, n_refs: int = 5, vocab: int = 10_000, seed: int = 6):
    """``(refs {image: [captions]}, cands {image: caption})`` of sentence-cased captions ending in a period."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()

    def caption() -> str:
        text = " ".join(words[i] for i in rng.choice(vocab, size=int(rng.integers(7, 14)), p=p))
        return text[0].upper() + text[1:] + "."

    refs = {str(i): [caption() for _ in range(n_refs)] for i in range(n_images)}
    cands = {str(i): caption() for i in range(n_images)}
    return refs, cands
