"""``decode: dali`` without DALI (this machine): one clear exit-2 error naming the extra; the decoder is named in
topk's signature (PIL pipelines keep theirs); the per-image geometry DALI is fed is torchvision's."""
from __future__ import annotations

import importlib.util

import pytest

from evalkit.datasets.imagenet import ImageNetVal
from evalkit.errors import InputError, MissingResourceError
from evalkit.metrics.topk import TopKError
from evalkit.models.gpu_decode import jpeg_header, resize_plan
from evalkit.models.preprocess import DEFAULT_CONFIG
from tests.helpers import make_imagefolder


@pytest.mark.skipif(importlib.util.find_spec("nvidia.dali") is not None, reason="DALI is installed")
def test_dali_without_the_package_is_one_exit_2_error_naming_the_extra(tmp_path):
    make_imagefolder(tmp_path, ["n01440764"])
    with pytest.raises(MissingResourceError, match=r"evalkit\[dali\]") as caught:
        ImageNetVal(tmp_path, decode="dali")
    assert caught.value.exit_code == 2
    with pytest.raises(InputError, match="'cpu', 'gpu' or 'dali'"):
        ImageNetVal(tmp_path, decode="nvjpeg")


@pytest.mark.parametrize("decode, expected", [("cpu", ()), ("gpu", (("decode", "gpu"),))])
def test_the_decoder_is_in_the_topk_signature_unless_it_is_pil(tmp_path, decode, expected):
    make_imagefolder(tmp_path, ["n01440764"])
    plain = TopKError()
    metric = TopKError()
    metric.bind(ImageNetVal(tmp_path, decode=decode))
    assert metric.dataset_meta["decode"] == ("pil" if decode == "cpu" else decode)
    assert metric.signature().options == plain.signature().options + expected


@pytest.mark.parametrize("size", [(375, 500), (500, 333), (281, 500), (224, 224), (7, 900)])
def test_resize_plan_is_torchvisions_resize_and_center_crop(size):
    import torch
    from torchvision.transforms import CenterCrop, Resize

    h, w = size
    image = torch.zeros(1, h, w)
    resized = Resize(256, antialias=True)(image)
    (new_h, new_w), (top, left) = resize_plan(h, w, DEFAULT_CONFIG)
    assert (new_h, new_w) == tuple(resized.shape[1:])
    marked = torch.zeros(1, new_h, new_w)
    marked[0, top, left] = 1.0
    assert CenterCrop(224)(marked)[0, 0, 0] == 1.0


def test_jpeg_header_reads_size_and_components(tmp_path):
    from PIL import Image

    for mode, components in (("RGB", 3), ("L", 1), ("CMYK", 4)):
        path = tmp_path / f"{mode}.jpg"
        Image.new(mode, (37, 21)).save(path)
        assert jpeg_header(path.read_bytes()) == (components, 21, 37)
    assert jpeg_header(b"\x89PNG\r\n") is None
