"""Content and style losses of neural style transfer, pinned to two named definitions.

``gatys`` (Gatys, Ecker & Bethge 2016, as their own code leongatys/PytorchNeuralStyleTransfer computes it):
  features are the ReLU outputs of VGG-19 (Caffe's in-place ReLU: the blob named ``conv4_2`` holds
  ``relu4_2``); content at ``conv4_2``; style over ``conv1_1, conv2_1, conv3_1, conv4_1, conv5_1``;
  Gram matrix ``F Fᵀ / (H·W)``; each term a mean squared error; style terms weighted ``1e3 / C_l²``
  (``C_l`` the layer's channels), the content term 1: the loss that code minimises.
``tutorial`` (the PyTorch "Neural Transfer using PyTorch" tutorial):
  features are convolution outputs before the ReLU; the tutorial counts convolutions in sequence
  (its ``conv_4`` is ``conv2_2``), so content at ``conv2_2`` and style over ``conv1_1, conv1_2,
  conv2_1, conv2_2, conv3_1``; Gram ``F Fᵀ / (C·H·W)``; mean squared errors, each weight 1 (the
  tutorial's ``style_weight=1e6`` multiplies the total while optimising and is not included).
Both take the image in [0, 1] normalised with ImageNet's mean and std (torchvision's VGG-19 weights).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch


@dataclass(frozen=True)
class LossDefinition:
    name: str
    #: "relu" taps ``relu{b}_{k}`` for a layer named ``conv{b}_{k}``; "conv" taps the convolution itself
    tap: str
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    #: "hw" divides the Gram matrix by H·W, "chw" by C·H·W
    gram_norm: str
    #: "inverse-channels-squared" (1e3 / C²) or "one"
    style_weights: str


VARIANTS = {
    "gatys": LossDefinition("gatys", "relu", ("conv4_2",), ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"),
                            "hw", "inverse-channels-squared"),
    "tutorial": LossDefinition("tutorial", "conv", ("conv2_2",), ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"),
                               "chw", "one"),
}


def tap_name(definition: LossDefinition, layer: str) -> str:
    return layer.replace("conv", "relu", 1) if definition.tap == "relu" else layer


def gram(features: torch.Tensor, norm: str) -> torch.Tensor:
    """Gram matrices of ``N×C×H×W`` features: ``N×C×C``."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    g = torch.bmm(flat, flat.transpose(1, 2))
    return g / (h * w) if norm == "hw" else g / (c * h * w)


def style_weight(definition: LossDefinition, channels: int) -> float:
    return 1e3 / channels ** 2 if definition.style_weights == "inverse-channels-squared" else 1.0


def mse_per_sample(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).reshape(a.shape[0], -1).mean(dim=1)


def content_loss(features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], definition: LossDefinition,
                 layers: Sequence[str]) -> torch.Tensor:
    """Σ over ``layers`` of the MSE of features (per sample)."""
    total = None
    for layer in layers:
        name = tap_name(definition, layer)
        term = mse_per_sample(features[name], targets[name])
        total = term if total is None else total + term
    return total


def style_loss(features: dict[str, torch.Tensor], target_grams: dict[str, torch.Tensor], definition: LossDefinition,
               layers: Sequence[str]) -> torch.Tensor:
    """Σ over ``layers`` of weight × MSE of Gram matrices (per sample); ``target_grams`` by tap name."""
    total = None
    for layer in layers:
        name = tap_name(definition, layer)
        f = features[name]
        term = style_weight(definition, f.shape[1]) * mse_per_sample(gram(f, definition.gram_norm), target_grams[name])
        total = term if total is None else total + term
    return total
