"""JPEG decoding and eval preprocessing on the GPU (nvjpeg), for input pipelines that starve a GPU.

The loader hands over the encoded bytes (``EncodedImages``); the adapter decodes the batch on
its device and applies timm's eval recipe there: resize the shorter side to
``input_size / crop_pct``, center crop, scale to [0, 1], normalise. Resizing runs on float
tensors with antialiasing, so pixels differ from PIL's by interpolation rounding; predictions
agree to fp tolerance, not bit for bit.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.types import EncodedImages

__all__ = ["EncodedImages", "jpeg_components", "jpeg_header", "preprocess_on_device", "resize_and_crop", "resize_plan"]


def jpeg_header(data: bytes) -> tuple[int, int, int] | None:
    """(colour components, height, width) of a baseline/progressive JPEG from its SOF header (None: not a
    readable JPEG)."""
    i = 2 if data[:2] == b"\xff\xd8" else len(data)
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return data[i + 9], int.from_bytes(data[i + 5:i + 7], "big"), int.from_bytes(data[i + 7:i + 9], "big")
        i += 2 + length
    return None


def jpeg_components(data: bytes) -> int | None:
    """Colour components of a baseline/progressive JPEG from its SOF header (None: not a readable JPEG)."""
    header = jpeg_header(data)
    return header[0] if header else None


def _decode_on_cpu(data: Any, path: Path, device: str) -> Any:
    """PIL's decode and RGB conversion, exactly as the CPU pipeline does it."""
    import io

    import numpy as np
    import torch
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data.numpy().tobytes())) as image:
            array = np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as err:
        raise InputError(f"cannot decode image: {err}", file=path) from err
    return torch.from_numpy(array.copy()).permute(2, 0, 1).to(device)


def _decode(images: EncodedImages, device: str) -> list[Any]:
    """Decode 3- and 1-component JPEGs on ``device`` in one nvjpeg call; CMYK/YCCK files, other
    formats, and anything nvjpeg refuses go through PIL on the CPU, as in the CPU pipeline."""
    from torchvision.io import ImageReadMode, decode_jpeg

    datas = images.data
    on_device = [k for k, d in enumerate(datas) if jpeg_components(d[:65536].numpy().tobytes()) in (1, 3)]
    decoded: list[Any] = [None] * len(datas)
    if on_device and str(device).startswith("cuda"):
        try:
            batch = decode_jpeg([datas[k] for k in on_device], mode=ImageReadMode.RGB, device=device)
            for k, image in zip(on_device, batch):
                decoded[k] = image
        except RuntimeError:
            pass  # one bad file fails the batch call: the rest go one by one below
    for k, data in enumerate(datas):
        if decoded[k] is None:
            decoded[k] = _decode_on_cpu(data, images.paths[k], device)
    return decoded


def preprocess_on_device(images: EncodedImages, config: dict[str, Any], device: str) -> Any:
    """Decode and apply the eval transform of ``config`` (a timm data config) on ``device``.

    Images of one size share one resize call: a batch of ImageNet photos holds few distinct sizes
    (500×375 and 375×500 are most of them), so there are a few kernel launches per batch instead of
    one per image. Each image's pixels equal those of resizing it alone (checked in the tests).
    """
    import torch

    if images.backend == "dali":
        from evalkit.models.dali_decode import preprocess_with_dali

        return preprocess_with_dali(images, config, device)
    mean, std = _channel_scale(tuple(config["mean"]), str(device)), _channel_scale(tuple(config["std"]), str(device))
    decoded = _decode(images, device)
    by_size: dict[tuple[int, int], list[int]] = {}
    for k, image in enumerate(decoded):
        by_size.setdefault((int(image.shape[1]), int(image.shape[2])), []).append(k)
    out: list[Any] = [None] * len(decoded)
    for members in by_size.values():
        cropped = resize_and_crop(torch.stack([decoded[k] for k in members]), config)
        for j, k in enumerate(members):
            out[k] = cropped[j]
    return (torch.stack(out) - mean) / std


@functools.lru_cache(maxsize=16)
def _channel_scale(values: tuple[float, ...], device: str) -> Any:
    """Per-channel mean or std ×255 on ``device``, made once: a new tensor per batch is a blocking host copy."""
    import torch

    return torch.tensor(values, device=device).view(1, 3, 1, 1) * 255.0


def resize_plan(h: int, w: int, config: dict[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    """For an ``h``×``w`` image: the size after resizing the shorter side to ``input_size / crop_pct`` (the
    longer side truncated, as torchvision's Resize) and the centre crop's top-left corner (rounded as
    torchvision's center_crop)."""
    _, height, width = config["input_size"]
    if height != width or config.get("crop_mode", "center") not in (None, "center"):
        raise InputError(f"decoding on the device applies timm's centre crop to a square input size only, not "
                         f"input_size {tuple(config['input_size'])} with crop_mode {config.get('crop_mode')!r}: "
                         "use decode: cpu", field="decode")
    scale = math.floor(height / (config.get("crop_pct") or 0.875))  # timm's DEFAULT_CROP_PCT when unset
    new_h, new_w = (scale, int(scale * w / h)) if h <= w else (int(scale * h / w), scale)
    return (new_h, new_w), (int(round((new_h - height) / 2.0)), int(round((new_w - width) / 2.0)))


def resize_and_crop(images: Any, config: dict[str, Any]) -> Any:
    """timm's eval recipe on a uint8 batch of one size (N, 3, H, W): the shorter side to
    ``input_size / crop_pct`` (antialiased), then the centre crop, as floats in [0, 255]."""
    import torch.nn.functional as F

    _, height, width = config["input_size"]
    mode = "bicubic" if config.get("interpolation") == "bicubic" else "bilinear"
    (new_h, new_w), (top, left) = resize_plan(images.shape[2], images.shape[3], config)
    resized = F.interpolate(images.float(), size=(new_h, new_w), mode=mode, antialias=True, align_corners=False)
    return resized[:, :, top:top + height, left:left + width].clamp_(0, 255)
