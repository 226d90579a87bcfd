"""``fid-inception``: the model of a ``generation`` run whose samples are image files (a generated folder or zip).

It applies the feature extractor: the data set's workers decode and resize (``transform``), the batch goes
through FID-Inception on the device, and the predictions are ``{"inception/<mode>:<layer>": features}``
(what the metrics and the prediction cache keep). ``modes`` and ``layers`` list what the metrics need
(``fid`` default: ``pytorch-fid`` / ``2048``; ``kid``, ``isc``, ``precision-recall``: ``tf`` with ``2048``
and ``logits_unbiased``). Weights come from the torch hub cache or ``weights_file`` (never downloaded);
``pretrained: false`` (with ``seed``) builds seeded random weights instead, flagged as random (the quickstart).
``fast: true`` folds BatchNorm into the convolutions (NHWC on the CPU): about twice pytorch-fid's images/s on a
CPU, features rounded differently (~1e-4) and signed ``bn_folded``, so they never mix with exact ones.
"""
from __future__ import annotations

from typing import Any, Callable

from evalkit.models.base import ModelAdapter
from evalkit.registry import MODELS
from evalkit.types import Batch


@MODELS.register("fid-inception")
class FIDInceptionFeatures(ModelAdapter):
    name = "fid-inception"
    tasks = ("generation",)

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.modes = tuple(options.get("modes") or ("pytorch-fid",))
        self.layers = tuple(str(x) for x in (options.get("layers") or ("2048",)))
        self.extractor: Any = None
        self.dataset: Any = None

    def make_extractor(self) -> Any:
        from evalkit.features import check_mode
        from evalkit.features.extract import Extractor

        for mode in self.modes:
            check_mode(mode)
        seed = int(self.options.get("seed", 0)) if self.options.get("pretrained") is False else None
        return Extractor(self.modes, self.layers, self.options.get("weights_file"), random_seed=seed,
                         exact=not self.options.get("fast", False))

    def bind(self, dataset: Any, task: str) -> None:
        self.extractor = self.make_extractor()
        self.random_weights = not self.extractor.weights.official
        self.dataset = dataset

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False, compile: bool = False) -> None:
        super().load(device, precision, channels_last, compile)
        self.extractor.device = device
        self.extractor.network()
        if hasattr(self.dataset, "prepare_reference"):
            self.dataset.prepare_reference(self.extractor, int(self.options.get("reference_batch_size", 50)),
                                           int(self.options.get("reference_workers", 0)))

    def transform(self) -> Callable | None:
        return self.extractor.preprocess()

    def predict(self, batch: Batch) -> Any:
        return self.extractor.features(batch.inputs)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.extractor is not None:
            info.update(self.extractor.describe())
            info["unofficial_weights"] = not self.extractor.weights.official
        return info


@MODELS.register("dinov2-features")
class DinoV2Features(FIDInceptionFeatures):
    """DINOv2 features for ``fd-dinov2`` (dgm-eval's preprocessing; ``arch``, default ``vitl14``; ``weights_file``)."""

    name = "dinov2-features"

    def make_extractor(self) -> Any:
        from evalkit.features.dinov2 import DinoV2Extractor

        return DinoV2Extractor(self.options.get("arch", "vitl14"), self.options.get("weights_file"))
