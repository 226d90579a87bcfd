"""``generator``: a torch generator (seeded latents, optional class labels → images) as the model of a
``generation`` run over ``generator-samples``.

``factory: package.module:fn`` returns an ``nn.Module`` called as ``module(z)`` (or ``module(z, labels)`` when
``num_classes`` > 0) on N×``z_size`` float32 latents; it returns N×3×H×W images in ``output_range``
(``symmetric`` [-1, 1], ``unit`` [0, 1] or ``uint8``), made 8-bit as the reference tools' files hold them
(:func:`evalkit.features.latents.to_uint8`). Sample ``i``'s latent depends only on ``seed``, ``seeding`` and
``i`` (:mod:`evalkit.features.latents`), so shards, resumed runs and batch sizes see the same images;
``seeding: torch-fidelity`` reproduces ``fidelity --input1 <model>``'s latents.

The images go through FID-Inception on the device (``modes``/``layers`` as ``fid-inception``), and with
``ppl: true`` (or a mapping of the ``ppl`` metric's distance options) each sample also gets its PPL distance,
torch-fidelity's LPIPS-VGG16 between the images of a latent pair ε apart, divided by ε².
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from evalkit.errors import InputError
from evalkit.features import PPL_DEFAULTS, ppl_key
from evalkit.models.base import TorchModuleAdapter
from evalkit.models.feature_extractor import FIDInceptionFeatures
from evalkit.registry import MODELS
from evalkit.types import Batch

@MODELS.register("generator")
class GeneratorAdapter(TorchModuleAdapter, FIDInceptionFeatures):
    name = "generator"
    tasks = ("generation",)

    def __init__(self, factory: str | None = None, **options: Any):
        super().__init__(factory=factory, **options)
        self.latents: Any = None
        self.ppl_options = self._ppl_options(options.get("ppl"))
        self.similarity: Any = None
        self.similarity_info: dict[str, Any] = {}

    @staticmethod
    def _ppl_options(value: Any) -> dict[str, Any] | None:
        if value in (None, False):
            return None
        if value is True:
            return dict(PPL_DEFAULTS)
        if not isinstance(value, Mapping):
            raise InputError(f"ppl must be true or a mapping of {', '.join(PPL_DEFAULTS)}, got {value!r}", field="ppl")
        allowed = set(PPL_DEFAULTS) | {"weights_file", "heads_file"}
        unknown = set(value) - allowed
        if unknown:
            raise InputError(f"unknown ppl options {sorted(unknown)}; known: {sorted(allowed)}", field="ppl")
        if value.get("similarity", "lpips-vgg16") != "lpips-vgg16":
            raise InputError("ppl similarity: only torch-fidelity's lpips-vgg16", field="ppl.similarity")
        return {**PPL_DEFAULTS, **value}

    def build(self) -> Any:
        from evalkit.models.torch_module import import_object

        if not self.options.get("factory"):
            raise InputError("the generator adapter needs 'factory: package.module:fn' returning the generator "
                             "nn.Module", field="factory")
        module = import_object(self.options["factory"])(**self.options.get("kwargs", {}))
        self.random_weights = not (self.options.get("checkpoint") or self.options.get("trained"))
        return module

    def bind(self, dataset: Any, task: str) -> None:
        from evalkit.features.latents import LatentSource

        super().bind(dataset, task)
        self.latents = LatentSource(self.options.get("z_size"), self.options.get("z_type", "normal"),
                                    int(self.options.get("num_classes", 0)), self.options.get("seed", 2020),
                                    self.options.get("seeding", "per-sample"), len(dataset),
                                    int(self.options.get("seeding_block", 64)))

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False, compile: bool = False) -> None:
        super().load(device, precision, channels_last, compile)
        if self.ppl_options is not None:
            from evalkit.features.lpips_net import load_torch_fidelity_lpips

            self.similarity, self.similarity_info = load_torch_fidelity_lpips(
                self.ppl_options["similarity_resize"], self.ppl_options.get("weights_file"),
                self.ppl_options.get("heads_file"), device)

    def transform(self) -> Callable | None:
        return None

    def generate(self, z: Any, labels: Any) -> Any:
        """uint8 N×3×H×W images of latents ``z`` (and ``labels``), on the device."""
        import torch

        from evalkit.features.latents import to_uint8

        args = [z.to(self.device)] + ([labels.to(self.device)] if labels is not None else [])
        with torch.inference_mode(), self.autocast():
            images = self.module(*args)
        return to_uint8(images, self.options.get("output_range", "symmetric"))

    def predict(self, batch: Batch) -> Any:
        import torch

        indices = list(batch.inputs)
        out: dict[str, Any] = self.extractor.features_of_uint8(self.generate(*self.latents.samples(indices)))
        if self.ppl_options is not None:
            epsilon = float(self.ppl_options["epsilon"])
            z0, z1, labels = self.latents.ppl_pairs(indices, epsilon, self.ppl_options["z_interp_mode"])
            pair_labels = torch.cat([labels, labels]) if labels is not None else None
            rgb0, rgb1 = self.generate(torch.cat([z0, z1]), pair_labels).chunk(2)
            with torch.inference_mode():
                distances = self.similarity(rgb0, rgb1) / (epsilon ** 2)
            out[ppl_key(self.ppl_options)] = distances.float().cpu().numpy()
        return out

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["output_range"] = self.options.get("output_range", "symmetric")
        if self.latents is not None:
            info["latents"] = {**self.latents.describe(), "num_samples": self.latents.num_samples}
        if self.ppl_options is not None:
            info["ppl"] = {**{k: v for k, v in self.ppl_options.items() if k in PPL_DEFAULTS},
                           "lpips": self.similarity_info}
        return info
