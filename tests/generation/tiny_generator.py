"""A tiny seeded generator for tests: latents → 3×32×32 images (a fixed random linear map, tanh)."""
from __future__ import annotations

import torch
from torch import nn


class TinyGenerator(nn.Module):
    """``forward(z[, labels])`` → N×3×size×size in [-1, 1], or uint8 (``uint8=True``, torch-fidelity's interface)."""

    def __init__(self, z_size: int = 8, size: int = 32, num_classes: int = 0, uint8: bool = False, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.size, self.uint8 = size, uint8
        self.weight = nn.Parameter(torch.randn(z_size, 3 * 4 * 4, generator=generator) * 0.8)
        self.embed = nn.Parameter(torch.randn(max(num_classes, 1), 3 * 4 * 4, generator=generator) * 0.5)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = z @ self.weight
        if labels is not None:
            x = x + self.embed[labels]
        x = x.view(-1, 3, 4, 4)
        x = torch.tanh(nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False))
        if self.uint8:
            return (x * 127.5 + 128).clamp(0, 255).to(torch.uint8)
        return x


def make(**kwargs) -> TinyGenerator:
    return TinyGenerator(**kwargs)
