"""``content-loss`` and ``style-loss``: Gatys et al.'s losses of each stylised image, averaged over pairs.

The definition is pinned and named by ``variant`` (see :mod:`evalkit.features.style_losses`):
- ``gatys`` (default): VGG-19, ImageNet-normalised input, ReLU outputs; content at ``conv4_2``; style over
  ``conv1_1 … conv5_1``; Gram ``F Fᵀ/(H·W)``; mean squared errors; style terms weighted ``1e3/C²`` as in
  the original code (leongatys/PytorchNeuralStyleTransfer).
- ``tutorial``: the PyTorch tutorial's (pre-ReLU convolutions, content ``conv2_2``, style ``conv1_1 … conv3_1``,
  Gram ``/(C·H·W)``, weights 1).
``layers`` overrides the variant's layers (VGG names, ``conv{block}_{k}``); ``pool`` is ``max`` (torchvision's
VGG-19) or ``avg`` (the paper's choice). Content images of another size are resized to the stylised image's
size (``resize``); style images are used at their own size (a Gram matrix does not depend on it).
Weights: torchvision's ``vgg19-dcbb9e9d.pth`` in ``$TORCH_HOME/hub/checkpoints`` or ``weights_file``.
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics import Column, Metric, Signature
from evalkit.metrics._style_common import pairs, weights_signature
from evalkit.registry import METRICS

VARIANT_NAMES = ("gatys", "tutorial")


def to_unit(image: np.ndarray) -> Any:
    """1×3×H×W float32 in [0, 1] (torchvision's ToTensor)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).unsqueeze(0).float().div(255)


class _GatysLoss(Metric):
    kind: ClassVar[str]
    defaults = {"variant": "gatys", "layers": None, "pool": "max", "weights_file": None, "resize": "bicubic"}
    neutral_options = {"device": "cpu"}
    higher_is_better = False
    reference = None

    def definition(self) -> tuple[Any, list[str]]:
        from evalkit.features.style_losses import VARIANTS

        variant = self.options["variant"]
        if variant not in VARIANTS:
            raise InputError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}", field="variant")
        definition = VARIANTS[variant]
        layers = self.options["layers"]
        if layers is None:
            layers = definition.content_layers if self.kind == "content" else definition.style_layers
        if isinstance(layers, str):
            layers = [s.strip() for s in layers.split(",") if s.strip()]
        return definition, list(layers)

    def backbone(self) -> Any:
        from evalkit.features.vgg import load_features

        model, _ = load_features("vgg19", self.options["weights_file"], self.options["pool"], self.options["device"])
        return model

    def features(self, model: Any, image: np.ndarray, taps: list[str]) -> dict[str, Any]:
        from evalkit.features.vgg import imagenet_normalize

        return model(imagenet_normalize(to_unit(image).to(self.options["device"])), taps)

    def update(self, predictions: Sequence[Any], targets: Sequence[Any], ids: Sequence[Any] | None = None) -> None:
        import torch

        from evalkit.features import style_losses as sl

        definition, layers = self.definition()
        ids, items = pairs(predictions, targets, ids if ids is not None else self.default_ids(len(predictions)),
                           self.options["resize"], with_style=self.kind == "style")
        model = self.backbone()
        taps = model.check_layers([sl.tap_name(definition, layer) for layer in layers])
        values = np.empty(len(items), np.float64)
        with torch.inference_mode():
            for i, (stylised, content, style) in enumerate(items):
                feats = self.features(model, stylised, taps)
                if self.kind == "content":
                    value = sl.content_loss(feats, self.features(model, content, taps), definition, layers)
                else:
                    if style is None:
                        raise InputError("style-loss needs the style image of every pair", record=ids[i])
                    grams = self._style_grams(model, style, taps, definition)
                    value = sl.style_loss(feats, grams, definition, layers)
                values[i] = float(value[0])
        self.add(ids, **{self.state_column: values})

    def _style_grams(self, model: Any, style: np.ndarray, taps: list[str], definition: Any) -> dict[str, Any]:
        """Gram matrices of a style image, kept per image (every content meets the same styles)."""
        import hashlib

        from evalkit.features.style_losses import gram

        cache = self.__dict__.setdefault("_gram_cache", {})
        key = (style.shape, hashlib.sha1(style.tobytes()).hexdigest(), tuple(taps))
        if key not in cache:
            feats = self.features(model, style, taps)
            cache[key] = {name: gram(feats[name], definition.gram_norm) for name in taps}
        return cache[key]

    @property
    def state_column(self) -> str:
        return next(iter(self.state))

    def score(self) -> dict[str, float]:
        values = self.column(self.state_column)
        return {self.main_key: float(values.mean()) if len(values) else float("nan")}

    def signature(self) -> Signature:
        from evalkit.features import torchvision_weights as tw

        return weights_signature(super().signature(), lambda: tw.resolve_weights("vgg19", self.options["weights_file"]))

    def extras(self) -> dict[str, Any]:
        from evalkit.errors import MissingResourceError
        from evalkit.features import torchvision_weights as tw

        try:
            return {"weights": tw.describe(tw.resolve_weights("vgg19", self.options["weights_file"]))}
        except MissingResourceError:
            return {}


@METRICS.register("content-loss")
class ContentLoss(_GatysLoss):
    """Gatys et al.'s content loss of each stylised image against its content image (mean over pairs)."""

    name = "content-loss"
    kind = "content"
    state = {"content_loss": Column("float64")}
    keys = ("content_loss",)


@METRICS.register("style-loss")
class StyleLoss(_GatysLoss):
    """Gatys et al.'s style loss of each stylised image against its style image (mean over pairs)."""

    name = "style-loss"
    kind = "style"
    state = {"style_loss": Column("float64")}
    keys = ("style_loss",)
