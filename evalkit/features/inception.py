"""FID-Inception: the TF-graph Inception-v3 of the FID papers, as pytorch-fid 0.3.0 builds it.

The module tree and parameter names are torchvision's ``Inception3`` (1008 classes, no aux head), so
``pt_inception-2015-12-05-6726825d.pth`` loads strictly. Four blocks differ from torchvision's, as in
the TensorFlow graph: the average pools of the A, C and first E blocks leave padding out of the mean,
and the last E block max-pools. Features:

- ``64``, ``192``, ``768``: the outputs of the first max pool, the second max pool and ``Mixed_6e``,
  averaged over space (pytorch-fid's ``--dims 64/192/768``);
- ``2048``: pool3, the global average of ``Mixed_7c`` (the FID feature);
- ``logits_unbiased``: pool3 times the classifier's weights without its bias (torch-fidelity's IS input);
- ``logits``: with the bias.

The input is the normalised 299×299 batch that :mod:`evalkit.features.preprocess` produces.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import inception as tv

LAYERS = ("64", "192", "768", "2048", "logits_unbiased", "logits")


class _PoolExcludingPadA(tv.InceptionA):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pooled = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([b1, b5, b3, self.branch_pool(pooled)], 1)


class _PoolExcludingPadC(tv.InceptionC):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        pooled = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([b1, b7, d, self.branch_pool(pooled)], 1)


class _InceptionE(tv.InceptionE):
    max_pool = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        if self.max_pool:
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([b1, b3, d, self.branch_pool(pooled)], 1)


class _InceptionEMaxPool(_InceptionE):
    max_pool = True


class FIDInceptionV3(nn.Module):
    """The FID-Inception network; ``forward(x, layers)`` returns ``{layer: (N, D) float32}``."""

    def __init__(self) -> None:
        super().__init__()
        base = tv.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
                     "Mixed_6a", "Mixed_7a", "fc"):
            setattr(self, name, getattr(base, name))
        self.Mixed_5b = _PoolExcludingPadA(192, pool_features=32)
        self.Mixed_5c = _PoolExcludingPadA(256, pool_features=64)
        self.Mixed_5d = _PoolExcludingPadA(288, pool_features=64)
        self.Mixed_6b = _PoolExcludingPadC(768, channels_7x7=128)
        self.Mixed_6c = _PoolExcludingPadC(768, channels_7x7=160)
        self.Mixed_6d = _PoolExcludingPadC(768, channels_7x7=160)
        self.Mixed_6e = _PoolExcludingPadC(768, channels_7x7=192)
        self.Mixed_7b = _InceptionE(1280)
        self.Mixed_7c = _InceptionEMaxPool(2048)

    def forward(self, x: torch.Tensor, layers: Sequence[str] = ("2048",)) -> dict[str, torch.Tensor]:
        wanted = set(layers)
        unknown = wanted - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown FID-Inception layers {sorted(unknown)}; known: {LAYERS}")
        out: dict[str, torch.Tensor] = {}

        def pooled(t: torch.Tensor) -> torch.Tensor:
            return F.adaptive_avg_pool2d(t, output_size=(1, 1)).squeeze(3).squeeze(2)

        x = F.max_pool2d(self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))), kernel_size=3, stride=2)
        if "64" in wanted:
            out["64"] = pooled(x)
        if wanted <= out.keys():
            return out
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), kernel_size=3, stride=2)
        if "192" in wanted:
            out["192"] = pooled(x)
        if wanted <= out.keys():
            return out
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                      self.Mixed_6d, self.Mixed_6e):
            x = block(x)
        if "768" in wanted:
            out["768"] = pooled(x)
        if wanted <= out.keys():
            return out
        x = pooled(self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x))))
        out["2048"] = x
        if {"logits_unbiased", "logits"} & wanted:
            unbiased = x.mm(self.fc.weight.T)
            out["logits_unbiased"] = unbiased
            out["logits"] = unbiased + self.fc.bias.unsqueeze(0)
        return {k: v for k, v in out.items() if k in wanted}


class _FoldedConvReLU(nn.Module):
    """A ``BasicConv2d`` (conv, eval-mode BatchNorm, ReLU) as one convolution: the BatchNorm's per-channel scale
    and shift folded into the weights and bias once, and on the CPU the ReLU applied by oneDNN in the same pass,
    so the activations are read and written once instead of three times."""

    def __init__(self, block: tv.BasicConv2d) -> None:
        super().__init__()
        conv, bn = block.conv, block.bn
        alpha = bn.weight * (1 / torch.sqrt(bn.running_var + bn.eps))  # the scale eval-mode batch_norm applies
        self.weight = nn.Parameter((conv.weight * alpha.view(-1, 1, 1, 1)).detach(), requires_grad=False)
        self.bias = nn.Parameter((bn.bias - bn.running_mean * alpha).detach(), requires_grad=False)
        self.stride, self.padding = list(conv.stride), list(conv.padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "cpu" and x.dtype == torch.float32 and torch.backends.mkldnn.is_available():
            return torch.ops.mkldnn._convolution_pointwise(x, self.weight, self.bias, self.padding, self.stride,
                                                           [1, 1], 1, "relu", [], "")
        return F.relu(F.conv2d(x, self.weight, self.bias, self.stride, self.padding), inplace=True)


def fold_batchnorm(model: FIDInceptionV3) -> FIDInceptionV3:
    """``model`` (eval) with every conv + BatchNorm + ReLU replaced in place by one folded convolution.

    The same network in exact arithmetic; in fp32 each convolution's output moves by float rounding, which the
    network amplifies (2e-4 on the random test network, as much as pytorch-fid's own change from 2 threads
    to 1), which is why the extractor records and signs ``bn_folded``."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, tv.BasicConv2d):
                setattr(parent, name, _FoldedConvReLU(child))
    return model


def build_fid_inception(state_dict: dict | None = None) -> FIDInceptionV3:
    """The network in eval mode, loaded strictly from ``state_dict`` when given."""
    model = FIDInceptionV3()
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    return model.eval().requires_grad_(False)
