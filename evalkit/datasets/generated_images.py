"""Task ``generation`` loaders: ``generated-images`` (a folder or zip of generated images) and
``generator-samples`` (``num_samples`` sample indices that the ``generator`` adapter turns into images).

The samples are the generated images (bootstrap intervals resample them). ``reference`` is an image folder,
a zip or a pytorch-fid ``.npz``; its features are computed once by the feature adapter (cached by file list
and extractor signature) and reach the metrics through ``dataset_meta()["reference"]``.
"""
from __future__ import annotations

from typing import Any, Callable

from evalkit.datasets.base import DatasetLoader, _Skipped, shard_range
from evalkit.errors import InputError
from evalkit.registry import DATASETS


class _WithReference(DatasetLoader):
    """A generated set paired with an optional reference set, whose features the feature adapter prepares."""

    task = "generation"

    def __init__(self, root: str | None = None, reference_path: str | None = None, skip_corrupt: bool = False,
                 cache_dir: str | None = None, **options: Any):
        super().__init__(root, reference_path=reference_path, skip_corrupt=skip_corrupt, cache_dir=cache_dir,
                         **options)
        self.reference = reference_path
        self.skip_corrupt = skip_corrupt
        self.cache_dir = cache_dir
        self.reference_pointers: dict[str, Any] = {}

    def prepare_reference(self, extractor: Any, batch_size: int = 50, workers: int = 0) -> None:
        """Compute (or find cached) reference features for every key of ``extractor``; in a process group
        the ranks share the work with the runs' split (:func:`shard_range`)."""
        from evalkit import distributed
        from evalkit.features.reference import prepare_reference

        if self.reference is None:
            return
        ctx = distributed.context(str(extractor.device))
        self.reference_pointers = prepare_reference(self.reference, extractor, None, self.cache_dir, batch_size, workers,
                                                    self.skip_corrupt, ctx=ctx, split=shard_range)

    def dataset_meta(self) -> dict[str, Any]:
        return {"reference": self.reference_pointers or None}


@DATASETS.register("generated-images")
class GeneratedImages(_WithReference):
    name = "generated-images"

    def __init__(self, root: str, reference_path: str | None = None, skip_corrupt: bool = False,
                 cache_dir: str | None = None, **options: Any):
        super().__init__(root, reference_path, skip_corrupt, cache_dir, **options)
        from evalkit.features.images import ImageSet

        self.images = ImageSet(self.require_root("a folder or .zip of generated images"))

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


@DATASETS.register("generator-samples")
class GeneratorSamples(_WithReference):
    """``num_samples`` samples ``0 … num_samples−1`` (ids ``sample0000042``): the ``generator`` adapter draws
    sample ``i``'s latent from its seed and ``i``, so shards, resumed runs and batch sizes see the same images."""

    name = "generator-samples"

    def __init__(self, num_samples: int = 50000, reference_path: str | None = None, skip_corrupt: bool = False,
                 cache_dir: str | None = None, root: str | None = None, **options: Any):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise InputError(f"num_samples must be a positive integer, got {num_samples!r}", field="num_samples")
        super().__init__(root, reference_path, skip_corrupt, cache_dir, num_samples=num_samples, **options)
        self.num_samples = num_samples

    def __len__(self) -> int:
        return self.num_samples

    def sample_ids(self) -> list[str]:
        return [f"sample{i:07d}" for i in range(self.num_samples)]

    def item(self, index: int, transform: Callable | None) -> Any:
        return index, None
