"""art-Inception: the Inception-v3 trained on art of ArtFID (Wright & Ommer 2022), as the ``art-fid`` package runs it.

art-fid 0.0.2 builds torchvision's ``Inception3`` with two classifier heads (``fc1``/``fc2``, ``AuxLogits1``/
``AuxLogits2``), ``transform_input=False``, and takes ``model(x, return_features=True)``: the global average of
``Mixed_7c`` (2048 values) of ``ToTensor()`` images, i.e. RGB in [0, 1], not normalised and not resized (any
size from 75×75 up). Only that trunk matters for the feature, so evalkit builds the trunk from torchvision's
blocks (the same ones art-fid copied) and loads its entries strictly; the heads' entries are ignored.

Weights are never downloaded: art-fid caches its checkpoint as ``<tempfile.gettempdir()>/art_fid/
art_inception.pth``; evalkit reads that file (or ``weights_file``) with ``weights_only=True`` and records its
SHA-256. art-fid states no hash for the file, so evalkit cannot tell the official file from another one.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import inception as tv

from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.digest import file_key
from evalkit.features import torchvision_weights

FILE_NAME = "art_inception.pth"
#: art-fid's CKPT_URL (art_fid/art_fid.py)
URL = "https://huggingface.co/matthias-wright/art_inception/resolve/main/art_inception.pth"
#: the modules of art-fid's Inception3 that the 2048-d feature passes through, in order
TRUNK = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
         "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
         "Mixed_7a", "Mixed_7b", "Mixed_7c")
#: the smallest side Inception-v3's strided convolutions and pools accept
MIN_SIDE = 75


def art_fid_cache() -> Path:
    """Where art-fid's ``utils.download`` keeps the checkpoint: ``<tempfile.gettempdir()>/art_fid``."""
    return Path(tempfile.gettempdir()) / "art_fid"


def resolve_weights(weights_file: str | Path | None = None) -> Path:
    """``weights_file`` when given, else art-fid's cached ``art_inception.pth``; a missing file is an error."""
    if weights_file:
        path = Path(weights_file).expanduser()
        if not path.is_file():
            raise MissingResourceError(f"art-Inception weights_file not found: {path.resolve()}")
        return path
    path = art_fid_cache() / FILE_NAME
    if not path.is_file():
        raise MissingResourceError(
            f"art-Inception weights not found: {path} does not exist (art-fid's cache, "
            "<tempfile.gettempdir()>/art_fid; set TMPDIR to use another). evalkit never downloads weights: on a "
            f"machine with network, download {URL} there, or give weights_file: PATH (--artfid-weights)")
    return path


class ArtInception(nn.Module):
    """``forward(x)``: N×3×H×W in [0, 1] → N×2048, art-fid's ``model(x, return_features=True)``."""

    def __init__(self) -> None:
        super().__init__()
        base = tv.Inception3(aux_logits=False, init_weights=False)
        for name in TRUNK:
            setattr(self, name, getattr(base, name))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in TRUNK:
            x = getattr(self, name)(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)


_CACHE: dict[tuple, ArtInception] = {}


def load_art_inception(path: Path, device: str = "cpu") -> ArtInception:
    """The network of the checkpoint at ``path`` on ``device``, built once per process and file version."""
    key = (*file_key(path), str(device))
    if key not in _CACHE:
        _CACHE[key] = build_art_inception(path).to(device)
    return _CACHE[key]


def build_art_inception(path: Path) -> ArtInception:
    """The trunk in eval mode with the trunk entries of the checkpoint at ``path`` (strict; heads ignored)."""
    state = torchvision_weights.load_state(path)
    trunk = {k: v for k, v in state.items() if k.split(".", 1)[0] in TRUNK}
    if not trunk:
        raise InputError("no art-Inception trunk entries (Conv2d_1a_3x3.…, Mixed_7c.…) in the checkpoint", file=path)
    model = ArtInception()
    torchvision_weights.load_prefixed(model, trunk, "", path)
    return model.eval().requires_grad_(False)
