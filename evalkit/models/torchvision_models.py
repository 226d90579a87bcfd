"""``torchvision``: any ``torchvision.models`` classifier builder, weights only from local files."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from evalkit.errors import InputError, MissingResourceError
from evalkit.models.base import TorchModuleAdapter
from evalkit.models.preprocess import DEFAULT_CONFIG, build_transform
from evalkit.registry import MODELS


def hub_checkpoint_path(url: str) -> Path:
    """Where ``torch.hub`` caches the file of ``url`` ($TORCH_HOME/hub/checkpoints/<name>)."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name


@MODELS.register("torchvision")
class TorchvisionAdapter(TorchModuleAdapter):
    """Options: ``name`` (builder, e.g. resnet50), ``weights`` (an enum name such as
    IMAGENET1K_V2 or DEFAULT, looked up in the torch hub cache, never downloaded),
    ``checkpoint`` (a local state dict), ``num_classes``, ``preprocess`` overrides."""

    name = "torchvision"

    def _weights_enum(self) -> Any:
        import torchvision.models as tvm

        weights = self.options.get("weights")
        if not weights or self.options.get("checkpoint"):
            return None
        try:
            return tvm.get_model_weights(self.options["name"])[weights.split(".")[-1]]
        except (KeyError, ValueError) as err:
            raise InputError(f"unknown torchvision weights {weights!r} for {self.options['name']!r}: {err}",
                             field="weights") from None

    def build(self) -> Any:
        import torch
        import torchvision.models as tvm

        model_name = self.options.get("name")
        if model_name not in tvm.list_models():
            import difflib

            close = difflib.get_close_matches(str(model_name), tvm.list_models(), n=3)
            raise MissingResourceError(f"unknown torchvision model {model_name!r}"
                                       + (f"; did you mean {', '.join(close)}?" if close else ""))
        self.weights = self._weights_enum()
        kwargs = {"num_classes": self.options["num_classes"]} if "num_classes" in self.options else {}
        module = tvm.get_model(model_name, weights=None, **kwargs)
        if self.weights is not None:
            path = hub_checkpoint_path(self.weights.url)
            if not path.is_file():
                raise MissingResourceError(
                    f"torchvision weights {self.weights} are not in the torch hub cache: expected {path}. "
                    f"Download {self.weights.url} on a machine with network into that folder, "
                    "or set 'checkpoint: /path/to/file.pth'")
            module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            self.weights_file = path
        self.random_weights = self.weights is None
        return module

    def transform(self) -> Callable:
        overrides = dict(self.options.get("preprocess", {}))
        if self.weights is not None and not overrides:
            return self.weights.transforms()
        config = dict(DEFAULT_CONFIG)
        config.update({k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})
        return build_transform(config)
