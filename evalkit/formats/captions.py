"""Caption files: references (COCO captions JSON, Karpathy ``dataset_coco.json``, ``{image: [captions]}``)
and results (COCO results ``[{"image_id", "caption"}]`` or ``{image_id: caption}``).

Image ids become string keys; every error names the file, the record and the field.
"""
from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

from evalkit import jsonio
from evalkit.errors import InputError


def _load_json(path: Path) -> Any:
    return jsonio.read_json(path, "caption file")


def _caption(value: Any, path: Path, record: object) -> str:
    if not isinstance(value, str):
        raise InputError(f"caption must be a string, got {type(value).__name__}", file=path, record=record,
                         field="caption")
    return value


def _image_id(value: Any, path: Path, record: object, field: str) -> str:
    """An image id as a string key: an integer or a non-empty string (a float such as 1.0 would become a
    second image "1.0" beside "1", a list or an object has no key at all)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        raise InputError(f"image id must be an integer or a non-empty string, got {type(value).__name__} "
                         f"{json.dumps(value)}",
                         file=path, record=record, field=field)
    return str(value)


def _coco_references(data: dict, path: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """captions_val2014.json: every annotation must name an image of ``images`` (when the file lists any)."""
    images, annotations = data.get("images", []), data["annotations"]
    for field, value in (("images", images), ("annotations", annotations)):
        if not isinstance(value, list):
            raise InputError(f"'{field}' must be a list, got {type(value).__name__}", file=path, field=field)
    return _well_formed_coco_references(images, annotations) or _checked_coco_references(images, annotations, path)


def _well_formed_coco_references(images: list, annotations: list) -> tuple[dict[str, list[str]], dict[str, str]] | None:
    """What :func:`_checked_coco_references` returns, checked in bulk (a pass per field, not a call per record);
    None when anything is amiss, for that function to name the record."""
    try:
        image_ids = [image["id"] for image in images]
        names = [str(image.get("file_name", "")) for image in images]
        ann_ids = [ann["image_id"] for ann in annotations]
        captions = [ann["caption"] for ann in annotations]
    except (TypeError, KeyError, AttributeError):
        return None
    if not (_plain_ids(image_ids) and _plain_ids(ann_ids) and set(map(type, captions)) <= {str}):
        return None
    files = dict(zip(map(str, image_ids), names))
    if not set(map(type, ann_ids)) <= {int}:  # 1 and "1" are one image: the keys as strings from the start
        ann_ids = list(map(str, ann_ids))
    grouped: dict[Any, list[str]] = {i: [] for i in ann_ids}  # images in the order of their first annotation
    deque(map(list.append, map(grouped.__getitem__, ann_ids), captions), maxlen=0)
    refs = {str(i): group for i, group in grouped.items()}
    if len(files) != len(images) or files and not files.keys() >= refs.keys():
        return None
    return refs, files


def _plain_ids(ids: list) -> bool:
    """Whether every id is one :func:`_image_id` accepts: an integer (not a bool) or a non-empty string."""
    kinds = set(map(type, ids))
    return kinds <= {int, str} and (str not in kinds or "" not in ids)


def _checked_coco_references(images: list, annotations: list, path: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    refs: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    for i, image in enumerate(images):
        if not isinstance(image, dict) or "id" not in image:
            raise InputError("image entry without 'id'", file=path, record=i, field="id")
        key = _image_id(image["id"], path, i, "id")
        if key in files:
            raise InputError(f"image id {key} listed twice in 'images'", file=path, record=i, field="id")
        files[key] = str(image.get("file_name", ""))
    for i, ann in enumerate(annotations):
        if not isinstance(ann, dict) or "image_id" not in ann:
            raise InputError("annotation without 'image_id'", file=path, record=i, field="image_id")
        key = _image_id(ann["image_id"], path, i, "image_id")
        if files and key not in files:
            raise InputError(f"annotation of image {key}, which is not in 'images'", file=path, record=i,
                             field="image_id")
        refs.setdefault(key, []).append(_caption(ann.get("caption"), path, i))
    return refs, files


def _karpathy_references(data: dict, path: Path, split: str | None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Karpathy dataset_coco.json: every image (of any split) needs a unique ``cocoid`` (or ``imgid``)."""
    images = data["images"]
    if not isinstance(images, list):
        raise InputError(f"'images' must be a list of image objects, got {type(images).__name__}", file=path,
                         field="images")
    refs: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    seen: set[str] = set()
    splits: set[str] = set()
    for i, image in enumerate(images):
        if not isinstance(image, dict):
            raise InputError(f"image entry must be an object with 'sentences', got {type(image).__name__}",
                             file=path, record=i)
        field = "cocoid" if "cocoid" in image else "imgid" if "imgid" in image else None
        if field is None:
            raise InputError("image without 'cocoid' or 'imgid'", file=path, record=i, field="cocoid")
        key = _image_id(image[field], path, i, field)
        if key in seen:
            raise InputError(f"image {key} listed twice", file=path, record=i, field=field)
        seen.add(key)
        splits.add(str(image.get("split")))
        if split is not None and image.get("split") != split:
            continue
        sentences = image.get("sentences")
        if not isinstance(sentences, list):
            raise InputError("image without a 'sentences' list", file=path, record=i, field="sentences")
        refs[key] = [_caption(s.get("raw") if isinstance(s, dict) else s, path, i) for s in sentences]
        files[key] = str(Path(image.get("filepath", "")) / image.get("filename", ""))
    if not seen:
        raise InputError("no images in 'images'", file=path, field="images")
    if not refs:
        raise InputError(f"split {split!r} selects no images; splits in the file: {', '.join(sorted(splits))}",
                         file=path, field="split")
    return refs, files


def read_references(path: Path, split: str | None = "test") -> tuple[dict[str, list[str]], dict[str, str]]:
    """``({image id: [captions]}, {image id: image file name})`` from any supported reference file.

    ``split`` selects images of a Karpathy ``dataset_coco.json`` (``None``: all images). Image ids are
    integers or strings (``1`` and ``"1"`` are the same image); a float, list or object id, an id listed twice,
    an annotation of an image missing from a non-empty ``images`` list, or a file with no images at all is an
    ``InputError`` naming the file, record and field.
    """
    path = Path(path)
    data = _load_json(path)
    if isinstance(data, dict) and "annotations" in data:  # COCO captions_val2014.json
        refs, files = _coco_references(data, path)
    elif isinstance(data, dict) and "images" in data:  # Karpathy dataset_coco.json
        refs, files = _karpathy_references(data, path, split)
    elif isinstance(data, dict):  # {image: [captions]}
        refs, files = {}, {}
        for key, captions in data.items():
            if not isinstance(captions, list):
                raise InputError("expected a list of reference captions", file=path, record=key)
            refs[str(key)] = [_caption(c, path, key) for c in captions]
    elif isinstance(data, list):  # results-style rows, several per image
        refs, files = {}, {}
        for i, row in enumerate(data):
            if not isinstance(row, dict) or "image_id" not in row:
                raise InputError("expected {\"image_id\", \"caption\"}", file=path, record=i, field="image_id")
            key = _image_id(row["image_id"], path, i, "image_id")
            refs.setdefault(key, []).append(_caption(row.get("caption"), path, i))
    else:
        raise InputError("unrecognised caption reference format", file=path)
    empty = [k for k, v in refs.items() if not v]
    if empty:
        raise InputError("image without reference captions", file=path, record=empty[0])
    if not refs:
        raise InputError("no images with reference captions", file=path)
    return refs, files


def read_results(path: Path) -> dict[str, str]:
    """``{image id: caption}`` from a COCO results list or a plain dict; one caption per image."""
    data = _load_json(path)
    if isinstance(data, dict):
        return {str(k): _caption(v, path, k) for k, v in data.items()}
    if not isinstance(data, list):
        raise InputError("expected a list of {\"image_id\", \"caption\"} or a {image_id: caption} object", file=path)
    out: dict[str, str] = {}
    for i, row in enumerate(data):
        if not isinstance(row, dict) or "image_id" not in row:
            raise InputError("expected {\"image_id\", \"caption\"}", file=path, record=i, field="image_id")
        key = _image_id(row["image_id"], path, i, "image_id")
        if key in out:
            raise InputError(f"second caption for image {key} (pycocoevalcap takes exactly one)", file=path,
                             record=i, field="image_id")
        out[key] = _caption(row.get("caption"), path, i)
    return out
