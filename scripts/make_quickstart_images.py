"""Generate the quickstart's tiny ImageFolder: synthetic images, so no data licence applies.

Ten classes of coloured shapes, five 96×96 JPEGs each, one grayscale image and one file
name with an apostrophe (the two cases real ImageNet folders trip loaders on).
Run: python scripts/make_quickstart_images.py data/quickstart/imagefolder
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ["circle", "square", "triangle", "cross", "ring", "stripes_h", "stripes_v", "checker", "dot", "diamond"]


def draw(kind: str, rng: np.random.Generator, size: int = 96) -> Image.Image:
    background = tuple(int(v) for v in rng.integers(0, 120, 3))
    colour = tuple(int(v) for v in rng.integers(120, 256, 3))
    image = Image.new("RGB", (size, size), background)
    d = ImageDraw.Draw(image)
    c, r = size // 2 + int(rng.integers(-8, 9)), int(rng.integers(18, 34))
    if kind == "circle":
        d.ellipse([c - r, c - r, c + r, c + r], fill=colour)
    elif kind == "square":
        d.rectangle([c - r, c - r, c + r, c + r], fill=colour)
    elif kind == "triangle":
        d.polygon([(c, c - r), (c - r, c + r), (c + r, c + r)], fill=colour)
    elif kind == "cross":
        d.rectangle([c - r, c - 5, c + r, c + 5], fill=colour)
        d.rectangle([c - 5, c - r, c + 5, c + r], fill=colour)
    elif kind == "ring":
        d.ellipse([c - r, c - r, c + r, c + r], outline=colour, width=6)
    elif kind in ("stripes_h", "stripes_v"):
        for k in range(0, size, 12):
            box = [0, k, size, k + 5] if kind == "stripes_h" else [k, 0, k + 5, size]
            d.rectangle(box, fill=colour)
    elif kind == "checker":
        for i in range(0, size, 16):
            for j in range(0, size, 16):
                if (i + j) // 16 % 2 == 0:
                    d.rectangle([i, j, i + 15, j + 15], fill=colour)
    elif kind == "dot":
        d.ellipse([c - 6, c - 6, c + 6, c + 6], fill=colour)
    else:
        d.polygon([(c, c - r), (c - r, c), (c, c + r), (c + r, c)], fill=colour)
    return image


def main(out: Path) -> None:
    rng = np.random.default_rng(2012)
    for label in CLASSES:
        folder = out / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(5):
            image = draw(label, rng)
            name = f"{label}_{i}.JPEG"
            if label == "circle" and i == 0:
                image = image.convert("L")
                name = "circle_gray.JPEG"
            if label == "square" and i == 0:
                name = "king's_square.JPEG"
            image.save(folder / name, quality=90)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "data/quickstart/imagefolder"))
