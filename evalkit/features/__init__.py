"""Shared feature extractors for the image-generation metrics (and later style transfer).

Below datasets, models and metrics: FID-Inception (pytorch-fid's network, with the preprocessing of
pytorch-fid, clean-fid or torch-fidelity), weights looked up in local files only, statistics files,
the Fréchet distance, and the reference-set feature cache.

Importing this package is cheap (no torch); the network lives in :mod:`evalkit.features.inception`.
"""
from __future__ import annotations

#: preprocessing modes of the FID-Inception extractor: the tool each reproduces
MODES = {"pytorch-fid": "pytorch-fid", "clean": "clean-fid", "tf": "torch-fidelity"}
#: pytorch-fid's ``--dims`` → the layer whose (spatially averaged) output is the feature
DIMS = {64: "64", 192: "192", 768: "768", 2048: "2048"}
#: DINOv2 architectures (dgm-eval's names) → timm's model names and feature sizes
DINOV2_ARCHS = {"vits14": ("vit_small_patch14_dinov2", 384), "vitb14": ("vit_base_patch14_dinov2", 768),
                "vitl14": ("vit_large_patch14_dinov2", 1024)}
#: the preprocessing mode of DINOv2 features: dgm-eval's
DINOV2_MODE = "dgm-eval"


def feature_key(extractor: str, mode: str, layer: str) -> str:
    """The name of one feature in a generation prediction: ``inception/pytorch-fid:2048``."""
    return f"{extractor}/{mode}:{layer}"


def check_mode(mode: str) -> str:
    from evalkit.errors import InputError

    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; one of {', '.join(MODES)}", field="mode")
    return mode


def check_arch(arch: str) -> str:
    from evalkit.errors import InputError

    if arch not in DINOV2_ARCHS:
        raise InputError(f"DINOv2 arch must be one of {', '.join(DINOV2_ARCHS)}, got {arch!r}", field="arch")
    return arch


def check_dims(dims: int) -> str:
    from evalkit.errors import InputError

    if dims not in DIMS:
        raise InputError(f"dims must be one of {', '.join(map(str, DIMS))} (pytorch-fid's --dims), got {dims!r}",
                         field="dims")
    return DIMS[dims]


#: the PPL distance options and their defaults (torch-fidelity's): the ``generator`` adapter computes with
#: them, the ``ppl`` metric names them; both find the distances under :func:`ppl_key`
PPL_DEFAULTS = {"epsilon": 1e-4, "z_interp_mode": "lerp", "similarity": "lpips-vgg16", "similarity_resize": 64}


def ppl_key(options: dict) -> str:
    """The prediction key of PPL distances computed with ``options``: ``ppl/epsilon:0.0001|z_interp_mode:lerp|…``."""
    merged = {**PPL_DEFAULTS, **{k: v for k, v in options.items() if k in PPL_DEFAULTS}}
    merged["epsilon"] = float(merged["epsilon"])  # YAML reads 1e-4 as a string
    return "ppl/" + "|".join(f"{k}:{merged[k]}" for k in PPL_DEFAULTS)
