"""sacreBLEU corpus BLEU and its paired bootstrap: evalkit's metric beside sacrebleu's own API."""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from gen_bleu import make_corpus  # noqa: E402


def evalkit_bleu(hyps, refs):
    from evalkit.metrics.bleu import BLEUMetric

    metric = BLEUMetric()  # in one process, later systems scored on the same references reuse their n-grams
    metric.update(hyps, [[r] for r in refs], [str(i) for i in range(len(refs))])
    return metric


def sacrebleu_bleu(hyps, refs):
    import sacrebleu

    return sacrebleu.corpus_bleu(hyps, [refs]).score


def cold_evalkit_bleu(hyps, refs):
    from evalkit.metrics._sacrebleu import clear_reference_cache

    clear_reference_cache()
    return evalkit_bleu(hyps, refs)


def evalkit_paired(systems, refs, n_resamples=1000):
    from evalkit.metrics._sacrebleu import clear_reference_cache

    clear_reference_cache()  # start cold, as sacrebleu's PairedTest builds its reference cache once
    metrics = [evalkit_bleu(hyps, refs) for hyps in systems]
    return [metrics[0].paired_test(m, n_resamples=n_resamples, seed=12345) for m in metrics[1:]]


def sacrebleu_paired(systems, refs, n_resamples=1000):
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    named = [(f"sys{i}", hyps) for i, hyps in enumerate(systems)]
    return PairedTest(named, {"BLEU": BLEU(references=[refs])}, references=None, test_type="bs",
                      n_samples=n_resamples)()


def _ratio(reference, ours, repeats: int = 1) -> float:
    """evalkit seconds / reference seconds (lower is better), each the best of ``repeats`` alternating runs."""
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for side, fn in enumerate((reference, ours)):
            start = time.perf_counter()
            fn()
            best[side] = min(best[side], time.perf_counter() - start)
    return best[1] / best[0]


class CorpusBLEU3000:
    timeout = 300

    def setup(self):
        self.refs, systems = make_corpus(3000, 1)
        self.hyps = systems[0]

    def time_evalkit(self):
        cold_evalkit_bleu(self.hyps, self.refs).compute()

    def time_sacrebleu(self):
        sacrebleu_bleu(self.hyps, self.refs)

    def track_time_ratio_vs_sacrebleu(self):
        """evalkit time / sacrebleu time. Half a second per run on this shared machine: best of 5 alternating runs each."""
        return _ratio(lambda: sacrebleu_bleu(self.hyps, self.refs),
                      lambda: cold_evalkit_bleu(self.hyps, self.refs).compute(), repeats=5)

    track_time_ratio_vs_sacrebleu.unit = "ratio"

    # Nightly regression thresholds (new / old), measured: benchmarks/noise.py --runs 5 on the 2-core dev machine
    # nearly idle (load 1-1.5, 2026-12-01); threshold = 1 + 2 × (spread − 1), rounded up (noise.py).
    time_evalkit.threshold = 1.6  # spread 1.292 (0.393 … 0.508 s)
    time_sacrebleu.threshold = 1.3  # spread 1.133 (0.419 … 0.474 s)
    track_time_ratio_vs_sacrebleu.threshold = 1.4  # spread 1.193 (1.062 … 1.267)


class PairedBootstrap16x1000:
    timeout = 900

    def setup(self):
        self.refs, self.systems = make_corpus(3000, 16)

    def time_evalkit(self):
        evalkit_paired(self.systems, self.refs)

    def time_sacrebleu(self):
        sacrebleu_paired(self.systems, self.refs)

    def track_time_ratio_vs_sacrebleu(self):
        """evalkit time / sacrebleu PairedTest time."""
        return _ratio(lambda: sacrebleu_paired(self.systems, self.refs), lambda: evalkit_paired(self.systems, self.refs))

    track_time_ratio_vs_sacrebleu.unit = "ratio"

    # Nightly regression thresholds (new / old), measured: benchmarks/noise.py --runs 5 on the 2-core dev machine,
    # 2026-12-02 04:36-04:42 UTC, nothing else running (1-minute load 1.0-1.05); threshold = the rule in noise.py.
    time_evalkit.threshold = 1.2  # spread 1.041 (3.08 … 3.21 s)
    time_sacrebleu.threshold = 1.2  # spread 1.054 (6.19 … 6.53 s)
    track_time_ratio_vs_sacrebleu.threshold = 1.2  # spread 1.081 (0.512 … 0.554)
