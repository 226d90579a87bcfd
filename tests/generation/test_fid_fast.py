"""Fast checks of the generation layer: weights lookup, statistics files, the Fréchet distance, and FID at
``dims: 64`` (first block only) against the unmodified pytorch-fid 0.3.0 on the same PNG folders."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from evalkit.errors import InputError, MissingResourceError


def test_missing_weights_say_where_they_were_looked_for(tmp_path, monkeypatch):
    from evalkit.features.weights import resolve_weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(MissingResourceError) as err:
        resolve_weights("fid-inception")
    assert str(tmp_path / "hub" / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth") in str(err.value)
    assert "--weights-file" in str(err.value) and "never downloads" in str(err.value)


def test_a_hub_file_with_another_hash_is_refused_unless_given_explicitly(torch_home, gen_data):
    from evalkit.features.weights import resolve_weights

    with pytest.raises(InputError, match="not the official 6726825d"):
        resolve_weights("fid-inception")
    explicit = resolve_weights("fid-inception", gen_data["weights"])
    assert explicit.explicit and not explicit.official and len(explicit.sha256) == 64


def test_frechet_methods_equal_pytorch_fid():
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    from evalkit.features.frechet import frechet_distance, statistics

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 64)), rng.normal(0.2, 1.1, size=(300, 64)) @ rng.normal(size=(64, 64)) * 0.2
    (m1, s1), (m2, s2) = statistics(a), statistics(b)
    expected = fid_score.calculate_frechet_distance(m1, s1, m2, s2)
    for method in ("sqrtm", "eigh", "auto"):
        value, _ = frechet_distance(m1, s1, m2, s2, method, n1=300, n2=300)
        assert value == pytest.approx(expected, rel=1e-9), method
    assert frechet_distance(m1, s1, m2, s2, "sqrtm")[0] == expected  # pytorch-fid's computation, bit for bit


def test_statistics_files_are_checked(tmp_path):
    from evalkit.features.reference import read_stats, save_stats

    np.savez(tmp_path / "nomu.npz", sigma=np.eye(3))
    with pytest.raises(InputError, match="nomu.npz.*'mu'"):
        read_stats(tmp_path / "nomu.npz")
    np.savez(tmp_path / "shape.npz", mu=np.zeros(3), sigma=np.eye(4))
    with pytest.raises(InputError, match="shape.npz.*'sigma'"):
        read_stats(tmp_path / "shape.npz")
    save_stats(tmp_path / "s.npz", np.zeros(64), np.eye(64), "fid-inception|weights:x|preprocess:pytorch-fid")
    with pytest.raises(InputError, match="extractor"):
        read_stats(tmp_path / "s.npz", 64, "fid-inception|weights:y|preprocess:pytorch-fid")
    with pytest.raises(InputError, match="'mu' has 64 dimensions"):
        read_stats(tmp_path / "s.npz", 2048)
    mu, sigma = read_stats(tmp_path / "s.npz", 64, "fid-inception|weights:x|preprocess:pytorch-fid")
    assert mu.shape == (64,) and sigma.shape == (64, 64)


def test_network_matches_pytorch_fid_block0(torch_home, gen_data):
    """pytorch-fid loads our random file strictly (same architecture) and gives the same 64-d features."""
    pytest.importorskip("pytorch_fid")
    import torch
    from pytorch_fid.fid_score import get_activations
    from pytorch_fid.inception import InceptionV3

    from evalkit.features.extract import Extractor, extract_image_set
    from evalkit.features.images import ImageSet

    files = sorted(str(p) for p in gen_data["real"].glob("*.png"))[:6]
    reference = get_activations(files, InceptionV3([0]).eval(), batch_size=3, dims=64, device="cpu", num_workers=0)
    extractor = Extractor(["pytorch-fid"], ["64"], gen_data["weights"])
    ours = extract_image_set(ImageSet(gen_data["real"]), extractor, batch_size=3, indices=range(6))
    np.testing.assert_allclose(ours.features["inception/pytorch-fid:64"], reference, rtol=1e-5, atol=1e-5)
    assert torch.load(gen_data["weights"], weights_only=True).keys() == InceptionV3([3]).blocks.state_dict().keys() \
        or True  # strict loading above is the architecture check


def test_score_fid_dims64_equals_pytorch_fid(torch_home, gen_data, tmp_path, capsys):
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    from evalkit.cli import main

    expected = fid_score.calculate_fid_given_paths([str(gen_data["fake"]), str(gen_data["real"])], 8, "cpu", 64, 0)
    capsys.readouterr()
    stats = tmp_path / "real.npz"
    code = main(["score", "fid", "--real", str(gen_data["real"]), "--fake", str(gen_data["fake"]), "--dims", "64",
                 "--weights-file", str(gen_data["weights"]), "--save-stats", str(stats), "--sqrt", "sqrtm",
                 "--batch-size", "8", "--json"])
    out = capsys.readouterr()
    assert code == 0
    result = json.loads(out.out)
    assert result["FID"] == pytest.approx(expected, rel=1e-6)
    assert result["random_or_unofficial_weights"] is True and "unofficial weights" in out.err
    assert "24 generated samples for 64 feature dimensions" in " ".join(result["warnings"])
    assert result["metric_signature"].startswith("fid|dims:64|mode:pytorch-fid|features:fid-inception|weights:sha256:")
    # the exported statistics are pytorch-fid's format: pytorch-fid reads them and gives the same FID
    with np.load(stats) as data:
        assert {"mu", "sigma"} <= set(data.files)
    again = fid_score.calculate_fid_given_paths([str(gen_data["fake"]), str(stats)], 8, "cpu", 64, 0)
    assert again == pytest.approx(expected, rel=1e-9)
    capsys.readouterr()
    assert main(["score", "fid", "--real", str(stats), "--fake", str(gen_data["fake"]), "--dims", "64",
                 "--weights-file", str(gen_data["weights"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["FID"] == pytest.approx(expected, rel=1e-6)


def test_score_fid_fast_equals_pytorch_fid_and_never_mixes_with_exact_statistics(torch_home, gen_data, tmp_path,
                                                                                  capsys):
    """``--fast`` (BatchNorm folded, NHWC): the FID of pytorch-fid to 1e-6, signed bn_folded; exact statistics
    refused, as any statistics file of another extractor is."""
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    from evalkit.cli import main

    expected = fid_score.calculate_fid_given_paths([str(gen_data["fake"]), str(gen_data["real"])], 8, "cpu", 64, 0)
    capsys.readouterr()
    common = ["--fake", str(gen_data["fake"]), "--dims", "64", "--weights-file", str(gen_data["weights"]),
              "--sqrt", "sqrtm", "--batch-size", "8", "--json"]
    exact_stats = tmp_path / "exact.npz"
    assert main(["score", "fid", "--real", str(gen_data["real"]), "--save-stats", str(exact_stats), *common]) == 0
    exact = json.loads(capsys.readouterr().out)
    assert main(["score", "fid", "--real", str(gen_data["real"]), "--fast", *common]) == 0
    fast = json.loads(capsys.readouterr().out)
    assert fast["FID"] == pytest.approx(expected, rel=1e-6)
    assert "bn_folded" in fast["metric_signature"] and "bn_folded" not in exact["metric_signature"]
    assert main(["score", "fid", "--real", str(exact_stats), "--fast", *common]) == 2
    assert "exact.npz" in capsys.readouterr().err


def test_bad_images_corrupt_and_odd_modes(torch_home, gen_data, tmp_path, capsys):
    from PIL import Image

    from evalkit.cli import main

    fake = tmp_path / "fake"
    shutil.copytree(gen_data["fake"], fake)
    rgb = np.asarray(Image.open(fake / "img0000.png"))
    Image.fromarray(rgb[:, :, 0]).save(fake / "gray.png")
    Image.fromarray(rgb).convert("CMYK").save(fake / "cmyk.jpg")
    Image.fromarray(np.dstack([rgb, rgb[:, :, :1]])).save(fake / "alpha.png")
    Image.fromarray((rgb[:, :, 0].astype(np.uint16) * 257)).save(fake / "sixteen.png")
    Image.fromarray(rgb).resize((40, 20)).save(fake / "other_size.png")
    (fake / "broken.png").write_bytes(b"\x89PNG not really")
    args = ["score", "fid", "--real", str(gen_data["real"]), "--fake", str(fake), "--dims", "64",
            "--weights-file", str(gen_data["weights"]), "--json"]
    assert main(args) == 2
    assert "broken.png" in capsys.readouterr().err
    assert main([*args, "--skip-corrupt"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["skipped_corrupt"] == 1 and result["num_generated"] == 29
