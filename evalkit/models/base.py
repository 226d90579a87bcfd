"""Model adapters turn a batch of inputs into the task's predictions."""
from __future__ import annotations

import contextlib
import os
import sys
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.digest import file_sha256 as sha256_file
from evalkit.types import Batch

PRECISIONS = {"fp32": None, "fp16": "float16", "bf16": "bfloat16"}


def check_factory_spec(spec: Any) -> tuple[str, str]:
    """``package.module:factory`` split in two; the standard library is refused (``os:system`` is not a model)."""
    module_name, _, attr = str(spec).partition(":") if isinstance(spec, str) else ("", "", "")
    if not module_name or not attr:
        raise InputError(f"expected 'package.module:factory', got {spec!r}", field="factory")
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        raise InputError(f"{spec!r} is in Python's standard library, not model code: a factory must be a function of "
                         "your own package that returns the model", field="factory")
    return module_name, attr


#: options that name a model, in the order the display label takes them (a path names it by its file name)
LABEL_OPTIONS = ("label", "name", "path", "gguf_file", "arch", "factory")


def display_label(adapter: str, options: Mapping[str, Any]) -> str:
    """The one rule that names a model: in suite validation, ``--model``, tables and run records."""
    for key in LABEL_OPTIONS:
        value = options.get(key)
        if value:
            return Path(str(value)).name if key in ("path", "gguf_file") else str(value)
    return adapter


class ModelAdapter(ABC):
    """Load a model, tell the dataset how to preprocess, predict batches, describe itself.

    ``random_weights`` is True when nothing trained was loaded: the record and the
    printed table then say the numbers are chance.
    """

    name: ClassVar[str]
    #: tasks this adapter can serve (None: any)
    tasks: ClassVar[tuple[str, ...] | None] = None
    #: False for adapters that read predictions from files: their "throughput" is file reading, not a model
    runs_model: ClassVar[bool] = True
    #: True when :meth:`prepare` does device work (decoding, resizing) that the runner overlaps, on a side
    #: CUDA stream, with the previous batch's forward pass
    prepares_on_device: ClassVar[bool] = False

    def __init__(self, **options: Any):
        self.options = options
        self.device = "cpu"
        self.precision = "fp32"
        self.random_weights = False

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False,
             compile: bool = False) -> None:
        """Build the model on ``device``; called once before the first batch."""
        self.device, self.precision = device, precision

    def transform(self) -> Callable | None:
        """Per-sample preprocessing the dataset applies (None: raw samples)."""
        return None

    @abstractmethod
    def predict(self, batch: Batch) -> Any:
        """Predictions for ``batch`` in the task's format."""

    def bind(self, dataset: Any, task: str) -> None:
        """Meet the data set before ``load`` (a label map, a results file's records); the default needs nothing."""

    def prepare(self, batch: Batch) -> Batch:
        """``batch`` ready for :meth:`predict`'s forward pass; the default has nothing to do ahead of it."""
        return batch

    def display_name(self) -> str:
        return display_label(self.name, self.options)

    def describe(self) -> dict[str, Any]:
        return {"adapter": self.name, "name": self.display_name(), "random_weights": self.random_weights,
                "runs_model": self.runs_model,
                "options": {k: v for k, v in self.options.items() if isinstance(v, (str, int, float, bool, type(None)))}}


def resolve_device(device: str = "auto") -> str:
    """``auto`` → ``cuda`` when a GPU is visible, else ``cpu``."""
    if device != "auto":
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchModuleAdapter(ModelAdapter):
    """Shared machinery for adapters of ``torch.nn.Module`` classifiers.

    Subclasses implement ``build()`` (return the module, random or trained) and may
    override ``transform()``. This class moves the model to its device, applies
    ``channels_last`` / ``torch.compile`` and autocast, and loads checkpoints safely.
    """

    tasks = ("imagenet",)
    prepares_on_device = True

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.module: Any = None
        self.weights_file: Path | None = None

    @abstractmethod
    def build(self) -> Any:
        """The ``nn.Module`` in eval mode (on CPU)."""

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False,
             compile: bool = False) -> None:
        import torch

        super().load(device, precision, channels_last, compile)
        if precision not in PRECISIONS:
            raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        module = self.build()
        checkpoint = self.options.get("checkpoint")
        if checkpoint:
            self.load_checkpoint(module, checkpoint)
        module = module.eval().to(device)
        self.channels_last = channels_last
        if channels_last:
            module = module.to(memory_format=torch.channels_last)
        self.parameters = sum(p.numel() for p in module.parameters())
        #: the module as built (``module`` may be its torch.compile wrapper, which hides attributes)
        self.eager_module = module
        self.module = torch.compile(module) if compile else module

    def load_checkpoint(self, module: Any, checkpoint: str | Path) -> None:
        """Load a state dict with ``weights_only=True`` (safetensors too); never unpickle code."""
        import torch

        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise MissingResourceError(f"checkpoint not found: {path.resolve()}")
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as err:  # torch raises UnpicklingError and others for bad files
                raise InputError(
                    f"not a plain state dict of tensors ({type(err).__name__}): evalkit loads checkpoints weights-only "
                    "and never unpickles code. Save the weights with "
                    "torch.save(model.state_dict(), FILE) or as .safetensors", file=path) from None
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        state = {k.removeprefix("module."): v for k, v in state.items()}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise InputError(f"checkpoint does not fit the model: {err}", file=path) from err
        self.weights_file = path
        self.random_weights = False

    def autocast(self) -> contextlib.AbstractContextManager:
        import torch

        dtype = PRECISIONS[self.precision]
        if dtype is None:
            return contextlib.nullcontext()
        device_type = "cuda" if str(self.device).startswith("cuda") else "cpu"
        return torch.autocast(device_type=device_type, dtype=getattr(torch, dtype))

    def prepare(self, batch: Batch) -> Batch:
        """Encoded images decoded and preprocessed on the device (the runner calls this on a side CUDA
        stream, a batch ahead of the forward pass); other inputs unchanged."""
        import dataclasses

        from evalkit.models.gpu_decode import EncodedImages, preprocess_on_device

        if not isinstance(batch.inputs, EncodedImages):
            return batch
        return dataclasses.replace(batch, inputs=preprocess_on_device(batch.inputs, self.preprocess_config(),
                                                                      self.device))

    def predict(self, batch: Batch) -> Any:
        import torch

        x = self.prepare(batch).inputs.to(self.device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self.autocast():
            logits = self.forward(x)
        return logits.float()

    def forward(self, x: Any) -> Any:
        return self.module(x)

    def preprocess_config(self) -> dict[str, Any]:
        """The timm-style data config used when the batch is decoded on the device."""
        from evalkit.models.preprocess import DEFAULT_CONFIG

        config = getattr(self, "data_config", None) or DEFAULT_CONFIG
        overrides = self.options.get("preprocess") or {}
        return {**config, **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}}

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["parameters"] = getattr(self, "parameters", None)
        if self.weights_file is not None:
            info["weights_file"] = str(self.weights_file.resolve())
            info["weights_sha256"] = sha256_file(self.weights_file)
        return info


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
