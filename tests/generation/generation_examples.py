"""Metric-contract examples for fid, kid, isc, precision-recall, fd-dinov2 and ppl: synthetic features, reference files in a temp dir."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

_DIR: list[Path] = []


def _reference(name: str, features: np.ndarray) -> Path:
    if not _DIR:
        _DIR.append(Path(tempfile.mkdtemp(prefix="evalkit-gen-examples-")))
    path = _DIR[0] / f"{name}.npz"
    if not path.exists():
        np.savez(path, features=features.astype(np.float32))
    return path


def _pointers(dims: int, n_ref: int = 90) -> dict[str, Any]:
    from evalkit.features.reference import reference_pointer

    out = {}
    for i, mode in enumerate(("pytorch-fid", "tf", "clean")):
        rng = np.random.default_rng(100 + i)
        features = rng.normal(0.3 * i, 1.0, size=(n_ref, dims))
        for layer in (str(dims),):
            key = f"inception/{mode}:{layer}"
            out[key] = reference_pointer(_reference(f"{mode}-{layer}-{n_ref}", features), "features", None, key, n_ref)
    return out


def _dinov2_pointers(dims: int = 384, n_ref: int = 40) -> dict[str, Any]:
    from evalkit.features.reference import reference_pointer

    out = {}
    for i, arch in enumerate(("vits14", "vitb14")):  # synthetic: both of the example's size, so arch can change
        key = f"dinov2/dgm-eval:{arch}"
        features = np.random.default_rng(9 + i).normal(0.2 * i, 1.0, size=(n_ref, dims))
        out[key] = reference_pointer(_reference(f"dinov2-{arch}-{n_ref}", features), "features", None, key, n_ref)
    return out


def generation_examples(example_cls: Any) -> dict[str, Callable[[], Any]]:
    def samples(n: int, dims: int, seed: int) -> list[tuple[np.ndarray, None, str]]:
        values = np.random.default_rng(seed).normal(0.1, 1.1, size=(n, dims)).astype(np.float32)
        return [(values[i], None, f"seed{i}") for i in range(n)]

    return {
        "fid": lambda: example_cls(samples(80, 64, 1), options={"dims": 64}, changed={"mode": "tf"},
                                   meta={"reference": _pointers(64)}, batch=np.stack),
        "kid": lambda: example_cls(samples(40, 64, 2), options={"dims": 64, "subset_size": 20, "subsets": 10},
                                   changed={"seed": 7}, meta={"reference": _pointers(64)}, batch=np.stack),
        "isc": lambda: example_cls(samples(40, 30, 3), changed={"splits": 4}, batch=np.stack),
        "precision-recall": lambda: example_cls(samples(40, 64, 4), options={"dims": 64}, changed={"neighborhood": 6},
                                                meta={"reference": _pointers(64)}, batch=np.stack),
        "fd-dinov2": lambda: example_cls(samples(30, 384, 6), options={"arch": "vits14"},
                                         changed={"arch": "vitb14"}, meta={"reference": _dinov2_pointers()}, batch=np.stack),
        "ppl": lambda: example_cls([(float(d), None, f"seed{i}") for i, d in
                                    enumerate(np.random.default_rng(5).lognormal(3, 1, size=60))],
                                   changed={"discard_lower": 10}, batch=np.array),
    }
