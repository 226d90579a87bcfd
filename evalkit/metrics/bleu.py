"""sacreBLEU's corpus BLEU, chrF and TER, with per-segment statistics for merges and paired tests.

Defaults are sacrebleu's (BLEU: 13a tokenizer, exp smoothing, mixed case); every option of
``sacrebleu.metrics.BLEU``/``CHRF``/``TER`` can be passed. Scores are sacrebleu's own.
"""
from __future__ import annotations

from typing import Any, Sequence

from evalkit.metrics._sacrebleu import SacrebleuMetric, corpus_scores
from evalkit.registry import METRICS


@METRICS.register("bleu")
class BLEUMetric(SacrebleuMetric):
    """``BLEU`` (0–100) as ``sacrebleu.corpus_bleu``; details carry the signature and the breakdown."""

    name = "bleu"
    main_key = "BLEU"
    sacrebleu_class = "BLEU"

    def extras(self) -> dict[str, Any]:
        if not self.num_samples():
            return super().extras()
        score = self.score()
        breakdown = {"precisions": [float(p) for p in score.precisions], "bp": float(score.bp),
                     "ratio": float(score.ratio), "hyp_len": int(score.sys_len), "ref_len": int(score.ref_len)}
        return {**super().extras(), "breakdown": breakdown}


@METRICS.register("chrf")
class CHRFMetric(SacrebleuMetric):
    """``chrF`` (0–100) as ``sacrebleu.corpus_chrf``; ``word_order: 2`` gives chrF++."""

    name = "chrf"
    main_key = "chrF"
    sacrebleu_class = "CHRF"


@METRICS.register("ter")
class TERMetric(SacrebleuMetric):
    """``TER`` (0–100, lower is better) as ``sacrebleu.corpus_ter``."""

    name = "ter"
    main_key = "TER"
    higher_is_better = False
    sacrebleu_class = "TER"
    integer_stats = False


def bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]], **options: Any) -> dict[str, Any]:
    """Functional form, arguments as ``sacrebleu.corpus_bleu`` takes them (one stream per reference set)."""
    return corpus_scores(BLEUMetric(**options), hypotheses, references)


def chrf(hypotheses: Sequence[str], references: Sequence[Sequence[str]], **options: Any) -> dict[str, Any]:
    return corpus_scores(CHRFMetric(**options), hypotheses, references)


def ter(hypotheses: Sequence[str], references: Sequence[Sequence[str]], **options: Any) -> dict[str, Any]:
    return corpus_scores(TERMetric(**options), hypotheses, references)
