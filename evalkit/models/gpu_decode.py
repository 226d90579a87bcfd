"""JPEG decoding and eval preprocessing on the GPU (nvjpeg), for input pipelines that starve a GPU.

The loader hands over the encoded bytes (``EncodedImages``); the adapter decodes the batch on
its device and applies timm's eval recipe there: resize the shorter side to
``input_size / crop_pct``, center crop, scale to [0, 1], normalise. Resizing runs on float
tensors with antialiasing, so pixels differ from PIL's by interpolation rounding; predictions
agree to fp tolerance, not bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import InputError


@dataclass
class EncodedImages:
    """A batch of undecoded image files in one uint8 buffer (one shared-memory handle per batch
    when DataLoader workers send it, instead of one per image), with each file's length and path."""

    buffer: Any
    lengths: list[int]
    paths: list[Path]

    @classmethod
    def from_files(cls, files: list[Any], paths: list[Path]) -> "EncodedImages":
        import torch

        return cls(torch.cat(files), [len(f) for f in files], paths)

    @property
    def data(self) -> list[Any]:
        import torch

        return list(torch.split(self.buffer, self.lengths))

    def pin_memory(self) -> "EncodedImages":
        return EncodedImages(self.buffer.pin_memory(), self.lengths, self.paths)


def _decode(images: EncodedImages, device: str) -> list[Any]:
    """Decode on ``device`` in one nvjpeg call; files nvjpeg refuses (CMYK, progressive...) on the CPU."""
    from torchvision.io import ImageReadMode, decode_image, decode_jpeg

    try:
        return list(decode_jpeg(images.data, mode=ImageReadMode.RGB, device=device))
    except RuntimeError:
        decoded = []
        for data, path in zip(images.data, images.paths):
            try:
                decoded.append(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))
            except RuntimeError:
                try:
                    decoded.append(decode_image(data, mode=ImageReadMode.RGB).to(device))
                except RuntimeError as err:
                    raise InputError(f"cannot decode image: {err}", file=path) from err
        return decoded


def preprocess_on_device(images: EncodedImages, config: dict[str, Any], device: str) -> Any:
    """Decode and apply the eval transform of ``config`` (a timm data config) on ``device``."""
    import torch
    import torch.nn.functional as F

    _, height, width = config["input_size"]
    crop_pct = config.get("crop_pct") or 1.0
    scale = math.floor(min(height, width) / crop_pct)
    mode = "bicubic" if config.get("interpolation") == "bicubic" else "bilinear"
    mean = torch.tensor(config["mean"], device=device).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(config["std"], device=device).view(1, 3, 1, 1) * 255.0
    out = []
    for image in _decode(images, device):
        c, h, w = image.shape
        new_h, new_w = (scale, int(scale * w / h)) if h <= w else (int(scale * h / w), scale)
        resized = F.interpolate(image[None].float(), size=(new_h, new_w), mode=mode, antialias=True,
                                align_corners=False)
        top, left = (new_h - height) // 2, (new_w - width) // 2
        out.append(resized[:, :, top:top + height, left:left + width].clamp_(0, 255))
    return (torch.cat(out) - mean) / std
