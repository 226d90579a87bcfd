"""The coco loader: official-format fixtures, the errors bad files get, and the real 100-image val2014 GT."""
from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_file
from evalkit.datasets.coco import CocoInstances, ImagesWithSizes
from evalkit.errors import InputError, MissingResourceError
from evalkit.registry import DATASETS

SIZES = {9: (48, 64), 3: (64, 64), 5: (64, 40)}  # id → (height, width); ids deliberately unsorted


def instances() -> dict:
    """A small instances file in the official format (polygon, crowd RLE, an image without annotations)."""
    return {
        "info": {"description": "fixture"},
        "images": [{"id": i, "file_name": f"{i:012d}.png", "height": h, "width": w} for i, (h, w) in SIZES.items()],
        "categories": [{"id": 1, "name": "person", "supercategory": "person"},
                       {"id": 18, "name": "dog", "supercategory": "animal"}],
        "annotations": [
            {"id": 10, "image_id": 3, "category_id": 18, "bbox": [4.0, 4.0, 20.0, 20.0], "area": 400.0,
             "iscrowd": 0, "segmentation": [[4, 4, 24, 4, 24, 24, 4, 24]]},
            {"id": 11, "image_id": 9, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100,
             "iscrowd": 1, "segmentation": {"size": [48, 64], "counts": [0, 10, 3062]}},
        ],
    }


def write(tmp_path: Path, data: object, name: str = "instances.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def write_images(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for image_id, (h, w) in SIZES.items():
        pixels = np.random.default_rng(image_id).integers(0, 255, (h, w, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{image_id:012d}.png")
    return folder


def test_ids_sorted_items_carry_original_sizes(tmp_path):
    write(tmp_path, instances())
    write_images(tmp_path)
    ds = DATASETS.get("coco")(root=tmp_path, annotation_file="instances.json", image_dir="images")
    assert ds.sample_ids() == ["3", "5", "9"]
    assert ds.coco_gt["annotations"][0]["id"] == 10
    batches = list(ds.batches(ds.select(), 2, transform=lambda im: np.asarray(im)))
    assert [b.ids for b in batches] == [["3", "5"], ["9"]]
    first = batches[0]
    assert isinstance(first.inputs, ImagesWithSizes) and first.targets == [3, 5]
    assert first.inputs.sizes == [(64, 64), (64, 40)]
    assert [im.shape for im in first.inputs.images] == [(64, 64, 3), (64, 40, 3)]
    assert ds.describe()["num_annotations"] == 2


def test_predictions_only_needs_no_images(tmp_path):
    path = write(tmp_path, instances())
    ds = CocoInstances(annotation_file=path, images_required=False)
    batch = next(ds.batches(ds.select(limit=2), 8))
    assert batch.inputs.images == [None, None] and batch.inputs.sizes == [(64, 64), (64, 40)]


def test_gzipped_annotation_file(tmp_path):
    path = tmp_path / "instances.json.gz"
    path.write_bytes(gzip.compress(json.dumps(instances()).encode()))
    assert CocoInstances(annotation_file=path, images_required=False).sample_ids() == ["3", "5", "9"]


def test_missing_files_say_where_they_looked(tmp_path):
    with pytest.raises(MissingResourceError, match="instances_val2017.json"):
        CocoInstances(root=tmp_path)
    write(tmp_path, instances())
    with pytest.raises(MissingResourceError, match="image folder not found"):
        CocoInstances(root=tmp_path, annotation_file="instances.json", image_dir="nowhere")
    folder = write_images(tmp_path)
    (folder / "000000000005.png").unlink()
    with pytest.raises(MissingResourceError, match=r"000000000005\.png.*1 of 3 images"):
        CocoInstances(root=tmp_path, annotation_file="instances.json", image_dir="images")


def test_image_whose_size_disagrees_with_the_annotation_file(tmp_path):
    data = instances()
    data["images"][0]["height"] = 50
    write(tmp_path, data)
    write_images(tmp_path)
    ds = CocoInstances(root=tmp_path, annotation_file="instances.json", image_dir="images")
    with pytest.raises(InputError, match="48x64.*says 50x64") as err:
        ds.item(ds.sample_ids().index("9"), None)
    assert err.value.record == "image id 9"


def test_malformed_json_names_the_position(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(InputError, match="line 2 column") as err:
        CocoInstances(annotation_file=path, images_required=False)
    assert err.value.file == path


def _break(mutate) -> dict:
    data = copy.deepcopy(instances())
    mutate(data)
    return data


BAD_FILES = [
    (lambda d: d.pop("annotations"), "(top level)", "annotations", "missing field"),
    (lambda d: d["images"][1].pop("height"), "images[1] (id 3)", "height", "missing field"),
    (lambda d: d["images"][0].update(id="9"), "images[0]", "id", "expected an integer image id, got str"),
    (lambda d: d["images"][2].update(id=9), "images[2] (id 9)", "id", "duplicate image id 9"),
    (lambda d: d["images"][0].update(width=0), "images[0] (id 9)", "width", "positive integer"),
    (lambda d: d["categories"].append({"id": 1, "name": "again"}), "categories[2]", "id", "duplicate category"),
    (lambda d: d["annotations"][1].update(image_id=4), "annotations[1] (id 11)", "image_id",
     "image id 4 is not in 'images'"),
    (lambda d: d["annotations"][0].update(category_id=2), "annotations[0] (id 10)", "category_id",
     "category id 2 is not in 'categories'"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), "annotations[0] (id 10)", "bbox", "4 finite numbers"),
    (lambda d: d["annotations"][0].update(area=None), "annotations[0] (id 10)", "area", "non-negative number"),
    (lambda d: d["annotations"][1].update(iscrowd=True), "annotations[1] (id 11)", "iscrowd", "0 or 1"),
    (lambda d: d["annotations"][0].update(segmentation="x"), "annotations[0] (id 10)", "segmentation", "polygons"),
    (lambda d: d["annotations"][1].update(id=10), "annotations[1] (id 10)", "id", "duplicate annotation id"),
]


@pytest.mark.parametrize("mutate, record, field, message", BAD_FILES)
def test_bad_records_name_record_and_field(tmp_path, mutate, record, field, message):
    path = write(tmp_path, _break(mutate))
    with pytest.raises(InputError, match=message) as err:
        CocoInstances(annotation_file=path, images_required=False)
    assert (err.value.file, err.value.record, err.value.field) == (path, record, field)


def test_file_names_required_only_with_images(tmp_path):
    path = write(tmp_path, _break(lambda d: d["images"][0].pop("file_name")))
    assert len(CocoInstances(annotation_file=path, images_required=False)) == 3
    with pytest.raises(InputError, match="missing field") as err:
        CocoInstances(annotation_file=path, image_dir=tmp_path)
    assert err.value.field == "file_name"


def test_real_val2014_100_ground_truth():
    """The counts SOURCES.md gives: 100 images, 839 instances (9 crowd), 80 categories."""
    ds = CocoInstances(annotation_file=shared_file("coco_mask", "instances_val2014_100.json"), images_required=False)
    assert len(ds) == 100
    assert [int(i) for i in ds.sample_ids()] == sorted(image["id"] for image in ds.coco_gt["images"])
    annotations = ds.coco_gt["annotations"]
    assert (len(annotations), sum(a["iscrowd"] for a in annotations)) == (839, 9)
    assert len(ds.coco_gt["categories"]) == 80
