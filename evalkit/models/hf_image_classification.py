"""``hf-image-classification``: a local Hugging Face image classifier and its image processor."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from evalkit.errors import MissingResourceError
from evalkit.models.base import TorchModuleAdapter
from evalkit.registry import MODELS


class _ProcessorTransform:
    """Per-image HF preprocessing (picklable, for DataLoader workers)."""

    def __init__(self, processor: Any):
        self.processor = processor

    def __call__(self, image: Any) -> Any:
        return self.processor(images=image, return_tensors="pt")["pixel_values"][0]


@MODELS.register("hf-image-classification")
class HFImageClassificationAdapter(TorchModuleAdapter):
    """Options: ``path`` (a local directory with config, weights and preprocessor config),
    ``trust_remote_code`` (off unless set)."""

    name = "hf-image-classification"

    def build(self) -> Any:
        from transformers import AutoImageProcessor, AutoModelForImageClassification

        path = Path(self.options.get("path", "")).expanduser()
        if not path.is_dir():
            raise MissingResourceError(f"Hugging Face model directory not found: {path.resolve()} "
                                       "(set 'path' to a local directory saved with save_pretrained)")
        trust = bool(self.options.get("trust_remote_code", False))
        module = AutoModelForImageClassification.from_pretrained(path, local_files_only=True, trust_remote_code=trust)
        self.processor = AutoImageProcessor.from_pretrained(path, local_files_only=True, trust_remote_code=trust)
        weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
        self.weights_file = weights[0] if weights else None
        self.random_weights = bool(self.options.get("random_weights", False))
        return module

    def transform(self) -> Callable:
        return _ProcessorTransform(self.processor)

    def forward(self, x: Any) -> Any:
        return self.module(pixel_values=x).logits
