"""pycocotools run directly, the reference every COCO test compares with."""
from __future__ import annotations

import copy

# cocoapi results/val2014_fake_eval_res.txt at full precision (SOURCES.md; faster_coco_eval's test oracle)
PUBLISHED = {
    "segm": [0.3195452758576433, 0.5622883972521636, 0.29892653412086784, 0.3873740315997838,
             0.31018272403369485, 0.3269339071005138, 0.2682297225711534, 0.41544868114906375,
             0.4168394992198818, 0.4694498622754236, 0.37675922666197265, 0.3814715099715099],
    "bbox": [0.5045806987249628, 0.6969727247299577, 0.5729816669904824, 0.5856257209410443,
             0.5193996948036719, 0.5013978986347466, 0.38681277964578054, 0.5936795762842003,
             0.595352982877607, 0.6398109626113442, 0.5664205978994309, 0.5642905982905982],
}


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
