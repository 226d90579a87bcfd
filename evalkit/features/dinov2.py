"""DINOv2 ViT/14 features as dgm-eval computes them (Stein et al. 2023), for ``fd-dinov2``.

Network: timm's ``vit_<size>_patch14_dinov2`` built without pretrained weights at 224 px, loading the official
checkpoint (``dinov2_vitl14_pretrain.pth``, the file ``torch.hub.load('facebookresearch/dinov2', ...)``
caches in ``$TORCH_HOME/hub/checkpoints``; ``weights_only=True``) through timm's checkpoint filter. The
official model interpolates its 37×37 position embedding to the input's patch grid at every call (bicubic,
no antialias, scale factor ``(16 + 0.1) / 37``); every input here is 224 px, so that interpolation is
done once at load, exactly as the official code does it. The feature is the final-norm CLS token.

Preprocessing (dgm-eval's ``DINOv2Encoder.transform`` without ``--clean_resize``): PIL ``convert("RGB")``,
PIL bicubic resize to 224×224, ``ToTensor`` (÷255), ImageNet mean/std normalisation.

Meta publishes no hash for these files: a file under the official name is used and its SHA-256 recorded;
a file given explicitly (``weights_file``) is flagged as unofficial.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from evalkit.errors import InputError
from evalkit.features import DINOV2_ARCHS, DINOV2_MODE, check_arch, feature_key
from evalkit.features.weights import ResolvedWeights, load_state_dict, resolve_weights

SIZE = 224
PATCH = 14
ARCHS = DINOV2_ARCHS
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
MODE = DINOV2_MODE


def official_pos_embed(pos_embed: torch.Tensor, size: int = SIZE, offset: float = 0.1) -> torch.Tensor:
    """The official ``interpolate_pos_encoding`` for a ``size``×``size`` input (CLS position kept)."""
    n = pos_embed.shape[1] - 1
    m = int(round(n ** 0.5))
    grid = size // PATCH
    if m == grid:
        return pos_embed
    dim = pos_embed.shape[-1]
    patches = pos_embed.float()[:, 1:].reshape(1, m, m, dim).permute(0, 3, 1, 2)
    scale = float(grid + offset) / m
    patches = torch.nn.functional.interpolate(patches, scale_factor=(scale, scale), mode="bicubic", antialias=False)
    patches = patches.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((pos_embed.float()[:, :1], patches), dim=1).to(pos_embed.dtype)


def build_dinov2(arch: str, state_dict: dict[str, Any] | None = None) -> Any:
    """timm's DINOv2 ViT at 224 px in eval mode, loaded strictly from an official-format ``state_dict``."""
    import timm
    from timm.models.vision_transformer import checkpoint_filter_fn

    model = timm.create_model(ARCHS[check_arch(arch)][0], pretrained=False, img_size=SIZE, num_classes=0)
    if state_dict is not None:
        state = dict(state_dict)
        if "pos_embed" in state:
            state["pos_embed"] = official_pos_embed(state["pos_embed"])
        try:
            model.load_state_dict(checkpoint_filter_fn(state, model), strict=True)
        except RuntimeError as err:
            raise InputError(f"the checkpoint is not an official DINOv2 {arch} state dict: {err}") from None
    return model.eval().requires_grad_(False)


def preprocess(rgb: np.ndarray) -> torch.Tensor:
    """HWC uint8 RGB → 3×224×224 normalised float32 (dgm-eval's transform)."""
    from PIL import Image

    resized = np.array(Image.fromarray(rgb).resize((SIZE, SIZE), Image.BICUBIC))
    x = torch.from_numpy(resized).permute(2, 0, 1).float().div(255)
    mean = torch.as_tensor(MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.as_tensor(STD, dtype=torch.float32).view(3, 1, 1)
    return x.sub(mean).div(std)


class Preprocess:
    """Decoded RGB → ``{"dgm-eval": tensor}`` (picklable, for DataLoader workers)."""

    def __call__(self, rgb: np.ndarray) -> dict[str, Any]:
        return {MODE: preprocess(rgb)}

    def __repr__(self) -> str:
        return "evalkit.features.dinov2.Preprocess()"


class DinoV2Extractor:
    """DINOv2 features on a device, with the interface of :class:`evalkit.features.extract.Extractor`."""

    name = "dinov2"

    def __init__(self, arch: str = "vitl14", weights_file: str | None = None, device: str = "cpu"):
        self.arch = check_arch(arch)
        self.modes: Sequence[str] = (MODE,)
        self.weights: ResolvedWeights = resolve_weights(f"dinov2-{arch}", weights_file)
        self.device = device
        self._network: Any = None

    @property
    def random_or_unofficial(self) -> bool:
        return not self.weights.official

    def signature(self, mode: str = MODE) -> str:
        flag = "" if self.weights.official else "(unofficial)"
        return f"dinov2-{self.arch}|weights:{self.weights.tag}{flag}|preprocess:{MODE}"

    def keys(self) -> list[str]:
        return [feature_key(self.name, MODE, self.arch)]

    def feature_dims(self, key: str) -> int:
        return ARCHS[self.arch][1]

    def network(self) -> Any:
        if self._network is None:
            self._network = build_dinov2(self.arch, load_state_dict(self.weights)).to(self.device)
        return self._network

    def preprocess(self) -> Preprocess:
        return Preprocess()

    def features(self, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            values = self.network()(inputs[MODE].to(self.device, non_blocking=True))
        return {self.keys()[0]: values.float().cpu().numpy()}

    def describe(self) -> dict[str, Any]:
        return {"extractor": f"dinov2-{self.arch}", "modes": [MODE], **self.weights.describe(),
                "signatures": {MODE: self.signature()}}
