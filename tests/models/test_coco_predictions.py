"""COCO results files through the predictions adapter: cocoapi's fake results give the published stats."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.models._cocoeval_stats import PUBLISHED, cocoeval_stats
from tests.conftest import shared_file
from evalkit.datasets.coco import CocoInstances
from evalkit.errors import InputError
from evalkit.registry import MODELS



def run_predictions(dataset: CocoInstances, path: Path, batch_size: int = 16) -> tuple[list[list[dict]], list]:
    """What reaches a metric: per-image result lists and their image ids, batch by batch as the runner does."""
    adapter = MODELS.get("predictions")(path=str(path))
    adapter.bind(dataset, "coco")
    predictions, targets = [], []
    for batch in dataset.batches(dataset.select(), batch_size):
        predictions += adapter.predict(batch)
        targets += batch.targets
    return predictions, targets


@pytest.fixture(scope="module")
def gt_100() -> CocoInstances:
    return CocoInstances(annotation_file=shared_file("coco_mask", "instances_val2014_100.json"),
                         images_required=False)


@pytest.mark.parametrize("kind", ["segm", "bbox"])
def test_fake_results_give_published_stats(gt_100, kind):
    path = shared_file("coco_mask", f"cocoapi_instances_val2014_fake{kind}100_results.json")
    predictions, targets = run_predictions(gt_100, path)
    assert len(predictions) == 100 and sum(p == [] for p in predictions) == 1  # 99 of 100 images have results
    assert all(r["image_id"] == t for p, t in zip(predictions, targets) for r in p)
    results = [r for p in predictions for r in p]
    assert len(results) == 734
    assert cocoeval_stats(gt_100.coco_gt, results, kind) == pytest.approx(PUBLISHED[kind], abs=1e-12)


@pytest.fixture
def small_gt(tmp_path) -> CocoInstances:
    data = {"images": [{"id": 1, "height": 4, "width": 5}, {"id": 2, "height": 4, "width": 5}],
            "categories": [{"id": 3, "name": "thing"}], "annotations": []}
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(data))
    return CocoInstances(annotation_file=path, images_required=False)


def good_result(**changes) -> dict:
    return {"image_id": 2, "category_id": 3, "score": 0.5, "bbox": [0, 0, 2, 2],
            "segmentation": {"size": [4, 5], "counts": [4, 2, 14]}, **changes}


def test_uncompressed_rle_is_compressed(small_gt, tmp_path):
    from pycocotools import mask as mask_utils

    path = tmp_path / "results.json"
    path.write_text(json.dumps([good_result()]))
    predictions, _ = run_predictions(small_gt, path)
    assert predictions[0] == []
    rle = predictions[1][0]["segmentation"]
    assert isinstance(rle["counts"], str)
    assert mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}).sum() == 2


BAD_RESULTS = [
    (good_result(score=float("nan")), "[0] (image_id 2)", "score", "finite number"),
    (good_result(image_id="2"), "[0] (image_id 2)", "image_id", "integer image id"),
    ({k: v for k, v in good_result().items() if k != "category_id"}, "[0] (image_id 2)", "category_id",
     "missing field"),
    (good_result(segmentation=[[0, 0, 2, 0, 2, 2]]), "[0] (image_id 2)", "segmentation", "not polygons"),
    (good_result(bbox=[0, 0, float("inf"), 1]), "[0] (image_id 2)", "bbox", "4 finite numbers"),
    ({"image_id": 2, "category_id": 3, "score": 0.5}, "[0] (image_id 2)", None, "needs 'segmentation'"),
    ("detection", "[0]", None, "expected a JSON object"),
]


@pytest.mark.parametrize("result, record, field, message", BAD_RESULTS)
def test_bad_results_name_record_and_field(small_gt, tmp_path, result, record, field, message):
    path = tmp_path / "results.json"
    path.write_text(json.dumps([good_result(image_id=1), result]).replace('"[0]', '"[1]'))
    with pytest.raises(InputError, match=message) as err:
        run_predictions(small_gt, path)
    assert (err.value.file, err.value.record, err.value.field) == (path, record.replace("[0]", "[1]"), field)


def test_results_for_unknown_images_and_non_lists(small_gt, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps([good_result(image_id=7)]))
    with pytest.raises(InputError, match="ids the dataset does not have") as err:
        run_predictions(small_gt, path)
    assert err.value.record == "7"
    path.write_text(json.dumps({"annotations": []}))
    with pytest.raises(InputError, match="JSON list of detections"):
        run_predictions(small_gt, path)
