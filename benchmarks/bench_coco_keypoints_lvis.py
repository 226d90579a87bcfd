"""COCO keypoints and LVIS AP near val size: evalkit beside pycocotools / lvis-api and faster-coco-eval.

End to end from two JSON files (read, evaluate, accumulate, summarize), as ``evalkit score`` does. The
reference (pycocotools ``iouType='keypoints'``, lvis-api ``LVISEval``) is slow, so it runs once per class in
``setup_cache``, in a child process; evalkit and faster-coco-eval run there too, best of ``fast_repeats``
alternating runs. ``track_time_ratio_*`` are evalkit's seconds ÷ the other tool's (lower is better).
faster-coco-eval's LVIS mode (``lvis_style=True``, ``maxDets=[300]``) is timed, not compared: it does not
cut results to 300 per image as ``LVISResults`` does.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import gen_keypoints_lvis as gen  # noqa: E402

#: workload name → (generator, its keyword arguments, evalkit metric, reference iou type)
WORKLOADS = {
    "keypoints": (gen.make_keypoints, {}, "coco-keypoints", "keypoints"),
    "lvis-bbox": (gen.make_lvis, {"n_images": 2000}, "lvis-bbox", "bbox"),
    "lvis-segm": (gen.make_lvis, {"n_images": 500, "masks": True}, "lvis-segm", "segm"),
}


def files(workload: str):
    make, kwargs, _, _ = WORKLOADS[workload]
    return make(**kwargs)


def evalkit_stats(workload: str) -> list[float]:
    """As ``evalkit score`` runs: the cyclic GC paused while the results' dicts are alive."""
    from evalkit.jsonio import gc_paused
    from evalkit.metrics._coco.groundtruth import load_json
    from evalkit.registry import METRICS

    gt_path, res_path = files(workload)
    metric_class = METRICS.get(WORKLOADS[workload][2])
    with gc_paused():
        metric = metric_class(gt=metric_class.read_gt(gt_path))
        metric.add_results(load_json(res_path), file=res_path)
    out = metric.compute()
    return [out[k] for k in metric.keys]


def reference_stats(workload: str) -> list[float]:
    """pycocotools for keypoints, lvis-api (with numpy's removed ``np.float`` alias restored) for LVIS."""
    gt_path, res_path = files(workload)
    iou_type = WORKLOADS[workload][3]
    with contextlib.redirect_stdout(io.StringIO()):
        if iou_type == "keypoints":
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval

            gt = COCO(str(gt_path))
            ev = COCOeval(gt, gt.loadRes(str(res_path)), iou_type)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            return ev.stats.tolist()
        import numpy as np
        from lvis import LVIS, LVISEval, LVISResults

        np.float = float  # type: ignore[attr-defined]  # lvis-api 0.5.3's accumulate
        try:
            gt = LVIS(str(gt_path))
            ev = LVISEval(gt, LVISResults(gt, str(res_path)), iou_type)
            ev.run()
        finally:
            del np.float  # type: ignore[attr-defined]
        return [float(v) for v in ev.results.values()]


def faster_coco_eval_stats(workload: str) -> list[float]:
    from faster_coco_eval import COCO, COCOeval_faster

    gt_path, res_path = files(workload)
    iou_type = WORKLOADS[workload][3]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        lvis = workload.startswith("lvis")
        ev = COCOeval_faster(gt, gt.loadRes(str(res_path)), iou_type, lvis_style=lvis, print_function=lambda *a, **k: None)
        if lvis:
            ev.params.maxDets = [300]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(v) for v in ev.stats]


TOOLS = {"evalkit": evalkit_stats, "reference": reference_stats, "faster_coco_eval": faster_coco_eval_stats}


def timed_in_child(tool: str, workload: str) -> dict:
    """Seconds and stats of one end-to-end run of ``tool`` in a fresh process."""
    code = (f"import sys, json, time; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r});"
            f"import bench_coco_keypoints_lvis as b; start = time.perf_counter(); stats = b.TOOLS[{tool!r}]({workload!r});"
            "print(json.dumps({'seconds': time.perf_counter() - start, 'stats': stats}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def _timed(tool: str, workload: str) -> tuple[float, list[float]]:
    start = time.perf_counter()
    stats = TOOLS[tool](workload)
    return time.perf_counter() - start, stats


class _Workload:
    workload = "keypoints"
    timeout = 3600
    number = 1
    repeat = 1
    warmup_time = 0
    fast_repeats = 2

    def measure(self):
        files(self.workload)
        evalkit_stats(self.workload)  # numba kernels compiled or loaded from cache
        reference = timed_in_child("reference", self.workload)
        runs = [(tool, *_timed(tool, self.workload)) for _ in range(self.fast_repeats)
                for tool in ("evalkit", "faster_coco_eval")]
        got = runs[0][2]
        if max(abs(a - b) for a, b in zip(got, reference["stats"])) > 1e-12:
            raise AssertionError(f"stats differ: {json.dumps([got, reference['stats']])}")
        return {"seconds": {"reference": reference["seconds"],
                            **{tool: min(s for t, s, _ in runs if t == tool) for tool in ("evalkit", "faster_coco_eval")}}}

    def time_evalkit(self, cache):
        evalkit_stats(self.workload)

    def track_seconds_reference(self, cache):
        return cache["seconds"]["reference"]

    def track_time_ratio_vs_reference(self, cache):
        return cache["seconds"]["evalkit"] / cache["seconds"]["reference"]

    def track_time_ratio_vs_faster_coco_eval(self, cache):
        return cache["seconds"]["evalkit"] / cache["seconds"]["faster_coco_eval"]

    track_seconds_reference.unit = "s"
    track_time_ratio_vs_reference.unit = "ratio"
    track_time_ratio_vs_faster_coco_eval.unit = "ratio"

    # Nightly regression thresholds (new / old), measured: benchmarks/noise.py --runs 5 on the 2-core dev machine,
    # 2026-12-02 04:23-04:36 UTC, nothing else running (1-minute load 1.0-1.7); threshold = 1 + 2 × (spread − 1),
    # at least 1.2, rounded up to 0.05 (noise.py), the largest of the three workloads (keypoints, LVIS bbox, segm).
    time_evalkit.threshold = 1.4  # spread 1.185 (1.19 … 1.41 s), 1.126 (1.96 … 2.20 s), 1.106 (1.21 … 1.34 s)
    track_seconds_reference.threshold = 1.2  # spread 1.091 (7.79 … 8.50 s), 1.086 (48.7 … 52.9 s), 1.087 (10.8 … 11.7 s)
    track_time_ratio_vs_reference.threshold = 1.55  # spread 1.252 (0.0924 … 0.116), 1.071, 1.112
    track_time_ratio_vs_faster_coco_eval.threshold = 1.35  # spread 1.155 (0.250 … 0.289), 1.072, 1.101


class CocoKeypointsVal2017Scale(_Workload):
    workload = "keypoints"

    def setup_cache(self):  # one per class: asv shares a setup_cache inherited from a base class
        return self.measure()


class LvisBboxValScale(_Workload):
    workload = "lvis-bbox"

    def setup_cache(self):
        return self.measure()


class LvisSegmValScale(_Workload):
    workload = "lvis-segm"

    def setup_cache(self):
        return self.measure()


if __name__ == "__main__":  # one reading of every ratio without asv: python benchmarks/bench_coco_keypoints_lvis.py
    for name, cls in (("keypoints", CocoKeypointsVal2017Scale), ("lvis-bbox", LvisBboxValScale),
                      ("lvis-segm", LvisSegmValScale)):
        if len(sys.argv) > 1 and name not in sys.argv[1:]:
            continue
        s = cls().measure()["seconds"]
        print(json.dumps({"workload": name, **{k: round(v, 3) for k, v in s.items()},
                          "ratio_vs_reference": round(s["evalkit"] / s["reference"], 4),
                          "ratio_vs_faster_coco_eval": round(s["evalkit"] / s["faster_coco_eval"], 4)}), flush=True)
