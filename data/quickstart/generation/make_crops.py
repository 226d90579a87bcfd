"""Rebuild reference.zip and generated.zip from scikit-image's bundled sample photos (see SOURCES.md).

reference: 72 random 48×48 crops (seed 0), 24 from each of astronaut, coffee and chelsea.
generated: 72 other random crops (seed 1) of the same photos, Gaussian-blurred (radius 1.5): a "generator"
whose samples are real content with lost detail, so its FID against the reference is clearly above zero.
Run: python data/quickstart/generation/make_crops.py
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from skimage import data

HERE = Path(__file__).resolve().parent
PHOTOS = ("astronaut", "coffee", "chelsea")
SIZE, PER_PHOTO = 48, 24


def crops(seed: int) -> list[tuple[str, Image.Image]]:
    rng = np.random.default_rng(seed)
    out = []
    for name in PHOTOS:
        photo = getattr(data, name)()
        for i in range(PER_PHOTO):
            y = int(rng.integers(0, photo.shape[0] - SIZE))
            x = int(rng.integers(0, photo.shape[1] - SIZE))
            out.append((f"{name}_{i:02d}.png", Image.fromarray(photo[y:y + SIZE, x:x + SIZE])))
    return out


def write_zip(path: Path, images: list[tuple[str, Image.Image]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, image in images:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))  # fixed: the zip is byte-reproducible
            archive.writestr(info, buffer.getvalue())


if __name__ == "__main__":
    write_zip(HERE / "reference.zip", crops(0))
    write_zip(HERE / "generated.zip", [(n, im.filter(ImageFilter.GaussianBlur(1.5))) for n, im in crops(1)])
