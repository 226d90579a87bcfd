"""Style-transfer adapters: a folder of stylised images (``stylized``) and any ``(content, style) → image``
module (``torch-style``). Predictions are H×W×3 uint8 arrays, one per pair.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from evalkit.errors import InputError
from evalkit.formats.style_images import find_stylized, missing_pairs_error, read_rgb
from evalkit.models.base import ModelAdapter, TorchModuleAdapter
from evalkit.registry import MODELS
from evalkit.types import Batch

if TYPE_CHECKING:
    from evalkit.datasets.base import DatasetLoader

TASK = "style-transfer"


@MODELS.register("stylized")
class StylizedFolder(ModelAdapter):
    """Stylised outputs read from ``path``: ``<content stem>__<style stem>.<ext>``, or the pairs CSV's ``stylized``.

    Every pair must have its file: a missing one is an error naming the missing pair ids (``evalkit score style
    --subset`` scores the pairs that have one).
    """

    name = "stylized"
    runs_model = False
    tasks = (TASK,)

    def __init__(self, path: str, **options: Any):
        super().__init__(path=path, **options)
        self.path = Path(path).expanduser()
        self.files: dict[str, Path] = {}

    def bind(self, dataset: "DatasetLoader", task: str) -> None:
        ids = dataset.sample_ids()
        names = dataset.stylized_names() if hasattr(dataset, "stylized_names") else {}
        self.files, missing = find_stylized(self.path, ids, names)
        if missing:
            raise missing_pairs_error(self.path, missing, len(ids))

    def predict(self, batch: Batch) -> list[np.ndarray]:
        return [read_rgb(self.files[sample]) for sample in batch.ids]

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["stylized_dir"] = str(self.path.resolve())
        return info


def to_unit_batch(images: list[np.ndarray], device: str) -> Any:
    """N×3×H×W float32 in [0, 1] (torchvision's ToTensor) of same-size uint8 images."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2))).to(device).float().div(255)


def to_uint8(images: Any) -> list[np.ndarray]:
    """N×3×H×W in [0, 1] → H×W×3 uint8 arrays (clamped, rounded to nearest)."""
    array = images.detach().float().clamp(0, 1).mul(255).round().to("cpu").numpy().astype(np.uint8)
    return [np.ascontiguousarray(a.transpose(1, 2, 0)) for a in array]


@MODELS.register("torch-style")
class TorchStyleAdapter(TorchModuleAdapter):
    """A feed-forward style-transfer module (AdaIN, Johnson et al.): ``factory: package.module:fn`` returns an
    ``nn.Module`` called as ``module(content, style)`` on N×3×H×W float tensors in [0, 1] (torchvision's
    ``ToTensor``) that returns N×3×H'×W' images in [0, 1]; outputs are clamped and rounded to 8 bits.
    Pairs are batched when their content sizes and style sizes agree. Random unless ``checkpoint`` is given or
    ``trained: true`` says the factory loads trained weights."""

    name = "torch-style"
    tasks = (TASK,)

    def __init__(self, factory: str | None = None, module: Any = None, **options: Any):
        if module is not None and not options.get("label"):
            options["label"] = type(module).__name__
        super().__init__(factory=factory, **options)
        self._live_module = module

    def build(self) -> Any:
        from evalkit.models.torch_module import import_object

        if self._live_module is not None:
            module = self._live_module
        elif self.options.get("factory"):
            module = import_object(self.options["factory"])(**self.options.get("kwargs", {}))
        else:
            raise InputError("torch-style needs 'factory: package.module:fn'", field="factory")
        self.random_weights = not (self.options.get("checkpoint") or self.options.get("trained")
                                   or self._live_module is not None)
        return module

    def transform(self) -> Callable | None:
        return None

    def predict(self, batch: Batch) -> list[np.ndarray]:
        import torch

        pairs = list(batch.inputs)
        out: list[Any] = [None] * len(pairs)
        groups: dict[tuple, list[int]] = {}
        for i, (content, style) in enumerate(pairs):
            groups.setdefault((content.shape, style.shape), []).append(i)
        with torch.inference_mode(), self.autocast():
            for indices in groups.values():
                content = to_unit_batch([pairs[i][0] for i in indices], self.device)
                style = to_unit_batch([pairs[i][1] for i in indices], self.device)
                images = self.module(content, style)
                if not hasattr(images, "shape") or images.ndim != 4 or images.shape[0] != len(indices):
                    raise InputError(f"the style module returned {getattr(images, 'shape', type(images))}; expected "
                                     f"{len(indices)}×3×H×W", field="factory")
                for i, image in zip(indices, to_uint8(images)):
                    out[i] = image
        return out
