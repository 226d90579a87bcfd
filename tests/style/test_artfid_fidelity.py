"""ArtFID against the unmodified ``art-fid`` package (its ``art_fid`` mode, LPIPS content distance), same images.

Weights are seeded random networks under the reference's own file names: AlexNet in a temporary TORCH_HOME
(read by evalkit and by ``lpips`` through torchvision), art-Inception as ``art_fid/art_inception.pth`` in a
temporary folder set as ``tempfile.tempdir``, where art-fid's ``utils.download`` finds it and downloads nothing.
art-fid pairs content and stylised images by sorting two folders, so its content folder holds each pair's
content image under the pair's name; ``per_pair`` gives it each pair's style image the same way.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evalkit.errors import InputError, MissingResourceError
from evalkit.registry import METRICS
from tests.conftest import REPO
from tests.style._images import perturbed, smooth_image, write_artfid_folders
from tests.style._weights import art_fid_tempdir, art_inception_file, shared_torch_home

SHARED_STYLE = Path("/work/shared/data/style/vangogh_starry_night.jpg")


@pytest.fixture
def offline_weights(monkeypatch):
    """Random AlexNet in TORCH_HOME and random art-Inception where art-fid caches it."""
    monkeypatch.setenv("TORCH_HOME", str(shared_torch_home(("alexnet",))))
    monkeypatch.setattr(tempfile, "tempdir", str(art_fid_tempdir()))


def _score(folders: dict[str, Path], *extra: str) -> dict:
    from evalkit.cli import main

    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["score", "style", "--content", str(folders["content"]), "--style", str(folders["style"]),
                     "--stylized", str(folders["stylized"]), "--metrics", "artfid", "--json", *extra])
    assert code in (0, None)
    return json.loads(out.getvalue())


def _art_fid_numbers(folders: dict[str, Path], style_folder: str, with_art_fid: bool) -> dict[str, float]:
    """art-fid's ArtFID and its two parts, as its CLI computes them with ``--batch_size 1`` (evalkit's default)."""
    from art_fid import art_fid

    stylized, content, style = (str(folders[k]) for k in ("stylized", "artfid_content", style_folder))
    numbers = {"ArtFID_FID": float(art_fid.compute_fid(stylized, style, 1, "cpu", num_workers=0)),
               "ArtFID_LPIPS": float(art_fid.compute_content_distance(stylized, content, 1, "lpips", "cpu", 0))}
    if with_art_fid:  # computes both parts again (its FID's sqrtm of a 2048×2048 matrix takes a while)
        numbers["ArtFID"] = art_fid.compute_art_fid(stylized, style, content, 1, "cpu", mode="art_fid",
                                                    content_metric="lpips", num_workers=0)
    return numbers


def _check(folders: dict[str, Path]) -> None:
    for style_set, folder in (("distinct", "style"), ("per_pair", "artfid_style_per_pair")):
        expected = _art_fid_numbers(folders, folder, with_art_fid=style_set == "distinct")
        result = _score(folders, "--style-set", style_set)
        for key, value in expected.items():
            assert result[key] == pytest.approx(value, rel=1e-6), (style_set, key)
        assert result["ArtFID"] == pytest.approx((1 + expected["ArtFID_LPIPS"]) * (1 + expected["ArtFID_FID"]),
                                                 rel=1e-6)
        assert expected["ArtFID_FID"] > 1 and expected["ArtFID_LPIPS"] > 0
        assert f"style_set:{style_set}" in result["metric_signature"]


@pytest.mark.slow
def test_artfid_equals_art_fid_on_synthetic_images(tmp_path, offline_weights):
    pytest.importorskip("art_fid")
    contents = {f"c{i}": smooth_image(i, 80, 88) for i in range(3)}
    styles = {f"s{j}": smooth_image(100 + j, 80, 88) for j in range(3)}
    _check(write_artfid_folders(tmp_path, contents, styles))


@pytest.mark.slow
def test_artfid_equals_art_fid_on_a_real_painting(tmp_path, offline_weights):
    """Content: the quickstart's photos; style: three 96 px tiles of van Gogh's Starry Night (shared data)."""
    pytest.importorskip("art_fid")
    if not SHARED_STYLE.is_file():
        pytest.skip(f"shared data not here: {SHARED_STYLE}")
    painting = Image.open(SHARED_STYLE).convert("RGB")
    styles = {f"starry{k}": np.asarray(painting.crop((300 * k, 200, 300 * k + 288, 488)).resize((80, 80),
                                                                                               Image.BICUBIC))
              for k in range(3)}
    quickstart = REPO / "data" / "quickstart" / "style" / "content"
    contents = {p.stem: np.asarray(Image.open(p).convert("RGB")) for p in sorted(quickstart.glob("*.png"))}
    _check(write_artfid_folders(tmp_path, contents, styles))


def test_art_inception_features_equal_art_fids_network(offline_weights):
    """Features of art-fid's own Inception3, loaded as its compute_fid loads it, equal evalkit's."""
    pytest.importorskip("art_fid")
    import torch
    from art_fid import art_fid, inception, utils

    from evalkit.features.art_inception import load_art_inception, resolve_weights
    from evalkit.metrics.artfid import to_tensor

    checkpoint = utils.download(art_fid.CKPT_URL)  # found in the cache: nothing is downloaded
    assert Path(checkpoint) == resolve_weights()
    reference = inception.Inception3()
    reference.load_state_dict(torch.load(checkpoint, map_location="cpu"), strict=False)
    reference.eval()
    images = to_tensor([perturbed(smooth_image(i, 96, 80), i, 20) for i in range(4)])
    with torch.no_grad():
        expected = reference(images, return_features=True).numpy()
        ours = load_art_inception(resolve_weights())(images).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    assert expected.std(axis=0).mean() > 0.05  # the random network's features differ between images


def test_missing_weights_say_where_they_were_looked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    metric = METRICS.get("artfid")()
    target = (smooth_image(0, 80, 80), smooth_image(1, 80, 80))
    with pytest.raises(MissingResourceError, match=r"art_fid.art_inception\.pth.*never downloads"):
        metric.update([smooth_image(2, 80, 80)], [target], ["a__b"])
    with pytest.raises(MissingResourceError, match="weights_file not found.*nope.pth"):
        METRICS.get("artfid")(weights_file=str(tmp_path / "nope.pth")).update([smooth_image(2, 80, 80)], [target])
    assert "art_inception_sha256:missing" in str(metric.signature())


def test_bad_input_names_the_pair(offline_weights):
    small = smooth_image(0, 60, 80)
    with pytest.raises(InputError, match=r"80×60.*75×75"):
        METRICS.get("artfid")().update([small], [(small, smooth_image(1, 80, 80))], ["tiny__s"])
    with pytest.raises(InputError, match="style image"):
        METRICS.get("artfid")().update([smooth_image(0, 80, 80)], [(smooth_image(1, 80, 80), None)], ["c__none"])
    with pytest.raises(InputError, match="style_set"):
        METRICS.get("artfid")(style_set="all")


def test_signature_states_the_definition_and_names_weights_by_content(tmp_path, offline_weights):
    first = METRICS.get("artfid")().signature()
    copy = shutil.copy(art_inception_file(), tmp_path / "renamed.pth")
    assert METRICS.get("artfid")(weights_file=str(copy)).signature() == first
    text = str(first)
    assert text.startswith("artfid|mode:art_fid|content:lpips-alex-v0.1") and "art-inception" in text
    assert "ref:art-fid==0.0.2" in text and "weights_file" not in text and "resize:bicubic" in text
    assert "lin_file" not in text and "lpips_heads_sha256:" in text and "lpips_alexnet_sha256:" in text
