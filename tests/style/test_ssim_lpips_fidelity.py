"""SSIM against scikit-image and LPIPS against the unmodified ``lpips`` package, on the same images.

The LPIPS backbones are seeded random networks saved under torchvision's cache file names in a temporary
TORCH_HOME, which both evalkit and the ``lpips`` package (through torchvision) read.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalkit.errors import InputError, MissingResourceError
from evalkit.registry import METRICS
from tests.style._images import perturbed, smooth_image
from tests.style._weights import shared_torch_home


def _pairs(n=5, size=(40, 48)):
    contents = [smooth_image(i, *size) for i in range(n)]
    stylised = [perturbed(c, 50 + i, 20 + 10 * i) for i, c in enumerate(contents)]
    styles = [smooth_image(100 + i, 32, 32) for i in range(n)]
    return stylised, [(c, s) for c, s in zip(contents, styles)]


@pytest.mark.parametrize("size", [(40, 48), (11, 13), (64, 33)])
def test_ssim_equals_scikit_image(size):
    skimage_metrics = pytest.importorskip("skimage.metrics")
    stylised, targets = _pairs(4, size)
    metric = METRICS.get("ssim")()
    metric.update(stylised, targets, [f"p{i}" for i in range(4)])
    expected = [skimage_metrics.structural_similarity(t[0], s, channel_axis=-1, data_range=255, gaussian_weights=True,
                                                      sigma=1.5, use_sample_covariance=False)
                for s, t in zip(stylised, targets)]
    np.testing.assert_allclose(metric.column("ssim"), expected, rtol=1e-9, atol=0)
    assert metric.compute()["SSIM"] == pytest.approx(np.mean(expected), rel=1e-9)
    assert "ref:scikit-image==" in str(metric.signature()) and "resize:bicubic" in str(metric.signature())


def test_ssim_uniform_window_and_sample_covariance_options():
    skimage_metrics = pytest.importorskip("skimage.metrics")
    stylised, targets = _pairs(2)
    metric = METRICS.get("ssim")(gaussian_weights=False, use_sample_covariance=True)
    metric.update(stylised, targets)
    expected = [skimage_metrics.structural_similarity(t[0], s, channel_axis=-1, data_range=255)
                for s, t in zip(stylised, targets)]
    np.testing.assert_allclose(metric.column("ssim"), expected, rtol=1e-9, atol=0)


def test_ssim_resizes_content_to_the_stylised_size_or_refuses():
    from PIL import Image
    skimage_metrics = pytest.importorskip("skimage.metrics")

    content, style = smooth_image(1, 40, 48), smooth_image(2)
    stylised = perturbed(smooth_image(1, 30, 36), 3)
    metric = METRICS.get("ssim")()
    metric.update([stylised], [(content, style)], ["a__b"])
    resized = np.asarray(Image.fromarray(content).resize((36, 30), Image.BICUBIC))
    assert metric.column("ssim")[0] == skimage_metrics.structural_similarity(
        resized, stylised, channel_axis=-1, data_range=255, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False)
    with pytest.raises(InputError, match="a__b.*resize: none"):
        METRICS.get("ssim")(resize="none").update([stylised], [(content, style)], ["a__b"])


@pytest.fixture
def torch_home(monkeypatch):
    home = shared_torch_home(("alexnet", "vgg16"))
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


@pytest.mark.parametrize("net", ["alex", pytest.param("vgg", marks=pytest.mark.slow)])
def test_lpips_equals_the_lpips_package(torch_home, net):
    lpips = pytest.importorskip("lpips")
    import torch

    stylised, targets = _pairs(5)
    stylised[3] = perturbed(smooth_image(3, 56, 44), 1)  # another size: a batch of its own
    targets[3] = (smooth_image(7, 56, 44), targets[3][1])
    metric = METRICS.get("lpips")(net=net, batch_size=2)
    metric.update(stylised, targets, [f"p{i}" for i in range(5)])
    reference = lpips.LPIPS(net=net, version="0.1", verbose=False)
    with torch.no_grad():
        expected = [float(reference(lpips.im2tensor(s), lpips.im2tensor(t[0]))) for s, t in zip(stylised, targets)]
    np.testing.assert_allclose(metric.column("lpips"), expected, rtol=1e-6, atol=0)
    assert min(expected) > 0
    result = metric.compute()
    assert result["LPIPS"] == pytest.approx(np.mean(expected), rel=1e-6)
    assert result["weights"]["backbone"]["official"] is False and len(result["weights"]["backbone"]["sha256"]) == 64
    assert f"net:{net}" in str(metric.signature()) and "ref:lpips==0.1.4" in str(metric.signature())


def test_lpips_missing_backbone_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    stylised, targets = _pairs(1)
    with pytest.raises(MissingResourceError, match="alexnet-owt-7be5be79.pth.*never downloads"):
        METRICS.get("lpips")().update(stylised, targets)
    with pytest.raises(MissingResourceError, match="weights_file not found"):
        METRICS.get("lpips")(weights_file=str(tmp_path / "nope.pth")).update(stylised, targets)


def test_lpips_rejects_a_bad_weights_file(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    stylised, targets = _pairs(1)
    with pytest.raises(InputError, match="bad.pth"):
        METRICS.get("lpips")(weights_file=str(bad)).update(stylised, targets)


def test_lpips_signature_names_the_weights_by_content_not_path(tmp_path):
    """The same bytes under another path give the same signature; other weights give another one."""
    import shutil

    from tests.style._weights import weights_file

    original = weights_file("alexnet")
    copy = shutil.copy(original, tmp_path / "renamed.pth")
    first = METRICS.get("lpips")(weights_file=original).signature()
    assert METRICS.get("lpips")(weights_file=str(copy)).signature() == first
    assert METRICS.get("lpips")(weights_file=weights_file("alexnet", seed=1)).signature() != first
    assert "weights_file" not in str(first) and "weights_sha256:" in str(first)


def test_lpips_signature_names_a_given_lin_file_by_content_not_path(tmp_path):
    """``lin_file`` is signed by its SHA-256 as the backbone is: a copy elsewhere signs alike, other heads do not."""
    import shutil

    pytest.importorskip("lpips")
    from evalkit.features.lpips_net import packaged_heads
    from tests.style._weights import weights_file

    backbone = weights_file("alexnet")
    heads = shutil.copy(packaged_heads("alex"), tmp_path / "mine.pth")
    signed = METRICS.get("lpips")(weights_file=backbone, lin_file=str(heads)).signature()
    copy = shutil.copy(heads, tmp_path / "elsewhere.pth")
    assert METRICS.get("lpips")(weights_file=backbone, lin_file=str(copy)).signature() == signed
    other = tmp_path / "other.pth"
    other.write_bytes(Path(heads).read_bytes() + b"\0")
    assert METRICS.get("lpips")(weights_file=backbone, lin_file=str(other)).signature() != signed
    assert "lin_file" not in str(signed) and str(tmp_path) not in str(signed) and "heads_sha256:" in str(signed)
    assert "heads_sha256" not in str(METRICS.get("lpips")(weights_file=backbone).signature())
