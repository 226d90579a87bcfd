"""The ImageNet loader: both layouts, class order, odd images, and its errors."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import torch

from evalkit.datasets.imagenet import ImageNetVal, imagenet_classes, wnid_index
from evalkit.errors import InputError, MissingResourceError
from tests.conftest import shared_file
from tests.helpers import make_imagefolder, write_image

WNIDS = ["n01440764", "n01443537", "n15075141"]  # first, second and last class of ILSVRC2012


def to_tensor(image):
    import torchvision.transforms.functional as F

    return F.to_tensor(image.resize((16, 16)))


def test_class_table_is_sorted_wnid_order_as_torchvision_and_timm():
    from timm.data import ImageNetInfo

    wnids = [w for w, _, _ in imagenet_classes()]
    assert wnids == sorted(wnids) and len(wnids) == 1000
    assert wnids == list(ImageNetInfo().label_names())


def test_imagefolder_of_wnids_uses_1000_class_indices(tmp_path):
    make_imagefolder(tmp_path, WNIDS)
    data = ImageNetVal(tmp_path)
    assert data.layout == "imagefolder"
    assert sorted(set(data.labels)) == [0, 1, 999]
    assert data.benchmark is None  # wnid folders, but not ILSVRC2012's validation files: any data could be
    ids = data.sample_ids()
    assert "n15075141/dog's toy.JPEG" in ids and "n01440764/gray.JPEG" in ids
    for i in range(len(data)):
        image, label = data.item(i, None)
        assert image.mode == "RGB"
        assert label == wnid_index()[ids[i].split("/")[0]]


def test_imagefolder_of_other_names_uses_sorted_folder_order(tmp_path):
    make_imagefolder(tmp_path, ["zebra", "apple", "mango"])
    data = ImageNetVal(tmp_path)
    assert data.classes == ["apple", "mango", "zebra"]
    assert {i.split("/")[0]: l for i, l in zip(data.sample_ids(), data.labels)} == {"apple": 0, "mango": 1, "zebra": 2}


def test_imagefolder_of_other_names_labels_as_timm_validate_py(tmp_path):
    """Numbered and mixed-case folders get timm's ImageFolder class indices (natural sort), not a string sort's."""
    from timm.data.readers.reader_image_folder import find_images_and_targets

    folders = ["10", "9", "2", "Bird", "ant", "img10", "img2"]
    make_imagefolder(tmp_path, folders)
    data = ImageNetVal(tmp_path)
    _, class_to_idx = find_images_and_targets(str(tmp_path))
    assert data.classes == sorted(class_to_idx, key=class_to_idx.get)
    assert {i.split("/")[0]: l for i, l in zip(data.sample_ids(), data.labels)} == class_to_idx


def test_batches_stack_tensors_and_respect_limit(tmp_path):
    make_imagefolder(tmp_path, WNIDS)
    data = ImageNetVal(tmp_path)
    batches = list(data.batches(data.select(limit=7), 3, to_tensor))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert batches[0].inputs.shape == (3, 3, 16, 16) and batches[0].targets.dtype == torch.long
    assert [i for b in batches for i in b.ids] == data.sample_ids()[:7]


def test_workers_give_the_same_batches(tmp_path):
    make_imagefolder(tmp_path, WNIDS)
    data = ImageNetVal(tmp_path)
    plain = list(data.batches(data.select(), 4, to_tensor))
    workers = list(data.batches(data.select(), 4, to_tensor, workers=2, prefetch_factor=3))
    assert [b.ids for b in plain] == [b.ids for b in workers]
    assert all(torch.equal(a.inputs, b.inputs) for a, b in zip(plain, workers))


def _flat(root: Path, labels: list[int]) -> Path:
    for i in range(len(labels)):
        write_image(root / f"ILSVRC2012_val_{i + 1:08d}.JPEG", seed=i, mode="L" if i == 1 else "RGB")
    return root


def test_flat_layout_with_devkit_ground_truth(tmp_path):
    val = _flat(tmp_path / "val", [0, 0, 0])
    # devkit ids: 490 → n01751748 (sorted index 65), 361 → n09193705 (970), 171 → n02105855 (230)
    (tmp_path / "ILSVRC2012_validation_ground_truth.txt").write_text("490\n361\n171\n")
    data = ImageNetVal(val)
    assert data.layout == "flat" and data.labels == [65, 970, 230]
    assert data.describe()["benchmark"] == "imagenet"  # ILSVRC2012 validation file names
    assert data.item(1, None)[0].mode == "RGB"


def test_flat_layout_with_loc_solution_csv(tmp_path):
    val = _flat(tmp_path, [0, 0])
    with open(tmp_path / "LOC_val_solution.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ImageId", "PredictionString"])
        writer.writerow(["ILSVRC2012_val_00000001", "n01751748 1 2 3 4"])
        writer.writerow(["ILSVRC2012_val_00000002", "n09193705 1 2 3 4 n09193705 5 6 7 8"])
    assert ImageNetVal(val).labels == [65, 970]


def test_flat_layout_real_devkit_file(tmp_path):
    truth = shared_file("imagenet", "daksim_ILSVRC2012_validation_ground_truth.txt")
    derived = shared_file("imagenet", "derived_val_labels_ILSVRC2012.tsv")
    val = _flat(tmp_path, [0] * 5)
    data = ImageNetVal(val, labels_file=str(truth))
    with open(derived) as f:
        expected = [int(row["sorted_wnid_index"]) for _, row in zip(range(5), csv.DictReader(f, delimiter="\t"))]
    assert data.labels == expected


def test_missing_root_names_the_path(tmp_path):
    with pytest.raises(MissingResourceError, match=str(tmp_path / "nope")):
        ImageNetVal(tmp_path / "nope")


def test_root_in_neither_layout_says_what_was_looked_for(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(MissingResourceError, match="ILSVRC2012_val_XXXXXXXX.JPEG"):
        ImageNetVal(tmp_path)


def test_flat_layout_without_labels_lists_candidates(tmp_path):
    val = _flat(tmp_path / "val", [0])
    with pytest.raises(MissingResourceError, match="LOC_val_solution.csv"):
        ImageNetVal(val)


def test_bad_devkit_line_names_file_and_line(tmp_path):
    val = _flat(tmp_path / "val", [0, 0])
    (tmp_path / "ILSVRC2012_validation_ground_truth.txt").write_text("490\nabc\n")
    with pytest.raises(InputError, match=r"record 2"):
        ImageNetVal(val)


def test_corrupt_jpeg_is_an_error_naming_the_file_or_skipped_and_counted(tmp_path):
    make_imagefolder(tmp_path, WNIDS)
    bad = tmp_path / WNIDS[1] / "broken.JPEG"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    data = ImageNetVal(tmp_path)
    with pytest.raises(InputError, match="broken.JPEG"):
        list(data.batches(data.select(), 4, to_tensor))
    skipping = ImageNetVal(tmp_path, skip_corrupt=True)
    batches = list(skipping.batches(skipping.select(), 4, to_tensor))
    assert sum(len(b) for b in batches) == len(skipping) - 1
    assert [s for b in batches for s in b.skipped] == [f"{WNIDS[1]}/broken.JPEG"]


def test_real_sample_images_with_labels_from_their_wnid(tmp_path):
    """The 123 real images (grayscale ones and an apostrophe included) as an ImageFolder of symlinks."""
    source = shared_file("imagenet", "sample_images")
    files = sorted(p for p in source.glob("n*_*.JPEG"))
    if not files:
        pytest.skip("no sample images")
    for path in files:
        wnid = path.name.split("_", 1)[0]
        (tmp_path / wnid).mkdir(exist_ok=True)
        os.symlink(path, tmp_path / wnid / path.name)
    data = ImageNetVal(tmp_path)
    assert len(data) == len(files)
    assert any("'" in i for i in data.sample_ids())
    index = wnid_index()
    modes = set()
    for i, sample_id in enumerate(data.sample_ids()):
        image, label = data.item(i, None)
        assert image.mode == "RGB" and label == index[sample_id.split("/")[0]]
        from PIL import Image

        with Image.open(data.files[i]) as raw:
            modes.add(raw.mode)
    assert "L" in modes  # the grayscale ones were converted


def test_persistent_workers_serve_the_next_model_with_the_same_preprocessing(tmp_path):
    import torchvision.transforms as T

    make_imagefolder(tmp_path, WNIDS)
    data = ImageNetVal(tmp_path)

    def recipe(size):  # built anew for each model, as adapters do
        return T.Compose([T.Resize((size, size)), T.ToTensor()])

    plain = list(data.batches(data.select(), 4, recipe(16)))
    kept = list(data.batches(data.select(), 4, recipe(16), workers=2, persistent_workers=True))
    (loader,) = data._persistent_loaders.values()
    pids = [w.pid for w in loader._iterator._workers]
    again = list(data.batches(data.select(), 4, recipe(16), workers=2, persistent_workers=True))
    assert list(data._persistent_loaders.values()) == [loader]
    assert [w.pid for w in loader._iterator._workers] == pids  # the same worker processes served both
    for got in (kept, again):
        assert [b.ids for b in got] == [b.ids for b in plain]
        assert all(torch.equal(a.inputs, b.inputs) for a, b in zip(plain, got))
    smaller = list(data.batches(data.select(), 4, recipe(8), workers=2, persistent_workers=True))
    assert smaller[0].inputs.shape[-1] == 8 and len(data._persistent_loaders) == 2
    list(data.batches(data.select(), 4, to_tensor, workers=2, persistent_workers=True))
    assert len(data._persistent_loaders) == 2  # a function's repr says nothing about its settings: not kept
    data.release_workers()
    assert not data._persistent_loaders
