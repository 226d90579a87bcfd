"""``evalkit score cider``: the COCO caption table of a results file, as pycocoevalcap gives it: BLEU-1..4,
METEOR (its 1.5 jar, when Java is present), ROUGE_L and CIDEr-D. SPICE is left out: it downloads CoreNLP models."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.registry import SCORERS
from evalkit.scoring.base import Scorer


@SCORERS.register("cider")
class CiderScorer(Scorer):
    help = "CIDEr-D, BLEU-1..4, METEOR and ROUGE_L (pycocoevalcap) of caption results against reference captions"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--refs", required=True, metavar="FILE",
                            help="references: COCO captions JSON, Karpathy dataset_coco.json or {image: [captions]}")
        parser.add_argument("--pred", required=True, metavar="FILE",
                            help='results: [{"image_id", "caption"}] or {image: caption}')
        parser.add_argument("--tokenizer", default="python", choices=("python", "java", "none"),
                            help="PTB tokenizer: python (default, no Java), java (CoreNLP as pycocoevalcap), none")
        parser.add_argument("--split", default="test", help="split of a Karpathy file (default test)")
        parser.add_argument("--meteor", default="auto", choices=("auto", "yes", "no"),
                            help="METEOR 1.5 (a jar, about 10 s to start): auto (default) when java is on PATH, "
                                 "yes (an error without Java), no")

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        from evalkit.formats.captions import read_references, read_results
        from evalkit.metrics.cider import BLEU_KEYS, CiderD

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
        from evalkit.metrics.meteor import Meteor
        from evalkit.metrics.ptb_tokenizer import java_available
        from evalkit.metrics.rouge import RougeL

        metric = CiderD(tokenizer=args.tokenizer)
        meteor = getattr(args, "meteor", "auto")
        others = [RougeL(tokenizer=args.tokenizer)]
        if meteor == "yes" or meteor == "auto" and java_available():
            others.insert(0, Meteor(tokenizer=args.tokenizer))
        ci = dict(ci=bool(getattr(args, "ci", False)), n_resamples=int(getattr(args, "n_resamples", 1000)),
                  seed=int(getattr(args, "seed", 12345)))
        for m in (metric, *others):
            m.update([preds[k] for k in keys], [refs[k] for k in keys], keys)
        scalars, extras, intervals = metric.compute_parts(**ci)
        for m in others:
            more, _, more_intervals = m.compute_parts(**ci)
            scalars.update(more)
            intervals.update(more_intervals)
        order = ["CIDEr", *BLEU_KEYS, "METEOR", "ROUGE_L"]  # CIDEr-D (main), then pycocoevalcap's table order
        result: dict[str, Any] = {k: scalars[k] for k in order if k in scalars}
        result.update(extras)
        if ci["ci"]:
            result["ci"] = {k: intervals[k] for k in order if k in intervals}
        if not any(m.name == "meteor" for m in others):
            result["METEOR_skipped"] = "no java on PATH" if meteor == "auto" else "--meteor no"
        result["num_images"] = len(keys)
        result["metric_signature"] = str(metric.signature())
        result["metric_signatures"] = {m.name: str(m.signature()) for m in (metric, *others)}
        return result
