"""content-loss and style-loss against direct transcriptions of their two definitions, on torchvision's VGG-19.

``gatys``: transcribed from leongatys/PytorchNeuralStyleTransfer (ReLU outputs r11…r51/r42, GramMatrix divided by
H·W, nn.MSELoss, style weights 1e3/n²). ``tutorial``: from the PyTorch tutorial (sequentially numbered
convolutions, gram_matrix divided by a·b·c·d, F.mse_loss). The VGG-19 is torchvision's own module, loaded from
a seeded random file saved under its cache name, so evalkit's backbone is checked too.
"""
from __future__ import annotations

import numpy as np
import pytest

from evalkit.registry import METRICS
from tests.style._images import perturbed, smooth_image
from tests.style._weights import shared_torch_home

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
nn = torch.nn
F = torch.nn.functional


@pytest.fixture(scope="module")
def vgg19():
    home = shared_torch_home(("vgg19",))
    model = torchvision.models.vgg19()
    model.load_state_dict(torch.load(home / "hub/checkpoints/vgg19-dcbb9e9d.pth", weights_only=True))
    return home, model.features.eval()


def prep(image):
    x = torch.from_numpy(image.transpose(2, 0, 1).copy()).float().div(255).unsqueeze(0)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (x - mean) / std


def gatys_outputs(features, x):
    """{'r11': ..., 'r42': ...}: every ReLU output, named by block and position (Gatys' VGG class)."""
    out, block, k = {}, 1, 1
    for layer in features:
        x = layer(x)
        if isinstance(layer, nn.ReLU):
            out[f"r{block}{k}"] = x.clone()
            k += 1
        elif isinstance(layer, nn.MaxPool2d):
            block, k = block + 1, 1
    return out


class GramMatrix(nn.Module):
    def forward(self, input):
        b, c, h, w = input.size()
        f = input.view(b, c, h * w)
        g = torch.bmm(f, f.transpose(1, 2))
        g.div_(h * w)
        return g


def gatys_losses(features, stylised, content, style, content_layers, style_layers):
    with torch.no_grad():
        out, c_out, s_out = (gatys_outputs(features, prep(i)) for i in (stylised, content, style))
    names = lambda layers: ["r" + l[4] + l[6] for l in layers]  # conv4_2 -> r42
    style_loss = sum(1e3 / out[n].shape[1] ** 2 * nn.MSELoss()(GramMatrix()(out[n]), GramMatrix()(s_out[n]))
                     for n in names(style_layers))
    content_loss = sum(nn.MSELoss()(out[n], c_out[n]) for n in names(content_layers))
    return float(content_loss), float(style_loss)


def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


def tutorial_outputs(features, x):
    """{'conv_1': ...}: convolution outputs numbered in sequence, ReLUs not in place (the tutorial's model)."""
    out, i = {}, 0
    for layer in features.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
        layer = nn.ReLU(inplace=False) if isinstance(layer, nn.ReLU) else layer
        x = layer(x)
        if isinstance(layer, nn.Conv2d):
            out[f"conv_{i}"] = x
    return out


SEQUENTIAL = {name: f"conv_{i + 1}" for i, name in enumerate(
    ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv3_4", "conv4_1", "conv4_2",
     "conv4_3", "conv4_4", "conv5_1", "conv5_2", "conv5_3", "conv5_4"])}


def tutorial_losses(features, stylised, content, style, content_layers, style_layers):
    with torch.no_grad():
        out, c_out, s_out = (tutorial_outputs(features, prep(i)) for i in (stylised, content, style))
    style_loss = sum(F.mse_loss(gram_matrix(out[SEQUENTIAL[n]]), gram_matrix(s_out[SEQUENTIAL[n]]))
                     for n in style_layers)
    content_loss = sum(F.mse_loss(out[SEQUENTIAL[n]], c_out[SEQUENTIAL[n]]) for n in content_layers)
    return float(content_loss), float(style_loss)


DEFAULTS = {"gatys": (["conv4_2"], ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]),
            "tutorial": (["conv2_2"], ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"])}


@pytest.mark.parametrize("variant, content_layers, style_layers", [
    ("gatys", None, None),
    ("tutorial", None, None),
    ("gatys", ["conv3_1"], ["conv2_2", "conv4_1"]),
    ("tutorial", ["conv4_2", "conv1_1"], ["conv5_1"]),
])
def test_losses_equal_the_transcribed_definitions(vgg19, monkeypatch, variant, content_layers, style_layers):
    home, features = vgg19
    monkeypatch.setenv("TORCH_HOME", str(home))
    contents = [smooth_image(i, 32, 36) for i in range(2)]
    styles = [smooth_image(10 + i, 40, 34) for i in range(2)]
    stylised = [perturbed(c, i, 25) for i, c in enumerate(contents)]
    targets = list(zip(contents, styles))
    transcribe = gatys_losses if variant == "gatys" else tutorial_losses
    c_layers = content_layers or DEFAULTS[variant][0]
    s_layers = style_layers or DEFAULTS[variant][1]
    expected = np.array([transcribe(features, s, c, st, c_layers, s_layers) for s, (c, st) in zip(stylised, targets)])
    content = METRICS.get("content-loss")(variant=variant, layers=content_layers)
    style = METRICS.get("style-loss")(variant=variant, layers=style_layers)
    content.update(stylised, targets, ["a", "b"])
    style.update(stylised, targets, ["a", "b"])
    assert expected.min() > 0
    np.testing.assert_allclose(content.column("content_loss"), expected[:, 0], rtol=1e-6, atol=0)
    np.testing.assert_allclose(style.column("style_loss"), expected[:, 1], rtol=1e-6, atol=0)
    assert content.compute()["content_loss"] == pytest.approx(expected[:, 0].mean(), rel=1e-6)
    assert f"variant:{variant}" in str(style.signature())


def test_unknown_layer_and_variant_are_errors(vgg19, monkeypatch):
    from evalkit.errors import InputError

    monkeypatch.setenv("TORCH_HOME", str(vgg19[0]))
    pair = [smooth_image(0, 32, 32)], [(smooth_image(1, 32, 32), smooth_image(2, 32, 32))]
    with pytest.raises(InputError, match="relu9_9"):
        METRICS.get("content-loss")(layers=["conv9_9"]).update(*pair)
    with pytest.raises(InputError, match="variant"):
        METRICS.get("style-loss")(variant="johnson").update(*pair)
