"""Test data for the generation task: tiny PNG folders and a seeded random-weight FID-Inception.

No real weights exist on test machines (none of pytorch-fid, clean-fid or torch-fidelity ships them), so
the network has the exact FID-Inception architecture with seeded random weights whose BatchNorm
statistics are recalibrated on the test images (so features vary between images). It is saved under
the official file name in a temporary ``TORCH_HOME``, where the unmodified reference tools find it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

OFFICIAL_NAME = "pt_inception-2015-12-05-6726825d.pth"


def smooth_image(rng: np.random.Generator, size: tuple[int, int], shift: float) -> np.ndarray:
    """A smooth random colour image (upsampled noise), uint8 HWC."""
    from PIL import Image

    small = rng.normal(128 + shift, 50, size=(4, 4, 3)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(small).resize(size, Image.BILINEAR)
    noise = rng.normal(0, 12, size=(size[1], size[0], 3))
    return (np.asarray(image, np.float64) + noise).clip(0, 255).astype(np.uint8)


def write_images(folder: Path, n: int, seed: int, shift: float = 0.0, size: tuple[int, int] = (32, 32)) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(smooth_image(rng, size, shift)).save(folder / f"img{i:04d}.png")
    return folder


def random_fid_inception(calibration: Path, path: Path, seed: int = 0, images: int = 4) -> Path:
    """Save a seeded random FID-Inception state dict at ``path``, BatchNorm recalibrated on ``calibration``."""
    import torch

    from evalkit.features.inception import FIDInceptionV3
    from evalkit.features.preprocess import Preprocess, decode_rgb
    from tests.helpers import reset_for_calibration

    torch.manual_seed(seed)
    model = FIDInceptionV3()
    reset_for_calibration(model)
    torch.nn.init.normal_(model.fc.weight, std=0.05)
    torch.nn.init.normal_(model.fc.bias, std=0.5)
    files = sorted(calibration.glob("*.png"))[:images]
    batch = torch.stack([Preprocess(("pytorch-fid",))(decode_rgb(f))["pytorch-fid"] for f in files])
    model.train()
    with torch.no_grad():
        model(batch, ("logits",))
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path
