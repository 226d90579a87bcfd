"""ImageNet label files shared by the loaders and the metrics: the 1000 classes, the 200-class subsets of
ImageNet-A and ImageNet-R, and the ReaL label sets (Beyer et al. 2020).

They live below datasets and metrics because both need them: a loader maps folder names to class indices,
the ``topk`` metric restricts logits to a subset, the ``real-topk`` metric checks predictions against ReaL sets.
"""
from __future__ import annotations

import csv
import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from evalkit.errors import InputError, MissingResourceError

#: named class subsets → the package file of their wnids (the files timm ships as ``imagenet_[ar]_synsets.txt``)
SUBSET_FILES = {"imagenet-a": "imagenet_a_wnids.txt", "imagenet-r": "imagenet_r_wnids.txt"}
BUNDLED_REAL = "imagenet_real_labels.json"
NUM_VAL_IMAGES = 50_000


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[tuple[str, int, str], ...]:
    """The 1000 ILSVRC2012 classes as (wnid, devkit id, name), in sorted-wnid (timm/torchvision) order."""
    text = resources.files("evalkit.data").joinpath("imagenet_classes.tsv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()[1:], delimiter="\t"))
    return tuple((wnid, int(devkit_id), name) for _, wnid, devkit_id, name in rows)


def wnid_index() -> dict[str, int]:
    return {wnid: i for i, (wnid, _, _) in enumerate(imagenet_classes())}


@lru_cache(maxsize=None)
def class_subset(name: str) -> tuple[int, ...]:
    """The 1000-class indices of a named subset, ascending: what timm's ``--valid-labels`` file lists."""
    if name not in SUBSET_FILES:
        raise InputError(f"unknown class subset {name!r} (known: {', '.join(sorted(SUBSET_FILES))})",
                         field="class_subset")
    index = wnid_index()
    wnids = resources.files("evalkit.data").joinpath(SUBSET_FILES[name]).read_text(encoding="utf-8").split()
    return tuple(sorted(index[w] for w in wnids))


@lru_cache(maxsize=None)
def subset_wnids(name: str) -> frozenset[str]:
    wnids = [w for w, _, _ in imagenet_classes()]
    return frozenset(wnids[i] for i in class_subset(name))


def real_labels_path(path: str | Path | None) -> Path:
    """The ReaL file to read: ``path``, or the copy of ``real.json`` shipped in evalkit/data."""
    if path is None:
        return Path(str(resources.files("evalkit.data").joinpath(BUNDLED_REAL)))
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"ReaL labels file not found: {path.resolve()} (the real.json of "
                                   "google-research/reassessed-imagenet; omit real_labels to use the bundled copy)")
    return path


@lru_cache(maxsize=4)
def read_real_labels(path: Path) -> tuple[tuple[tuple[int, ...], ...], str]:
    """The label sets of ``real.json`` (one list per val image, in file-name order) and the file's SHA-256."""
    data = path.read_bytes()
    try:
        sets = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"not a JSON file: {err}", file=path) from None
    if not isinstance(sets, list):
        raise InputError(f"expected a JSON list of label lists (one per val image), got {type(sets).__name__}",
                         file=path)
    out = []
    for i, labels in enumerate(sets):
        if not isinstance(labels, list) or not all(type(x) is int and 0 <= x < 1000 for x in labels):
            raise InputError(f"expected a list of class indices 0..999, got {labels!r}", file=path,
                             record=f"{i} ({real_file_name(i)})")
        out.append(tuple(labels))
    return tuple(out), hashlib.sha256(data).hexdigest()


def real_file_name(position: int) -> str:
    """The val image whose label set is at ``position`` of real.json (0 → ILSVRC2012_val_00000001.JPEG)."""
    return f"ILSVRC2012_val_{position + 1:08d}.JPEG"
