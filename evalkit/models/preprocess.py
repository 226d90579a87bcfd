"""Evaluation transforms from a timm-style data config (used for timm and overridable elsewhere)."""
from __future__ import annotations

from typing import Any, Callable


def build_transform(data_config: dict[str, Any]) -> Callable:
    """timm's eval transform: resize by crop_pct, center crop, to tensor, normalise."""
    from timm.data import create_transform

    return create_transform(**data_config, is_training=False)
