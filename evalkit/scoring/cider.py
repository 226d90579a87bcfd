"""``evalkit score cider``: CIDEr-D and BLEU-1..4 of a captioning results file, as pycocoevalcap."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.registry import SCORERS
from evalkit.scoring.base import Scorer


@SCORERS.register("cider")
class CiderScorer(Scorer):
    name = "cider"
    help = "CIDEr-D and BLEU-1..4 (pycocoevalcap) of caption results against reference captions"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--refs", required=True, metavar="FILE",
                            help="references: COCO captions JSON, Karpathy dataset_coco.json or {image: [captions]}")
        parser.add_argument("--pred", required=True, metavar="FILE",
                            help='results: [{"image_id", "caption"}] or {image: caption}')
        parser.add_argument("--tokenizer", default="python", choices=("python", "java", "none"),
                            help="PTB tokenizer: python (default, no Java), java (CoreNLP as pycocoevalcap), none")
        parser.add_argument("--split", default="test", help="split of a Karpathy file (default test)")

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        from evalkit.formats.captions import read_references, read_results
        from evalkit.metrics.cider import CiderD

        refs_path, pred_path = Path(args.refs), Path(args.pred)
        refs, _ = read_references(refs_path, getattr(args, "split", "test"))
        preds = read_results(pred_path)
        unknown = [k for k in preds if k not in refs]
        if unknown:
            raise InputError(f"caption for an image without references ({len(unknown)} such)", file=pred_path,
                             record=unknown[0], field="image_id")
        # pycocoevalcap scores the images of the results file (COCOEvalCap uses cocoRes.getImgIds())
        keys = list(preds)
        if not keys:
            raise InputError("no captions in the results file", file=pred_path)
        metric = CiderD(tokenizer=args.tokenizer)
        metric.update([preds[k] for k in keys], [refs[k] for k in keys], keys)
        result = metric.compute(ci=bool(getattr(args, "ci", False)), n_resamples=int(getattr(args, "n_resamples", 1000)),
                                seed=int(getattr(args, "seed", 12345)))
        result["num_images"] = len(keys)
        result["metric_signature"] = str(metric.signature())
        return result
