"""ILSVRC2012 validation in the two common layouts, with timm/torchvision class indices."""
from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path
from typing import Any, Callable

from evalkit.datasets.base import DatasetLoader, _Skipped
from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.imagenet import imagenet_classes, wnid_index
from evalkit.registry import DATASETS

__all__ = ["ImageNetVal", "imagenet_classes", "wnid_index", "scan_class_folders"]

IMAGE_SUFFIXES = {".jpeg", ".jpg", ".png", ".bmp", ".webp", ".ppm", ".tif", ".tiff"}
FLAT_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.(JPEG|jpeg|jpg|JPG|png)$")
DEVKIT_GT = "ILSVRC2012_validation_ground_truth.txt"
DEVKIT_MAP = "map_clsloc.txt"
LOC_SOLUTION = "LOC_val_solution.csv"


def natural_key(name: str) -> list[int | str]:
    """timm's ImageFolder sort key: lower case, digit runs compared as numbers."""
    return [int(part) if part.isdecimal() else part for part in re.split(r"(\d+)", name.lower())]


def scan_class_folders(root: Path, index_of: Callable[[Path], int]) -> tuple[list[Path], list[int]]:
    """Every image under each class folder of ``root`` (folders and files sorted), labelled ``index_of(folder)``."""
    files, labels = [], []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        label = index_of(class_dir)
        for path in sorted(class_dir.rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                files.append(path)
                labels.append(label)
    return files, labels


@DATASETS.register("imagenet")
class ImageNetVal(DatasetLoader):
    """ImageNet validation images with labels in sorted-wnid order.

    Layouts, detected from ``root``:
    - ImageFolder: one sub-folder per class. Folders named by ImageNet wnids get the
      1000-class sorted-wnid index (as timm and torchvision on the full set); other
      names get their index in timm's natural sort of the folder names (``2`` before ``10``,
      case ignored), as timm's ``validate.py`` labels them.
    - flat: ``ILSVRC2012_val_XXXXXXXX.JPEG`` files with ``LOC_val_solution.csv`` or the
      devkit's ``ILSVRC2012_validation_ground_truth.txt`` (in root, its parent, or
      ``labels_file``).

    ``decode: gpu`` hands the encoded files to the model adapter, which decodes them with
    nvjpeg on its GPU (see ``evalkit.models.gpu_decode``); ``decode: dali`` does the same with an NVIDIA
    DALI pipeline (the ``dali`` extra).
    ``skip_corrupt: true`` skips undecodable images and counts them in the record;
    by default a corrupt image is an error naming the file.
    """

    name = "imagenet"
    task = "imagenet"
    #: what ``root`` should hold, for the errors that say it does not
    expected = (f"class sub-folders (ImageFolder) or ILSVRC2012_val_XXXXXXXX.JPEG files with {LOC_SOLUTION} "
                f"or {DEVKIT_GT}")

    def __init__(self, root: str | Path | None = None, labels_file: str | None = None,
                 skip_corrupt: bool = False, decode: str = "cpu", **options: Any):
        super().__init__(root, labels_file=labels_file, skip_corrupt=skip_corrupt, decode=decode, **options)
        if decode not in ("cpu", "gpu", "dali"):
            raise InputError(f"decode must be 'cpu', 'gpu' or 'dali', got {decode!r}", field="decode")
        if decode == "dali" and importlib.util.find_spec("nvidia.dali") is None:
            raise MissingResourceError("decode: dali needs NVIDIA DALI, which is not installed: "
                                       "pip install 'evalkit[dali]' (nvidia-dali-cuda130, on a CUDA machine)")
        self.skip_corrupt = skip_corrupt
        self.decode = decode
        root_path = self.require_root(self.expected)
        if not root_path.is_dir():
            raise MissingResourceError(f"ImageNet root {root_path} is not a folder")
        self.layout, self.files, self.labels, self.classes = self._discover(
            root_path, Path(labels_file).expanduser() if labels_file else None
        )
        if not self.files:
            raise MissingResourceError(f"no images found in {root_path.resolve()}: expected {self.expected}")
        self._ids = [str(f.relative_to(root_path)) for f in self.files]

    def _discover(self, root: Path, labels_file: Path | None):
        flat = sorted(p for p in root.iterdir() if p.is_file() and FLAT_NAME.match(p.name))
        if flat:
            labels_by_name = self._flat_labels(root, labels_file)
            missing = [p.name for p in flat if p.stem not in labels_by_name]
            if missing:
                raise InputError(f"no ground-truth label for {missing[0]} ({len(missing)} images without one)",
                                 file=labels_file or root)
            classes = [wnid for wnid, _, _ in imagenet_classes()]
            return "flat", flat, [labels_by_name[p.stem] for p in flat], classes
        class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        known = wnid_index()
        if class_dirs and all(p.name in known for p in class_dirs):
            classes = [wnid for wnid, _, _ in imagenet_classes()]
            index = known
        else:  # timm's ImageFolder order (validate.py), not a string sort: folders 2, 10 are classes 0, 1
            classes = sorted((p.name for p in class_dirs), key=lambda name: (natural_key(name), name))
            index = {name: i for i, name in enumerate(classes)}
        files, labels = scan_class_folders(root, lambda folder: index[folder.name])
        return "imagefolder", files, labels, classes

    def _flat_labels(self, root: Path, labels_file: Path | None) -> dict[str, int]:
        candidates = [labels_file] if labels_file else [
            d / name for d in (root, root.parent, root.parent / "ILSVRC2012_devkit_t12" / "data")
            for name in (LOC_SOLUTION, DEVKIT_GT)
        ]
        for path in candidates:
            if path is not None and path.is_file():
                return _read_loc_solution(path) if path.suffix == ".csv" else _read_devkit_truth(path)
        raise MissingResourceError(
            "flat ImageNet layout without labels: looked for " + ", ".join(str(c) for c in candidates)
        )

    def sample_ids(self) -> list[str]:
        return self._ids

    def item(self, index: int, transform: Callable | None) -> Any:
        from PIL import Image

        path = self.files[index]
        if self.decode != "cpu":  # the adapter decodes the batch on its GPU
            from torchvision.io import read_file

            return (read_file(str(path)), path), self.labels[index]
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
        except (OSError, SyntaxError, ValueError) as err:
            if self.skip_corrupt:
                return _Skipped(self._ids[index], str(err))
            raise InputError(f"cannot decode image: {err} (set skip_corrupt: true to skip and count such files)",
                             file=path) from err
        return (transform(image) if transform else image), self.labels[index]

    def collate(self, inputs: list[Any], targets: list[Any]) -> tuple[Any, Any]:
        import torch

        if self.decode != "cpu":
            from evalkit.types import EncodedImages

            encoded = EncodedImages.from_files([data for data, _ in inputs], [path for _, path in inputs], self.decode)
            return encoded, torch.tensor(targets, dtype=torch.long)
        stacked = torch.stack(inputs) if inputs and isinstance(inputs[0], torch.Tensor) else inputs
        return stacked, torch.tensor(targets, dtype=torch.long)

    def dataset_meta(self) -> dict[str, Any]:
        """The image count, which the ``real-topk`` metric checks against its label file (as timm asserts), and
        the decoder (``pil``, ``gpu``, ``dali``), which ``topk`` names in its signature when it is not PIL."""
        return {"image_count": len(self.files), "decode": "pil" if self.decode == "cpu" else self.decode}

    @property
    def benchmark(self) -> str | None:  # type: ignore[override]
        """``imagenet`` when every image keeps its ILSVRC2012 validation file name (either layout)."""
        return "imagenet" if all(FLAT_NAME.match(f.name) for f in self.files) else None

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "layout": self.layout, "num_classes": len(self.classes)}


def _read_loc_solution(path: Path) -> dict[str, int]:
    index = wnid_index()
    labels = {}
    with open(path, newline="", encoding="utf-8") as f:
        for line_no, row in enumerate(csv.DictReader(f), start=2):
            try:
                wnid = row["PredictionString"].split()[0]
                labels[row["ImageId"]] = index[wnid]
            except (KeyError, IndexError, AttributeError) as err:
                raise InputError(f"expected ImageId and a PredictionString starting with a wnid ({err!r})",
                                 file=path, record=line_no, field="PredictionString") from None
    return labels


def _read_devkit_truth(path: Path) -> dict[str, int]:
    by_devkit_id = {devkit_id: i for i, (_, devkit_id, _) in enumerate(imagenet_classes())}
    labels = {}
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            try:
                labels[f"ILSVRC2012_val_{line_no:08d}"] = by_devkit_id[int(line)]
            except (KeyError, ValueError):
                raise InputError(f"expected an ILSVRC2012 class id 1..1000, got {line.strip()!r}",
                                 file=path, record=line_no) from None
    return labels
