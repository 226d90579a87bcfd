"""``gatys``: the original neural style transfer (Gatys, Ecker & Bethge 2016), run as an optimisation per pair.

Options (all recorded): ``variant`` (``gatys`` or ``tutorial``: the loss definitions of
:mod:`evalkit.features.style_losses`), ``optimizer`` (``lbfgs`` as both originals, or ``adam``), ``steps``
(loss evaluations for L-BFGS, as the originals count them, stopping after exactly that many; optimizer steps for Adam), ``lr`` (Adam; L-BFGS uses 1
as the originals), ``content_weight`` and ``style_weight`` (multiplying the content and style losses; 1 and 1 for
Gatys' code, whose layer weights 1e3/C² are in the style loss; the tutorial uses 1 and 1e6), ``image_size``
(the shorter side both images are resized to, bilinear as torchvision's ``Resize``), ``init`` (``content``, as both
originals, or ``noise``), ``seed``, ``pool`` and ``weights_file``. VGG-19 weights come from torchvision's cache
name (``vgg19-dcbb9e9d.pth``) or ``weights_file``; ``pretrained: false`` uses seeded random weights and the run is
flagged as random. The stylised image is clamped to [0, 1] and rounded to 8 bits.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from evalkit.errors import InputError
from evalkit.models.base import ModelAdapter
from evalkit.registry import MODELS
from evalkit.types import Batch

DEFAULTS = {"variant": "gatys", "optimizer": "lbfgs", "steps": 500, "lr": None, "content_weight": None,
            "style_weight": None, "image_size": 512, "init": "content", "seed": 0, "pool": "max",
            "weights_file": None, "pretrained": True}
VARIANT_WEIGHTS = {"gatys": (1.0, 1.0), "tutorial": (1.0, 1e6)}


def resize_shorter(image: np.ndarray, size: int | None) -> np.ndarray:
    """torchvision ``Resize(size)`` on a PIL image: shorter side to ``size``, bilinear (PIL's, antialiased)."""
    if not size:
        return image
    from PIL import Image

    h, w = image.shape[:2]
    if min(h, w) == size:
        return image
    if w <= h:
        ow, oh = size, int(size * h / w)
    else:
        oh, ow = size, int(size * w / h)
    return np.asarray(Image.fromarray(image).resize((ow, oh), Image.BILINEAR))


class GatysOptimizer:
    """The optimisation of one pair, kept apart from the adapter so benchmarks can time its steps."""

    def __init__(self, model: Any, definition: Any, options: dict[str, Any], device: str = "cpu"):
        from evalkit.features import style_losses as sl

        self.model, self.definition, self.options, self.device = model, definition, options, device
        self.content_layers = list(definition.content_layers)
        self.style_layers = list(definition.style_layers)
        self.content_taps = [sl.tap_name(definition, l) for l in self.content_layers]
        self.style_taps = [sl.tap_name(definition, l) for l in self.style_layers]
        self.taps = list(dict.fromkeys(self.content_taps + self.style_taps))
        default_cw, default_sw = VARIANT_WEIGHTS[definition.name]
        self.content_weight = float(options["content_weight"] if options["content_weight"] is not None else default_cw)
        self.style_weight = float(options["style_weight"] if options["style_weight"] is not None else default_sw)

    def prepare(self, content: Any, style: Any) -> Any:
        """Targets from two 1×3×H×W [0, 1] tensors; returns the image being optimised."""
        import torch

        from evalkit.features import style_losses as sl
        from evalkit.features.vgg import imagenet_normalize

        with torch.no_grad():
            c = self.model(imagenet_normalize(content), self.content_taps)
            s = self.model(imagenet_normalize(style), self.style_taps)
        self.content_targets = {k: v.detach() for k, v in c.items()}
        self.style_targets = {k: sl.gram(s[k], self.definition.gram_norm).detach() for k in self.style_taps}
        if self.options["init"] == "noise":
            generator = torch.Generator().manual_seed(int(self.options["seed"]))
            image = torch.rand(content.shape, generator=generator).to(content.device)
        else:
            image = content.clone()
        self.image = image.requires_grad_(True)
        name = self.options["optimizer"]
        if name == "lbfgs":
            self.optimizer = torch.optim.LBFGS([self.image])
        else:
            self.optimizer = torch.optim.Adam([self.image], lr=float(self.options["lr"] or 1e-2))
        self.evaluations = 0
        return self.image

    def loss(self) -> Any:
        from evalkit.features import style_losses as sl
        from evalkit.features.vgg import imagenet_normalize

        if self.definition.name == "tutorial":
            import torch

            with torch.no_grad():
                self.image.clamp_(0, 1)
        feats = self.model(imagenet_normalize(self.image), self.taps)
        content = sl.content_loss(feats, self.content_targets, self.definition, self.content_layers)
        style = sl.style_loss(feats, self.style_targets, self.definition, self.style_layers)
        return (self.content_weight * content + self.style_weight * style).sum()

    def closure(self) -> Any:
        self.optimizer.zero_grad()
        loss = self.loss()
        loss.backward()
        self.evaluations += 1
        return loss

    def run(self, steps: int) -> Any:
        import torch

        if self.options["optimizer"] == "lbfgs":
            group = self.optimizer.param_groups[0]
            while self.evaluations < steps:
                # as the originals: steps of 20 iterations; the last one cut so exactly ``steps`` evaluations run
                group["max_iter"] = min(20, steps - self.evaluations)
                group["max_eval"] = group["max_iter"]
                before = self.evaluations
                self.optimizer.step(self.closure)
                if self.evaluations == before:
                    break
        else:
            for _ in range(steps):
                self.optimizer.step(self.closure)
        with torch.no_grad():
            return self.image.detach().clamp(0, 1)


@MODELS.register("gatys")
class GatysAdapter(ModelAdapter):
    name = "gatys"
    tasks = ("style-transfer",)

    def __init__(self, **options: Any):
        unknown = sorted(set(options) - set(DEFAULTS) - {"label", "year"})
        if unknown:
            raise InputError(f"gatys has no option {unknown[0]!r} (options: {', '.join(DEFAULTS)})", field=unknown[0])
        super().__init__(**{**DEFAULTS, **options})
        if self.options["optimizer"] not in ("lbfgs", "adam"):
            raise InputError("optimizer must be lbfgs or adam", field="optimizer")
        if self.options["init"] not in ("content", "noise"):
            raise InputError("init must be content or noise", field="init")
        self.weights: dict[str, Any] | None = None

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False, compile: bool = False) -> None:
        import torch

        from evalkit.features import torchvision_weights as tw
        from evalkit.features.style_losses import VARIANTS
        from evalkit.features.vgg import ConvFeatures, load_features

        super().load(device, precision, channels_last, compile)
        if self.options["variant"] not in VARIANTS:
            raise InputError(f"variant must be one of {', '.join(VARIANTS)}", field="variant")
        self.definition = VARIANTS[self.options["variant"]]
        if self.options["pretrained"]:
            self.model, path = load_features("vgg19", self.options["weights_file"], self.options["pool"], device)
            self.weights = tw.describe(path)
        else:
            torch.manual_seed(int(self.options["seed"]))
            self.model = ConvFeatures("vgg19", self.options["pool"]).eval().requires_grad_(False).to(device)
            self.random_weights = True

    def transform(self) -> Callable | None:
        return None

    def stylise(self, content: np.ndarray, style: np.ndarray) -> np.ndarray:
        import torch

        from evalkit.models.style_transfer import to_uint8, to_unit_batch

        size = self.options["image_size"]
        c = to_unit_batch([resize_shorter(content, size)], self.device)
        s = to_unit_batch([resize_shorter(style, size)], self.device)
        torch.manual_seed(int(self.options["seed"]))
        run = GatysOptimizer(self.model, self.definition, self.options, self.device)
        run.prepare(c, s)
        return to_uint8(run.run(int(self.options["steps"])))[0]

    def predict(self, batch: Batch) -> list[np.ndarray]:
        return [self.stylise(content, style) for content, style in batch.inputs]

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.weights:
            info["weights_file"], info["weights_sha256"] = self.weights["file"], self.weights["sha256"]
        return info
