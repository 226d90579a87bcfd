"""VGG-16/19 and AlexNet convolutional features, laid out as torchvision's ``.features`` (same state-dict keys).

Layers are named as in the papers: ``conv4_2`` is the convolution's output, ``relu4_2`` the ReLU after it,
``pool4`` the pooling. The ReLUs are not in place, so a convolution's output stays what it was. The
forward pass stops at the deepest requested layer. Weights come from :mod:`.torchvision_weights`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import torch
from torch import nn

from evalkit.formats.digest import file_key
from evalkit.errors import InputError
from evalkit.features import torchvision_weights

#: torchvision's configurations ("M" = max pooling)
VGG_CONFIGS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _vgg_layers(arch: str, pool: str) -> tuple[list[nn.Module], list[str]]:
    layers: list[nn.Module] = []
    names: list[str] = []
    block, k, channels = 1, 1, 3
    for v in VGG_CONFIGS[arch]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2) if pool == "max" else nn.AvgPool2d(2, 2))
            names.append(f"pool{block}")
            block, k = block + 1, 1
        else:
            layers += [nn.Conv2d(channels, int(v), 3, padding=1), nn.ReLU(inplace=False)]
            names += [f"conv{block}_{k}", f"relu{block}_{k}"]
            channels, k = int(v), k + 1
    return layers, names


def _alexnet_layers() -> tuple[list[nn.Module], list[str]]:
    layers = [nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(),
              nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1),
              nn.ReLU(), nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2)]
    names = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3", "conv4", "relu4", "conv5",
             "relu5", "pool5"]
    return layers, names


class ConvFeatures(nn.Module):
    """``arch``'s ``features`` with named taps; ``forward(x, layers)`` → {name: activation}."""

    def __init__(self, arch: str, pool: str = "max"):
        super().__init__()
        if arch in VGG_CONFIGS:
            layers, names = _vgg_layers(arch, pool)
        elif arch == "alexnet":
            layers, names = _alexnet_layers()
        else:
            raise InputError(f"unknown backbone {arch!r} (vgg16, vgg19, alexnet)", field="arch")
        if pool not in ("max", "avg"):
            raise InputError(f"pool must be 'max' or 'avg', got {pool!r}", field="pool")
        self.arch, self.pool = arch, pool
        self.features = nn.Sequential(*layers)
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}

    def check_layers(self, layers: Iterable[str]) -> list[str]:
        layers = list(layers)
        for name in layers:
            if name not in self.index:
                raise InputError(f"{self.arch} has no layer {name!r} (layers: {', '.join(self.names)})", field="layers")
        return layers

    def forward(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        wanted = {self.index[n]: n for n in layers}
        last = max(wanted)
        out = {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in wanted:
                out[wanted[i]] = x
            if i == last:
                break
        return out


_CACHE: dict[tuple, ConvFeatures] = {}


def load_features(arch: str, weights_file: str | Path | None = None, pool: str = "max",
                  device: str = "cpu") -> tuple[ConvFeatures, Path]:
    """The frozen backbone in eval mode on ``device`` and the weights file it came from (cached per process)."""
    path = torchvision_weights.resolve_weights(arch, weights_file)
    key = (arch, pool, str(device), *file_key(path))
    if key not in _CACHE:
        model = ConvFeatures(arch, pool)
        torchvision_weights.load_prefixed(model.features, torchvision_weights.load_state(path), "features.", path)
        model.requires_grad_(False)
        _CACHE[key] = model.eval().to(device)
    return _CACHE[key], path


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    """``(x - mean) / std`` with torchvision's ImageNet statistics, ``x`` in [0, 1], NCHW."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std
