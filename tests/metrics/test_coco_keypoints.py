"""COCO keypoint AP against unmodified pycocotools (``iouType='keypoints'``): faster-coco-eval's test data,
generated cases, and the input errors."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.metrics._coco_keypoint_cases import make_keypoint_case

from evalkit.errors import InputError
from evalkit.metrics._coco import summary as acc
from evalkit.metrics._coco.reference import run_cocoeval
from evalkit.metrics.coco_keypoints import CocoKeypoints

DATA = Path(__file__).parent / "data" / "faster_coco_eval"
#: faster-coco-eval's tests/test_keypoints.py (pycocotools' stats on this data)
PUBLISHED = [0.5048844884488449, 0.7227722772277227, 0.6336633663366337, 0.46633663366336636, 0.7504950495049505,
             0.5181818181818182, 0.7272727272727273, 0.6363636363636364, 0.4666666666666666, 0.75]


def _reference(gt: dict, results: list, sigmas: np.ndarray | None = None) -> dict[str, float]:
    ev = run_cocoeval(gt, results, "keypoints", sigmas=sigmas)
    return dict(zip(acc.KEYPOINT_STAT_KEYS, map(float, ev.stats)))


def _scored(gt: dict, results: list, engine: str = "fast", **options) -> CocoKeypoints:
    metric = CocoKeypoints(gt=gt, engine=engine, **options)
    metric.add_results(results)
    return metric


def _close(got: dict[str, float], expected: dict[str, float]) -> bool:
    return all(abs(got[k] - expected[k]) <= 1e-12 for k in expected)


@pytest.fixture(scope="module")
def faster_data() -> tuple[dict, list]:
    return (json.loads((DATA / "keypoints_gt_dataset.json").read_text()),
            json.loads((DATA / "keypoints_dt_dataset.json").read_text()))


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_faster_coco_eval_data_equals_pycocotools(faster_data, engine: str) -> None:
    gt, results = faster_data
    metric = _scored(gt, results, engine)
    got = metric.compute()
    assert _close(got, _reference(gt, results))
    assert _close(got, dict(zip(acc.KEYPOINT_STAT_KEYS, PUBLISHED)))
    ev = run_cocoeval(gt, results, "keypoints")
    precision, recall = metric.arrays()
    assert np.array_equal(precision, ev.eval["precision"]) and np.array_equal(recall, ev.eval["recall"])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_cases_equal_pycocotools(seed: int) -> None:
    gt, results, sigmas = make_keypoint_case(seed)
    options = {} if len(sigmas) == 17 else {"kpt_oks_sigmas": sigmas.tolist()}
    expected = _reference(gt, results, sigmas)
    for engine in ("fast", "reference"):
        assert _close(_scored(gt, results, engine, **options).compute(), expected), engine


def test_streamed_updates_equal_one_file(faster_data) -> None:
    gt, results = faster_data
    metric = CocoKeypoints(gt=gt)
    image = gt["images"][0]["id"]
    metric.update([[r for r in results if r["image_id"] == image]], [image])
    assert metric.compute() == _scored(gt, results).compute()


def test_sigmas_enter_the_signature() -> None:
    gt, results, _ = make_keypoint_case(3, k=17)
    default = _scored(gt, results)
    wider = _scored(gt, results, kpt_oks_sigmas=(acc.COCO_KEYPOINT_SIGMAS * 2).tolist())
    assert "kpt_oks_sigmas:coco" in str(default.signature()) and "pycocotools==" in str(default.signature())
    assert default.signature() != wider.signature()


def test_keypoints_of_the_wrong_length_name_record_and_field(faster_data) -> None:
    gt, results = faster_data
    bad = copy.deepcopy(results)
    bad[5]["keypoints"] = bad[5]["keypoints"][:-3]
    with pytest.raises(InputError) as err:
        _scored(gt, bad)
    assert err.value.record == 5 and err.value.field == "keypoints" and "48 values" in str(err.value)
    bad_gt = copy.deepcopy(gt)
    bad_gt["annotations"][2]["keypoints"].append(1)
    with pytest.raises(InputError) as err:
        CocoKeypoints(gt=bad_gt)
    assert err.value.record == "annotations[2]" and err.value.field == "keypoints"


@pytest.mark.parametrize("change, record, field", [
    (lambda gt, res: gt["annotations"][1].pop("num_keypoints"), "annotations[1]", "num_keypoints"),
    (lambda gt, res: gt["annotations"][4].pop("keypoints"), "annotations[4]", "keypoints"),
    (lambda gt, res: res[7].pop("keypoints"), 7, "keypoints"),
    (lambda gt, res: res[3].__setitem__("keypoints", ["a"] * 51), 3, "keypoints"),
    (lambda gt, res: res[9]["keypoints"].__setitem__(0, float("nan")), 9, "keypoints"),
])
def test_missing_or_malformed_keypoints(faster_data, change, record, field) -> None:
    gt, results = copy.deepcopy(faster_data)
    change(gt, results)
    with pytest.raises(InputError) as err:
        _scored(gt, results)
    assert err.value.record == record and err.value.field == field


@pytest.mark.parametrize("sigmas", [[], [0.1, -0.2], "wide", [float("nan")]])
def test_bad_sigmas(sigmas) -> None:
    with pytest.raises(InputError) as err:
        CocoKeypoints(kpt_oks_sigmas=sigmas)
    assert err.value.field == "kpt_oks_sigmas"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_results_with_masks_take_the_mask_area(seed: int) -> None:
    """loadRes: a first result with a segmentation and no box makes every area a mask area."""
    from tests.metrics._coco_cases import _rect_mask, _rle

    gt, results, _ = make_keypoint_case(seed, k=17)
    for r in results:
        r.pop("bbox", None)
        x, y = r["keypoints"][0::3], r["keypoints"][1::3]
        r["segmentation"] = _rle(_rect_mask(480, 640, [min(x), min(y), max(x) - min(x), max(y) - min(y)]))
    assert _close(_scored(gt, results).compute(), _reference(gt, results))
