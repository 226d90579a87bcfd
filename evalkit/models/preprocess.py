"""Evaluation transforms from a timm-style data config (used for timm and overridable elsewhere)."""
from __future__ import annotations

from typing import Any, Callable

#: ImageNet's usual eval recipe (torchvision's classification references): 256 → 224 center crop
DEFAULT_CONFIG: dict[str, Any] = {"input_size": (3, 224, 224), "interpolation": "bilinear",
                                  "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225),
                                  "crop_pct": 0.875, "crop_mode": "center"}


def build_transform(data_config: dict[str, Any]) -> Callable:
    """timm's eval transform: resize by crop_pct, center crop, to tensor, normalise."""
    from timm.data import create_transform

    return create_transform(**data_config, is_training=False)
