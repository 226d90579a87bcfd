"""``hf-vqa``: a local Hugging Face visual question answering model answering VQA questions.

Two kinds of models: classifiers over a fixed answer vocabulary (ViLT: the arg-max logit's
``config.id2label``) and generators (BLIP and other ``AutoModelForVisualQuestionAnswering`` /
image-text-to-text models: the decoded answer). Either way the adapter returns one answer string
per question, the format the ``vqa`` metric takes; the metric applies the official normalisation.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.models.base import TorchModuleAdapter
from evalkit.models.hf_common import require_model_dir
from evalkit.registry import MODELS
from evalkit.types import Batch

MODES = ("auto", "classify", "generate")


@MODELS.register("hf-vqa")
class HFVQAAdapter(TorchModuleAdapter):
    """Options: ``path`` (local ``save_pretrained`` directory with model and processor), ``mode``
    (``auto``: classify when the model cannot generate), ``prompt`` (a format string with
    ``{question}``), ``max_new_tokens`` / ``num_beams`` for generation, ``trust_remote_code``
    (off unless set), ``random_weights`` (say so in the record).
    """

    name = "hf-vqa"
    tasks = ("vqa",)

    def __init__(self, path: str = "", mode: str = "auto", prompt: str = "{question}",
                 max_new_tokens: int | None = None, num_beams: int | None = None,
                 trust_remote_code: bool = False, random_weights: bool = False, **options: Any):
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}", field="mode")
        super().__init__(path=path, mode=mode, prompt=prompt, max_new_tokens=max_new_tokens, num_beams=num_beams,
                         trust_remote_code=trust_remote_code, random_weights=random_weights, **options)
        self.path = Path(path).expanduser()
        self.random_weights = bool(random_weights)
        self.processor: Any = None
        self.mode = mode

    def build(self) -> Any:
        import transformers

        self.path = require_model_dir(self.path)
        local = {"local_files_only": True, "trust_remote_code": bool(self.options["trust_remote_code"])}
        errors = []
        module = None
        for auto in ("AutoModelForVisualQuestionAnswering", "AutoModelForImageTextToText"):
            cls = getattr(transformers, auto, None)
            if cls is None:
                continue
            try:
                module = cls.from_pretrained(self.path, **local)
                break
            except ValueError as err:  # the config's model type is not in this auto class
                errors.append(f"{auto}: {err}")
        if module is None:
            raise InputError("not a visual question answering model: " + "; ".join(errors), file=self.path)
        self.processor = transformers.AutoProcessor.from_pretrained(self.path, **local)
        if self.mode == "auto":
            can_generate = getattr(module, "can_generate", lambda: False)()
            self.mode = "generate" if can_generate else "classify"
        if self.mode == "classify" and not getattr(module.config, "id2label", None):
            raise InputError("a classifier VQA model needs config.id2label (its answer vocabulary)", file=self.path)
        weights = sorted(self.path.glob("*.safetensors")) or sorted(self.path.glob("*.bin"))
        self.weights_file = weights[0] if weights else None
        return module

    def _encode(self, batch: Batch) -> Any:
        inputs = list(batch.inputs)
        for sample_id, x in zip(batch.ids, inputs):
            if not isinstance(x, dict) or "image" not in x or "question" not in x:
                raise InputError("hf-vqa needs {'image', 'question'} inputs (the vqa dataset loader)",
                                 record=sample_id)
        texts = [self.options["prompt"].format(question=x["question"]) for x in inputs]
        encoded = self.processor(images=[x["image"] for x in inputs], text=texts, return_tensors="pt",
                                 padding=True, truncation=True)
        return encoded.to(self.device)

    def predict(self, batch: Batch) -> list[str]:
        import torch

        encoded = self._encode(batch)
        with torch.inference_mode(), self.autocast():
            if self.mode == "classify":
                best = self.module(**encoded).logits.argmax(dim=-1).tolist()
                labels = self.module.config.id2label
                return [str(labels[i]) for i in best]
            kwargs = {k: self.options[k] for k in ("max_new_tokens", "num_beams") if self.options[k] is not None}
            generated = self.module.generate(**encoded, **kwargs)
        if generated.shape[1] > encoded["input_ids"].shape[1] and not self.module.config.is_encoder_decoder \
                and torch.equal(generated[:, : encoded["input_ids"].shape[1]], encoded["input_ids"]):
            generated = generated[:, encoded["input_ids"].shape[1]:]  # decoder-only models echo the prompt
        return [text.strip() for text in self.processor.batch_decode(generated, skip_special_tokens=True)]


    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["mode"] = self.mode
        if self.module is not None:
            info["architecture"] = type(getattr(self.module, "_orig_mod", self.module)).__name__
        return info
