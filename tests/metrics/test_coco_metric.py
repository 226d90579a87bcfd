"""COCO AP on the cocoapi demo data: the published stats, pycocotools run here, and input errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
from tests.conftest import shared_file

from evalkit.errors import InputError
from evalkit.metrics._coco.summary import STAT_KEYS
from evalkit.metrics._coco.reference import reference_stats, run_cocoeval
from evalkit.metrics.coco import CocoBbox, CocoSegm, coco_evaluate
from evalkit.registry import METRICS
from tests.models._cocoeval_stats import PUBLISHED

RESULTS = {"segm": "cocoapi_instances_val2014_fakesegm100_results.json",
           "bbox": "cocoapi_instances_val2014_fakebbox100_results.json"}


def _load(iou_type: str) -> tuple[dict, list]:
    gt = json.loads(shared_file("coco_mask", "instances_val2014_100.json").read_text())
    return gt, json.loads(shared_file("coco_mask", RESULTS[iou_type]).read_text())


@pytest.fixture(scope="module", params=["segm", "bbox"])
def case(request):
    gt, results = _load(request.param)
    return request.param, gt, results, reference_stats(gt, results, request.param)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_published_stats_and_pycocotools(case, engine: str) -> None:
    iou_type, gt, results, reference = case
    got = coco_evaluate(gt, results, iou_type, engine=engine)
    assert {k: got[k] for k in STAT_KEYS} == reference
    for key, published in zip(STAT_KEYS, PUBLISHED[iou_type]):
        assert got[key] == pytest.approx(published, rel=1e-15, abs=0), key


def test_arrays_equal_pycocotools_eval(case) -> None:
    iou_type, gt, results, _ = case
    metric = METRICS.get(f"coco-{iou_type}")(gt=gt)
    metric.add_results(results)
    precision, recall = metric.arrays()
    ev = run_cocoeval(gt, results, iou_type)
    assert np.array_equal(precision, ev.eval["precision"])
    assert np.array_equal(recall, ev.eval["recall"])
    per_cat = metric.extras()["per_category_AP"]
    names = {c["id"]: c["name"] for c in gt["categories"]}
    for k, cat in enumerate(ev.params.catIds):
        p = ev.eval["precision"][:, :, k, 0, -1]
        expected = float(np.mean(p[p > -1])) if (p > -1).any() else None
        assert per_cat[names[cat]] == expected


def test_per_image_updates_and_bind_equal_file_evaluation(case) -> None:
    iou_type, gt, results, reference = case
    dataset = {"coco_gt": gt}  # the dataset_meta a COCO loader gives
    metric = METRICS.get(f"coco-{iou_type}")()
    metric.bind(dataset)
    image_ids = sorted(im["id"] for im in gt["images"])[::-1]  # any order: images are sorted by id inside
    by_image = {i: [] for i in image_ids}
    for r in results:
        by_image[r["image_id"]].append(r)
    for start in range(0, len(image_ids), 7):
        chunk = image_ids[start : start + 7]
        metric.update([by_image[i] for i in chunk], chunk, [str(i) for i in chunk])
    assert metric.aggregate() == reference
    columns = metric.per_sample()
    assert len(columns["sample_id"]) == metric.num_samples() == len(gt["images"])
    assert int(columns["num_detections"].sum()) == len(results)


def test_bootstrap_interval_brackets_and_is_reproducible(case) -> None:
    iou_type, gt, results, _ = case
    metric = METRICS.get(f"coco-{iou_type}")(gt=gt)
    metric.add_results(results)
    first = metric.compute(ci=True, n_resamples=30, seed=3)["ci"]
    assert first == metric.compute(ci=True, n_resamples=30, seed=3)["ci"]
    assert set(first) == set(STAT_KEYS)
    assert all(lo <= hi for lo, hi in first.values())


def test_state_dict_is_json_and_restores_exactly(case) -> None:
    iou_type, gt, results, reference = case
    metric = METRICS.get(f"coco-{iou_type}")(gt=gt)
    metric.add_results(results)
    restored = METRICS.get(f"coco-{iou_type}")()
    restored.load_state_dict(json.loads(json.dumps(metric.state_dict())))
    idx = np.random.default_rng(0).integers(0, 100, 100)
    assert restored.aggregate() == reference
    assert restored.aggregate(idx) == metric.aggregate(idx)
    assert restored.sample_ids() == metric.sample_ids()


GT = {"images": [{"id": 1, "height": 10, "width": 12}], "categories": [{"id": 3, "name": "cat"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 1, 4, 4], "area": 16.0,
                       "iscrowd": 0, "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]}]}


@pytest.mark.parametrize(("record", "field", "iou"), [
    ({"image_id": 2, "category_id": 3, "score": 0.5, "bbox": [0, 0, 1, 1]}, "image_id", "bbox"),
    ({"image_id": 1, "category_id": 4, "score": 0.5, "bbox": [0, 0, 1, 1]}, "category_id", "bbox"),
    ({"image_id": 1, "category_id": 3, "score": float("nan"), "bbox": [0, 0, 1, 1]}, "score", "bbox"),
    ({"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1]}, "score", "bbox"),
    ({"image_id": 1, "category_id": 3, "score": 0.5, "bbox": [0, 0, 1]}, "bbox", "bbox"),
    ({"image_id": 1, "category_id": 3, "score": 0.5, "segmentation": {"size": [11, 12], "counts": "P4"}},
     "segmentation.size", "segm"),
    ({"image_id": 1, "category_id": 3, "score": 0.5, "segmentation": {"size": [10, 12], "counts": "1"}},
     "segmentation.counts", "segm"),
])
def test_bad_results_name_record_and_field(record: dict, field: str, iou: str) -> None:
    good = {"image_id": 1, "category_id": 3, "score": 0.9, "bbox": [1, 1, 4, 4],
            "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]}
    with pytest.raises(InputError) as err:
        coco_evaluate(GT, [good, record] if "bbox" in record else [record], iou)
    assert err.value.field == field
    assert err.value.record == (1 if "bbox" in record else 0)


def test_no_detections_scores_zero_where_gt_exists() -> None:
    out = coco_evaluate(GT, [], "bbox")
    assert out["AP"] == 0.0 and out["APs"] == 0.0 and out["APm"] == -1.0


def test_update_checks_image_ids_and_unknown_engine() -> None:
    metric = CocoBbox(gt=GT)
    with pytest.raises(InputError):
        metric.update([[{"image_id": 5, "category_id": 3, "score": 1.0, "bbox": [0, 0, 1, 1]}]], [1])
    with pytest.raises(InputError):
        metric.update([[]], [7])
    with pytest.raises(InputError):
        CocoSegm(gt=GT, engine="nope")


def test_mask_area_mode_equals_pycocotools_on_results_without_boxes(shared_data):
    """area: mask scores segm results as pycocotools does once their boxes are dropped (detectron2's convention)."""
    import json

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from evalkit.metrics.coco import CocoSegm

    gt_path = shared_data / "coco_mask" / "instances_val2014_100.json"
    results = json.loads((shared_data / "coco_mask" / "cocoapi_instances_val2014_fakesegm100_results.json").read_text())
    with_boxes = [{**r, "bbox": [0.0, 0.0, 1.0, 1.0]} for r in results]
    metric = CocoSegm(gt=str(gt_path), area="mask")
    metric.add_results(with_boxes)
    gt = COCO(str(gt_path))
    ev = COCOeval(gt, gt.loadRes([{k: v for k, v in r.items() if k != "bbox"} for r in results]), "segm")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    keys = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
    assert [metric.aggregate()[k] for k in keys] == pytest.approx(list(ev.stats), rel=1e-12, abs=1e-12)
