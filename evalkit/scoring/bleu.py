"""``evalkit score bleu``: sacreBLEU (and chrF/TER) of hypothesis files, optionally a paired test against the first."""
from __future__ import annotations

import argparse
from typing import Any

from evalkit.errors import InputError
from evalkit.registry import METRICS, SCORERS
from evalkit.scoring.base import Scorer

KNOWN = ("bleu", "chrf", "ter")


@SCORERS.register("bleu")
class BLEUScorer(Scorer):
    help = "sacreBLEU (13a, exp smoothing, mixed case) of hypothesis files; chrF/TER and paired tests as options"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--ref", action="append", default=[], metavar="FILE",
                            help="reference file, one segment a line; repeat for more references")
        parser.add_argument("--hyp", action="append", required=True, metavar="FILE",
                            help="system output, one segment a line; repeat for more systems (one row each)")
        parser.add_argument("--testset", help="a sacrebleu test set from the local cache instead of --ref (e.g. wmt17)")
        parser.add_argument("--langpair", help="language pair of --testset (e.g. en-de)")
        parser.add_argument("--metrics", default="bleu", help="comma-separated: bleu,chrf,ter (default bleu)")
        parser.add_argument("--tokenize", help="BLEU tokenizer (13a, intl, zh, char, none, ...; default 13a)")
        parser.add_argument("--lowercase", action="store_true", help="case-insensitive BLEU and chrF")
        parser.add_argument("--paired", action="store_true",
                            help="paired bootstrap of each --hyp against the first (sacrebleu --paired-bs)")

    def score(self, args: argparse.Namespace) -> list[dict[str, Any]]:
        from evalkit.datasets.translation import TranslationDataset, read_lines

        names = [n.strip().lower() for n in str(args.metrics).split(",") if n.strip()]
        unknown = [n for n in names if n not in KNOWN]
        if unknown or not names:
            raise InputError(f"--metrics takes a comma-separated list of {', '.join(KNOWN)}", field="metrics")
        if args.paired and len(args.hyp) < 2:
            raise InputError("--paired needs at least two --hyp files (the first is the baseline)", field="paired")
        if args.testset:
            dataset = TranslationDataset(testset=args.testset, langpair=args.langpair)
        elif args.ref:
            dataset = TranslationDataset(reference_files=args.ref)
        else:
            raise InputError("give --ref FILE (repeatable) or --testset NAME --langpair SRC-TGT", field="ref")
        ids = dataset.sample_ids()
        targets = [list(refs) for refs in zip(*dataset.references)]
        systems = []
        for path in args.hyp:
            lines = read_lines(path)
            if len(lines) != len(ids):
                raise InputError(f"{len(lines)} lines, but the references have {len(ids)} "
                                 f"({', '.join(map(str, dataset.reference_paths))})", file=path)
            metrics = [METRICS.get(n)(**self._options(n, args)) for n in names]
            for metric in metrics:
                metric.update(lines, targets, ids)
            systems.append((path, metrics))
        return [self._row(path, metrics, systems[0][1] if args.paired else None, args) for path, metrics in systems]

    @staticmethod
    def _options(name: str, args: argparse.Namespace) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if name in ("bleu", "chrf") and args.lowercase:
            options["lowercase"] = True
        if name == "bleu":
            if args.tokenize:
                options["tokenize"] = args.tokenize
            if args.langpair and "-" in args.langpair:  # as sacrebleu -l: picks zh/ja-mecab/ko-mecab tokenizers
                options["trg_lang"] = args.langpair.split("-")[1]
        return options

    @staticmethod
    def _row(path: str, metrics: list, baseline: list | None, args: argparse.Namespace) -> dict[str, Any]:
        row: dict[str, Any] = {"system": str(path)}
        signatures = {}
        for metric in metrics:
            key = metric.main_key
            row[key] = metric.aggregate()[key]
            signatures[metric.name] = metric.sacrebleu_signature()
            if args.ci:
                row[f"{key}_ci"] = metric.compute(ci=True, n_resamples=args.n_resamples, seed=args.seed)["ci"].get(key)
        paired: dict[str, Any] = {}
        if baseline is not None:
            for base, metric in zip(baseline, metrics):
                if base is metric:
                    continue
                key = metric.main_key
                paired[key] = result = base.paired_test(metric, n_resamples=args.n_resamples, seed=args.seed)
                row[f"{key}_diff"], row[f"{key}_diff_ci"], row[f"{key}_p"] = (
                    result["difference"], result["ci"], result["p_value"])
        row["signature"] = signatures[metrics[0].name] if len(metrics) == 1 else " || ".join(signatures.values())
        row["signatures"] = signatures
        row["metric_signature"] = (str(metrics[0].signature()) if len(metrics) == 1
                                   else {m.name: str(m.signature()) for m in metrics})
        if baseline is not None:
            row["paired"] = paired or "baseline"
        return row
