"""``hf-image-classification``: a local Hugging Face image classifier and its image processor."""
from __future__ import annotations

from typing import Any, Callable

from evalkit.models.base import TorchModuleAdapter
from evalkit.models.hf_common import ProcessorTransform, require_model_dir
from evalkit.registry import MODELS


@MODELS.register("hf-image-classification")
class HFImageClassificationAdapter(TorchModuleAdapter):
    """Options: ``path`` (a local directory with config, weights and preprocessor config),
    ``trust_remote_code`` (off unless set)."""

    name = "hf-image-classification"

    def build(self) -> Any:
        from transformers import AutoImageProcessor, AutoModelForImageClassification

        path = require_model_dir(self.options.get("path", ""))
        trust = bool(self.options.get("trust_remote_code", False))
        module = AutoModelForImageClassification.from_pretrained(path, local_files_only=True, trust_remote_code=trust)
        self.processor = AutoImageProcessor.from_pretrained(path, local_files_only=True, trust_remote_code=trust)
        weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
        self.weights_file = weights[0] if weights else None
        self.random_weights = bool(self.options.get("random_weights", False))
        return module

    def transform(self) -> Callable:
        return ProcessorTransform(self.processor)

    def forward(self, x: Any) -> Any:
        return self.module(pixel_values=x).logits
