"""``evalkit score coco-segm|coco-bbox|coco-keypoints|lvis-segm|lvis-bbox --gt GT.json --pred RESULTS.json``:
the reference's stats (pycocotools' COCOeval, lvis-api's LVISEval) from files."""
from __future__ import annotations

import argparse
from typing import Any

from evalkit.errors import InputError
from evalkit.registry import METRICS, SCORERS
from evalkit.scoring.base import Scorer


class _CocoScorer(Scorer):
    """Scores with the registered metric of the scorer's own name."""

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--gt", required=True, help="COCO instances JSON (ground truth)")
        parser.add_argument("--pred", "--results", dest="pred", required=True,
                            help="COCO results JSON (a list of detections)")
        parser.add_argument("--engine", default="fast", choices=["fast", "reference"],
                            help="fast (default, identical numbers) or reference (pycocotools)")

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        """Scored with the cyclic GC paused: a results file is millions of dicts, lists and strings, and each
        collection would walk them all while nothing here makes a cycle; they are freed (by reference
        counting) when ``_score`` returns, before the GC resumes."""
        from evalkit.jsonio import gc_paused

        with gc_paused():
            return self._score(args)

    def _score(self, args: argparse.Namespace) -> dict[str, Any]:
        from evalkit.formats.coco import scan_in_background

        engine = getattr(args, "engine", "fast")
        metric_class = METRICS.get(self.name)
        # the results file is scanned (where the scanner takes it) while the ground truth is read
        scan = scan_in_background(args.pred) if metric_class.scans_results and engine == "fast" else None
        gt = metric_class.read_gt(_existing(args.gt, "--gt"))
        if metric_class.iou_type == "segm" and engine == "fast":
            gt.prefetch_masks()  # rasterise GT polygons while the results file parses
        metric = metric_class(gt=gt, engine=engine)
        metric.add_results_file(_existing(args.pred, "--pred"), scan)
        out = metric.compute(ci=bool(getattr(args, "ci", False)), n_resamples=int(getattr(args, "n_resamples", 1000)),
                             seed=int(getattr(args, "seed", 12345)))
        row: dict[str, Any] = {"metric": metric.name, "images": metric.num_samples()}
        row.update({k: v for k, v in out.items() if k not in ("pr_curve", "per_category_AP", "ci")})
        if getattr(args, "json", False):
            row["per_category_AP"] = out["per_category_AP"]
        if "ci" in out:
            row["ci"] = out["ci"]
        row["metric_signature"] = str(metric.signature())
        return row


def _existing(path: str, flag: str) -> str:
    from pathlib import Path

    if not Path(path).is_file():
        raise InputError(f"{flag}: no such file", file=path)
    return path


#: scorer name (also the metric it scores with) → its help line
HELP = {
    "coco-segm": "COCO mask AP/AR (the 12 COCOeval stats, iouType='segm')",
    "coco-bbox": "COCO box AP/AR (the 12 COCOeval stats, iouType='bbox')",
    "coco-keypoints": "COCO keypoint AP/AR (the 10 COCOeval stats, iouType='keypoints', OKS with the 17 COCO sigmas)",
    "lvis-segm": "LVIS mask AP/AR (lvis-api's LVISEval results: federated, 300 detections per image, APr/APc/APf)",
    "lvis-bbox": "LVIS box AP/AR (lvis-api's LVISEval results: federated, 300 detections per image, APr/APc/APf)",
}
for _name, _help in HELP.items():
    SCORERS.register(_name)(type(f"Scorer_{_name}", (_CocoScorer,),
                                 {"name": _name, "help": _help, "__doc__": _help, "__module__": __name__}))
