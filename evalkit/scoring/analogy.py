"""``evalkit score analogy``: gensim's analogy accuracy of a vectors file, no suite needed."""
from __future__ import annotations

import argparse
from typing import Any

from evalkit.errors import InputError
from evalkit.metrics.analogy import AnalogyAccuracy
from evalkit.registry import SCORERS
from evalkit.scoring.base import Scorer
from evalkit.vectors import FORMATS, load_vectors
from evalkit.vectors.engine import METHODS


@SCORERS.register("analogy")
class AnalogyScorer(Scorer):
    help = "word-analogy accuracy of a vectors file (3CosAdd as gensim's evaluate_word_analogies)"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--vectors", required=True, help="word2vec / GloVe / fastText / KeyedVectors file")
        parser.add_argument("--allow-pickle", action="store_true",
                            help="allow gensim KeyedVectors files, which are pickles: only for files you trust")
        parser.add_argument("--format", choices=sorted(FORMATS), default=None,
                            help="vectors format (default: from the file name and first line)")
        parser.add_argument("--questions", default=None,
                            help="questions-words.txt file, vecto CSV or BATS folder (default: gensim's copy)")
        parser.add_argument("--restrict-vocab", type=int, default=300000,
                            help="search and accept only the first N words (gensim's default 300000; 0: all)")
        parser.add_argument("--case-sensitive", action="store_true", help="do not upper-case words (gensim: False)")
        parser.add_argument("--method", choices=METHODS, default="3cosadd")
        parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 … (results are the same)")

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        from evalkit.datasets.analogy import AnalogyQuestions
        from evalkit.vectors.engine import AnalogySolver

        if args.restrict_vocab < 0:
            raise InputError("--restrict-vocab must be >= 0", field="restrict_vocab")
        vectors = load_vectors(args.vectors, args.format, allow_pickle=args.allow_pickle)
        dataset = AnalogyQuestions(args.questions)
        solver = AnalogySolver(vectors, args.restrict_vocab or None, not args.case_sensitive, args.method, args.device)
        metric = AnalogyAccuracy()
        metric.bind(dataset.dataset_meta())
        questions = dataset.questions
        metric.update(solver.answer([q.words for q in questions]),
                      [(q.section_index, q.section, q.words[3]) for q in questions], dataset.sample_ids())
        result = metric.compute(ci=getattr(args, "ci", False), n_resamples=getattr(args, "n_resamples", 1000),
                                seed=getattr(args, "seed", 12345))
        for key in ("correct", "total", "skipped"):
            result[key] = int(result[key])
        result.update(vectors=str(args.vectors), questions=str(dataset.root), method=args.method,
                      restrict_vocab=args.restrict_vocab or None, case_insensitive=not args.case_sensitive,
                      vocabulary=len(vectors), skipped_lines=len(dataset.invalid_lines),
                      metric_signature=str(metric.signature()))
        return result
