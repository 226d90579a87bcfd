"""Device-side decoding gives the PIL pipeline's pixels to interpolation rounding (run here on the CPU device)."""
from __future__ import annotations

import pytest
import torch

from evalkit.datasets.imagenet import ImageNetVal
from evalkit.models.gpu_decode import EncodedImages, preprocess_on_device
from evalkit.errors import InputError
from evalkit.models.preprocess import DEFAULT_CONFIG, build_transform
from tests.helpers import make_imagefolder


def test_encoded_batches_preprocess_like_the_cpu_transform(tmp_path):
    make_imagefolder(tmp_path, ["n01440764", "n01443537"])  # includes grayscale and CMYK files
    encoded = ImageNetVal(tmp_path, decode="gpu")
    batch = next(encoded.batches(encoded.select(), 16))
    assert isinstance(batch.inputs, EncodedImages) and len(batch.inputs.paths) == len(batch)
    on_device = preprocess_on_device(batch.inputs, DEFAULT_CONFIG, "cpu")
    plain = ImageNetVal(tmp_path)
    reference = next(plain.batches(plain.select(), 16, build_transform(DEFAULT_CONFIG))).inputs
    assert on_device.shape == reference.shape
    assert (on_device - reference).abs().mean() < 0.02


def test_corrupt_file_is_named(tmp_path):
    make_imagefolder(tmp_path, ["n01440764"])
    (tmp_path / "n01440764" / "zz_bad.JPEG").write_bytes(b"\xff\xd8 broken")
    data = ImageNetVal(tmp_path, decode="gpu")
    batch = next(data.batches(data.select(), 64))
    with pytest.raises(InputError, match="zz_bad.JPEG"):
        preprocess_on_device(batch.inputs, DEFAULT_CONFIG, "cpu")


def write_photo_like(path, seed: int, mode: str = "RGB") -> None:
    """Smooth gradients and shapes, like photographs: decoders differ little there (unlike on pixel noise)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((320, 240), Image.BICUBIC)
    draw = ImageDraw.Draw(image)
    draw.ellipse([60, 40, 200, 180], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    image = image.filter(ImageFilter.GaussianBlur(2)).convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=90)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_decode_matches_the_cpu_pipeline(tmp_path):
    for i, mode in enumerate(["RGB"] * 6 + ["L", "CMYK"]):
        write_photo_like(tmp_path / "n01440764" / f"{i}.JPEG", i, mode)
    data = ImageNetVal(tmp_path, decode="gpu")
    batch = next(data.batches(data.select(), 16))
    cuda = preprocess_on_device(batch.inputs, DEFAULT_CONFIG, "cuda").cpu()
    plain = ImageNetVal(tmp_path)
    reference = next(plain.batches(plain.select(), 16, build_transform(DEFAULT_CONFIG))).inputs
    per_image = (cuda - reference).abs().flatten(1).mean(1)
    print("mean |cuda - cpu pipeline| per image:", [round(float(v), 4) for v in per_image])
    assert float(per_image.max()) < 0.02


def test_encoded_batches_cross_dataloader_workers(tmp_path):
    """One buffer per batch: worker processes hand batches over without running out of file handles."""
    make_imagefolder(tmp_path, ["n01440764", "n01443537"], per_class=20)
    data = ImageNetVal(tmp_path, decode="gpu")
    direct = list(data.batches(data.select(), 16))
    workers = list(data.batches(data.select(), 16, workers=2))
    assert [b.ids for b in direct] == [b.ids for b in workers]
    assert all(torch.equal(a.inputs.buffer, b.inputs.buffer) for a, b in zip(direct, workers))
    assert [p.name for p in workers[0].inputs.paths] == [i.split("/")[1] for i in workers[0].ids]


@pytest.mark.parametrize("config", [DEFAULT_CONFIG, {**DEFAULT_CONFIG, "interpolation": "bicubic", "crop_pct": 0.95,
                                                     "input_size": (3, 48, 48)}])
def test_one_resize_per_size_equals_one_resize_per_image(tmp_path, config):
    """Grouping a batch by image size changes no pixel: each image equals its own resize and crop."""
    from evalkit.models.gpu_decode import _decode, resize_and_crop

    for i, (mode, size) in enumerate([("RGB", 40)] * 3 + [("L", 40), ("RGB", 40)]):
        write_photo_like(tmp_path / "n01440764" / f"{i}.JPEG", i, mode)
    make_imagefolder(tmp_path / "more", ["n01443537"])  # other sizes and CMYK
    for path in (tmp_path / "more" / "n01443537").iterdir():
        path.rename(tmp_path / "n01440764" / f"more_{path.name}")
    data = ImageNetVal(tmp_path, decode="gpu")
    batch = next(data.batches(data.select(), 64))
    grouped = preprocess_on_device(batch.inputs, config, "cpu")
    mean = torch.tensor(config["mean"]).view(3, 1, 1) * 255.0
    std = torch.tensor(config["std"]).view(3, 1, 1) * 255.0
    decoded = _decode(batch.inputs, "cpu")
    assert len({tuple(d.shape) for d in decoded}) >= 2 and len(decoded) > len({tuple(d.shape) for d in decoded})
    for k, image in enumerate(decoded):
        alone = (resize_and_crop(image[None], config)[0] - mean) / std
        assert torch.equal(grouped[k], alone), batch.inputs.paths[k]


@pytest.mark.parametrize("size", [(375, 500), (333, 500), (500, 281), (258, 259)])
def test_centre_crop_offsets_round_as_torchvision(size):
    """The crop window sits where torchvision's center_crop puts it (round half to even, not floor)."""
    import torch.nn.functional as F
    from torchvision.transforms.functional import center_crop

    from evalkit.models.gpu_decode import resize_and_crop

    config = {**DEFAULT_CONFIG, "input_size": (3, 223, 223)}  # an odd crop size: odd margins, some at .5
    images = torch.randint(0, 255, (1, 3, *size), dtype=torch.uint8)
    scale = int(223 / config["crop_pct"])
    h, w = size
    new = (scale, int(scale * w / h)) if h <= w else (int(scale * h / w), scale)
    resized = F.interpolate(images.float(), size=new, mode="bilinear", antialias=True, align_corners=False)
    assert torch.equal(resize_and_crop(images, config), center_crop(resized, [223, 223]).clamp(0, 255))


@pytest.mark.parametrize("change", [{"input_size": (3, 224, 192)}, {"crop_mode": "squash"}])
def test_recipes_the_device_path_does_not_do_are_refused(change):
    from evalkit.models.gpu_decode import resize_plan

    with pytest.raises(InputError, match="decode: cpu"):
        resize_plan(375, 500, {**DEFAULT_CONFIG, **change})
