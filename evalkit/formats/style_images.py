"""Reading the images of style transfer (content, style, stylised) as 8-bit RGB arrays.

Every reference of the style-transfer metrics reads images with PIL and ``convert('RGB')``
(art-fid, torchvision's ``ImageFolder``, the Gatys and tutorial scripts): grayscale is replicated
over the three channels, an alpha channel is dropped (not composited), palette images are expanded.
evalkit does the same, so an RGBA or grayscale file gives the numbers those tools give. A file PIL
cannot decode is an error naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import InputError, MissingResourceError

#: file extensions read as images (art-fid's list, plus bmp/webp/tif)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def list_images(folder: str | Path, what: str = "images") -> list[Path]:
    """Image files directly in ``folder``, sorted by name (hidden files skipped)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise MissingResourceError(f"{what} folder not found: {folder.resolve()}")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith("."))


def read_rgb(path: str | Path) -> Any:
    """An ``H×W×3`` uint8 array, as ``np.asarray(PIL.Image.open(path).convert('RGB'))``."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise MissingResourceError(f"image not found: {path.resolve()}")
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                raise InputError(f"{image.mode} images (16-bit or float) are not 8-bit RGB; convert them first",
                                 file=path)
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise InputError(f"cannot read image: {err}", file=path) from None


def pair_id(content: str | Path, style: str | Path) -> str:
    """``<content stem>__<style stem>``: the id of a pair and the stem of its stylised file."""
    return f"{Path(content).stem}__{Path(style).stem}"


def find_stylized(folder: str | Path, ids: list[str], names: dict[str, str] | None = None
                  ) -> tuple[dict[str, Path], list[str]]:
    """``({pair id: stylised file}, [pair ids without one])``.

    A pair's file is ``names[id]`` when a pairs CSV named it, else ``<id>.<ext>`` for any image extension.
    Two files for one pair (``a__b.png`` and ``a__b.jpg``) are an error.
    """
    folder = Path(folder).expanduser()
    by_stem: dict[str, list[Path]] = {}
    for path in list_images(folder, "stylised images"):
        by_stem.setdefault(path.stem, []).append(path)
    names = names or {}
    found: dict[str, Path] = {}
    missing: list[str] = []
    for sample in ids:
        if names.get(sample):
            path = folder / names[sample]
            if path.is_file():
                found[sample] = path
            else:
                missing.append(sample)
            continue
        candidates = by_stem.get(sample, [])
        if len(candidates) > 1:
            raise InputError(f"pair {sample!r} has several stylised files: "
                             f"{', '.join(p.name for p in candidates)}", file=folder)
        if candidates:
            found[sample] = candidates[0]
        else:
            missing.append(sample)
    return found, missing


def missing_pairs_error(folder: str | Path, missing: list[str], total: int) -> InputError:
    shown = ", ".join(missing[:10]) + (f", … ({len(missing) - 10} more)" if len(missing) > 10 else "")
    return InputError(f"{len(missing)} of {total} pairs have no stylised image (expected <content stem>__<style stem>"
                      f".<ext>): {shown}; score the others with --subset (subset: true)", file=folder)
