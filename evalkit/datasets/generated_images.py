"""``generated-images``: a folder or zip of generated images, paired with a reference set (task ``generation``).

The samples are the generated images (bootstrap intervals resample them). ``reference`` is an image folder,
a zip or a pytorch-fid ``.npz``; its features are computed once by the feature adapter (cached by file list
and extractor signature) and reach the metrics through ``dataset_meta()["reference"]``.
"""
from __future__ import annotations

from typing import Any, Callable

from evalkit.datasets.base import DatasetLoader, _Skipped
from evalkit.errors import InputError
from evalkit.registry import DATASETS


@DATASETS.register("generated-images")
class GeneratedImages(DatasetLoader):
    name = "generated-images"
    task = "generation"

    def __init__(self, root: str, reference_path: str | None = None, skip_corrupt: bool = False,
                 cache_dir: str | None = None, **options: Any):
        super().__init__(root, reference_path=reference_path, skip_corrupt=skip_corrupt, cache_dir=cache_dir,
                         **options)
        from evalkit.features.images import ImageSet

        self.images = ImageSet(self.require_root("a folder or .zip of generated images"))
        self.reference = reference_path
        self.skip_corrupt = skip_corrupt
        self.cache_dir = cache_dir
        self.reference_pointers: dict[str, Any] = {}

    def sample_ids(self) -> list[str]:
        return list(self.images.names)

    def item(self, index: int, transform: Callable | None) -> Any:
        from evalkit.features.preprocess import decode_rgb

        try:
            rgb = decode_rgb(self.images.open(index))
        except Exception as err:  # PIL raises many types for broken files
            if self.skip_corrupt:
                return _Skipped(self.images.names[index], f"{type(err).__name__}: {err}")
            raise InputError(f"cannot decode image: {type(err).__name__}: {err}", file=self.images.where(index)) \
                from None
        return (transform(rgb) if transform is not None else rgb), None

    def collate(self, inputs: list[Any], targets: list[Any]) -> tuple[Any, Any]:
        import torch

        if inputs and isinstance(inputs[0], dict):
            return {mode: torch.stack([x[mode] for x in inputs]) for mode in inputs[0]}, targets
        return inputs, targets

    def prepare_reference(self, extractor: Any, batch_size: int = 50, workers: int = 0) -> None:
        """Compute (or find cached) reference features for every key of ``extractor``."""
        from evalkit.features.reference import prepare_reference

        if self.reference is None:
            return
        self.reference_pointers = prepare_reference(self.reference, extractor, None, self.cache_dir, batch_size, workers,
                                                    self.skip_corrupt)

    def dataset_meta(self) -> dict[str, Any]:
        return {"reference": self.reference_pointers or None}
