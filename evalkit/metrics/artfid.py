"""``artfid``: ArtFID (Wright & Ommer 2022), ``(1 + content distance) · (1 + style distance)``.

Identical to the ``art-fid`` package (0.0.2) in its ``art_fid`` mode with ``content_metric='lpips'``:

- content distance: the mean over pairs of ``lpips.LPIPS(net='alex')`` (v0.1) of ``2·x − 1``, ``x`` the
  ``ToTensor()`` image (uint8 / 255 in float32), stylised image against its content image;
- style distance: pytorch-fid's Fréchet distance (float64 mean and covariance, ``scipy.linalg.sqrtm`` with
  the 1e-6 retry) between art-Inception features (:mod:`evalkit.features.art_inception`: ``ToTensor()``
  images at their own size, no resize, no normalisation) of the stylised images and of the style images.

art-fid reads folders; evalkit reads pairs. The stylised set is every scored pair's stylised image; the style
set (``style_set``) is ``distinct``: each style image of the scored pairs once (art-fid given the style folder),
or ``per_pair``: each pair's style image (art-fid given a folder with one style image per stylised image, the
layout its ``art_fid_inf`` mode requires). Content is matched to its stylised image by pair, not by sorting
two folders; a content image of another size is resized to the stylised size (``resize``), where art-fid
stops with an error. ``ArtFID_LPIPS`` and ``ArtFID_FID`` are the two distances.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics import Column, Metric, Signature
from evalkit.metrics._style_common import pairs, shape_batches, weights_signature
from evalkit.registry import METRICS

STYLE_SETS = ("distinct", "per_pair")
#: ``tr √(Σ1Σ2)``: ``sqrtm`` is art-fid's (pytorch-fid's) computation; ``svd`` the exact one from the features
#: (:func:`~evalkit.features.frechet.frechet_distance_of_features`); ``auto`` takes ``svd`` when a set has no
#: more samples than dimensions (a singular covariance, where ``sqrtm`` is slow and only approximates it),
#: else ``eigh`` (see :mod:`evalkit.features.frechet`)
SQRT_METHODS = ("auto", "svd", "sqrtm", "eigh")
#: what the options do not say: the definition evalkit reproduces
DEFINITION = (("mode", "art_fid"), ("content", "lpips-alex-v0.1(2*ToTensor-1)"),
              ("style", "fid(art-inception-pool3,ToTensor,native-size)"))


def to_tensor(images: Sequence[np.ndarray]) -> Any:
    """N×3×H×W float32 in [0, 1], as torchvision's ``ToTensor()`` (uint8 → float32, then ``/ 255``)."""
    import torch

    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous().float().div(255)


def image_key(image: np.ndarray) -> str:
    """A digest of an image's pixels: the identity of a style image across pairs."""
    return hashlib.sha256(repr(image.shape).encode() + np.ascontiguousarray(image).tobytes()).hexdigest()[:32]


@METRICS.register("artfid")
class ArtFID(Metric):
    """ArtFID of stylised images against their content and style images (the ``art-fid`` package's numbers)."""

    name = "artfid"
    state = {"lpips": Column("float64"), "stylized": Column("float32"), "style": Column("float32"),
             "style_key": Column()}
    keys = ("ArtFID", "ArtFID_LPIPS", "ArtFID_FID")
    main_key = "ArtFID"
    higher_is_better = False
    defaults = {"style_set": "distinct", "weights_file": None, "lpips_weights_file": None, "lin_file": None,
                "resize": "bicubic"}
    #: ``batch_size`` 1 (art-fid's ``--batch_size 1``) makes each image's numbers independent of which images share
    #: its batch, so shards merge and resamples re-score exactly; larger batches are faster, and move the
    #: numbers in the last digits (convolutions round differently per batch shape), as art-fid's move with its own
    neutral_options = {"device": "cpu", "batch_size": 1, "sqrt": "auto"}
    reference = "art-fid"

    def __init__(self, **options: Any):
        super().__init__(**options)
        for option, allowed in (("style_set", STYLE_SETS), ("sqrt", SQRT_METHODS)):
            if self.options[option] not in allowed:
                raise InputError(f"{option} must be one of {', '.join(allowed)}, got {self.options[option]!r}",
                                 field=option)
        self._style_features: dict[str, np.ndarray] = {}

    def update(self, predictions: Sequence[Any], targets: Sequence[Any], ids: Sequence[Any] | None = None) -> None:
        import torch

        from evalkit.features.art_inception import load_art_inception, resolve_weights
        from evalkit.features.lpips_net import load_lpips

        o = self.options
        ids, items = pairs(predictions, targets, ids if ids is not None else self.default_ids(len(predictions)),
                           o["resize"], with_style=True)
        for sample, (stylised, _, style) in zip(ids, items):
            if style is None:
                raise InputError("artfid needs each pair's style image", record=sample)
            self._check_size(stylised, sample, "stylised")
            self._check_size(style, sample, "style")
        inception = load_art_inception(resolve_weights(o["weights_file"]), o["device"])
        net, _ = load_lpips("alex", o["lpips_weights_file"], o["lin_file"], "0.1", o["device"])
        distances = np.empty(len(items), np.float64)
        with torch.inference_mode():
            for chunk in shape_batches([s.shape for s, _, _ in items], o["batch_size"]):
                x0 = to_tensor([items[i][0] for i in chunk]).to(o["device"]) * 2 - 1
                x1 = to_tensor([items[i][1] for i in chunk]).to(o["device"]) * 2 - 1
                distances[chunk] = net(x0, x1).double().cpu().numpy()
        keys = [image_key(style) for _, _, style in items]
        new = {k: style for k, (_, _, style) in zip(keys, items) if k not in self._style_features}
        self._style_features.update(zip(new, self._features(inception, list(new.values()))))
        self.add(ids, lpips=distances, stylized=self._features(inception, [s for s, _, _ in items]),
                 style=np.stack([self._style_features[k] for k in keys]) if keys else np.zeros((0, 2048), np.float32),
                 style_key=keys)

    @staticmethod
    def _check_size(image: np.ndarray, sample: str, what: str) -> None:
        from evalkit.features.art_inception import MIN_SIDE

        if min(image.shape[:2]) < MIN_SIDE:
            raise InputError(f"{what} image is {image.shape[1]}×{image.shape[0]}; art-Inception needs at least "
                             f"{MIN_SIDE}×{MIN_SIDE} (art-fid feeds images at their own size)", record=sample)

    def _features(self, net: Any, images: list[np.ndarray]) -> np.ndarray:
        """art-Inception features (N×2048 float32) of uint8 images, batched by size."""
        import torch

        out = np.zeros((len(images), 2048), np.float32)
        with torch.inference_mode():
            for chunk in shape_batches([im.shape for im in images], self.options["batch_size"]):
                out[chunk] = net(to_tensor([images[i] for i in chunk]).to(self.options["device"])).float().cpu().numpy()
        return out

    def style_features(self) -> np.ndarray:
        """The style set's features: every pair's (``per_pair``) or each distinct style image's once."""
        style = self.column("style")
        if self.options["style_set"] == "per_pair" or not len(style):
            return style
        first = {key: i for i, key in reversed(list(enumerate(self.column("style_key"))))}
        return style[sorted(first.values())]

    def score(self) -> dict[str, float]:
        from evalkit.features.frechet import frechet_distance, frechet_distance_of_features, statistics

        stylised, style = self.column("stylized"), self.style_features()
        content = float(self.column("lpips").mean()) if len(stylised) else float("nan")
        method = self.options["sqrt"]
        if len(stylised) < 2 or len(style) < 2:  # a covariance needs two samples (art-fid gives NaN)
            fid = float("nan")
        elif method == "svd" or (method == "auto" and min(len(stylised), len(style)) <= stylised.shape[1]):
            fid = frechet_distance_of_features(stylised, style)
        else:
            mu1, sigma1 = statistics(stylised)
            mu2, sigma2 = statistics(style)
            fid, _ = frechet_distance(mu1, sigma1, mu2, sigma2, method, n1=len(stylised), n2=len(style))
        return {"ArtFID": (1 + content) * (1 + fid), "ArtFID_LPIPS": content, "ArtFID_FID": fid}

    def signature(self) -> Signature:
        from evalkit.features import art_inception, torchvision_weights

        base = weights_signature(super().signature(), lambda: art_inception.resolve_weights(
            self.options["weights_file"]), "weights_file", "art_inception_sha256")
        base = weights_signature(base, lambda: torchvision_weights.resolve_weights(
            "alexnet", self.options["lpips_weights_file"]), "lpips_weights_file", "lpips_alexnet_sha256")
        base = weights_signature(base, self._heads, "lin_file", "lpips_heads_sha256")
        return Signature(base.metric, DEFINITION + base.options, base.evalkit, base.reference)

    def _heads(self) -> Path:
        """The LPIPS heads file: ``lin_file``, or the ``lpips`` package's own ``alex.pth``."""
        from evalkit.features.lpips_net import heads_file

        return heads_file("alex", "0.1", self.options["lin_file"])

    def extras(self) -> dict[str, Any]:
        """The weight files (path, SHA-256) the numbers come from, when they are on this machine."""
        from evalkit.errors import MissingResourceError
        from evalkit.features import art_inception, torchvision_weights as tw

        o = self.options
        try:
            art = tw.describe(art_inception.resolve_weights(o["weights_file"]))
            backbone = tw.resolve_weights("alexnet", o["lpips_weights_file"])
            heads = self._heads()
        except MissingResourceError:
            return {}
        art["official"] = None  # art-fid states no hash to check against
        return {"weights": {"art_inception": art, "lpips_backbone": tw.describe(backbone),
                            "lpips_heads": tw.describe(heads)}}
