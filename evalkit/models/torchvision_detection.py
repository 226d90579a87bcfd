"""Detection / instance-segmentation adapters for task ``coco``.

``torch-detection`` wraps any module that takes a list of CHW float images and returns
torchvision-style dicts (``boxes``, ``labels``, ``scores``, ``masks``); ``torchvision-maskrcnn``
builds torchvision's Mask R-CNN exactly as its weight builders do, but loads the weights
from the local torch hub cache with ``weights_only=True`` and never downloads.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from evalkit.errors import InputError, MissingResourceError
from evalkit.models.base import TorchModuleAdapter
from evalkit.models.detection_postprocess import (MASK_THRESHOLD, MAX_DETECTIONS, detections_to_coco,
                                                  parse_label_map)
from evalkit.models.torch_module import import_object
from evalkit.registry import MODELS
from evalkit.types import Batch, ImagesWithSizes


def image_to_tensor(image: Any) -> Any:
    """PIL → float CHW in [0, 1]: what torchvision detection models take (they normalise and resize inside)."""
    from torchvision.transforms.functional import convert_image_dtype, pil_to_tensor
    import torch

    return convert_image_dtype(pil_to_tensor(image), torch.float)


def import_factory(spec: str) -> Callable[..., Any]:
    """``package.module:factory`` → the callable."""
    target = import_object(str(spec))
    if not callable(target):
        raise InputError(f"{spec!r} is not callable", field="factory")
    return target


@MODELS.register("torch-detection")
class TorchDetection(TorchModuleAdapter):
    """Any torchvision-style detector: ``factory: package.module:fn`` (from Python also a callable),
    called with ``kwargs``; weights from ``checkpoint``; outputs become COCO results through
    :func:`detections_to_coco`."""

    name = "torch-detection"
    tasks = ("coco",)

    def __init__(self, factory: str | Callable[..., Any] | None = None, kwargs: dict[str, Any] | None = None,
                 label_map: Any = None, max_detections: int = MAX_DETECTIONS,
                 mask_threshold: float = MASK_THRESHOLD, **options: Any):
        super().__init__(factory=factory if isinstance(factory, str) else getattr(factory, "__qualname__", None),
                         max_detections=max_detections, mask_threshold=mask_threshold, **options)
        self.factory = factory
        self.kwargs = dict(kwargs or {})
        self.label_map = parse_label_map(label_map)
        self.max_detections = int(max_detections)
        self.mask_threshold = float(mask_threshold)

    def build(self) -> Any:
        if not self.factory:
            raise InputError("the torch-detection adapter needs 'factory: package.module:function'",
                             field="factory")
        factory = self.factory if callable(self.factory) else import_factory(self.factory)
        return factory(**self.kwargs)

    def bind(self, dataset: Any, task: str) -> None:
        """Check early that the label map only names categories the annotation file has."""
        categories = {c["id"] for c in getattr(dataset, "coco_gt", {}).get("categories", [])}
        if self.label_map is not None and categories:
            unknown = sorted(set(self.label_map.values()) - categories)
            if unknown:
                raise InputError(f"label_map maps to category ids {unknown} that the annotation file does not have",
                                 field="label_map")

    def transform(self) -> Callable:
        return image_to_tensor

    def predict(self, batch: Batch) -> list[list[dict[str, Any]]]:
        import torch

        inputs: ImagesWithSizes = batch.inputs
        if any(image is None for image in inputs.images):
            raise InputError("this model needs images, but the coco dataset has images_required: false")
        images = [image.to(self.device, non_blocking=True) for image in inputs.images]
        with torch.inference_mode(), self.autocast():
            outputs = self.module(images)
        return [
            detections_to_coco(output, image_id, tuple(image.shape[-2:]), size, self.label_map,
                               self.max_detections, self.mask_threshold)
            for output, image, image_id, size in zip(outputs, images, batch.targets, inputs.sizes)
        ]


#: arch → (weights enum of torchvision.models.detection, whether trained weights use FrozenBatchNorm2d)
MASKRCNN_ARCHS = {
    "maskrcnn_resnet50_fpn": ("MaskRCNN_ResNet50_FPN_Weights", True),
    "maskrcnn_resnet50_fpn_v2": ("MaskRCNN_ResNet50_FPN_V2_Weights", False),
}


def hub_weights_file(weights: Any) -> Path:
    """Where ``torch.hub`` caches ``weights`` ($TORCH_HOME/hub/checkpoints/<file name of the URL>)."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(weights.url).path)


def freeze_batchnorm(module: Any, eps: float) -> None:
    """Replace every BatchNorm2d by FrozenBatchNorm2d, as torchvision's builder does for trained weights."""
    import torch
    from torchvision.ops.misc import FrozenBatchNorm2d

    for name, child in module.named_children():
        if isinstance(child, torch.nn.BatchNorm2d):
            setattr(module, name, FrozenBatchNorm2d(child.num_features, eps=eps))
        else:
            freeze_batchnorm(child, eps)


@MODELS.register("torchvision-maskrcnn")
class TorchvisionMaskRCNN(TorchDetection):
    """torchvision Mask R-CNN: ``pretrained: true`` (COCO_V1 weights from the hub cache), a
    ``checkpoint``, or random weights. ``model_kwargs`` go to the builder (``min_size``,
    ``box_score_thresh``...). ``bn_eps`` overrides the frozen batch-norm epsilon of the v1
    backbone (torchvision: 0.0 for its COCO weights, 1e-5 when fine-tuned from ImageNet)."""

    name = "torchvision-maskrcnn"

    def __init__(self, arch: str = "maskrcnn_resnet50_fpn", pretrained: bool = False, num_classes: int | None = None,
                 model_kwargs: dict[str, Any] | None = None, bn_eps: float | None = None, **options: Any):
        if arch not in MASKRCNN_ARCHS:
            raise InputError(f"unknown arch {arch!r} (known: {', '.join(MASKRCNN_ARCHS)})", field="arch")
        if pretrained and options.get("checkpoint"):
            raise InputError("give either pretrained: true or a checkpoint, not both", field="checkpoint")
        if pretrained and num_classes not in (None, 91):
            raise InputError(f"torchvision's COCO weights have 91 classes, not {num_classes}", field="num_classes")
        super().__init__(arch=arch, pretrained=bool(pretrained), num_classes=num_classes, bn_eps=bn_eps, **options)
        self.arch, self.pretrained = arch, bool(pretrained)
        self.num_classes = num_classes or 91
        self.model_kwargs = dict(model_kwargs or {})
        self.bn_eps = bn_eps
        self.expected_sha256_prefix: str | None = None


    def build(self) -> Any:
        import torchvision.models.detection as detection

        weights_enum_name, frozen_bn = MASKRCNN_ARCHS[self.arch]
        path = self._hub_weights(getattr(detection, weights_enum_name).COCO_V1) if self.pretrained else None
        module = getattr(detection, self.arch)(weights=None, weights_backbone=None, num_classes=self.num_classes,
                                               **self.model_kwargs)
        trained = self.pretrained or bool(self.options.get("checkpoint"))
        if frozen_bn and trained:
            freeze_batchnorm(module, self.bn_eps if self.bn_eps is not None else (0.0 if self.pretrained else 1e-5))
        if path is not None:
            self.load_checkpoint(module, path)
        elif not trained:
            self.random_weights = True
        return module

    def _hub_weights(self, weights: Any) -> Path:
        """The cached file of ``weights``, checked before the model is built (building takes seconds)."""
        path = hub_weights_file(weights)
        if not path.is_file():
            raise MissingResourceError(
                f"torchvision weights {weights} not found: expected {path}. evalkit never downloads; on a "
                f"machine with network run `python -c \"import torchvision; torchvision.models.detection."
                f"{self.arch}(weights='COCO_V1')\"` (or fetch {weights.url}) and copy the file there, "
                "set TORCH_HOME to the folder above hub/, or give checkpoint: <file>"
            )
        match = re.search(r"-([a-f0-9]{6,})\.", path.name)
        self.expected_sha256_prefix = match.group(1) if match else None
        return path

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.expected_sha256_prefix and info.get("weights_sha256"):
            info["weights_match_torchvision"] = info["weights_sha256"].startswith(self.expected_sha256_prefix)
        return info
