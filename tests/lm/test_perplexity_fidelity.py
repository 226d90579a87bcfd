"""Per-document log-likelihoods and the three aggregates against lm-eval's HFLM; strided perplexity against
the Transformers guide's loop. Tiny seeded random GPT-2 and Llama models, tokenizers with and without BOS."""
from __future__ import annotations

import pytest

from evalkit.lmtypes import Document
from evalkit.models.causal_lm import LMScorer
from evalkit.registry import METRICS
from evalkit.types import Batch
from tests.lm import _tiny

torch = pytest.importorskip("torch")
lm_eval_hf = pytest.importorskip("lm_eval.models.huggingface")

CASES = [("gpt2", "gpt2"), ("llama", "llama"), ("llama", "nobos")]


def lm_eval_rolling(model, tokenizer, texts, max_length, batch_size=3):
    from lm_eval.api.instance import Instance

    lm = lm_eval_hf.HFLM(pretrained=model, tokenizer=tokenizer, max_length=max_length, batch_size=batch_size,
                         device="cpu")
    requests = [Instance(request_type="loglikelihood_rolling", doc={}, arguments=(t,), idx=i)
                for i, t in enumerate(texts)]
    return lm.loglikelihood_rolling(requests, disable_tqdm=True)


def lm_eval_aggregates(lls, originals):
    from lm_eval.api.metrics import bits_per_byte, weighted_perplexity
    from lm_eval.tasks.wikitext.preprocess_wikitext import process_results

    items = [process_results({"page": o}, [ll]) for ll, o in zip(lls, originals)]
    return {"word_perplexity": weighted_perplexity([i["word_perplexity"] for i in items]),
            "byte_perplexity": weighted_perplexity([i["byte_perplexity"] for i in items]),
            "bits_per_byte": bits_per_byte([i["bits_per_byte"] for i in items])}


def scorer(model, tokenizer, max_length, window_batch_size=2):
    return LMScorer(lambda ids: model(ids).logits, tokenizer, max_length, "cpu", window_batch_size)


@pytest.mark.parametrize("arch,kind", CASES)
@pytest.mark.parametrize("max_length", [8, 29, 64])
def test_rolling_loglikelihoods_equal_lm_eval(arch, kind, max_length):
    from evalkit.lmtypes import wikitext_detokenize

    model, tok = _tiny.model(arch), _tiny.tokenizer(kind)
    originals = _tiny.documents()
    # a document of exactly one window (max_length tokens), and one of one more
    base = tok.encode(originals[3])
    exact = tok.decode(base[:max_length], skip_special_tokens=True)
    originals += [exact]
    texts = [wikitext_detokenize(o) for o in originals]
    ours = scorer(model, tok, max_length).score_rolling(texts)
    theirs = lm_eval_rolling(model, tok, texts, max_length)
    assert [s.num_tokens for s in ours] == [len(tok.encode(t)) for t in texts]
    assert any(s.num_tokens > 3 * max_length for s in ours)  # many windows
    assert any(0 < s.num_tokens < max_length for s in ours)  # shorter than one window
    for a, b in zip(ours, theirs):
        assert a.loglikelihood == pytest.approx(b, rel=1e-6, abs=1e-9)
    metric = METRICS.get("perplexity")()
    metric.update(ours, originals, [str(i) for i in range(len(ours))])
    expected = lm_eval_aggregates(theirs, originals)
    assert metric.aggregate() == pytest.approx(expected, rel=1e-6)


def test_the_first_window_is_prefixed_with_bos_and_llama_tokens_keep_their_own():
    tok = _tiny.tokenizer("llama")
    s = scorer(_tiny.model("llama"), tok, 16)
    assert s.prefix_token_id == tok.bos_token_id
    assert s.encode("he was")[0] == tok.bos_token_id  # lm-eval's default encode adds it too: two BOS
    assert scorer(_tiny.model("llama"), _tiny.tokenizer("nobos"), 16).prefix_token_id == _tiny.tokenizer("nobos").eos_token_id


def guide_loop(model, encodings, max_length, stride):
    """The Transformers perplexity guide's loop, as published (batch size 1)."""
    seq_len = encodings.size(1)
    nll_sum = 0.0
    n_tokens = 0
    prev_end_loc = 0
    for begin_loc in range(0, seq_len, stride):
        end_loc = min(begin_loc + max_length, seq_len)
        trg_len = end_loc - prev_end_loc
        input_ids = encodings[:, begin_loc:end_loc]
        target_ids = input_ids.clone()
        target_ids[:, :-trg_len] = -100
        with torch.no_grad():
            outputs = model(input_ids, labels=target_ids)
            neg_log_likelihood = outputs.loss
        num_valid_tokens = (target_ids != -100).sum().item()
        batch_size = target_ids.size(0)
        num_loss_tokens = num_valid_tokens - batch_size
        nll_sum += neg_log_likelihood * num_loss_tokens
        n_tokens += num_loss_tokens
        prev_end_loc = end_loc
        if end_loc == seq_len:
            break
    return float(torch.exp(nll_sum / n_tokens))


class _Corpus:
    def __init__(self, texts):
        self.ids = [f"d{i}" for i in range(len(texts))]
        self.docs = [Document(t, t, (t,) if t else ()) for t in texts]

    def strided_corpus(self):
        return [(i, d.strided_units) for i, d in zip(self.ids, self.docs)]


@pytest.mark.parametrize("arch,kind", [("gpt2", "gpt2"), ("llama", "llama")])
@pytest.mark.parametrize("stride", [5, 12, 16])  # 16 = max_length: disjoint windows
def test_strided_perplexity_equals_the_guide_loop(arch, kind, stride):
    from evalkit.models.causal_lm import CausalLMAdapter

    model, tok = _tiny.model(arch), _tiny.tokenizer(kind)
    docs = _tiny.documents()
    texts = docs[:3] + ["\n".join(docs[3].split("\n")[:6]), docs[4]]
    corpus = _Corpus(texts)
    expected = guide_loop(model, tok("\n\n".join(texts), return_tensors="pt").input_ids, 16, stride)

    class Adapter(CausalLMAdapter):
        name = "test-lm"

    adapter = Adapter(max_length=16, stride=stride, window_batch_size=3)
    adapter.bind(corpus, "language-modeling")
    adapter.make_scorer(lambda ids: model(ids).logits, tok, 16)
    metric = METRICS.get("strided-perplexity")()
    for start in range(0, len(texts), 2):  # documents in batches, as the runner feeds them
        batch = Batch(corpus.ids[start:start + 2], corpus.docs[start:start + 2], texts[start:start + 2])
        metric.update(adapter.predict(batch), batch.targets, batch.ids)
    # a last window of one token has no label after the shift: the guide's loss is NaN, and so is its result
    # the guide's number is float32: one ulp of its average NLL (~7 here) moves exp() by ~5e-7, and the per-window
    # means differ from outputs.loss by an ulp or two of reduction order, so 2e-6 is float32's resolution here
    assert metric.compute()["token_perplexity"] == pytest.approx(expected, rel=2e-6, nan_ok=True)
    assert metric.extras()["stride"] == stride
