"""``evalkit.torchmetrics.CocoAP`` in a plain loop: equal to evalkit's coco metrics and to pycocotools, exactly."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchmetrics")
pytest.importorskip("pycocotools")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from evalkit.errors import InputError  # noqa: E402
from evalkit.metrics.coco import coco_evaluate  # noqa: E402
from evalkit.metrics._coco.summary import STAT_KEYS  # noqa: E402
from evalkit.torchmetrics import CocoAP  # noqa: E402
from tests.torchmetrics_compat._data import coco_reference_inputs, detection_batch, pycocotools_stats  # noqa: E402

#: MeanAveragePrecision's IoU and recall thresholds: float32 ``torch.linspace`` values
FLOAT32_THRESHOLDS = (torch.linspace(0.5, 0.95, 10).tolist(), torch.linspace(0.0, 1.0, 101).tolist())


def in_batches(metric: CocoAP, preds: list, target: list, size: int) -> dict:
    for start in range(0, len(preds), size):
        metric.update(preds[start:start + size], target[start:start + size])
    return {k: float(v) for k, v in metric.compute().items()}


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 4))
def test_equals_evalkit_and_pycocotools(iou_type, seed, batch):
    preds, target = detection_batch(seed)
    out = in_batches(CocoAP(iou_type=iou_type, box_format="xywh"), preds, target, batch)
    gt, results = coco_reference_inputs(preds, target, iou_type)
    expected = coco_evaluate(gt, results, iou_type)
    assert out == {k: expected[k] for k in STAT_KEYS}
    assert list(out.values()) == pycocotools_stats(gt, results, iou_type)


def test_without_image_ids_images_are_numbered_in_update_order():
    preds, target = detection_batch(3)
    out = in_batches(CocoAP(box_format="xywh"), preds, [{k: v for k, v in t.items() if k != "image_id"} for t in target], 3)
    for number, t in enumerate(target):
        t["image_id"] = number
    gt, results = coco_reference_inputs(preds, target, "bbox")
    assert list(out.values()) == pycocotools_stats(gt, results, "bbox")


@pytest.mark.parametrize("box_format", ["xyxy", "cxcywh"])
def test_box_formats_convert_as_torchvision(box_format):
    from torchvision.ops import box_convert

    from evalkit.torchmetrics.coco import xywh_boxes

    boxes = torch.rand(50, 4, dtype=torch.float32) * 100
    boxes[:, 2:] += boxes[:, :2] if box_format == "xyxy" else 0
    assert xywh_boxes(boxes, box_format) == box_convert(boxes, box_format, "xywh").tolist()


def test_where_torchmetrics_mean_average_precision_differs():
    """MeanAveragePrecision runs pycocotools on the same boxes but with IoU and recall thresholds from float32
    ``torch.linspace`` (0.550000011920929 for 0.55...): its numbers are pycocotools' with those thresholds,
    ours pycocotools' own."""
    from torchmetrics.detection import MeanAveragePrecision

    preds, target = detection_batch(12)  # a case where the thresholds change AP by 0.0019
    anonymous = [{k: v for k, v in t.items() if k != "image_id"} for t in target]
    ours = CocoAP(box_format="xywh")
    theirs = MeanAveragePrecision(box_format="xywh", backend="pycocotools")
    theirs.warn_on_many_detections = False
    for metric in (ours, theirs):
        metric.update(preds, anonymous)
    for number, t in enumerate(target):
        t["image_id"] = number
    gt, results = coco_reference_inputs(preds, target, "bbox")
    assert [float(v) for v in ours.compute().values()] == pycocotools_stats(gt, results, "bbox")
    names = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_1", "mar_10", "mar_100",
             "mar_small", "mar_medium", "mar_large"]
    expected = torch.tensor(pycocotools_stats(gt, results, "bbox", FLOAT32_THRESHOLDS), dtype=torch.float32)
    assert [float(theirs.compute()[n]) for n in names] == expected.tolist()
    assert expected.tolist() != torch.tensor(pycocotools_stats(gt, results, "bbox"), dtype=torch.float32).tolist()


def test_torchmetrics_segm_drops_images_without_ground_truth_masks():
    """Their false positives vanish from MeanAveragePrecision's segm AP; pycocotools (and we) count them."""
    from torchmetrics.detection import MeanAveragePrecision

    preds, target = detection_batch(4, n_images=6)
    for number, t in enumerate(target):
        t["image_id"] = number
    empty = target[0]["masks"].shape[1:]
    target[0] = {**target[0], "masks": torch.zeros((0, *empty), dtype=torch.bool), "labels": torch.zeros(0, dtype=torch.int64),
                 "iscrowd": torch.zeros(0, dtype=torch.bool), "area": torch.zeros(0, dtype=torch.float64)}
    assert len(preds[0]["labels"]) and len(target[1]["labels"])
    ours, theirs = CocoAP("segm"), MeanAveragePrecision(iou_type="segm", backend="pycocotools")
    for metric in (ours, theirs):
        metric.update(preds, target)
    gt, results = coco_reference_inputs(preds, target, "segm")
    assert [float(v) for v in ours.compute().values()] == pycocotools_stats(gt, results, "segm")
    gt["images"] = gt["images"][1:]
    results = [r for r in results if r["image_id"] != 0]
    expected = torch.tensor(pycocotools_stats(gt, results, "segm", FLOAT32_THRESHOLDS), dtype=torch.float32)
    assert float(theirs.compute()["map"]) == float(expected[0])
    assert float(ours.compute()["AP"]) < float(theirs.compute()["map"])


def test_collection_of_box_and_mask_ap_and_reset():
    from torchmetrics import MetricCollection

    preds, target = detection_batch(5)
    collection = MetricCollection({"bbox": CocoAP("bbox", box_format="xywh"), "segm": CocoAP("segm")})
    for start in range(0, len(preds), 4):
        collection.update(preds[start:start + 4], target[start:start + 4])
    out = collection.compute()
    for iou_type in ("bbox", "segm"):
        gt, results = coco_reference_inputs(preds, target, iou_type)
        assert [float(out[f"{iou_type}_{k}"]) for k in STAT_KEYS] == pycocotools_stats(gt, results, iou_type)
    collection.reset()
    collection.update(preds[:2], target[:2])
    gt, results = coco_reference_inputs(preds[:2], target[:2], "bbox")
    assert [float(collection.compute()[f"bbox_{k}"]) for k in STAT_KEYS] == pycocotools_stats(gt, results, "bbox")


def test_extras_come_from_the_evalkit_metric():
    preds, target = detection_batch(7)
    metric = CocoAP(box_format="xywh")
    metric.update(preds, target)
    extras = metric.evalkit_metric().compute()
    gt, results = coco_reference_inputs(preds, target, "bbox")
    assert extras["per_category_AP"] == coco_evaluate(gt, results, "bbox")["per_category_AP"]


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="iou_type"):
        CocoAP(iou_type="keypoints")
    preds, target = detection_batch(1, n_images=2)
    with pytest.raises(InputError, match="masks"):
        CocoAP("segm").update([{k: v for k, v in p.items() if k != "masks"} for p in preds], target)
    metric = CocoAP(box_format="xywh")
    metric.update(preds[:1], target[:1])
    metric.update(preds[1:], [{k: v for k, v in t.items() if k != "image_id"} for t in target[1:]])
    with pytest.raises(InputError, match="image_id"):
        metric.compute()
