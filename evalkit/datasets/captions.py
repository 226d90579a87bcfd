"""Image captioning data: COCO caption annotations, Karpathy-split JSON, or ``{image: [captions]}``.

Sample ids are image id strings; targets are the list of reference captions. Captioning
results are COCO results files ``[{"image_id", "caption"}]`` or ``{image_id: caption}``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from evalkit.datasets.base import DatasetLoader
from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.captions import read_references, read_results
from evalkit.registry import DATASETS

__all__ = ["CocoCaptions", "read_references", "read_results"]


@DATASETS.register("coco-captions")
class CocoCaptions(DatasetLoader):
    """Reference captions from ``annotation_file``; images from ``root`` (only needed to run a model)."""

    name = "coco-captions"
    task = "captions"

    def __init__(self, root: str | Path | None = None, annotation_file: str | Path | None = None,
                 split: str | None = "test", **options: Any):
        super().__init__(root, annotation_file=str(annotation_file) if annotation_file else None, split=split,
                         **options)
        if annotation_file is None:
            if self.root is None:
                raise MissingResourceError("the coco-captions dataset needs 'annotation_file' (captions JSON)")
            annotation_file = self.require_root("captions JSON or image folder")
        self.annotation_file = Path(annotation_file).expanduser()
        self.references, self.files = read_references(self.annotation_file, split)
        self._ids = list(self.references)

    def sample_ids(self) -> list[str]:
        return self._ids

    def item(self, index: int, transform: Callable | None) -> tuple[Any, list[str]]:
        key = self._ids[index]
        image = None
        if self.root is not None and self.root.is_dir():
            image = self._image(key, transform)
        return image, self.references[key]

    def _image(self, key: str, transform: Callable | None) -> Any:
        from PIL import Image

        path = self.root / self.files.get(key, "") if self.files.get(key) else None
        if path is None or not path.is_file():
            raise MissingResourceError(f"image of {key} not found under {self.root.resolve()}")
        try:
            with Image.open(path) as img:
                img = img.convert("RGB")
        except OSError as err:
            raise InputError(f"cannot decode image: {err}", file=path) from err
        return transform(img) if transform else img
