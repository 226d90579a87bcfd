"""Small builders shared by tests (generated images, suites)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path: Path, seed: int, mode: str = "RGB", size: int = 40) -> Path:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "L": 1, "CMYK": 4}[mode]
    array = rng.integers(0, 256, (size, size, channels), dtype=np.uint8)
    image = Image.fromarray(array.squeeze(-1) if channels == 1 else array, mode=mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="JPEG")
    return path


def make_imagefolder(root: Path, classes: list[str], per_class: int = 3) -> Path:
    """A class-per-folder tree with one grayscale, one CMYK and one apostrophe file name."""
    for c, name in enumerate(classes):
        for i in range(per_class):
            write_image(root / name / f"img_{i}.JPEG", seed=c * 100 + i)
    write_image(root / classes[0] / "gray.JPEG", seed=7, mode="L")
    write_image(root / classes[-1] / "cmyk.JPEG", seed=8, mode="CMYK")
    write_image(root / classes[-1] / "dog's toy.JPEG", seed=9)
    return root


def merge_through_json(parts: list, new_metric) -> object:
    """Each part's state through a JSON round trip into ``new_metric()`` (as shard files carry it), merged in order."""
    import json

    restored = []
    for part in parts:
        clone = new_metric()
        clone.load_state_dict(json.loads(json.dumps(part.state_dict())))
        restored.append(clone)
    merged = restored[0]
    for other in restored[1:]:
        merged.merge(other)
    return merged


def reset_for_calibration(model) -> None:
    """Kaiming-normal convolutions, and BatchNorm statistics that become those of the next train-mode batch:
    a seeded random network whose features differ between test images once it has seen one calibration batch."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average: after one batch, that batch's statistics
