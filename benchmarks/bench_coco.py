"""COCO segm and bbox AP at val2017 scale: evalkit beside pycocotools and faster-coco-eval, end to end.

End to end = read the GT and results files, evaluate, accumulate, summarize: what
``evalkit score coco-segm`` and the cocoapi demo each do from two JSON files.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from gen_coco import make_coco  # noqa: E402


def evalkit_stats(gt_path, res_path, iou_type):
    from evalkit.metrics.coco import coco_evaluate

    out = coco_evaluate(gt_path, res_path, iou_type)
    return [out[k] for k in ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")]


def pycocotools_stats(gt_path, res_path, iou_type):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        ev = COCOeval(gt, gt.loadRes(str(res_path)), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats.tolist()


def faster_coco_eval_stats(gt_path, res_path, iou_type):
    from faster_coco_eval import COCO, COCOeval_faster

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        ev = COCOeval_faster(gt, gt.loadRes(str(res_path)), iou_type, print_function=lambda *a, **k: None)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return list(ev.stats[:12])


def _ratio(reference, ours) -> float:
    start = time.perf_counter()
    reference()
    middle = time.perf_counter()
    ours()
    return (middle - start) / (time.perf_counter() - middle)


class _Coco:
    iou_type = "segm"
    timeout = 900
    number = 1
    repeat = 1
    warmup_time = 0

    def setup(self):
        gt, segm, bbox = make_coco()
        self.gt, self.res = gt, (segm if self.iou_type == "segm" else bbox)
        evalkit_stats(self.gt, self.res, self.iou_type)  # numba kernels compiled/cached, file cache warm

    def run(self, which):
        return which(self.gt, self.res, self.iou_type)

    def time_evalkit(self):
        self.run(evalkit_stats)

    def time_pycocotools(self):
        self.run(pycocotools_stats)

    def time_faster_coco_eval(self):
        self.run(faster_coco_eval_stats)

    def peakmem_evalkit(self):
        self.run(evalkit_stats)

    def peakmem_pycocotools(self):
        self.run(pycocotools_stats)

    def track_speedup_vs_pycocotools(self):
        return _ratio(lambda: self.run(pycocotools_stats), lambda: self.run(evalkit_stats))

    def track_speedup_vs_faster_coco_eval(self):
        return _ratio(lambda: self.run(faster_coco_eval_stats), lambda: self.run(evalkit_stats))

    track_speedup_vs_pycocotools.unit = "x"
    track_speedup_vs_faster_coco_eval.unit = "x"


class CocoSegmVal2017Scale(_Coco):
    iou_type = "segm"


class CocoBboxVal2017Scale(_Coco):
    iou_type = "bbox"
