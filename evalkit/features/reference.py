"""Reference sets: statistics files (pytorch-fid ``.npz``) and image sets whose features are cached.

Features of a reference image set are computed once per (file list, extractor signature, layer) and
kept in ``$EVALKIT_CACHE/reference-features`` (default ``~/.cache/evalkit``). Metrics keep only a small
pointer to the file in their state (path, SHA-256, extractor signature), so shards, records and
``evalkit rescore`` never copy 50,000 reference features.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.digest import file_sha256


def cache_root(folder: str | Path | None = None) -> Path:
    if folder:
        return Path(folder).expanduser()
    base = os.environ.get("EVALKIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "evalkit")
    return Path(base) / "reference-features"


def is_stats_file(path: str | Path) -> bool:
    return str(path).lower().endswith(".npz")


def read_stats(path: str | Path, dims: int | None = None, extractor: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``mu`` and ``sigma`` of a pytorch-fid statistics file, checked; errors name the file and the key."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"statistics file not found: {path.resolve()}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as err:
        raise InputError(f"not a readable .npz statistics file: {err}", file=path) from None
    for key in ("mu", "sigma"):
        if key not in arrays:
            raise InputError(f"statistics file has no {key!r} array (pytorch-fid's format: mu, sigma)", file=path,
                             field=key)
    mu, sigma = arrays["mu"], arrays["sigma"]
    if mu.ndim != 1 or not np.issubdtype(mu.dtype, np.floating):
        raise InputError(f"'mu' must be a 1-D float array, got {mu.dtype} {mu.shape}", file=path, field="mu")
    if sigma.shape != (mu.shape[0], mu.shape[0]) or not np.issubdtype(sigma.dtype, np.floating):
        raise InputError(f"'sigma' must be a {mu.shape[0]}×{mu.shape[0]} float array to match 'mu', got "
                         f"{sigma.dtype} {sigma.shape}", file=path, field="sigma")
    if dims is not None and mu.shape[0] != dims:
        raise InputError(f"'mu' has {mu.shape[0]} dimensions, the run's features {dims}", file=path, field="mu")
    if extractor is not None and "extractor" in arrays and str(arrays["extractor"]) != extractor:
        raise InputError(f"statistics were computed with extractor {str(arrays['extractor'])!r}, this run uses "
                         f"{extractor!r}", file=path, field="extractor")
    return mu, sigma


def save_stats(path: str | Path, mu: np.ndarray, sigma: np.ndarray, extractor: str | None = None) -> Path:
    """pytorch-fid's format (``np.savez_compressed(mu=, sigma=)``), plus the extractor signature."""
    path = Path(path).expanduser()
    extra = {"extractor": np.array(extractor)} if extractor else {}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, mu=mu, sigma=sigma, **extra)
    os.replace(tmp, path)
    return path


def _features_file(root: Path, fingerprint: str, signature: str, key: str) -> Path:
    digest = hashlib.sha256(f"{fingerprint}\n{signature}\n{key}".encode()).hexdigest()[:32]
    return root / f"{digest}.npz"


def reference_pointer(path: Path, kind: str, extractor: str | None, key: str, count: int | None) -> dict[str, Any]:
    """The small JSON value a metric keeps in its state to find its reference."""
    return {"file": str(path.resolve()), "sha256": file_sha256(path), "kind": kind, "extractor": extractor,
            "feature_key": key, "num_samples": count}


def prepare_reference(source: str | Path, extractor: Any, keys: Sequence[str] | None = None,
                      cache_dir: str | Path | None = None, batch_size: int = 50, workers: int = 0,
                      skip_corrupt: bool = False, progress: bool = False, ctx: Any = None,
                      split: Callable[[int, int, int], Sequence[int]] | None = None) -> dict[str, dict[str, Any]]:
    """``{feature key: pointer}`` for a reference set, computing and caching missing features once.

    In a process group (``ctx``, a :class:`evalkit.distributed.DistContext`) each rank extracts its part
    ``split(n, rank, world)`` of the images (the runs' contiguous split), rank 0 joins the parts in rank order
    (the listing order: the features a single process computes) and writes the cache; the others wait for it.
    """
    from evalkit.features.extract import extract_image_set
    from evalkit.features.images import ImageSet

    keys = list(keys or extractor.keys())
    mode_of = {k: k.split("/", 1)[1].split(":", 1)[0] for k in keys}
    if is_stats_file(source):
        out = {}
        for key in keys:
            dims = extractor.feature_dims(key)
            if dims is None:
                raise InputError(f"feature {key!r} needs reference images; a statistics file only has mu and sigma",
                                 file=source)
            read_stats(source, dims, extractor.signature(mode_of[key]))
            out[key] = reference_pointer(Path(source).expanduser(), "stats", None, key, None)
        return out
    images = ImageSet(source)
    root = cache_root(cache_dir)
    fingerprint = images.fingerprint()
    files = {k: _features_file(root, fingerprint, extractor.signature(mode_of[k]), k) for k in keys}
    missing = [k for k, f in files.items() if not f.is_file()]
    def write(extracted: Any) -> None:
        root.mkdir(parents=True, exist_ok=True)
        for key in missing:
            tmp = files[key].with_name(files[key].name + ".tmp.npz")
            np.savez(tmp, features=extracted.features[key], extractor=np.array(extractor.signature(mode_of[key])),
                     feature_key=np.array(key), source=np.array(str(images.path.resolve())),
                     skipped=np.array(len(extracted.skipped)))
            os.replace(tmp, files[key])

    if missing and ctx is None:
        write(extract_image_set(images, extractor, batch_size, workers, skip_corrupt, progress=progress))
    elif missing:
        from evalkit import distributed
        from evalkit.features.extract import join_extracted

        mine = split(len(images), ctx.rank, ctx.world_size) if split is not None else range(len(images))
        parts = distributed.gather_to_main(
            ctx, lambda: extract_image_set(images, extractor, batch_size, workers, skip_corrupt, mine, progress))
        distributed.share_from_main(ctx, lambda: write(join_extracted(parts)))
    out = {}
    for key, path in files.items():
        features = load_reference_arrays(path)["features"]
        out[key] = reference_pointer(path, "features", extractor.signature(mode_of[key]), key, len(features))
    return out


_LOADED: dict[str, dict[str, np.ndarray]] = {}


def load_reference_arrays(path: str | Path, sha256: str | None = None) -> dict[str, np.ndarray]:
    """The arrays of a reference file (cached per content hash in this process)."""
    path = Path(path)
    if not path.is_file():
        raise MissingResourceError(f"reference file not found: {path} (recompute it by running with the reference "
                                   "set, or pass the statistics file)")
    digest = file_sha256(path)
    if sha256 is not None and digest != sha256:
        raise InputError(f"reference file changed since the run (sha256 {digest[:16]}…, expected {sha256[:16]}…)",
                         file=path)
    if digest not in _LOADED:
        with np.load(path, allow_pickle=False) as data:
            _LOADED[digest] = {name: data[name] for name in data.files}
    return _LOADED[digest]


def reference_of(pointer: Mapping[str, Any] | None, what: str) -> dict[str, np.ndarray]:
    """What a metric needs from its reference pointer: ``features``, or ``mu``/``sigma`` (from either kind)."""
    if not pointer:
        raise InputError("this metric has no reference set: give the data set a 'reference' (an image folder, a zip, "
                         "or a .npz of statistics)", field="reference")
    arrays = load_reference_arrays(pointer["file"], pointer.get("sha256"))
    if what == "features":
        if pointer.get("kind") != "features":
            raise InputError("this metric needs reference images, not a statistics file (mu, sigma)",
                             file=pointer["file"])
        return {"features": arrays["features"]}
    if pointer.get("kind") == "stats":
        mu, sigma = read_stats(pointer["file"])
        return {"mu": mu, "sigma": sigma}
    key = f"{pointer['file']}:stats"
    if key not in _LOADED:
        from evalkit.features.frechet import statistics

        tf = ":" in str(pointer.get("feature_key")) and "/tf:" in str(pointer.get("feature_key"))
        mu, sigma = statistics(arrays["features"], "float32" if tf else "float64")
        _LOADED[key] = {"mu": mu, "sigma": sigma}
    return dict(_LOADED[key], num_samples=len(arrays["features"]))
