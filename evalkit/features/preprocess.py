"""Image decoding and the three FID preprocessing recipes, per image (they run in DataLoader workers).

Every recipe decodes with PIL and ``convert("RGB")`` (what pytorch-fid, clean-fid and torch-fidelity
all do: grayscale, CMYK, palette, alpha and 16-bit images become 8-bit RGB the same way), then:

- ``pytorch-fid``: ``ToTensor`` (÷255), bilinear resize to 299 without antialiasing
  (``F.interpolate``, ``align_corners=False``), then ``2x − 1``;
- ``clean`` (clean-fid ``mode="clean"``): PIL bicubic resize of each channel as a float32 image,
  clipped to 0..255, then ``(x − 128) / 128`` (the normalisation inside clean-fid's Inception);
- ``tf`` (torch-fidelity): TensorFlow 1.x bilinear resize (``align_corners=False``) of the 0..255 values,
  then ``(x − 128) / 128``.

The resize of one image equals the resize of that image in a batch, so decoding and resizing in
workers gives the reference tools' tensors.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np

SIZE = 299


def decode_rgb(data: Any) -> np.ndarray:
    """HWC uint8 RGB array of an image file path, file object or bytes, decoded as the references do."""
    from PIL import Image

    if isinstance(data, (bytes, bytearray)):
        data = io.BytesIO(data)
    with Image.open(data) as image:
        return np.array(image.convert("RGB"))


def tf1_resize_bilinear(x: Any, size: int = SIZE) -> Any:
    """TensorFlow 1.x bilinear resize (``align_corners=False``, no half-pixel offset) of an NCHW float tensor."""
    import torch

    def axis(n_in: int) -> tuple[Any, Any, Any]:
        scale = torch.tensor(n_in / size, dtype=torch.float32)
        grid = torch.arange(0, size, 1, dtype=x.dtype, device=x.device) * scale.to(x.device)
        lo = grid.long()
        return lo, (lo + 1).clamp_max(n_in - 1), grid - lo.float()

    y_lo, y_hi, dy = axis(x.shape[2])
    x_lo, x_hi, dx = axis(x.shape[3])
    top, bottom = x[:, :, y_lo, :], x[:, :, y_hi, :]
    tl, tr, bl, br = top[:, :, :, x_lo], top[:, :, :, x_hi], bottom[:, :, :, x_lo], bottom[:, :, :, x_hi]
    upper = tl + (tr - tl) * dx.view(1, 1, 1, size)
    lower = bl + (br - bl) * dx.view(1, 1, 1, size)
    return upper + (lower - upper) * dy.view(1, 1, size, 1)


def normalise_uint8_batch(images: Any, mode: str) -> Any:
    """An NCHW uint8 (or 0..255 float) tensor → the network input of ``mode`` (299×299), on its device."""
    import torch
    import torch.nn.functional as F

    if mode == "pytorch-fid":
        x = images.to(torch.float32).div(255)
        x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
        return 2 * x - 1
    if mode == "tf":
        return (tf1_resize_bilinear(images.to(torch.float32)) - 128) / 128
    if mode == "clean":
        arrays = images.detach().cpu().numpy()
        return torch.stack([clean_resize(a.transpose(1, 2, 0)) for a in arrays]).to(images.device)
    raise ValueError(f"unknown mode {mode!r}")


def clean_resize(rgb: np.ndarray) -> Any:
    """clean-fid's resize (PIL bicubic on float32 channels, clipped) and normalisation, as a CHW tensor."""
    import torch
    from PIL import Image

    channels = []
    for c in range(3):
        resized = Image.fromarray(rgb[:, :, c].astype(np.float32), mode="F").resize((SIZE, SIZE), Image.BICUBIC)
        channels.append(np.asarray(resized).clip(0, 255))
    x = torch.from_numpy(np.stack(channels).astype(np.float32))
    return (x - 128) / 128


class Preprocess:
    """Decoded RGB array → the normalised 3×299×299 float32 tensor for each mode (picklable)."""

    def __init__(self, modes: tuple[str, ...]):
        self.modes = tuple(modes)

    def __call__(self, rgb: np.ndarray) -> dict[str, Any]:
        import torch

        out = {}
        tensor = None
        for mode in self.modes:
            if mode == "clean":
                out[mode] = clean_resize(rgb)
            else:
                if tensor is None:
                    tensor = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
                out[mode] = normalise_uint8_batch(tensor, mode)[0]
        return out

    def __repr__(self) -> str:
        return f"evalkit.features.Preprocess(modes={self.modes})"
