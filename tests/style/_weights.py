"""Seeded random backbones saved under torchvision's cache file names (no download, ever).

Feature weights are random (PyTorch's default init, seeded, biases included); the classifier entries,
which no style-transfer metric reads but torchvision's strict loading needs, are stride-0 views of one
zero, so a file holds only the features (VGG-19: 80 MB instead of 548 MB).
"""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

CACHE_FILES = {"vgg19": "vgg19-dcbb9e9d.pth", "vgg16": "vgg16-397923af.pth", "alexnet": "alexnet-owt-7be5be79.pth"}


def random_state(arch: str, seed: int = 0) -> dict:
    import torch
    import torchvision

    from evalkit.features.vgg import ConvFeatures

    torch.manual_seed(seed)
    features = ConvFeatures(arch)
    with torch.device("meta"):
        full = getattr(torchvision.models, arch)()
    state = {}
    for key, value in full.state_dict().items():
        if key.startswith("features."):
            state[key] = features.features.state_dict()[key.removeprefix("features.")].clone()
        else:
            state[key] = torch.zeros(1).expand(value.shape)
    return state


def save_backbones(folder: Path, archs=("alexnet", "vgg16", "vgg19"), seed: int = 0) -> Path:
    """``folder/hub/checkpoints/<cache name>`` for each arch; returns ``folder`` (a TORCH_HOME)."""
    import torch

    checkpoints = Path(folder) / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    for i, arch in enumerate(archs):
        path = checkpoints / CACHE_FILES[arch]
        if not path.exists():
            torch.save(random_state(arch, seed + i), path)
    return Path(folder)


@functools.lru_cache(maxsize=None)
def shared_torch_home(archs: tuple[str, ...] = ("alexnet",), seed: int = 0) -> Path:
    """One TORCH_HOME per process for the given archs (removed at exit with its temporary folder)."""
    folder = Path(tempfile.mkdtemp(prefix="evalkit-style-weights-"))
    import atexit
    import shutil

    atexit.register(shutil.rmtree, folder, True)
    return save_backbones(folder, archs, seed)


def weights_file(arch: str, seed: int = 0) -> str:
    return str(shared_torch_home((arch,), seed) / "hub" / "checkpoints" / CACHE_FILES[arch])
