"""What the style-transfer metrics share: checking images and pairing each stylised image with its content."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from evalkit.errors import InputError, MissingResourceError
from evalkit.metrics.base import Signature

def weights_signature(signature: Signature, resolve: Callable[[], Path], option: str = "weights_file",
                      label: str = "weights_sha256") -> Signature:
    """``signature`` with the backbone named by its SHA-256 instead of its path: a path says nothing about the
    numbers, and random test weights must not share a signature with torchvision's."""
    from evalkit.formats.digest import file_sha256

    try:
        digest = file_sha256(resolve())
    except MissingResourceError:
        digest = "missing"
    options = tuple((k, v) for k, v in signature.options if k != option) + ((label, digest),)
    return Signature(signature.metric, options, signature.evalkit, signature.reference)


def shape_batches(shapes: Sequence[tuple], batch_size: int) -> Iterator[list[int]]:
    """Indices of images grouped by shape (a batch stacks images of one size), ``batch_size`` at a time."""
    by_shape: dict[tuple, list[int]] = {}
    for i, shape in enumerate(shapes):
        by_shape.setdefault(tuple(shape), []).append(i)
    step = max(1, int(batch_size))
    for indices in by_shape.values():
        for start in range(0, len(indices), step):
            yield indices[start:start + step]


#: how a content image of another size than its stylised image is brought to that size
RESIZE_RULES = ("bicubic", "bilinear", "none")


def as_rgb(image: Any, what: str, sample: str) -> np.ndarray:
    """An H×W×3 uint8 array (a C×H×W tensor/array in [0, 1] or uint8 is accepted too)."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3):
        raise InputError(f"{what} image has shape {array.shape}; expected H×W×3", record=sample)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    if array.dtype != np.uint8:
        if np.issubdtype(array.dtype, np.floating):
            if not np.isfinite(array).all():
                raise InputError(f"{what} image has non-finite values", record=sample)
            array = np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8)
        else:
            array = np.clip(array, 0, 255).astype(np.uint8)
    return array


def resize_to(image: np.ndarray, height: int, width: int, rule: str) -> np.ndarray:
    from PIL import Image

    method = Image.BICUBIC if rule == "bicubic" else Image.BILINEAR
    return np.asarray(Image.fromarray(image).resize((width, height), method))


def split_target(target: Any, sample: str) -> tuple[Any, Any]:
    if isinstance(target, dict):
        return target["content"], target.get("style")
    if isinstance(target, (tuple, list)) and len(target) == 2:
        return target[0], target[1]
    raise InputError("a style-transfer target is (content, style)", record=sample)


def pairs(predictions: Sequence[Any], targets: Sequence[Any], ids: Sequence[Any] | None, rule: str,
          with_style: bool = False) -> tuple[list[str], list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]]:
    """(ids, [(stylised, content at the stylised size, style)]) for a batch."""
    if rule not in RESIZE_RULES:
        raise InputError(f"resize must be one of {', '.join(RESIZE_RULES)}, got {rule!r}", field="resize")
    if len(predictions) != len(targets):
        raise InputError(f"{len(predictions)} stylised images for {len(targets)} pairs")
    ids = [str(i) for i in ids] if ids is not None else [str(i) for i in range(len(predictions))]
    out = []
    for sample, prediction, target in zip(ids, predictions, targets):
        content, style = split_target(target, sample)
        stylised = as_rgb(prediction, "stylised", sample)
        content = as_rgb(content, "content", sample)
        if content.shape != stylised.shape:
            if rule == "none":
                raise InputError(f"stylised image is {stylised.shape[1]}×{stylised.shape[0]} but its content image "
                                 f"is {content.shape[1]}×{content.shape[0]} (resize: none)", record=sample)
            content = resize_to(content, stylised.shape[0], stylised.shape[1], rule)
        style = as_rgb(style, "style", sample) if with_style and style is not None else None
        out.append((stylised, content, style))
    return ids, out
