"""``hf-captioning``: a local Hugging Face image-to-text model (VisionEncoderDecoder, BLIP, GIT) writing captions.

The dataset applies the model's image processor per image (so DataLoader workers can do it);
the adapter stacks the pixel tensors, generates in one batched call and returns one stripped
caption string per image — the format the ``cider`` metric's ``update`` takes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from evalkit.errors import InputError
from evalkit.models.base import TorchModuleAdapter
from evalkit.models.hf_common import ProcessorTransform, require_model_dir
from evalkit.registry import MODELS
from evalkit.types import Batch


def _auto_model_class() -> Any:
    """transformers 5 names the image-to-text auto class ``AutoModelForImageTextToText``; 4.x had ``Vision2Seq``."""
    import transformers

    return getattr(transformers, "AutoModelForImageTextToText", None) or transformers.AutoModelForVision2Seq


@MODELS.register("hf-captioning")
class HFCaptioningAdapter(TorchModuleAdapter):
    """Options: ``path`` (a local directory from ``save_pretrained`` with the model, its image processor
    and tokenizer), ``num_beams`` and ``max_new_tokens`` (default: the model's generation config),
    ``checkpoint`` (weights-only state dict to load on top), ``trust_remote_code`` (off unless set),
    ``random_weights`` (say so in the record).
    """

    name = "hf-captioning"
    tasks = ("captions",)

    def __init__(self, path: str = "", num_beams: int | None = None, max_new_tokens: int | None = None,
                 trust_remote_code: bool = False, random_weights: bool = False, **options: Any):
        super().__init__(path=path, num_beams=num_beams, max_new_tokens=max_new_tokens,
                         trust_remote_code=trust_remote_code, random_weights=random_weights, **options)
        self.path = Path(path).expanduser()
        self.random_weights = bool(random_weights)
        self.processor: Any = None
        self.tokenizer: Any = None

    def build(self) -> Any:
        from transformers import AutoImageProcessor, AutoTokenizer

        self.path = require_model_dir(self.path)
        trust = bool(self.options["trust_remote_code"])
        local = {"local_files_only": True, "trust_remote_code": trust}
        module = _auto_model_class().from_pretrained(self.path, **local)
        self.processor = AutoImageProcessor.from_pretrained(self.path, **local)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, **local)
        weights = sorted(self.path.glob("*.safetensors")) or sorted(self.path.glob("*.bin"))
        self.weights_file = weights[0] if weights else None
        return module

    def transform(self) -> Callable:
        if self.processor is None:
            raise RuntimeError("HFCaptioningAdapter.load() must run before transform()")
        return ProcessorTransform(self.processor)

    def _generate_kwargs(self) -> dict[str, Any]:
        return {k: self.options[k] for k in ("num_beams", "max_new_tokens") if self.options[k] is not None}

    def predict(self, batch: Batch) -> list[str]:
        import torch

        images = list(batch.inputs)
        if any(image is None for image in images):
            raise InputError("the captions dataset has no images (set dataset.root to the image folder)", field="root")
        x = torch.stack(images).to(self.device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self.autocast():
            generated = self.module.generate(pixel_values=x, **self._generate_kwargs())
        return [text.strip() for text in self.tokenizer.batch_decode(generated, skip_special_tokens=True)]


    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.module is not None:
            info["architecture"] = type(getattr(self.module, "_orig_mod", self.module)).__name__
        return info
