"""Slow fidelity tests: the full FID-Inception (random weights, see generation_helpers) against the unmodified
pytorch-fid 0.3.0, torch-fidelity and clean-fid on the same PNG folders.

SciPy: these were run against SciPy 1.17.1 (the version installed with evalkit's dev extra when they were
written); ``scipy.linalg.sqrtm`` was rewritten in 1.16, and both sides call the installed SciPy, so the
comparison holds for any version but the pinned one is the one checked (``REFERENCE_SCIPY``).
"""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

REFERENCE_SCIPY = "1.17.1"


def _features(gen_data, modes, layers, folder):
    from evalkit.features.extract import Extractor, extract_image_set
    from evalkit.features.images import ImageSet

    extractor = Extractor(modes, layers, gen_data["weights"])
    return extractor, extract_image_set(ImageSet(gen_data[folder]), extractor, batch_size=8)


def _metric(name, gen_data, extractor, fake, **options):
    from evalkit.features.reference import prepare_reference
    from evalkit.registry import METRICS

    metric = METRICS.get(name)(**options)
    meta = {}
    if metric.requires_meta:
        meta["reference"] = prepare_reference(gen_data["real"], extractor, [metric.feature_key()], batch_size=8)
    metric.bind(meta)
    metric.update(fake.features, None, fake.ids)
    return metric.compute()


def test_scipy_is_the_pinned_reference_version():
    import scipy

    if scipy.__version__ != REFERENCE_SCIPY:
        pytest.skip(f"fidelity numbers were checked against SciPy {REFERENCE_SCIPY}, found {scipy.__version__}")


def test_fid_2048_equals_pytorch_fid(torch_home, gen_data):
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    from pytorch_fid.inception import InceptionV3

    files = sorted(str(p) for p in gen_data["fake"].glob("*.png"))
    expected_features = fid_score.get_activations(files, InceptionV3([3]).eval(), 8, 2048, "cpu", 0)
    extractor, fake = _features(gen_data, ["pytorch-fid"], ["2048"], "fake")
    np.testing.assert_allclose(fake.features["inception/pytorch-fid:2048"], expected_features, rtol=1e-5, atol=1e-5)
    expected = fid_score.calculate_fid_given_paths([str(gen_data["fake"]), str(gen_data["real"])], 8, "cpu", 2048, 0)
    ours = _metric("fid", gen_data, extractor, fake)
    assert ours["FID"] == pytest.approx(expected, rel=1e-6)
    assert ours["fid_warnings"]  # 24 samples for 2048 dimensions


def test_kid_isc_prc_fid_equal_torch_fidelity(torch_home, gen_data):
    torch_fidelity = pytest.importorskip("torch_fidelity")
    expected = torch_fidelity.calculate_metrics(
        input1=str(gen_data["fake"]), input2=str(gen_data["real"]), cuda=False, isc=True, fid=True, kid=True,
        prc=True, kid_subset_size=10, kid_subsets=20, feature_extractor_weights_path=str(gen_data["weights"]),
        cache=False, verbose=False, batch_size=8,
        feature_extractor="inception-v3-compat")  # torch-fidelity 0.4's prc defaults to VGG16; ours is Inception
    extractor, fake = _features(gen_data, ["tf"], ["2048", "logits_unbiased"], "fake")
    kid = _metric("kid", gen_data, extractor, fake, subset_size=10, subsets=20)
    isc = _metric("isc", gen_data, extractor, fake)
    prc = _metric("precision-recall", gen_data, extractor, fake)
    fid = _metric("fid", gen_data, extractor, fake, mode="tf")
    assert kid["KID_mean"] == pytest.approx(expected["kernel_inception_distance_mean"], rel=1e-6)
    assert kid["KID_std"] == pytest.approx(expected["kernel_inception_distance_std"], rel=1e-6)
    assert isc["IS_mean"] == pytest.approx(expected["inception_score_mean"], rel=1e-6)
    assert isc["IS_std"] == pytest.approx(expected["inception_score_std"], rel=1e-6)
    assert prc["precision"] == pytest.approx(expected["precision"], rel=1e-6)
    assert prc["recall"] == pytest.approx(expected["recall"], rel=1e-6)
    assert fid["FID"] == pytest.approx(expected["frechet_inception_distance"], rel=1e-6)


def test_clean_mode_equals_clean_fid(torch_home, gen_data):
    """clean-fid's own listing, decoding, PIL-bicubic resize, statistics and Fréchet distance; its torchscript
    network (NVIDIA's file) is replaced through its ``custom_feat_extractor`` hook by the same random network."""
    cleanfid = pytest.importorskip("cleanfid.fid")
    import torch

    from evalkit.features.inception import build_fid_inception

    network = build_fid_inception(torch.load(gen_data["weights"], weights_only=True))

    def extractor(x):  # clean-fid hands 0..255 floats, 299×299
        return network((x - 128) / 128, ("2048",))["2048"]

    expected = cleanfid.compute_fid(str(gen_data["fake"]), str(gen_data["real"]), mode="clean", num_workers=0,
                                    batch_size=8, device=torch.device("cpu"), custom_feat_extractor=extractor,
                                    verbose=False, use_dataparallel=False)
    extractor_ours, fake = _features(gen_data, ["clean"], ["2048"], "fake")
    ours = _metric("fid", gen_data, extractor_ours, fake, mode="clean")
    assert ours["FID"] == pytest.approx(expected, rel=1e-6)
