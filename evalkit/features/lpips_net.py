"""The LPIPS network (Zhang et al., the ``lpips`` package, version 0.1) on local weights.

The backbone (AlexNet or VGG-16 ``features``) comes from torchvision's cache file names (see
:mod:`.torchvision_weights`); the linear heads are the files the ``lpips`` package ships
(``lpips/weights/v0.1/<net>.pth``), found without importing the package, or ``lin_file``.
The computation is the package's: scaling layer, channel-normalised features, squared
differences, 1×1 linear heads, spatial average, sum over layers.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from evalkit.formats.digest import file_key
from evalkit.errors import InputError, MissingResourceError
from evalkit.features import torchvision_weights
from evalkit.features.vgg import ConvFeatures

#: net → (torchvision backbone, tapped layers, channels), as lpips/pretrained_networks.py slices them
NETS = {
    "alex": ("alexnet", ("relu1", "relu2", "relu3", "relu4", "relu5"), (64, 192, 384, 256, 256)),
    "vgg": ("vgg16", ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"), (64, 128, 256, 512, 512)),
}
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


def packaged_heads(net: str, version: str = "0.1") -> Path:
    """``lpips/weights/v<version>/<net>.pth`` of the installed ``lpips`` package."""
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        raise MissingResourceError("the LPIPS linear heads ship in the 'lpips' package: pip install lpips "
                                   "(evalkit reads its weight file, it does not run it), or give lin_file")
    path = Path(list(spec.submodule_search_locations)[0]) / "weights" / f"v{version}" / f"{net}.pth"
    if not path.is_file():
        raise MissingResourceError(f"LPIPS heads not found: {path}")
    return path


def heads_file(net: str, version: str = "0.1", lin_file: str | None = None) -> Path:
    """The linear heads the numbers come from: ``lin_file`` when given, else the ``lpips`` package's own."""
    if not lin_file:
        return packaged_heads(net, version)
    path = Path(lin_file).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"LPIPS lin_file not found: {path.resolve()}")
    return path


class LPIPSNet(nn.Module):
    def __init__(self, net: str):
        super().__init__()
        if net not in NETS:
            raise InputError(f"LPIPS net must be one of {', '.join(NETS)}, got {net!r}", field="net")
        arch, self.layers, channels = NETS[net]
        self.backbone = ConvFeatures(arch)
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in channels)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))

    def forward(self, in0: torch.Tensor, in1: torch.Tensor) -> torch.Tensor:
        """Distances of image pairs in [-1, 1] (N×3×H×W each): shape (N,)."""
        n = in0.shape[0]
        both = (torch.cat([in0, in1]) - self.shift) / self.scale
        feats = self.backbone(both, self.layers)
        total = None
        for k, name in enumerate(self.layers):
            f = feats[name]
            f = f / (torch.sqrt(torch.sum(f ** 2, dim=1, keepdim=True)) + 1e-10)
            diff = (f[:n] - f[n:]) ** 2
            value = self.lins[k](diff).mean([2, 3], keepdim=True)
            total = value if total is None else total + value
        return total.view(n)


_CACHE: dict[tuple, tuple[LPIPSNet, dict]] = {}


def _load_weights(model: LPIPSNet, backbone_path: Path, heads_path: Path) -> None:
    """The backbone from torchvision's file layout, the heads from lpips' (``lin<k>.model.1.weight``), strictly."""
    torchvision_weights.load_prefixed(model.backbone.features, torchvision_weights.load_state(backbone_path),
                                      "features.", backbone_path)
    heads = torchvision_weights.load_state(heads_path)
    lins = {f"{k}.weight": heads[f"lin{k}.model.1.weight"] for k in range(len(model.lins))
            if f"lin{k}.model.1.weight" in heads}
    torchvision_weights.load_prefixed(model.lins, lins, "", heads_path)
    model.requires_grad_(False)


def _cached(kind: tuple, make: Callable[[], LPIPSNet], backbone_path: Path, heads_path: Path,
            device: str) -> tuple[LPIPSNet, dict]:
    """The network ``make()`` loaded from the two files and described, once per process per files and device."""
    key = (*kind, str(device), *file_key(backbone_path), *file_key(heads_path))
    if key not in _CACHE:
        model = make()
        _load_weights(model, backbone_path, heads_path)
        info = {"backbone": torchvision_weights.describe(backbone_path),
                "heads": torchvision_weights.describe(heads_path)}
        _CACHE[key] = (model.eval().to(device), info)
    return _CACHE[key]


def load_lpips(net: str = "alex", weights_file: str | None = None, lin_file: str | None = None,
               version: str = "0.1", device: str = "cpu") -> tuple[LPIPSNet, dict]:
    """The LPIPS network and a description of its two weight files (path, SHA-256), cached per process."""
    if net not in NETS:
        raise InputError(f"LPIPS net must be one of {', '.join(NETS)}, got {net!r}", field="net")
    backbone_path = torchvision_weights.resolve_weights(NETS[net][0], weights_file)
    heads_path = heads_file(net, version, lin_file)
    return _cached((net,), lambda: LPIPSNet(net), backbone_path, heads_path, device)


#: torch-fidelity's file name for the LPIPS-VGG16 heads in the torch hub cache (a re-upload of lpips' vgg.pth)
TORCH_FIDELITY_HEADS = "weights-vgg16-lpips.pth"


class TorchFidelityLPIPS(LPIPSNet):
    """torch-fidelity's ``lpips-vgg16`` sample similarity (PPL's distance) on uint8 N×3×H×W images.

    The same network as ``LPIPSNet("vgg")``, with torch-fidelity's order of operations: normalise the
    0..255 values with the rescaled shift and scale, resize (``area`` when both sides exceed ``resize``,
    else bilinear), then each image set through the backbone on its own.
    """

    def __init__(self, resize: int | None = 64):
        super().__init__("vgg")
        self.resize = resize

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        mean = (1 + self.shift) * 255 / 2
        inv_std = 2 / (self.scale * 255)
        x = (x.float() - mean) * inv_std
        if self.resize is not None:
            size = (self.resize, self.resize)
            if x.shape[-1] > self.resize and x.shape[-2] > self.resize:
                return torch.nn.functional.interpolate(x, size, mode="area")
            return torch.nn.functional.interpolate(x, size, mode="bilinear", align_corners=False)
        return x

    def forward(self, in0: torch.Tensor, in1: torch.Tensor) -> torch.Tensor:
        feats0 = self.backbone(self._prepare(in0), self.layers)
        feats1 = self.backbone(self._prepare(in1), self.layers)
        total = None
        for k, name in enumerate(self.layers):
            f0, f1 = feats0[name], feats1[name]
            f0 = f0 / (torch.sqrt(torch.sum(f0 ** 2, dim=1, keepdim=True)) + 1e-10)
            f1 = f1 / (torch.sqrt(torch.sum(f1 ** 2, dim=1, keepdim=True)) + 1e-10)
            value = self.lins[k]((f0 - f1) ** 2).mean([2, 3]).squeeze(1)
            total = value if total is None else total + value
        return total


def torch_fidelity_heads(heads_file: str | None = None) -> Path:
    """``heads_file``, else torch-fidelity's cache file, else the ``lpips`` package's own ``vgg.pth`` (same weights)."""
    if heads_file:
        path = Path(heads_file).expanduser()
        if not path.is_file():
            raise MissingResourceError(f"LPIPS heads file not found: {path.resolve()}")
        return path
    cached = torchvision_weights.hub_checkpoints() / TORCH_FIDELITY_HEADS
    return cached if cached.is_file() else packaged_heads("vgg")


def load_torch_fidelity_lpips(resize: int | None = 64, weights_file: str | None = None,
                              heads_file: str | None = None, device: str = "cpu") -> tuple[TorchFidelityLPIPS, dict]:
    """torch-fidelity's LPIPS-VGG16 on local files: torchvision's ``vgg16-397923af.pth`` and the heads."""
    backbone_path = torchvision_weights.resolve_weights("vgg16", weights_file)
    heads_path = torch_fidelity_heads(heads_file)
    return _cached(("torch-fidelity", resize), lambda: TorchFidelityLPIPS(resize), backbone_path, heads_path,
                   device)  # type: ignore[return-value]
