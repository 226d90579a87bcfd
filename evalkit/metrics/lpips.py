"""``lpips``: LPIPS distance (Zhang et al. 2018) of each stylised image to its content image, averaged over pairs.

Identical to the ``lpips`` package, version 0.1: ``lpips.LPIPS(net=...)(im2tensor(stylised), im2tensor(content))``
with images mapped to [-1, 1] as ``image / 127.5 - 1``. The backbone (AlexNet or VGG-16) is read from
torchvision's cache file name or ``weights_file`` (never downloaded); the linear heads are the package's own
weight file (or ``lin_file``). Both files' SHA-256 are in the metric's extras.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics import Column, Metric, Signature
from evalkit.metrics._style_common import pairs, shape_batches, weights_signature
from evalkit.registry import METRICS


def to_minus_one_one(images: Sequence[np.ndarray]) -> Any:
    """N×3×H×W float32 tensor of uint8 H×W×3 images, as lpips.im2tensor (float64 maths, then float32)."""
    import torch

    stacked = np.stack(images).astype(np.float64) / 127.5 - 1.0
    return torch.from_numpy(np.ascontiguousarray(stacked.transpose(0, 3, 1, 2), dtype=np.float32))


@METRICS.register("lpips")
class LPIPS(Metric):
    """Mean LPIPS of stylised images against their content images (the ``lpips`` package's numbers)."""

    name = "lpips"
    state = {"lpips": Column("float64")}
    keys = ("LPIPS",)
    higher_is_better = False
    defaults = {"net": "alex", "version": "0.1", "weights_file": None, "lin_file": None, "resize": "bicubic"}
    #: each batch is padded to ``batch_size`` (repeating its last pair), so a pair's number does not depend on which
    #: pairs share its batch (convolutions round differently per batch shape): shards merge and resamples re-score
    #: exactly
    neutral_options = {"device": "cpu", "batch_size": 16}
    reference = "lpips"

    def network(self) -> tuple[Any, dict]:
        from evalkit.features.lpips_net import load_lpips

        if str(self.options["version"]) != "0.1":
            raise InputError("only LPIPS version 0.1 is offered (0.0 had a scaling bug)", field="version")
        return load_lpips(self.options["net"], self.options["weights_file"], self.options["lin_file"],
                          str(self.options["version"]), self.options["device"])

    def update(self, predictions: Sequence[Any], targets: Sequence[Any], ids: Sequence[Any] | None = None) -> None:
        import torch

        ids, items = pairs(predictions, targets, ids if ids is not None else self.default_ids(len(predictions)),
                           self.options["resize"])
        net, _ = self.network()
        values = np.empty(len(items), np.float64)
        device = self.options["device"]
        with torch.inference_mode():
            step = max(1, int(self.options["batch_size"]))
            for chunk in shape_batches([s.shape for s, _, _ in items], step):
                pad = [chunk[-1]] * (step - len(chunk))
                x0 = to_minus_one_one([items[i][0] for i in chunk + pad]).to(device)
                x1 = to_minus_one_one([items[i][1] for i in chunk + pad]).to(device)
                values[chunk] = net(x0, x1).double().cpu().numpy()[:len(chunk)]
        self.add(ids, lpips=values)

    def score(self) -> dict[str, float]:
        values = self.column("lpips")
        return {"LPIPS": float(values.mean()) if len(values) else float("nan")}

    def signature(self) -> Signature:
        from evalkit.features import torchvision_weights as tw
        from evalkit.features.lpips_net import NETS, heads_file

        o = self.options
        signed = weights_signature(super().signature(), lambda: tw.resolve_weights(NETS[o["net"]][0], o["weights_file"]))
        if not o["lin_file"]:  # the lpips package's heads: named by net and version, as lpips names them
            return signed
        return weights_signature(signed, lambda: heads_file(o["net"], str(o["version"]), o["lin_file"]),
                                 "lin_file", "heads_sha256")

    def extras(self) -> dict[str, Any]:
        """The weight files (path, SHA-256) the numbers come from, when they are on this machine."""
        from evalkit.errors import MissingResourceError
        from evalkit.features import torchvision_weights as tw
        from evalkit.features.lpips_net import NETS, heads_file

        o = self.options
        try:
            backbone = tw.resolve_weights(NETS[o["net"]][0], o["weights_file"])
            heads = heads_file(o["net"], str(o["version"]), o["lin_file"])
        except (MissingResourceError, KeyError):
            return {}
        return {"weights": {"backbone": tw.describe(backbone), "heads": tw.describe(heads)}}
