"""``timm``: any timm model name, random, from the local Hugging Face cache, or from a checkpoint."""
from __future__ import annotations

from typing import Any, Callable

from evalkit.errors import MissingResourceError
from evalkit.models.base import TorchModuleAdapter
from evalkit.models.preprocess import build_transform
from evalkit.registry import MODELS


@MODELS.register("timm")
class TimmAdapter(TorchModuleAdapter):
    """Options: ``name`` (timm model name), ``pretrained`` (from the HF cache, offline),
    ``checkpoint`` (a local state dict), ``num_classes``, ``preprocess`` (overrides of timm's data config),
    ``use_train_size`` (resolve the data config at the training input size instead of the test size).

    As timm's ``validate.py`` and its published results tables, the data config is resolved at the
    model's *test* input size by default (resnet50.a1_in1k: 288 px, crop 1.0, not 224 px, crop 0.95).
    """

    name = "timm"

    def build(self) -> Any:
        import timm

        model_name = self.options.get("name")
        if not model_name:
            raise MissingResourceError("the timm adapter needs a model 'name' (e.g. resnet50)")
        kwargs = {k: self.options[k] for k in ("num_classes", "in_chans") if k in self.options}
        pretrained = bool(self.options.get("pretrained", False)) and not self.options.get("checkpoint")
        try:
            module = timm.create_model(model_name, pretrained=pretrained, **kwargs)
        except RuntimeError as err:
            if "Unknown model" in str(err):
                raise MissingResourceError(str(err)) from None
            raise
        except Exception as err:  # hub errors: LocalEntryNotFoundError, OSError, URLError...
            if not pretrained:
                raise
            from huggingface_hub import constants

            raise MissingResourceError(
                f"pretrained weights for timm model {model_name!r} are not in the local Hugging Face cache "
                f"({constants.HF_HUB_CACHE}; evalkit runs with HF_HUB_OFFLINE=1). Download them on a machine "
                f"with network (e.g. `hf download timm/{model_name}`) and copy the cache, or set "
                f"'checkpoint: /path/to/weights.pth|.safetensors' ({type(err).__name__}: {err})"
            ) from None
        self.random_weights = not pretrained
        self.pretrained_source = f"hf-hub:timm/{model_name}" if pretrained else None
        return module

    def load(self, *args: Any, **kwargs: Any) -> None:
        super().load(*args, **kwargs)
        from timm.data import resolve_data_config

        self.data_config = resolve_data_config(dict(self.options.get("preprocess", {})), model=self.eager_module,
                                               use_test_size=not self.options.get("use_train_size", False))

    def transform(self) -> Callable:
        return build_transform(self.data_config)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["data_config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.data_config.items()}
        info["input_size_from"] = "train" if self.options.get("use_train_size", False) else "test"
        if getattr(self, "pretrained_source", None):
            info["weights_source"] = self.pretrained_source
        return info
