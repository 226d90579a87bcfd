"""The style-pairs loader, the stylised-folder adapter and ``evalkit score style`` on bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.style_images import read_rgb
from evalkit.registry import DATASETS, MODELS
from tests.conftest import REPO
from tests.style._images import smooth_image, write_folders


def test_every_content_with_every_style_stable_ids(tmp_path):
    write_folders(tmp_path, contents=3, styles=2)
    pairs = DATASETS.get("style-pairs")(tmp_path)
    assert pairs.sample_ids() == ["c0__s0", "c0__s1", "c1__s0", "c1__s1", "c2__s0", "c2__s1"]
    (content, style), target = pairs.item(1, None)
    assert content.shape == (40, 48, 3) and style.shape == (48, 40, 3) and content.dtype == np.uint8
    assert np.array_equal(target[0], content)
    assert len(pairs.fingerprint()) == 64


def test_pairs_csv_with_ids_and_stylised_names(tmp_path):
    write_folders(tmp_path, contents=2, styles=2)
    (tmp_path / "pairs.csv").write_text("content,style,stylized\nc1.png,s0.png,c1__s0.png\nc0.png,s1.png,\n")
    pairs = DATASETS.get("style-pairs")(tmp_path, pairs_csv="pairs.csv")
    assert pairs.sample_ids() == ["c1__s0", "c0__s1"]
    assert pairs.stylized_names() == {"c1__s0": "c1__s0.png"}
    (tmp_path / "bad.csv").write_text("content,style\nc1.png,nope.png\n")
    with pytest.raises(InputError, match="bad.csv.*line 2.*'style'"):
        DATASETS.get("style-pairs")(tmp_path, pairs_csv="bad.csv")


def test_grayscale_alpha_and_corrupt_files(tmp_path):
    rgb = smooth_image(0, 20, 24)
    rgba = np.concatenate([rgb, np.full((20, 24, 1), 7, np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    assert np.array_equal(read_rgb(tmp_path / "a.png"), rgb)  # alpha dropped, as PIL's convert('RGB')
    Image.fromarray(rgb[:, :, 0]).save(tmp_path / "g.png")
    gray = read_rgb(tmp_path / "g.png")
    assert gray.shape == (20, 24, 3) and np.array_equal(gray[:, :, 2], rgb[:, :, 0])
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    with pytest.raises(InputError, match="broken.jpg"):
        read_rgb(tmp_path / "broken.jpg")


def test_stylised_folder_names_the_missing_pairs(tmp_path):
    folders = write_folders(tmp_path, contents=2, styles=2)
    (folders["stylized"] / "c1__s0.png").unlink()
    pairs = DATASETS.get("style-pairs")(tmp_path)
    adapter = MODELS.get("stylized")(path=str(folders["stylized"]))
    with pytest.raises(InputError, match=r"1 of 4 pairs.*c1__s0"):
        adapter.bind(pairs, "style-transfer")
    with pytest.raises(MissingResourceError, match="does-not-exist"):
        MODELS.get("stylized")(path=str(tmp_path / "does-not-exist")).bind(pairs, "style-transfer")


def _score(*args, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "evalkit", "score", "style", *args], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})


def test_score_style_ssim_json_subset_and_errors(tmp_path):
    skimage_metrics = pytest.importorskip("skimage.metrics")
    folders = write_folders(tmp_path, contents=2, styles=2)
    base = ["--content", str(folders["content"]), "--style", str(folders["style"]), "--stylized",
            str(folders["stylized"]), "--metrics", "ssim"]
    out = _score(*base, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    expected = np.mean([skimage_metrics.structural_similarity(
        read_rgb(folders["content"] / f"c{c}.png"), read_rgb(folders["stylized"] / f"c{c}__s{s}.png"),
        channel_axis=-1, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        for c in range(2) for s in range(2)])
    assert result["SSIM"] == pytest.approx(expected, rel=1e-12) and result["pairs"] == 4
    assert result["metric_signature"].startswith("ssim|")

    (folders["stylized"] / "c0__s1.png").unlink()
    out = _score(*base)
    assert out.returncode == 2 and "c0__s1" in out.stderr and "--subset" in out.stderr
    out = _score(*base, "--subset", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["pairs"] == 3 and json.loads(out.stdout)["missing"] == 1

    (folders["stylized"] / "c1__s1.png").write_bytes(b"garbage")
    out = _score(*base, "--subset")
    assert out.returncode == 2 and "c1__s1.png" in out.stderr
