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


def random_art_inception(path: Path, seed: int = 0) -> Path:
    """Seeded random art-Inception weights in art-fid's layout at ``path``.

    Kaiming-initialised convolutions, BatchNorm statistics recalibrated on smooth test images (so the
    features differ between images), and art-fid's two classifier heads as stride-0 zeros (which its
    ``load_state_dict(strict=False)`` loads and evalkit ignores).
    """
    import torch

    from evalkit.features.art_inception import ArtInception
    from evalkit.metrics.artfid import to_tensor
    from tests.helpers import reset_for_calibration
    from tests.style._images import perturbed, smooth_image

    torch.manual_seed(seed)
    model = ArtInception()
    reset_for_calibration(model)
    images = [smooth_image(1000 * seed + i, 80, 80) for i in range(8)]
    model.train()
    with torch.no_grad():
        model(to_tensor(images + [perturbed(image, i, 10 + 5 * i) for i, image in enumerate(images)]))
    state = model.state_dict()
    for head in ("fc1", "fc2"):
        state[f"{head}.weight"] = torch.zeros(1).expand(1000, 2048)
        state[f"{head}.bias"] = torch.zeros(1).expand(1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


@functools.lru_cache(maxsize=None)
def art_fid_tempdir(seed: int = 0) -> Path:
    """A folder to use as ``tempfile.tempdir``: art-fid (and evalkit) find ``art_fid/art_inception.pth`` in it."""
    import atexit
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="evalkit-art-fid-"))
    atexit.register(shutil.rmtree, folder, True)
    random_art_inception(folder / "art_fid" / "art_inception.pth", seed)
    return folder


def art_inception_file(seed: int = 0) -> str:
    return str(art_fid_tempdir(seed) / "art_fid" / "art_inception.pth")
