"""The ``coco-captions`` loader on small files in the official formats (captions_val2014 annotations,
Karpathy ``dataset_coco.json``, ``{image: [captions]}``, results-style rows), on the real ABSTRACT-50S
files, and on broken files: which error each gets and that it names the file, record and field.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import shared_file
from evalkit.datasets.captions import CocoCaptions, read_references, read_results
from evalkit.errors import InputError, MissingResourceError
from tests.helpers import write_image


def write(tmp_path: Path, data: object, name: str = "captions.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def coco_annotations(ids=(42, 7, 99)) -> dict:
    """captions_val2014.json layout: info/licenses, images with file names, several captions per image."""
    images = [{"id": i, "file_name": f"COCO_val2014_{i:012d}.jpg", "height": 40, "width": 40, "license": 1}
              for i in ids]
    annotations = [{"id": 100 * i + k, "image_id": i, "caption": f"A picture {k} of thing {i}."}
                   for k in range(2) for i in ids]
    return {"info": {"year": 2014}, "licenses": [], "type": "captions", "images": images,
            "annotations": annotations}


def karpathy(splits=("test", "val", "test", "restval")) -> dict:
    images = [{"cocoid": 500 + i, "imgid": i, "split": split, "filepath": "val2014",
               "filename": f"COCO_val2014_{500 + i:012d}.jpg",
               "sentences": [{"raw": f"A cat number {i}.", "tokens": ["a", "cat"], "imgid": i, "sentid": 2 * i},
                             {"raw": f"Cat {i} sleeps", "tokens": ["cat"], "imgid": i, "sentid": 2 * i + 1}]}
              for i, split in enumerate(splits)]
    return {"images": images, "dataset": "coco"}


def test_coco_annotations_group_captions_by_image_in_first_seen_order(tmp_path):
    refs, files = read_references(write(tmp_path, coco_annotations()))
    assert list(refs) == ["42", "7", "99"]
    assert refs["7"] == ["A picture 0 of thing 7.", "A picture 1 of thing 7."]
    assert files == {str(i): f"COCO_val2014_{i:012d}.jpg" for i in (42, 7, 99)}


def test_karpathy_split_selects_images_and_joins_filepath(tmp_path):
    path = write(tmp_path, karpathy())
    refs, files = read_references(path, "test")
    assert list(refs) == ["500", "502"] and refs["502"] == ["A cat number 2.", "Cat 2 sleeps"]
    assert files["500"] == "val2014/COCO_val2014_000000000500.jpg"
    assert list(read_references(path, "restval")[0]) == ["503"]
    assert list(read_references(path, None)[0]) == ["500", "501", "502", "503"]


def test_plain_dict_results_rows_and_gzip(tmp_path):
    as_dict = {"a.png": ["one", "two"], "b.png": ["three"]}
    rows = [{"image_id": k, "caption": c} for k, cs in as_dict.items() for c in cs]
    assert read_references(write(tmp_path, as_dict))[0] == as_dict
    assert read_references(write(tmp_path, rows, "rows.json"))[0] == as_dict
    packed = tmp_path / "refs.json.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        json.dump(as_dict, f)
    assert read_references(packed)[0] == as_dict


def test_real_abstract50s_rows_and_dict_agree():
    rows, _ = read_references(shared_file("captions", "vrama91_cider_abstract48S.json"))
    assert len(rows) == 500 and {len(v) for v in rows.values()} == {48}
    subset, _ = read_references(shared_file("captions", "derived_abstract48S_refs_for_candsB_images.json"))
    assert len(subset) == 200 and all(rows[k] == v for k, v in subset.items())
    results = read_results(shared_file("captions", "derived_abstract_candsB_member0_results.json"))
    assert set(results) == set(subset) and all(isinstance(c, str) for c in results.values())


def test_loader_reads_images_from_the_folder(tmp_path):
    data = coco_annotations()
    for n, image in enumerate(data["images"]):
        write_image(tmp_path / "val2014" / image["file_name"], seed=n, mode="L" if n == 1 else "RGB")
    loader = CocoCaptions(root=tmp_path / "val2014", annotation_file=write(tmp_path, data))
    assert loader.sample_ids() == ["42", "7", "99"] and len(loader) == 3
    image, refs = loader.item(1, None)
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (40, 40)
    assert refs == ["A picture 0 of thing 7.", "A picture 1 of thing 7."]
    batch = next(loader.batches([0, 2], 2, transform=lambda img: img.size))
    assert batch.ids == ["42", "99"] and batch.inputs == [(40, 40), (40, 40)] and len(batch.targets[1]) == 2
    assert loader.describe()["num_samples"] == 3


def test_loader_without_images_gives_references_only(tmp_path):
    loader = CocoCaptions(annotation_file=write(tmp_path, karpathy()))
    assert loader.item(0, None) == (None, ["A cat number 0.", "Cat 0 sleeps"])


def test_missing_files_and_images(tmp_path):
    with pytest.raises(MissingResourceError, match="nope.json"):
        CocoCaptions(annotation_file=tmp_path / "nope.json")
    with pytest.raises(MissingResourceError, match="annotation_file"):
        CocoCaptions()
    (tmp_path / "val2014").mkdir()
    write_image(tmp_path / "val2014" / "COCO_val2014_000000000042.jpg", seed=0)
    (tmp_path / "val2014" / "COCO_val2014_000000000007.jpg").write_bytes(b"not a jpeg")
    loader = CocoCaptions(root=tmp_path / "val2014", annotation_file=write(tmp_path, coco_annotations()))
    with pytest.raises(InputError, match="000000000007.jpg"):
        loader.item(1, None)
    with pytest.raises(MissingResourceError, match="99"):
        loader.item(2, None)


@pytest.mark.parametrize("text", ['{"annotations": [', "", '{"1": ["a"],}', "\ufeff{}"])
def test_malformed_json_names_the_file(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="bad.json.*not valid JSON") as err:
        read_references(path)
    assert err.value.file == path


@pytest.mark.parametrize("data, record, field", [
    ({"images": [], "annotations": [{"image_id": 1, "caption": "a"}, {"caption": "b"}]}, 1, "image_id"),
    ({"annotations": [{"image_id": 1, "caption": "a"}, "a caption"]}, 1, "image_id"),
    ({"annotations": [{"image_id": 1}]}, 0, "caption"),
    ({"annotations": [{"image_id": 1, "caption": 5}]}, 0, "caption"),
    ({"annotations": [{"image_id": 1, "caption": ["a", "b"]}]}, 0, "caption"),
    ({"images": [{"cocoid": 1, "split": "test", "sentences": "a cat"}]}, 0, "sentences"),
    ({"images": [{"cocoid": 1, "split": "test", "sentences": [{"tokens": ["a"]}]}]}, 0, "caption"),
    ({"images": [{"cocoid": 1, "split": "test", "sentences": [{"raw": None}]}]}, 0, "caption"),
    ([{"image_id": 1, "caption": "a"}, {"caption": "b"}], 1, "image_id"),
    ([{"image_id": 1, "caption": 3.5}], 0, "caption"),
])
def test_missing_fields_and_wrong_types_name_record_and_field(tmp_path, data, record, field):
    path = write(tmp_path, data)
    with pytest.raises(InputError) as err:
        read_references(path)
    assert (err.value.file, err.value.record, err.value.field) == (path, record, field)
    assert f"record {record}" in str(err.value) and repr(field) in str(err.value)


@pytest.mark.parametrize("data, record", [({"x.png": "a cat"}, "x.png"), ({"x.png": ["a", 2]}, "x.png"),
                                          ({"x.png": []}, "x.png")])
def test_plain_dict_errors_name_the_image(tmp_path, data, record):
    with pytest.raises(InputError) as err:
        read_references(write(tmp_path, data))
    assert err.value.record == record


@pytest.mark.parametrize("data", ["a string", 3, None])
def test_unrecognised_top_level(tmp_path, data):
    with pytest.raises(InputError, match="unrecognised"):
        read_references(write(tmp_path, data))


def test_results_file_errors(tmp_path):
    assert read_results(write(tmp_path, {"1": "a dog"})) == {"1": "a dog"}
    with pytest.raises(InputError, match="second caption") as err:
        read_results(write(tmp_path, [{"image_id": 1, "caption": "a"}, {"image_id": 1, "caption": "b"}]))
    assert (err.value.record, err.value.field) == (1, "image_id")
    with pytest.raises(InputError, match="expected a list"):
        read_results(write(tmp_path, "a dog"))
    with pytest.raises(InputError) as err:
        read_results(write(tmp_path, [{"image_id": 1, "caption": None}]))
    assert err.value.field == "caption"


@pytest.mark.parametrize("data, record, field, message", [
    pytest.param({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 2, "caption": "x"}]},
                 0, "image_id", "annotation of image 2, which is not in 'images'", id="annotation-of-unknown-image"),
    pytest.param({"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}],
                  "annotations": [{"image_id": 1, "caption": "x"}]}, 1, "id", "image id 1 listed twice",
                 id="duplicate-image-id"),
    pytest.param({"images": [{"file_name": "a.jpg"}], "annotations": [{"image_id": 1, "caption": "x"}]},
                 0, "id", "image entry without 'id'", id="image-without-id"),
    pytest.param({"annotations": [{"image_id": [1], "caption": "x"}]}, 0, "image_id",
                 "image id must be an integer or a non-empty string, got list [1]", id="image-id-a-list"),
    pytest.param({"annotations": [{"image_id": 1, "caption": "x"}, {"image_id": 1.0, "caption": "y"}]}, 1,
                 "image_id", "got float 1.0", id="image-id-a-float"),
    pytest.param({"annotations": [{"image_id": True, "caption": "x"}]}, 0, "image_id", "got bool true",
                 id="image-id-a-bool"),
    pytest.param([{"image_id": 1, "caption": "x"}, {"image_id": 2.5, "caption": "y"}], 1, "image_id",
                 "got float 2.5", id="rows-image-id-a-float"),
    pytest.param(karpathy(("test", "test")) | {"images": [dict(karpathy()["images"][0], imgid=k) for k in (0, 1)]},
                 1, "cocoid", "image 500 listed twice", id="karpathy-duplicate-cocoid"),
    pytest.param({"images": [{"imgid": 3, "split": "val", "sentences": []},
                             {"imgid": 3, "split": "test", "sentences": [{"raw": "a"}]}]},
                 1, "imgid", "image 3 listed twice", id="karpathy-duplicate-imgid-across-splits"),
    pytest.param({"images": [{"split": "test", "sentences": [{"raw": "a"}]}]}, 0, "cocoid",
                 "image without 'cocoid' or 'imgid'", id="karpathy-image-without-id"),
    pytest.param({"images": [{"cocoid": 1.0, "split": "test", "sentences": [{"raw": "a"}]}]}, 0, "cocoid",
                 "got float 1.0", id="karpathy-cocoid-a-float"),
])
def test_ids_that_do_not_name_one_image_are_rejected(tmp_path, data, record, field, message):
    path = write(tmp_path, data)
    with pytest.raises(InputError) as err:
        read_references(path, "test")
    assert (err.value.file, err.value.record, err.value.field) == (path, record, field)
    assert message in str(err.value) and f"record {record}" in str(err.value) and str(path) in str(err.value)


def test_integer_and_string_ids_are_the_same_image(tmp_path):
    rows = [{"image_id": 1, "caption": "a"}, {"image_id": "1", "caption": "b"}]
    assert read_references(write(tmp_path, rows))[0] == {"1": ["a", "b"]}
    with pytest.raises(InputError, match="second caption") as err:
        read_results(write(tmp_path, rows, "results.json"))
    assert (err.value.record, err.value.field) == (1, "image_id")
    with pytest.raises(InputError, match="got float 1.0") as err:
        read_results(write(tmp_path, [{"image_id": 1.0, "caption": "a"}], "results.json"))
    assert (err.value.record, err.value.field) == (0, "image_id")


@pytest.mark.parametrize("data, record, field, message", [
    pytest.param({"images": ["COCO_val2014_000000000001.jpg"]}, 0, None,
                 "image entry must be an object with 'sentences', got str", id="karpathy-image-a-string"),
    pytest.param({"images": {"1": "a.jpg"}}, None, "images", "'images' must be a list of image objects, got dict",
                 id="karpathy-images-a-dict"),
    pytest.param({"images": {"1": "a.jpg"}, "annotations": []}, None, "images", "'images' must be a list, got dict",
                 id="coco-images-a-dict"),
    pytest.param({"images": [], "annotations": {"1": "a"}}, None, "annotations",
                 "'annotations' must be a list, got dict", id="coco-annotations-a-dict"),
    pytest.param({"images": ["a.jpg"], "annotations": []}, 0, "id", "image entry without 'id'",
                 id="coco-image-a-string"),
])
def test_entries_that_are_not_objects(tmp_path, data, record, field, message):
    path = write(tmp_path, data)
    with pytest.raises(InputError) as err:
        read_references(path, "test")
    assert (err.value.file, err.value.record, err.value.field) == (path, record, field)
    assert message in str(err.value)


def test_split_with_no_images_names_the_splits(tmp_path):
    path = write(tmp_path, karpathy(("val", "restval", "val")))
    with pytest.raises(InputError) as err:
        CocoCaptions(annotation_file=path, split="test")
    assert (err.value.file, err.value.field) == (path, "split")
    assert "split 'test' selects no images; splits in the file: restval, val" in str(err.value)
    assert list(CocoCaptions(annotation_file=path, split="restval").sample_ids()) == ["501"]


@pytest.mark.parametrize("data", [{"images": []}, {"images": [], "annotations": []}, {}, []],
                         ids=["karpathy", "coco", "dict", "rows"])
def test_file_without_images_is_rejected(tmp_path, data):
    path = write(tmp_path, data)
    with pytest.raises(InputError, match="no images") as err:
        read_references(path, None)
    assert err.value.file == path
