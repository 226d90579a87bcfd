"""COCO instances (detection / instance segmentation): the official annotation JSON and its image folder.

The annotation file is parsed once (orjson) and checked record by record, so that a bad file
fails here with the record and field to fix, not later inside pycocotools.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

from evalkit.datasets.base import DatasetLoader
from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.checks import RecordChecker, is_bbox, is_int, is_number, read_json
from evalkit.registry import DATASETS
from evalkit.types import ImagesWithSizes

__all__ = ["CocoInstances", "ImagesWithSizes", "RecordChecker", "check_instances", "is_bbox", "is_int",
           "is_number", "read_json"]

DEFAULT_ANNOTATION_FILE = "annotations/instances_val2017.json"
DEFAULT_IMAGE_DIR = "val2017"


def _is_segmentation(value: Any) -> bool:
    """Polygons (a list of coordinate lists) or an RLE object; the shape is pycocotools' business."""
    if isinstance(value, list):
        return all(isinstance(p, list) for p in value)
    return isinstance(value, dict) and "counts" in value and "size" in value


def _records_with_unique_ids(check: RecordChecker, data: Any, section: str, noun: str,
                             seen: set[int]) -> Iterator[tuple[str, Any]]:
    """``(record name, record)`` for each record of ``data[section]``, whose integer ``id`` is checked unique
    (and added to ``seen``) before the caller checks the rest, so every error names the record by index and id."""
    for i, item in enumerate(check.list_of(data, section)):
        item_id = check.get(item, "id", f"{section}[{i}]", is_int, f"an integer {noun} id")
        record = f"{section}[{i}] (id {item_id})"
        if item_id in seen:
            check.fail(f"duplicate {noun} id {item_id}", record, "id")
        seen.add(item_id)
        yield record, item


def check_instances(data: Any, file: Path, require_file_names: bool = True) -> None:
    """Validate a COCO instances file: types, unique ids, annotations that point at known images and categories."""
    check = RecordChecker(file)
    if not isinstance(data, dict):
        check.fail(f"expected a JSON object with images, annotations and categories, got {type(data).__name__}",
                   "(top level)")
    image_ids: set[int] = set()
    for record, image in _records_with_unique_ids(check, data, "images", "image", image_ids):
        for key in ("width", "height"):
            check.get(image, key, record, lambda v: is_int(v) and v > 0, "a positive integer")
        if require_file_names:
            check.get(image, "file_name", record, lambda v: isinstance(v, str) and v != "", "a file name")
    category_ids: set[int] = set()
    for i, category in enumerate(check.list_of(data, "categories")):
        record = f"categories[{i}]"
        category_id = check.get(category, "id", record, is_int, "an integer category id")
        check.get(category, "name", f"{record} (id {category_id})", lambda v: isinstance(v, str), "a string")
        if category_id in category_ids:
            check.fail(f"duplicate category id {category_id}", record, "id")
        category_ids.add(category_id)
    for record, ann in _records_with_unique_ids(check, data, "annotations", "annotation", set()):
        image_id = check.get(ann, "image_id", record, is_int, "an integer image id")
        if image_id not in image_ids:
            check.fail(f"image id {image_id} is not in 'images'", record, "image_id")
        category_id = check.get(ann, "category_id", record, is_int, "an integer category id")
        if category_id not in category_ids:
            check.fail(f"category id {category_id} is not in 'categories'", record, "category_id")
        check.get(ann, "bbox", record, is_bbox, "[x, y, width, height] of 4 finite numbers")
        check.get(ann, "area", record, lambda v: is_number(v) and v >= 0, "a non-negative number")
        if "iscrowd" in ann:
            check.get(ann, "iscrowd", record, lambda v: is_int(v) and v in (0, 1), "0 or 1")
        if "segmentation" in ann:
            check.get(ann, "segmentation", record, _is_segmentation, "polygons or an RLE object")


@DATASETS.register("coco")
class CocoInstances(DatasetLoader):
    """COCO instances: sample ids are the image ids (as strings) in ascending order.

    ``item`` yields ``((image, (height, width)), image_id)``; batches carry an
    :class:`ImagesWithSizes` and the integer image ids. Relative ``annotation_file`` and
    ``image_dir`` resolve against ``root``. With ``images_required: false`` (scoring a
    predictions file) no image folder is needed and the images are ``None``.
    """

    name = "coco"
    task = "coco"

    def __init__(self, root: str | Path | None = None, annotation_file: str | Path = DEFAULT_ANNOTATION_FILE,
                 image_dir: str | Path = DEFAULT_IMAGE_DIR, images_required: bool = True, **options: Any):
        super().__init__(root, annotation_file=str(annotation_file), image_dir=str(image_dir),
                         images_required=images_required, **options)
        self.images_required = bool(images_required)
        self.annotation_file = self._resolve(annotation_file, "the annotation JSON")
        if not self.annotation_file.is_file():
            raise MissingResourceError(
                f"COCO annotation file not found: {self.annotation_file.resolve()}; download it from "
                "https://cocodataset.org/#download (annotations_trainval2017.zip) or set dataset.annotation_file"
            )
        self.coco_gt: dict[str, Any] = read_json(self.annotation_file, "COCO annotation file")
        check_instances(self.coco_gt, self.annotation_file, require_file_names=self.images_required)
        self._images = sorted(self.coco_gt["images"], key=lambda image: image["id"])
        self._ids = [str(image["id"]) for image in self._images]
        self.image_dir: Path | None = None
        if self.images_required:
            self.image_dir = self._resolve(image_dir, "the image folder")
            self._check_images()

    def _resolve(self, path: str | Path, what: str) -> Path:
        path = Path(path).expanduser()
        if path.is_absolute():
            return path
        return self.require_root(f"{what} {path} is relative to it") / path

    def _check_images(self) -> None:
        assert self.image_dir is not None
        if not self.image_dir.is_dir():
            raise MissingResourceError(
                f"COCO image folder not found: {self.image_dir.resolve()}; set dataset.image_dir, "
                "or images_required: false to score a predictions file without images"
            )
        missing = [image for image in self._images if not (self.image_dir / image["file_name"]).is_file()]
        if missing:
            first = missing[0]
            raise MissingResourceError(
                f"image file {(self.image_dir / first['file_name']).resolve()} (image id {first['id']} of "
                f"{self.annotation_file}) does not exist; {len(missing)} of {len(self._images)} images are missing "
                "from the image folder: set dataset.image_dir to the folder that holds them"
            )

    def sample_ids(self) -> list[str]:
        return self._ids

    def image_size(self, index: int) -> tuple[int, int]:
        """(height, width) of sample ``index`` as the annotation file gives it."""
        image = self._images[index]
        return image["height"], image["width"]

    def item(self, index: int, transform: Callable | None) -> tuple[tuple[Any, tuple[int, int]], int]:
        info = self._images[index]
        size = self.image_size(index)
        if not self.images_required:
            return (None, size), info["id"]
        from PIL import Image

        assert self.image_dir is not None
        path = self.image_dir / info["file_name"]
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
        except (OSError, SyntaxError, ValueError) as err:
            raise InputError(f"cannot decode image: {err}", file=path) from err
        if (image.height, image.width) != size:
            raise InputError(f"image is {image.height}x{image.width} (height x width) but the annotation file "
                             f"says {size[0]}x{size[1]}", file=path, record=f"image id {info['id']}")
        return ((transform(image) if transform else image), size), info["id"]

    def collate(self, inputs: list[Any], targets: list[Any]) -> tuple[ImagesWithSizes, list[int]]:
        images, sizes = zip(*inputs)
        return ImagesWithSizes(list(images), list(sizes)), list(targets)

    def dataset_meta(self) -> dict[str, Any]:
        return {"coco_gt": self.coco_gt}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "annotation_file": str(self.annotation_file.resolve()),
                "num_annotations": len(self.coco_gt["annotations"]),
                "num_categories": len(self.coco_gt["categories"])}
