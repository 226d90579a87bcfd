"""``evalkit score vqa``: official VQA accuracy of a results file, no model needed."""
from __future__ import annotations

import argparse
from typing import Any

from evalkit.errors import InputError
from evalkit.registry import SCORERS
from evalkit.scoring.base import Scorer


@SCORERS.register("vqa")
class VQAScorer(Scorer):
    """Results ``[{question_id, answer}]`` against the official question + annotation files."""

    help = "VQA v2 accuracy (official vqaEval.py rules): overall, per answer type, per question type (%)"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--annotations", required=True, help="official annotation JSON (v2_mscoco_*_annotations.json)")
        parser.add_argument("--questions", help="official questions JSON; checked to cover every annotated question")
        parser.add_argument("--pred", required=True, help="results JSON: [{\"question_id\": int, \"answer\": str}]")
        parser.add_argument("--subset", action="store_true",
                            help="score only the questions that have a result (default: a missing result is an error)")

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        """Scored with the cyclic GC paused: the parsed files are millions of dicts, lists and strings, and
        each collection would walk them all while nothing here makes a cycle. The big objects are freed (by
        reference counting) when ``_score`` returns, before the GC resumes, so it never walks them."""
        from evalkit.jsonio import gc_paused

        with gc_paused():
            return self._score(args)

    def _score(self, args: argparse.Namespace) -> dict[str, Any]:
        from evalkit.formats.vqa import align_question_ids, load_scoring_files
        from evalkit.metrics.vqa import VQAAccuracy

        # read and checked once, field by field
        columns, results = load_scoring_files(args.annotations, getattr(args, "questions", None), args.pred)
        rows, answers = align_question_ids(columns.question_ids, results, bool(getattr(args, "subset", False)),
                                           args.pred)
        if not len(columns.question_ids if rows is None else rows):  # the official script would divide by zero
            raise InputError("no question to score: the annotations hold none" if not len(columns.question_ids) else
                             "no result answers an annotated question", file=args.pred if len(columns.question_ids)
                             else args.annotations)
        metric = VQAAccuracy()
        metric.add_columns(columns.take(rows), answers, file=args.annotations)
        result = metric.compute(ci=bool(getattr(args, "ci", False)), n_resamples=getattr(args, "n_resamples", 1000),
                                seed=getattr(args, "seed", 12345))
        result["official"] = metric.official_accuracy()
        result["num_questions"] = metric.num_samples()
        result["num_annotated"] = len(columns.question_ids)
        result["metric_signature"] = str(metric.signature())
        return result
