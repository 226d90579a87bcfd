"""Weights of feature extractors: looked up under the reference tools' own file names, never downloaded.

The SHA-256 of the file is checked against the official prefix (the 8 hex digits in torch hub file
names). A file whose hash differs is used only when given explicitly (``weights_file:``,
``--weights-file``); the result then flags the weights as unofficial.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.formats.digest import file_sha256
from evalkit.errors import InputError, MissingResourceError


@dataclass(frozen=True)
class OfficialWeights:
    name: str
    #: file names the reference tools save in the torch hub cache, in lookup order
    filenames: tuple[str, ...]
    #: first hex digits of the official file's SHA-256 (None: none published; the file name is all there is)
    sha256_prefix: str | None
    url: str
    tool: str


OFFICIAL = {
    "fid-inception": OfficialWeights(
        "fid-inception",
        ("pt_inception-2015-12-05-6726825d.pth", "weights-inception-2015-12-05-6726825d.pth"),
        "6726825d",
        "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
        "pytorch-fid 0.3.0 / torch-fidelity",
    ),
    **{f"dinov2-{arch}": OfficialWeights(
        f"dinov2-{arch}", (f"dinov2_{arch}_pretrain.pth",), None,
        f"https://dl.fbaipublicfiles.com/dinov2/dinov2_{arch}/dinov2_{arch}_pretrain.pth",
        "torch.hub facebookresearch/dinov2 (dgm-eval)") for arch in ("vits14", "vitb14", "vitl14")},
}


@dataclass(frozen=True)
class ResolvedWeights:
    path: Path
    sha256: str
    official: bool
    explicit: bool
    #: whether ``official`` was checked against a published hash (else it rests on the file name)
    hash_checked: bool = True
    #: seeded random weights (no file): demonstrations and tests only, always flagged
    random_seed: int | None = None

    @property
    def tag(self) -> str:
        """The weights in a signature: ``sha256:<16 hex>``, or ``random-seed:<seed>``."""
        return f"random-seed:{self.random_seed}" if self.random_seed is not None else f"sha256:{self.sha256[:16]}"

    def describe(self) -> dict[str, Any]:
        if self.random_seed is not None:
            return {"official_weights": False, "random_weights_seed": self.random_seed}
        return {"weights_file": str(self.path), "weights_sha256": self.sha256, "official_weights": self.official,
                **({} if self.hash_checked else {"official_hash_published": False})}


def random_weights(seed: int) -> ResolvedWeights:
    """Seeded random weights instead of a file (``pretrained: false``): the results are flagged as random."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise InputError(f"seed must be an integer, got {seed!r}", field="seed")
    return ResolvedWeights(Path(f"<random seed {seed}>"), "", False, True, hash_checked=False, random_seed=seed)


def torch_hub_checkpoints() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` as torch.hub resolves it (without importing torch)."""
    home = os.environ.get("TORCH_HOME")
    if not home:
        home = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "torch")
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"




def resolve_weights(name: str, weights_file: str | Path | None = None) -> ResolvedWeights:
    """The weights file for extractor ``name``: ``weights_file`` if given, else the torch hub cache."""
    info = OFFICIAL[name]
    if weights_file:
        path = Path(weights_file).expanduser()
        if not path.is_file():
            raise MissingResourceError(f"weights file not found: {path.resolve()} (weights_file / --weights-file)")
        digest = file_sha256(path)
        if info.sha256_prefix is None:  # nothing to compare with: an explicit file is not vouched for
            return ResolvedWeights(path, digest, False, True, hash_checked=False)
        return ResolvedWeights(path, digest, digest.startswith(info.sha256_prefix), True)
    folder = torch_hub_checkpoints()
    candidates = [folder / filename for filename in info.filenames]
    for path in candidates:
        if path.is_file():
            digest = file_sha256(path)
            if info.sha256_prefix is None:
                return ResolvedWeights(path, digest, True, False, hash_checked=False)
            if not digest.startswith(info.sha256_prefix):
                raise InputError(
                    f"{path} has SHA-256 {digest[:16]}…, not the official {info.sha256_prefix}…; "
                    "to use these weights anyway pass the file explicitly (weights_file: / --weights-file), "
                    "and the results will be flagged as unofficial", file=path)
            return ResolvedWeights(path, digest, True, False)
    looked = ", ".join(str(p) for p in candidates)
    raise MissingResourceError(
        f"{name} weights not found; looked for {looked}. evalkit never downloads weights: on a machine with "
        f"network, download {info.url} ({info.tool}'s file) into {folder} (or set TORCH_HOME), "
        "or pass weights_file: / --weights-file")


def load_state_dict(weights: ResolvedWeights) -> dict[str, Any]:
    """The checkpoint's tensors, read with ``weights_only=True`` (no pickled code)."""
    import torch

    try:
        state = torch.load(weights.path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError and friends
        raise InputError(f"not a loadable weights-only checkpoint: {err}", file=weights.path) from err
    if not isinstance(state, dict):
        raise InputError("checkpoint is not a state dict", file=weights.path)
    return state
