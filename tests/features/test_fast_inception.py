"""The fast FID-Inception path (``Extractor(exact=False)``: BatchNorm folded into the convolutions, ReLU fused,
NHWC on the CPU) against the exact network and against the unmodified pytorch-fid 0.3.0.

Folding changes float rounding only; how far that moves the features depends on how much the network
amplifies rounding, so the full-depth check against pytorch-fid bounds it by pytorch-fid's own change
between 2 threads and 1 (the same size of rounding change, in the reference itself)."""
from __future__ import annotations

import copy
import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
from hypothesis import given, settings, strategies as st  # noqa: E402


@functools.cache
def _he_network():
    """FID-Inception with seeded He-normal convolutions and a random classifier, built once."""
    from evalkit.features.inception import build_fid_inception

    generator = torch.Generator().manual_seed(0)
    network = build_fid_inception()
    for module in network.modules():
        if isinstance(module, torch.nn.Conv2d):
            fan_in = module.weight[0].numel()
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2 / fan_in) ** 0.5)
    network.fc.weight.copy_(torch.randn(network.fc.weight.shape, generator=generator) * 0.05)
    return network


def _random_network(seed: int):
    """The He-normal network with random BatchNorm statistics and affine parameters (what folding rewrites)."""
    generator = torch.Generator().manual_seed(seed)
    network = copy.deepcopy(_he_network())
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=generator) * 0.2)
            module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
            module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.copy_(torch.randn(n, generator=generator) * 0.1)
    return network


def _fast(network):
    from evalkit.features.inception import fold_batchnorm

    return fold_batchnorm(network).to(memory_format=torch.channels_last)


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 2))
def test_folded_nhwc_network_equals_the_exact_one(seed, batch):
    """Every layer, on small inputs (75 px, the network's smallest) so each example takes a fraction of a second."""
    from evalkit.features.inception import LAYERS

    network = _random_network(seed)
    x = torch.rand(batch, 3, 75, 75, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    with torch.inference_mode():
        expected = network(x, LAYERS)
        got = _fast(network)(x.contiguous(memory_format=torch.channels_last), LAYERS)  # folds in place
    for layer in LAYERS:
        ref = expected[layer].numpy()
        np.testing.assert_allclose(got[layer].numpy(), ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max(), err_msg=layer)


def test_folded_block_equals_conv_batchnorm_relu_on_both_paths():
    """float32 on the CPU takes oneDNN's fused convolution + ReLU; float64 takes the plain ``conv2d`` fallback."""
    from torchvision.models.inception import BasicConv2d

    from evalkit.features.inception import fold_batchnorm

    torch.manual_seed(0)
    block = BasicConv2d(8, 16, kernel_size=3, stride=2, padding=1)
    block.bn.running_mean.normal_(0, 0.3)
    block.bn.running_var.uniform_(0.5, 2.0)
    block.bn.weight.data.uniform_(0.5, 1.5)
    block.bn.bias.data.normal_(0, 0.2)
    exact = torch.nn.Sequential(block).eval().requires_grad_(False)
    folded = fold_batchnorm(copy.deepcopy(exact))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(2, 8, 17, 17)
    with torch.inference_mode():
        np.testing.assert_allclose(folded(x).numpy(), exact(x).numpy(), rtol=1e-5, atol=1e-6)
        exact64 = exact.double()
        folded64 = fold_batchnorm(copy.deepcopy(exact64))
        np.testing.assert_allclose(folded64(x.double()).numpy(), exact64(x.double()).numpy(), rtol=1e-12,
                                   atol=1e-12)


def test_extractor_records_and_signs_the_fast_path():
    from evalkit.features.extract import Extractor

    exact, fast = Extractor(random_seed=0), Extractor(random_seed=0, exact=False)
    assert exact.describe()["bn_folded"] is False and exact.describe()["channels_last"] is False
    assert "bn_folded" not in exact.signature("pytorch-fid")
    assert fast.describe()["bn_folded"] is True and fast.describe()["channels_last"] is True
    assert fast.signature("pytorch-fid") == exact.signature("pytorch-fid") + "|bn_folded"
    network = fast.network()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in network.modules())
    assert network.Conv2d_1a_3x3.weight.is_contiguous(memory_format=torch.channels_last)


def _pytorch_fid_and_fast(gen_data, dims: int):
    """pytorch-fid's model, and its features and the fast extractor's of the real and fake folders."""
    from pytorch_fid.fid_score import get_activations
    from pytorch_fid.inception import InceptionV3

    from evalkit.features.extract import Extractor, extract_image_set
    from evalkit.features.images import ImageSet

    model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[dims]]).eval()
    files = {name: sorted(str(p) for p in gen_data[name].glob("*.png")) for name in ("real", "fake")}
    reference = {name: get_activations(f, model, 8, dims, "cpu", 0) for name, f in files.items()}
    extractor = Extractor(["pytorch-fid"], [str(dims)], gen_data["weights"], exact=False)
    ours = {name: extract_image_set(ImageSet(gen_data[name]), extractor, batch_size=8).features[
        f"inception/pytorch-fid:{dims}"] for name in files}
    return model, files, reference, ours


def _fid(features: dict[str, np.ndarray]) -> float:
    from pytorch_fid.fid_score import calculate_frechet_distance

    from evalkit.features.frechet import statistics

    return calculate_frechet_distance(*statistics(features["fake"]), *statistics(features["real"]))


def test_fast_path_equals_pytorch_fid_dims64(torch_home, gen_data):
    """The first block (three folded convolutions and a max pool) against the unmodified reference."""
    pytest.importorskip("pytorch_fid")
    _, files, reference, ours = _pytorch_fid_and_fast(gen_data, 64)
    for name in files:
        np.testing.assert_allclose(ours[name], reference[name], rtol=1e-5, atol=1e-5)
    assert _fid(ours) == pytest.approx(_fid(reference), rel=1e-6)


@pytest.mark.slow
def test_fast_path_fid_2048_equals_pytorch_fid(torch_home, gen_data):
    """The full network: FID within 1e-6, features no further from pytorch-fid than pytorch-fid moves itself
    between 2 threads and 1."""
    pytest.importorskip("pytorch_fid")
    from pytorch_fid.fid_score import get_activations

    model, files, reference, ours = _pytorch_fid_and_fast(gen_data, 2048)
    threads = torch.get_num_threads()
    torch.set_num_threads(1 if threads > 1 else 2)
    try:
        other_threads = get_activations(files["fake"], model, 8, 2048, "cpu", 0)
    finally:
        torch.set_num_threads(threads)
    reference_noise = np.abs(other_threads - reference["fake"]).max()
    assert np.abs(ours["fake"] - reference["fake"]).max() <= 2 * max(reference_noise, 1e-5)
    assert _fid(ours) == pytest.approx(_fid(reference), rel=1e-6)
