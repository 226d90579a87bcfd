"""pycocotools run directly, the reference every COCO test compares with."""
from __future__ import annotations

import copy


def cocoeval_stats(coco_gt: dict, results: list[dict], iou_type: str) -> list[float]:
    """The 12 ``COCOeval.stats`` of ``results`` (loadRes semantics: copies, so inputs stay untouched)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = COCO()
    gt.dataset = copy.deepcopy(coco_gt)
    gt.createIndex()
    dt = gt.loadRes(copy.deepcopy(results))
    evaluator = COCOeval(gt, dt, iou_type)
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return [float(s) for s in evaluator.stats]
