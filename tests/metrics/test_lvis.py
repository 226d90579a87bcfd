"""LVIS AP against unmodified lvis-api (``LVISEval``): generated cases, faster-coco-eval's LVIS val sample, and
the input errors."""
from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.metrics._coco_cases import _rect_mask, _rle
from tests.metrics._lvis_cases import lvis_results, make_lvis_case

from evalkit.errors import InputError
from evalkit.metrics.lvis import LvisBbox, LvisSegm

METRIC = {"segm": LvisSegm, "bbox": LvisBbox}
DATA = Path(__file__).parent / "data" / "faster_coco_eval"


def _scored(gt: dict, results: list, iou_type: str) -> dict[str, float]:
    metric = METRIC[iou_type](gt=gt)
    metric.add_results(results)
    return metric.compute()


def _close(got: dict[str, float], expected: dict[str, float]) -> bool:
    return all(abs(got[k] - expected[k]) <= 1e-12 for k in expected)


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_cases_equal_lvis_api(iou_type: str, seed: int) -> None:
    gt, results = make_lvis_case(seed, iou_type)
    assert _close(_scored(gt, results, iou_type), lvis_results(gt, results, iou_type))


def _val_100_results(gt: dict, iou_type: str, seed: int = 0) -> list[dict]:
    """Results for faster-coco-eval's LVIS sample (its results file is not published): jittered GT boxes, wrong
    categories, and boxes of random categories."""
    rng = np.random.default_rng(seed)
    size = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    cat_ids = [c["id"] for c in gt["categories"]]
    results = []
    for a in gt["annotations"]:
        for _ in range(int(rng.integers(0, 3))):
            box = (np.asarray(a["bbox"]) * rng.normal(1, 0.08, 4)).clip(0).tolist()
            cat = a["category_id"] if rng.random() < 0.8 else int(rng.choice(cat_ids))
            results.append({"image_id": a["image_id"], "category_id": cat, "bbox": box, "score": float(rng.random())})
    for im in gt["images"]:
        cats = im["neg_category_ids"] + im["not_exhaustive_category_ids"] + [int(rng.choice(cat_ids))]
        for cat in rng.choice(cats, 5):
            h, w = size[im["id"]]
            box = [float(rng.uniform(0, w / 2)), float(rng.uniform(0, h / 2)), float(rng.uniform(1, w / 2)),
                   float(rng.uniform(1, h / 2))]
            results.append({"image_id": im["id"], "category_id": int(cat), "bbox": box, "score": float(rng.random())})
    if iou_type == "segm":
        for r in results:
            r["segmentation"] = _rle(_rect_mask(*size[r["image_id"]], r.pop("bbox")))
    return results


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_faster_coco_eval_lvis_sample_equals_lvis_api(iou_type: str) -> None:
    gt = json.loads(gzip.decompress((DATA / "lvis_val_100.json.gz").read_bytes()))
    results = _val_100_results(gt, iou_type)
    got, expected = _scored(gt, results, iou_type), lvis_results(gt, results, iou_type)
    assert _close(got, expected)
    assert expected["APc"] > 0 and expected["APf"] > 0  # the sample's groups are exercised


@pytest.mark.parametrize("change, record, field", [
    (lambda gt: gt["images"][1].pop("neg_category_ids"), "images[1]", "neg_category_ids"),
    (lambda gt: gt["images"][0].__setitem__("not_exhaustive_category_ids", 3), "images[0]", "not_exhaustive_category_ids"),
    (lambda gt: gt["categories"][0].__setitem__("frequency", "x"), "categories[0]", "frequency"),
])
def test_bad_ground_truth_names_record_and_field(change, record, field) -> None:
    gt, _ = make_lvis_case(5, "bbox")
    while len(gt["images"]) < 2:
        gt["images"].append({**gt["images"][0], "id": gt["images"][0]["id"] + 1})
    change(gt)
    with pytest.raises(InputError) as err:
        LvisBbox(gt=gt)
    assert (err.value.record, err.value.field) == (record, field)


def test_bad_results_name_record_and_field() -> None:
    gt, results = make_lvis_case(6, "bbox")
    bad = copy.deepcopy(results)
    bad[0]["image_id"] = 10**6
    with pytest.raises(InputError) as err:
        _scored(gt, bad, "bbox")
    assert (err.value.record, err.value.field) == (0, "image_id")


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_reference_engine_equals_fast_engine(iou_type: str, seed: int) -> None:
    """lvis-api's matching (per file and per image) read into the state gives the fast engine's numbers."""
    gt, results = make_lvis_case(seed, iou_type)
    ids = [im["id"] for im in gt["images"]]
    per_image = METRIC[iou_type](gt=gt, engine="reference")
    per_image.update([[r for r in results if r["image_id"] == i] for i in ids], ids)
    whole = METRIC[iou_type](gt=gt, engine="reference")
    whole.add_results(results)
    assert per_image.compute() == whole.compute() == _scored(gt, results, iou_type)


def test_detections_of_unlisted_categories_change_nothing() -> None:
    gt, results = make_lvis_case(7, "bbox")
    image = gt["images"][0]
    listed = {a["category_id"] for a in gt["annotations"] if a["image_id"] == image["id"]} | set(image["neg_category_ids"])
    unlisted = [c["id"] for c in gt["categories"] if c["id"] not in listed]
    if not unlisted:
        pytest.skip("every category is listed for the image")
    extra = [{"image_id": image["id"], "category_id": unlisted[0], "bbox": [1.0, 1.0, 9.0, 9.0], "score": 0.01 * i}
             for i in range(5)]
    first = results[:1] if "bbox" in results[0] else []
    assert _scored(gt, first + extra + results[len(first):], "bbox") == _scored(gt, results, "bbox")
