"""The cocoapi demo (100 COCO val2014 images, its fake detections) fed as a training loop feeds tensors:
the published ``COCOeval.stats`` (SOURCES.md), and evalkit's own numbers on the files, exactly."""
from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchmetrics")
mask_utils = pytest.importorskip("pycocotools.mask")

from evalkit.metrics._coco.summary import STAT_KEYS  # noqa: E402
from evalkit.metrics.coco import coco_evaluate  # noqa: E402
from evalkit.torchmetrics import CocoAP  # noqa: E402
from tests.conftest import shared_file  # noqa: E402
from tests.models._cocoeval_stats import PUBLISHED  # noqa: E402

RESULTS = {"segm": "cocoapi_instances_val2014_fakesegm100_results.json",
           "bbox": "cocoapi_instances_val2014_fakebbox100_results.json"}


def demo_files(iou_type: str) -> tuple[dict, list]:
    gt_path, res_path = shared_file("coco_mask", "instances_val2014_100.json"), shared_file("coco_mask", RESULTS[iou_type])
    if not (gt_path.exists() and res_path.exists()):
        pytest.skip("the cocoapi demo files are not in shared/data")
    return json.loads(gt_path.read_text()), json.loads(res_path.read_text())


def as_tensors(gt: dict, results: list, iou_type: str):
    """Per image: ``preds`` and ``target`` dicts (xywh float64 boxes, or bool masks), in image id order."""
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = gt
    coco.createIndex()
    by_image = defaultdict(list)
    for r in results:
        by_image[r["image_id"]].append(r)
    for image_id in sorted(coco.getImgIds()):
        anns = coco.imgToAnns[image_id]
        dets = by_image[image_id]
        image = coco.imgs[image_id]
        target = {"labels": torch.tensor([a["category_id"] for a in anns], dtype=torch.int64),
                  "iscrowd": torch.tensor([a["iscrowd"] for a in anns]),
                  "area": torch.tensor([a["area"] for a in anns], dtype=torch.float64), "image_id": image_id}
        pred = {"labels": torch.tensor([d["category_id"] for d in dets], dtype=torch.int64),
                "scores": torch.tensor([d["score"] for d in dets], dtype=torch.float64)}
        if iou_type == "bbox":
            target["boxes"] = torch.tensor([a["bbox"] for a in anns], dtype=torch.float64).reshape(-1, 4)
            pred["boxes"] = torch.tensor([d["bbox"] for d in dets], dtype=torch.float64).reshape(-1, 4)
        else:
            size = (image["height"], image["width"])
            target["masks"] = torch.from_numpy(np.array([coco.annToMask(a) for a in anns], bool).reshape(-1, *size))
            pred["masks"] = torch.from_numpy(np.array([mask_utils.decode(d["segmentation"]) for d in dets], bool)
                                             .reshape(-1, *size))
        yield pred, target


@pytest.mark.parametrize("iou_type", ["bbox", pytest.param("segm", marks=pytest.mark.slow)])  # segm: ~25 s of masks
def test_cocoapi_demo_through_tensors(iou_type):
    gt, results = demo_files(iou_type)
    metric = CocoAP(iou_type=iou_type, box_format="xywh")
    batch: list = []
    for pair in as_tensors(gt, results, iou_type):
        batch.append(pair)
        if len(batch) == 8:
            metric.update([p for p, _ in batch], [t for _, t in batch])
            batch = []
    metric.update([p for p, _ in batch], [t for _, t in batch])
    out = {k: float(v) for k, v in metric.compute().items()}
    expected = coco_evaluate(gt, results, iou_type)
    assert out == {k: expected[k] for k in STAT_KEYS}
    assert list(out.values()) == pytest.approx(PUBLISHED[iou_type], rel=1e-15, abs=0)
