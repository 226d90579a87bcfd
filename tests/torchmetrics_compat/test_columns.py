"""Top-k, BLEU, CIDEr-D and VQA accuracy as torchmetrics classes: several batches equal evalkit's metric
on all the samples at once, and so the reference tools (timm's counting, sacrebleu, pycocoevalcap, vqaEval)."""
from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchmetrics")

from evalkit.metrics.bleu import bleu  # noqa: E402
from evalkit.metrics.cider import cider_d  # noqa: E402
from evalkit.metrics.topk import topk_error  # noqa: E402
from evalkit.metrics.vqa import vqa_accuracy  # noqa: E402
from evalkit.torchmetrics import BLEU, CiderD, TopKError, VQAAccuracy  # noqa: E402
from tests.torchmetrics_compat._data import caption_data, vqa_data  # noqa: E402


def floats(out: dict) -> dict:
    return {k: float(v) for k, v in out.items()}


def batched(metric, preds: list, target: list, size: int = 7, ids: list | None = None) -> dict:
    for s in range(0, len(preds), size):
        extra = {} if ids is None else {"ids": ids[s:s + size]}
        metric.update(preds[s:s + size], target[s:s + size], **extra)
    return floats(metric.compute())


def test_topk_equals_evalkit_and_counting():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randint(0, 4, (100, 10), generator=gen).float()  # many ties: torch.topk's order decides
    labels = torch.randint(0, 10, (100,), generator=gen)
    metric = TopKError()
    for s in range(0, 100, 32):
        metric.update(logits[s:s + 32], labels[s:s + 32])
    out = floats(metric.compute())
    assert out == topk_error(logits, labels)
    top = logits.topk(5, dim=1).indices
    assert out["top1_error"] == float((top[:, 0] != labels).sum()) * 100.0 / 100
    assert out["top5_accuracy"] == float((top == labels[:, None]).any(1).sum()) * 100.0 / 100


def test_bleu_equals_evalkit_and_sacrebleu():
    import sacrebleu

    hyps, refs = caption_data(1, n=40)
    two = [(r + r)[:2] for r in refs]
    out = batched(BLEU(), hyps, two)
    assert out == {"BLEU": bleu(hyps, [[r[0] for r in two], [r[1] for r in two]])["BLEU"]}
    assert out["BLEU"] == sacrebleu.corpus_bleu(hyps, [[r[0] for r in two], [r[1] for r in two]]).score
    options = {"tokenize": "char", "lowercase": True}
    assert batched(BLEU(options), hyps, two)["BLEU"] == sacrebleu.corpus_bleu(
        hyps, [[r[0] for r in two], [r[1] for r in two]], **options).score


def test_cider_equals_evalkit_and_pycocoevalcap():
    pytest.importorskip("pycocoevalcap")
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    from evalkit.metrics.ptb_tokenizer import tokenize

    hyps, refs = caption_data(2)
    ids = list(range(100, 100 + len(hyps)))
    out = batched(CiderD(), hyps, refs, ids=ids)
    assert out == cider_d({str(i): r for i, r in zip(ids, refs)}, {str(i): h for i, h in zip(ids, hyps)})
    gts = {i: tokenize(r, "python") for i, r in zip(ids, refs)}
    res = {i: tokenize([h], "python") for i, h in zip(ids, hyps)}
    assert out["CIDEr"] == pytest.approx(float(Cider().compute_score(gts, res)[0]), rel=1e-12)
    with contextlib.redirect_stdout(io.StringIO()):
        bleus = Bleu(4).compute_score(gts, res)[0]
    assert [out[f"BLEU-{k}"] for k in range(1, 5)] == pytest.approx(bleus, rel=1e-12)


def test_cider_without_ids_does_not_depend_on_sample_order():
    hyps, refs = caption_data(3)
    order = np.random.default_rng(0).permutation(len(hyps)).tolist()
    assert batched(CiderD(), hyps, refs) == batched(CiderD(), [hyps[i] for i in order], [refs[i] for i in order], 5)


def test_vqa_equals_evalkit_and_the_official_rules():
    from tests.metrics import _vqa_reference as ref

    answers, humans = vqa_data(4)
    records = [{"question_id": q, "question_type": "what is" if q % 2 else "how many", "answer_type": "other",
                "answers": [{"answer": a, "answer_id": j + 1} for j, a in enumerate(h)]} for q, h in enumerate(humans)]
    results = [{"question_id": q, "answer": a} for q, a in enumerate(answers)]
    expected = vqa_accuracy(records, results)
    assert batched(VQAAccuracy(), answers, humans) == {"overall": expected["overall"]}
    metric = VQAAccuracy()
    batched(metric, answers, records)
    full = metric.evalkit_metric().compute()
    assert full == expected
    _, official, _ = ref.evaluate(copy.deepcopy(records), results)
    assert metric.evalkit_metric().accuracies().tolist() == official


def test_collections_of_text_metrics_and_with_torchmetrics_own():
    from torchmetrics import MetricCollection
    from torchmetrics.classification import MulticlassAccuracy

    hyps, refs = caption_data(5)
    text = MetricCollection({"bleu": BLEU(), "cider": CiderD()})
    out = batched(text, hyps, refs)
    assert out == {**batched(BLEU(), hyps, refs), **batched(CiderD(), hyps, refs)}
    logits, labels = torch.randn(64, 7), torch.randint(0, 7, (64,))
    vision = MetricCollection({"topk": TopKError(), "acc": MulticlassAccuracy(num_classes=7, average="micro")})
    vision.update(logits[:40], labels[:40])
    vision.update(logits[40:], labels[40:])
    got = vision.compute()
    assert float(got["top1_accuracy"]) == pytest.approx(100 * float(got["acc"]), abs=1e-4)
    assert float(got["top1_error"]) == topk_error(logits, labels)["top1_error"]


def test_empty_metric_gives_evalkits_nan_and_mixed_ids_are_an_error():
    assert np.isnan(float(BLEU().compute()["BLEU"]))
    hyps, refs = caption_data(6, n=4)
    metric = CiderD()
    metric.update(hyps[:2], refs[:2], ids=[0, 1])
    metric.update(hyps[2:], refs[2:])
    with pytest.raises(ValueError, match="ids"):
        metric.compute()
    with pytest.raises(ValueError, match="ids"):
        metric.update(hyps, refs, ids=[0])


def test_forward_gives_the_batch_and_accumulates():
    logits, labels = torch.randn(60, 9, generator=torch.Generator().manual_seed(1)), torch.arange(60) % 9
    metric = TopKError()
    first = floats(metric(logits[:25], labels[:25]))
    assert first == topk_error(logits[:25], labels[:25])
    metric(logits[25:], labels[25:])
    assert floats(metric.compute()) == topk_error(logits, labels)
