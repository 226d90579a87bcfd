"""Seeded generator latents, the latent interpolations of PPL, and generator output → uint8 images.

Two ways to seed, both deterministic per sample (sharding, resuming and the batch size do not change a
sample's latent):

- ``per-sample`` (default): sample ``i`` draws from its own ``np.random.RandomState([seed, i])`` (the
  latent, then its class label); PPL pair ``i`` from ``RandomState([seed, i, 1])`` (z0, z1, label).
- ``torch-fidelity``: torch-fidelity's streams, so a run equals ``fidelity --input1 <model>``: one
  ``RandomState(seed)`` drawing the latents in blocks of ``block`` samples (its ``batch_size``), each
  block's labels after its latents; for PPL all z0, then all z1, then all labels. The streams are drawn
  once for all ``num_samples`` and sliced.

Noise types and interpolations are torch-fidelity's (``normal``, ``unit``, ``uniform_0_1``; ``lerp``,
``slerp_any``, ``slerp_unit``), in float32 torch as it computes them.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from evalkit.errors import InputError

Z_TYPES = ("normal", "unit", "uniform_0_1")
SEEDINGS = ("per-sample", "torch-fidelity")
INTERPOLATIONS = ("lerp", "slerp_any", "slerp_unit")
#: generator output ranges and their conversion to the 8-bit images the reference tools see
OUTPUT_RANGES = ("symmetric", "unit", "uint8")


def _normalize_last_dim(v: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    return v / (v ** 2).sum(dim=-1, keepdim=True).sqrt().clamp_min(eps)


def draw(rng: np.random.RandomState, shape: tuple[int, ...], z_type: str) -> torch.Tensor:
    """torch-fidelity's noise sources: float64 numpy draws made float32 tensors."""
    if z_type == "normal":
        return torch.from_numpy(rng.randn(*shape)).float()
    if z_type == "unit":
        return _normalize_last_dim(torch.from_numpy(rng.rand(*shape)).float())
    if z_type == "uniform_0_1":
        return torch.from_numpy(rng.rand(*shape)).float()
    raise InputError(f"z_type must be one of {', '.join(Z_TYPES)}, got {z_type!r}", field="z_type")


def interpolate(a: torch.Tensor, b: torch.Tensor, t: float, method: str, eps: float = 1e-7) -> torch.Tensor:
    """Row-wise interpolation from ``a`` towards ``b`` by ``t`` (torch-fidelity's ``batch_interp``)."""
    if method == "lerp":
        return a + (b - a) * t
    if method not in INTERPOLATIONS:
        raise InputError(f"z_interp_mode must be one of {', '.join(INTERPOLATIONS)}, got {method!r}",
                         field="z_interp_mode")
    a1, b1 = _normalize_last_dim(a, eps), _normalize_last_dim(b, eps)
    d = (a1 * b1).sum(dim=-1, keepdim=True)
    degenerate = (a1.norm(dim=-1, keepdim=True) < eps) | (b1.norm(dim=-1, keepdim=True) < eps) \
        | (d > 1 - eps) | (d < -1 + eps)
    omega = d.acos()
    denom = omega.sin().clamp_min(eps)
    out = ((1 - t) * omega).sin() / denom * a + (t * omega).sin() / denom * b
    mask = degenerate.repeat([1] * (a.dim() - 1) + [a.shape[-1]])
    out[mask] = (a + (b - a) * t)[mask]
    return _normalize_last_dim(out, eps) if method == "slerp_unit" else out


class LatentSource:
    """Latents (and labels) of sample indices, for images and for PPL's pairs."""

    def __init__(self, z_size: int, z_type: str = "normal", num_classes: int = 0, seed: int = 2020,
                 seeding: str = "per-sample", num_samples: int | None = None, block: int = 64):
        if not isinstance(z_size, int) or z_size < 1:
            raise InputError(f"z_size must be a positive integer (the generator's latent size), got {z_size!r}",
                             field="z_size")
        if z_type not in Z_TYPES:
            raise InputError(f"z_type must be one of {', '.join(Z_TYPES)}, got {z_type!r}", field="z_type")
        if seeding not in SEEDINGS:
            raise InputError(f"seeding must be one of {', '.join(SEEDINGS)}, got {seeding!r}", field="seeding")
        if not isinstance(seed, int) or not 0 <= seed < 2 ** 32:
            raise InputError(f"seed must be an integer in [0, 2**32), got {seed!r}", field="seed")
        self.z_size, self.z_type, self.num_classes, self.seed = z_size, z_type, int(num_classes), seed
        self.seeding, self.num_samples, self.block = seeding, num_samples, int(block)
        self._streams: dict[str, Any] = {}

    def _labels(self, rng: np.random.RandomState, n: int) -> torch.Tensor:
        return torch.from_numpy(rng.randint(0, self.num_classes, (n,)).astype(np.int64))

    def _stream(self, kind: str, epsilon: float = 0.0, interp: str = "lerp") -> Any:
        key = f"{kind}:{epsilon}:{interp}"
        if key not in self._streams:
            if self.num_samples is None:
                raise InputError("seeding: torch-fidelity needs the number of samples", field="num_samples")
            n, rng = self.num_samples, np.random.RandomState(self.seed)
            if kind == "samples":
                z, labels = [], []
                for start in range(0, n, self.block):
                    size = min(self.block, n - start)
                    z.append(draw(rng, (size, self.z_size), self.z_type))
                    if self.num_classes:
                        labels.append(self._labels(rng, size))
                self._streams[key] = (torch.cat(z), torch.cat(labels) if labels else None)
            else:
                z0 = draw(rng, (n, self.z_size), self.z_type)
                z1 = interpolate(z0, draw(rng, (n, self.z_size), self.z_type), epsilon, interp)
                self._streams[key] = (z0, z1, self._labels(rng, n) if self.num_classes else None)
        return self._streams[key]

    def samples(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(N×z_size float32 latents, N labels or None)`` of samples ``indices``."""
        if self.seeding == "torch-fidelity":
            z, labels = self._stream("samples")
            rows = torch.as_tensor(list(indices), dtype=torch.long)
            return z[rows], (labels[rows] if labels is not None else None)
        zs, labels = [], []
        for i in indices:
            rng = np.random.RandomState([self.seed, int(i)])
            zs.append(draw(rng, (1, self.z_size), self.z_type))
            if self.num_classes:
                labels.append(self._labels(rng, 1))
        return torch.cat(zs), (torch.cat(labels) if labels else None)

    def ppl_pairs(self, indices: Sequence[int], epsilon: float, interp: str
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(z0, z0 moved by epsilon towards z1, labels)`` of PPL pairs ``indices``."""
        if self.seeding == "torch-fidelity":
            z0, z1, labels = self._stream("ppl", epsilon, interp)
            rows = torch.as_tensor(list(indices), dtype=torch.long)
            return z0[rows], z1[rows], (labels[rows] if labels is not None else None)
        a, b, labels = [], [], []
        for i in indices:
            rng = np.random.RandomState([self.seed, int(i), 1])
            a.append(draw(rng, (1, self.z_size), self.z_type))
            b.append(draw(rng, (1, self.z_size), self.z_type))
            if self.num_classes:
                labels.append(self._labels(rng, 1))
        z0 = torch.cat(a)
        return z0, interpolate(z0, torch.cat(b), epsilon, interp), (torch.cat(labels) if labels else None)

    def describe(self) -> dict[str, Any]:
        return {"z_size": self.z_size, "z_type": self.z_type, "num_classes": self.num_classes, "seed": self.seed,
                "seeding": self.seeding, **({"block": self.block} if self.seeding == "torch-fidelity" else {})}


def to_uint8(images: torch.Tensor, output_range: str) -> torch.Tensor:
    """Generator output (N×3×H×W) → uint8, as the reference tools' image files would hold it.

    ``symmetric`` ([-1, 1], tanh outputs): ``(x·127.5 + 128).clamp(0, 255)`` truncated, StyleGAN2-ADA's
    conversion; ``unit`` ([0, 1]): ``(x·255 + 0.5).clamp(0, 255)`` truncated, torchvision's ``save_image``;
    ``uint8``: taken as is (torch-fidelity's generator interface).
    """
    if not torch.is_tensor(images) or images.dim() != 4 or images.shape[1] != 3:
        raise InputError(f"the generator returned {getattr(images, 'shape', type(images))}; expected N×3×H×W",
                         field="factory")
    if output_range == "uint8":
        if images.dtype != torch.uint8:
            raise InputError(f"output_range: uint8 but the generator returned {images.dtype}", field="output_range")
        return images
    if output_range == "symmetric":
        return (images.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    if output_range == "unit":
        return (images.float() * 255 + 0.5).clamp(0, 255).to(torch.uint8)
    raise InputError(f"output_range must be one of {', '.join(OUTPUT_RANGES)}, got {output_range!r}",
                     field="output_range")
