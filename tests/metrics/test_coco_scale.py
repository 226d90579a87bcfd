"""At val2017 scale (benchmarks/gen_coco.py): the fast engine's 12 stats equal pycocotools' exactly."""
from __future__ import annotations

import sys

import pytest
from tests.conftest import REPO

from evalkit.metrics._coco.reference import run_cocoeval
from evalkit.metrics._coco.groundtruth import load_json
from evalkit.metrics.coco import coco_evaluate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_val2017_scale_equals_pycocotools(iou_type: str) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gen_coco import make_coco

    gt_path, segm_path, bbox_path = make_coco()
    res_path = segm_path if iou_type == "segm" else bbox_path
    got = coco_evaluate(gt_path, res_path, iou_type)
    ev = run_cocoeval(load_json(gt_path), load_json(res_path), iou_type)
    assert [got[k] for k in ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")] \
        == ev.stats.tolist()
