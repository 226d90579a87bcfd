"""sacreBLEU's corpus BLEU, chrF and TER, with per-segment statistics for merges and paired tests.

Defaults are sacrebleu's (BLEU: 13a tokenizer, exp smoothing, mixed case); every option of
``sacrebleu.metrics.BLEU``/``CHRF``/``TER`` can be passed. Scores are sacrebleu's own; BLEU's per-segment
n-gram counting is evalkit's (C-level ``Counter`` updates, rows identical to sacrebleu's), which keeps a
corpus score no slower than ``sacrebleu.corpus_bleu`` although the segment rows are kept.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from evalkit.metrics._sacrebleu import SacrebleuMetric, corpus_scores
from evalkit.metrics.state import Column
from evalkit.registry import METRICS


def word_ngrams(line: str, order: int) -> tuple[Counter, int]:
    """sacrebleu's ``extract_all_word_ngrams(line, 1, order)``: the same tuple keys and counts, counted in C."""
    tokens = line.split()
    counts: Counter = Counter()
    for n in range(1, order + 1):
        counts.update(zip(*(tokens[i:] for i in range(n))))
    return counts, len(tokens)


@METRICS.register("bleu")
class BLEUMetric(SacrebleuMetric):
    """``BLEU`` (0–100) as ``sacrebleu.corpus_bleu``; details carry the signature and the breakdown."""

    name = "bleu"
    keys = ("BLEU",)
    sacrebleu_class = "BLEU"

    def _reference_info(self, refs: list[str]) -> dict[str, Any]:
        """sacrebleu's ``_extract_reference_info``, same dict: n-gram counts maxed over references, lengths."""
        order = self.reference_metric().max_ngram_order
        ngrams, ref_lens = None, []
        for ref in refs:
            counts, length = word_ngrams(ref, order)
            ref_lens.append(length)
            if ngrams is None:
                ngrams = counts
            else:
                for gram, count in counts.items():
                    ngrams[gram] = max(ngrams[gram], count)
        return {"ref_ngrams": ngrams, "ref_lens": ref_lens}

    def _segment_row(self, hyp: str, info: dict[str, Any]) -> list[int]:
        """sacrebleu's ``_compute_segment_statistics``: [hyp_len, ref_len, correct per order, total per order].

        A sentence of L tokens has L − n + 1 n-grams of order n, so only the matches need the counters,
        and only n-grams in both (a set intersection in C) can match.
        """
        reference = self.reference_metric()
        order = reference.max_ngram_order
        hyp_ngrams, hyp_len = word_ngrams(hyp, order)
        ref_ngrams = info["ref_ngrams"]
        correct = [0] * order
        for gram in hyp_ngrams.keys() & ref_ngrams.keys():
            correct[len(gram) - 1] += min(hyp_ngrams[gram], ref_ngrams[gram])
        total = [max(0, hyp_len - n) for n in range(order)]
        return [hyp_len, reference._get_closest_ref_len(hyp_len, info["ref_lens"])] + correct + total

    def extras(self) -> dict[str, Any]:
        if not self.num_samples():
            return super().extras()
        score = self.corpus_score()
        breakdown = {"precisions": [float(p) for p in score.precisions], "bp": float(score.bp),
                     "ratio": float(score.ratio), "hyp_len": int(score.sys_len), "ref_len": int(score.ref_len)}
        return {**super().extras(), "breakdown": breakdown}


@METRICS.register("chrf")
class CHRFMetric(SacrebleuMetric):
    """``chrF`` (0–100) as ``sacrebleu.corpus_chrf``; ``word_order: 2`` gives chrF++."""

    name = "chrf"
    keys = ("chrF",)
    sacrebleu_class = "CHRF"


@METRICS.register("ter")
class TERMetric(SacrebleuMetric):
    """``TER`` (0–100, lower is better) as ``sacrebleu.corpus_ter``."""

    name = "ter"
    keys = ("TER",)
    higher_is_better = False
    sacrebleu_class = "TER"
    integer_stats = False
    state = {"stats": Column("float64"), "nrefs": Column("int64")}


def bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]], **options: Any) -> dict[str, Any]:
    """Functional form, arguments as ``sacrebleu.corpus_bleu`` takes them (one stream per reference set)."""
    return corpus_scores(BLEUMetric(**options), hypotheses, references)


def chrf(hypotheses: Sequence[str], references: Sequence[Sequence[str]], **options: Any) -> dict[str, Any]:
    return corpus_scores(CHRFMetric(**options), hypotheses, references)


def ter(hypotheses: Sequence[str], references: Sequence[Sequence[str]], **options: Any) -> dict[str, Any]:
    return corpus_scores(TERMetric(**options), hypotheses, references)
