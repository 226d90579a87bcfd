"""``torch``: any ``nn.Module`` from an import path ``package.module:factory`` (or a live module)."""
from __future__ import annotations

import importlib
from typing import Any, Callable

from evalkit.errors import InputError
from evalkit.models.base import TorchModuleAdapter, check_factory_spec
from evalkit.models.preprocess import DEFAULT_CONFIG, build_transform
from evalkit.registry import MODELS


def import_object(spec: str) -> Any:
    """``package.module:attr`` → the object."""
    module_name, attr = check_factory_spec(spec)
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise InputError(f"cannot import {spec!r}: {err}", field="factory") from None
    return obj


@MODELS.register("torch")
class TorchModuleFactoryAdapter(TorchModuleAdapter):
    """Options: ``factory`` (import path returning an nn.Module), ``kwargs`` for it, ``checkpoint``,
    ``preprocess`` (a timm-style data config; ImageNet defaults otherwise). Random unless a checkpoint
    is given or ``trained: true`` says the factory itself loads trained weights."""

    name = "torch"

    def __init__(self, factory: str | None = None, module: Any = None, **options: Any):
        if module is not None and not options.get("label"):
            options["label"] = type(module).__name__  # a live module is named by its class
        super().__init__(factory=factory, **options)
        self._live_module = module

    def build(self) -> Any:
        if self._live_module is not None:
            module = self._live_module
        else:
            module = import_object(self.options["factory"])(**self.options.get("kwargs", {}))
        self.random_weights = not (self.options.get("checkpoint") or self.options.get("trained")
                                   or self._live_module is not None)
        return module

    def transform(self) -> Callable | None:
        if self.options.get("preprocess") is False:
            return None
        config = {**DEFAULT_CONFIG, **{k: tuple(v) if isinstance(v, list) else v
                                       for k, v in (self.options.get("preprocess") or {}).items()}}
        return build_transform(config)
