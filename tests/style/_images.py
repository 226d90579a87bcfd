"""Small synthetic images for the style-transfer tests (smooth, so SSIM and LPIPS are not at their extremes)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def smooth_image(seed: int, height: int = 40, width: int = 48) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    channels = []
    for c in range(3):
        a, b, p = rng.uniform(1, 6, 3)
        channels.append(127 + 100 * np.sin(a * x * np.pi + p) * np.cos(b * y * np.pi))
    image = np.stack(channels, -1) + rng.normal(0, 12, (height, width, 3))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def perturbed(image: np.ndarray, seed: int, amount: float = 30.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(image.astype(np.float64) + rng.normal(0, amount, image.shape), 0, 255).round().astype(np.uint8)


def write_folders(root: Path, contents: int = 3, styles: int = 2, size: tuple[int, int] = (40, 48),
                  stylized: bool = True, ext: str = "png") -> dict[str, Path]:
    """root/content, root/style, root/stylized (``<content>__<style>.png``); returns the folders."""
    from PIL import Image

    folders = {name: root / name for name in ("content", "style", "stylized")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    for c in range(contents):
        content = smooth_image(c, *size)
        Image.fromarray(content).save(folders["content"] / f"c{c}.{ext}")
        for s in range(styles):
            if c == 0:
                Image.fromarray(smooth_image(100 + s, size[0] + 8, size[1] - 8)).save(folders["style"] / f"s{s}.png")
            if stylized:
                Image.fromarray(perturbed(content, 10 * c + s)).save(folders["stylized"] / f"c{c}__s{s}.png")
    return folders


def stylise(content: np.ndarray, style: np.ndarray, seed: int) -> np.ndarray:
    """A stand-in for a style-transfer output: the content blended with the style, plus noise."""
    from PIL import Image

    style = np.asarray(Image.fromarray(style).resize(content.shape[1::-1], Image.BILINEAR))
    return perturbed((0.6 * content + 0.4 * style).round().clip(0, 255).astype(np.uint8), seed, 8)


def write_artfid_folders(root: Path, contents: dict[str, np.ndarray], styles: dict[str, np.ndarray]
                         ) -> dict[str, Path]:
    """evalkit's folders (content, style, stylized) and art-fid's (content and per-pair style by pair name)."""
    from PIL import Image

    names = ("content", "style", "stylized", "artfid_content", "artfid_style_per_pair")
    folders = {name: root / name for name in names}
    for folder in folders.values():
        folder.mkdir(parents=True)
    for c, (c_name, content) in enumerate(contents.items()):
        Image.fromarray(content).save(folders["content"] / f"{c_name}.png")
        for s, (s_name, style) in enumerate(styles.items()):
            Image.fromarray(style).save(folders["style"] / f"{s_name}.png")
            pair = f"{c_name}__{s_name}.png"
            Image.fromarray(stylise(content, style, 10 * c + s)).save(folders["stylized"] / pair)
            Image.fromarray(content).save(folders["artfid_content"] / pair)
            Image.fromarray(style).save(folders["artfid_style_per_pair"] / pair)
    return folders
