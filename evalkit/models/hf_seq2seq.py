"""``hf-seq2seq``: a local Hugging Face encoder-decoder (Marian, T5, mBART...) translating source sentences."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.models.base import PRECISIONS, ModelAdapter
from evalkit.models.hf_common import require_model_dir
from evalkit.registry import MODELS
from evalkit.types import Batch


def length_sorted_chunks(lengths: list[int], size: int) -> list[list[int]]:
    """Indices grouped into chunks of similar length (longest first), so padding is small."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + size] for i in range(0, len(order), size)]


@MODELS.register("hf-seq2seq")
class HFSeq2SeqAdapter(ModelAdapter):
    """Options: ``path`` (local directory from ``save_pretrained``), ``num_beams``, ``max_new_tokens``
    (default: the model's generation config), ``prefix`` (prepended to every source, e.g. T5's
    "translate English to German: "), ``generation_batch_size`` (sentences per ``generate`` call, sorted
    by length within each loader batch; default the whole batch), ``max_input_length`` (truncation),
    ``trust_remote_code`` (off unless set), ``random_weights`` (say so in the record).
    """

    name = "hf-seq2seq"
    tasks = ("translation",)

    def __init__(self, path: str, num_beams: int | None = None, max_new_tokens: int | None = None,
                 prefix: str = "", generation_batch_size: int | None = None, max_input_length: int | None = None,
                 trust_remote_code: bool = False, random_weights: bool = False, **options: Any):
        super().__init__(path=path, num_beams=num_beams, max_new_tokens=max_new_tokens, prefix=prefix,
                         generation_batch_size=generation_batch_size, max_input_length=max_input_length,
                         trust_remote_code=trust_remote_code, random_weights=random_weights, **options)
        self.path = Path(path).expanduser()
        self.random_weights = bool(random_weights)
        self.model: Any = None
        self.tokenizer: Any = None

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False, compile: bool = False) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        super().load(device, precision, channels_last, compile)
        if precision not in PRECISIONS:
            raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.path = require_model_dir(self.path)
        trust = bool(self.options["trust_remote_code"])
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True, trust_remote_code=trust)
        model = AutoModelForSeq2SeqLM.from_pretrained(self.path, local_files_only=True, trust_remote_code=trust)
        dtype = PRECISIONS[precision]
        if dtype is not None:
            model = model.to(getattr(torch, dtype))
        self.model = model.eval().to(device)
        self.parameters = sum(p.numel() for p in self.model.parameters())

    def _generate_kwargs(self) -> dict[str, Any]:
        return {k: self.options[k] for k in ("num_beams", "max_new_tokens") if self.options[k] is not None}

    def predict(self, batch: Batch) -> list[str]:
        import torch

        if self.model is None:
            raise RuntimeError("HFSeq2SeqAdapter.load() must run before predict()")
        sources = list(batch.inputs)
        if any(s is None for s in sources):
            raise InputError("the translation dataset has no source sentences (set source_file or testset)",
                             field="source_file")
        texts = [self.options["prefix"] + s for s in sources]
        truncate = {"truncation": True, "max_length": self.options["max_input_length"]} \
            if self.options["max_input_length"] else {"truncation": True}
        lengths = [len(ids) for ids in self.tokenizer(texts, **truncate)["input_ids"]]
        size = self.options["generation_batch_size"] or max(len(texts), 1)
        outputs = [""] * len(texts)
        for chunk in length_sorted_chunks(lengths, size):
            encoded = self.tokenizer([texts[i] for i in chunk], return_tensors="pt", padding=True, **truncate)
            encoded = {k: v.to(self.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
            with torch.inference_mode():
                generated = self.model.generate(**encoded, **self._generate_kwargs())
            for i, text in zip(chunk, self.tokenizer.batch_decode(generated, skip_special_tokens=True)):
                outputs[i] = text
        return outputs


    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["parameters"] = getattr(self, "parameters", None)
        info["weights_file"] = str(self.path.resolve())
        if self.model is not None:
            info["architecture"] = type(self.model).__name__
        return info
