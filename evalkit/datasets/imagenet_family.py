"""The ImageNet companion test sets in their published layouts, labelled with the 1000-class (sorted-wnid) index.

- ImageNet-V2 (Recht et al. 2019): folders ``0`` … ``999`` named by class index. The folder name *is* the
  label: a plain string sort (torchvision's ImageFolder) would put ``10`` before ``2``; timm's natural sort
  gives the same labels as this loader when all 1000 folders hold images.
- ImageNet-Sketch (Wang et al. 2019): one folder per wnid, all 1000 classes.
- ImageNet-A (Hendrycks et al. 2021) and ImageNet-R (Hendrycks et al. 2021): one folder per wnid of their
  200-class subsets. The labels stay 1000-class indices; the ``topk`` metric's ``class_subset`` restricts the
  logits to the subset's classes, as timm's ``validate.py --valid-labels`` and the papers do.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from evalkit.datasets.imagenet import ImageNetVal, imagenet_classes, scan_class_folders, wnid_index
from evalkit.errors import InputError
from evalkit.formats.imagenet import subset_wnids
from evalkit.registry import DATASETS

V2_VARIANTS = ("matched-frequency", "threshold-0.7", "top-images")


class _ClassFolders(ImageNetVal):
    """A test set of class folders: subclasses say how a folder name becomes a 1000-class index."""

    #: the benchmark's name, as the record and the report show it
    benchmark: ClassVar[str]

    def _discover(self, root: Path, labels_file: Path | None):
        if labels_file is not None:
            raise InputError(f"the {self.name} loader takes its labels from the folder names; remove labels_file",
                             field="labels_file")
        files, labels = scan_class_folders(root, self.class_index)
        return "imagefolder", files, labels, [wnid for wnid, _, _ in imagenet_classes()]

    def class_index(self, folder: Path) -> int:
        """The 1000-class index of a class folder (an error naming the folder when its name is not one)."""
        index = wnid_index().get(folder.name)
        if index is None:
            raise InputError(f"folder name {folder.name!r} is not an ImageNet-1k wnid (the {self.benchmark} "
                             "layout has one folder per wnid, such as n01440764)", file=folder)
        return index


@DATASETS.register("imagenet-v2")
class ImageNetV2(_ClassFolders):
    """ImageNet-V2: ``variant`` (matched-frequency, threshold-0.7, top-images) names which of the three it is."""

    name = "imagenet-v2"
    expected = "class folders named 0 … 999 (imagenetv2-*-format-val)"

    def __init__(self, root: str | Path | None = None, variant: str = "matched-frequency", **options: Any):
        if variant not in V2_VARIANTS:
            raise InputError(f"variant must be one of {', '.join(V2_VARIANTS)}, got {variant!r}", field="variant")
        self.variant = variant
        super().__init__(root, variant=variant, **options)

    @property
    def benchmark(self) -> str:  # type: ignore[override]
        return f"ImageNet-V2 {self.variant}"

    def class_index(self, folder: Path) -> int:
        name = folder.name
        if not (name.isdigit() and str(int(name)) == name and int(name) < 1000):
            raise InputError(f"folder name {name!r} is not a class index 0..999 (ImageNet-V2 names its folders "
                             "by class index)", file=folder)
        return int(name)


@DATASETS.register("imagenet-sketch")
class ImageNetSketch(_ClassFolders):
    """ImageNet-Sketch: 50,889 sketches in one folder per wnid."""

    name = "imagenet-sketch"
    benchmark = "ImageNet-Sketch"
    expected = "one folder per ImageNet-1k wnid (sketch/n01440764/...)"


class _Subset(_ClassFolders):
    """ImageNet-A / -R: wnid folders of a 200-class subset (named as the loader), which metrics learn from
    ``dataset_meta``."""

    @property
    def subset(self) -> str:
        return self.name

    @property
    def benchmark(self) -> str:  # type: ignore[override]
        return f"ImageNet-{self.name[-1].upper()}"

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"one folder per wnid of the 200 {self.benchmark} classes ({self.name}/n01498041/...)"

    def class_index(self, folder: Path) -> int:
        if folder.name not in subset_wnids(self.subset):
            raise InputError(f"folder {folder.name!r} is not one of the 200 {self.benchmark} classes", file=folder)
        return super().class_index(folder)

    def dataset_meta(self) -> dict[str, Any]:
        return {**super().dataset_meta(), "class_subset": self.subset}


@DATASETS.register("imagenet-a")
class ImageNetA(_Subset):
    """ImageNet-A: 7,500 natural adversarial examples of 200 classes."""

    name = "imagenet-a"


@DATASETS.register("imagenet-r")
class ImageNetR(_Subset):
    """ImageNet-R: 30,000 renditions (art, cartoons, sculptures...) of 200 classes."""

    name = "imagenet-r"
