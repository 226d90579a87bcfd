"""Backbone weights from torchvision's cache file names, never downloaded.

A file is looked for as ``weights_file`` (explicit) or ``$TORCH_HOME/hub/checkpoints/<torchvision's
file name>`` (where ``torchvision.models.vgg19(weights=...)`` would have cached it). It loads with
``torch.load(weights_only=True)``; its SHA-256 is recorded. A missing file is an error that says where
it was looked for and how to provide it. A file whose SHA-256 does not start with the hash in torchvision's
file name (random test backbones, fine-tuned weights) is used, and described as ``official: false``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from evalkit.formats.digest import file_key, file_sha256
from evalkit.errors import InputError, MissingResourceError

#: torchvision's cache file name of each backbone's ImageNet weights (the name in the download URL)
CACHE_FILES = {
    "vgg19": "vgg19-dcbb9e9d.pth",
    "vgg16": "vgg16-397923af.pth",
    "alexnet": "alexnet-owt-7be5be79.pth",
}

_STATES: dict[tuple[str, int, int], Any] = {}


def hub_checkpoints() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (torch.hub's rule, computed without importing torch)."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "torch")
    return Path(os.path.expanduser(torch_home)) / "hub" / "checkpoints"


def resolve_weights(arch: str, weights_file: str | Path | None = None) -> Path:
    """The weights file of ``arch``: ``weights_file`` when given, else torchvision's cache file."""
    if weights_file:
        path = Path(weights_file).expanduser()
        if not path.is_file():
            raise MissingResourceError(f"{arch} weights_file not found: {path.resolve()}")
        return path
    if arch not in CACHE_FILES:
        raise InputError(f"no torchvision cache name for {arch!r}; give weights_file", field="weights_file")
    path = hub_checkpoints() / CACHE_FILES[arch]
    if not path.is_file():
        raise MissingResourceError(
            f"{arch} ImageNet weights not found: {path} does not exist. evalkit never downloads weights: "
            f"copy torchvision's {CACHE_FILES[arch]} there (set TORCH_HOME to use another cache), "
            "or give weights_file: PATH")
    return path


def load_state(path: str | Path) -> dict[str, Any]:
    """The state dict in ``path`` (``weights_only=True``, on the CPU), kept in memory for the process."""
    import torch

    path = Path(path)
    key = file_key(path)
    if key not in _STATES:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # torch raises UnpicklingError, RuntimeError... for bad files
            raise InputError(f"not a loadable weights-only state dict: {err}", file=path) from None
        for wrapper in ("state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
                state = state[wrapper]
        if not isinstance(state, dict):
            raise InputError("expected a state dict", file=path)
        _STATES[key] = {k.removeprefix("module."): v for k, v in state.items()}
    return _STATES[key]


def describe(path: str | Path) -> dict[str, Any]:
    """File, SHA-256, and whether it is torchvision's own file (its name's hash prefix matches the content)."""
    digest = file_sha256(path)
    official = any(Path(path).name == name and digest.startswith(name.rsplit("-", 1)[1].split(".")[0])
                   for name in CACHE_FILES.values())
    return {"file": str(Path(path).resolve()), "sha256": digest, "official": official}


def load_prefixed(module: Any, state: dict[str, Any], prefix: str, path: Path) -> None:
    """Load the entries ``prefix*`` of ``state`` into ``module`` (strictly: every parameter, right shapes)."""
    sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    try:
        module.load_state_dict(sub, strict=True)
    except RuntimeError as err:
        raise InputError(f"weights do not fit the backbone: {err}", file=path) from None
