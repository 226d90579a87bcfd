"""Language-model scoring speed: evalkit's rolling windows beside lm-eval's HFLM on the same model, data and device.

``track_*`` are lower-is-better ratios (evalkit time / reference time), one run each. The model is a seeded
random GPT-2-sized-down config with a tokenizer trained here (nothing downloaded); on a GPU the bf16 ratio
compares with the bare forward pass over the same windows (the target is at most 1/0.9).
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _setup(device: str = "cpu", dtype: str = "float32"):
    import torch

    from tests.lm import _tiny

    tok = _tiny.tokenizer("gpt2")
    model = _tiny.model("gpt2", max_positions=256).to(device=device, dtype=getattr(torch, dtype))
    docs = ["\n".join(_tiny.documents()[3].split("\n")) * 4 for _ in range(16)]
    return model, tok, docs


def _evalkit(model, tok, docs, device, batch=8):
    from evalkit.models.causal_lm import LMScorer

    scorer = LMScorer(lambda ids: model(ids).logits, tok, 256, device, batch)
    return scorer.score_rolling(docs)


def _lm_eval(model, tok, docs, device, batch=8):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=model, tokenizer=tok, max_length=256, batch_size=batch, device=device)
    return lm.loglikelihood_rolling([Instance(request_type="loglikelihood_rolling", doc={}, arguments=(d,), idx=i)
                                     for i, d in enumerate(docs)], disable_tqdm=True)


def _best(fn, repeat=2):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


class LMScoring:
    timeout = 600
    number = 1
    repeat = 1
    #: nightly regression threshold (new / old), from noise.py --runs 5 on 2026-12-01
    #: (the 2-core machine nearly idle, load 1-1.5):
    #: spread 1.269 (0.580 … 0.736)
    threshold = 1.55

    def setup(self):
        self.model, self.tok, self.docs = _setup()

    def track_rolling_time_ratio_vs_lm_eval_hflm_cpu(self):
        ours = _best(lambda: _evalkit(self.model, self.tok, self.docs, "cpu"))
        theirs = _best(lambda: _lm_eval(self.model, self.tok, self.docs, "cpu"))
        return ours / theirs

    track_rolling_time_ratio_vs_lm_eval_hflm_cpu.unit = "ratio"


class LMScoringGPU:
    timeout = 600
    number = 1
    repeat = 1
    #: nightly regression threshold (new / old): a default, never measured (no GPU yet)
    threshold = 1.25

    def setup(self):
        import torch

        if not torch.cuda.is_available():
            raise NotImplementedError("needs CUDA")
        self.model, self.tok, self.docs = _setup("cuda", "bfloat16")

    def track_rolling_time_ratio_vs_bare_forward_bf16(self):
        import torch

        from evalkit.lmtypes import rolling_windows

        windows = []
        for d in self.docs:
            seq = [self.tok.bos_token_id] + self.tok.encode(d)
            windows += [seq[a:b] for a, b, _ in rolling_windows(len(seq) - 1, 256)]

        def bare():
            with torch.inference_mode():
                for i in range(0, len(windows), 8):
                    chunk = windows[i:i + 8]
                    width = max(map(len, chunk))
                    ids = torch.zeros((len(chunk), width), dtype=torch.long)
                    for r, w in enumerate(chunk):
                        ids[r, :len(w)] = torch.tensor(w)
                    self.model(ids.cuda()).logits.float()
            torch.cuda.synchronize()

        def ours():
            _evalkit(self.model, self.tok, self.docs, "cuda")
            torch.cuda.synchronize()

        return _best(ours) / _best(bare)

    track_rolling_time_ratio_vs_bare_forward_bf16.unit = "ratio"


if __name__ == "__main__":
    bench = LMScoring()
    bench.setup()
    print("evalkit/lm-eval time ratio (cpu):", round(bench.track_rolling_time_ratio_vs_lm_eval_hflm_cpu(), 3))
