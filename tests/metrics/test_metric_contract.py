"""The metric contract, checked for every registered metric (as timm tests every name in ``list_models()``).

For each metric: its declared keys; a JSON state round trip; shards merged equal one pass; a bootstrap
resample equals scoring the resampled samples from scratch; the signature is stable and changes with an
option that changes the number. A metric registered without an example here fails the test, so new metrics
(and the test plugin's) cannot skip the contract.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

from evalkit.registry import METRICS
from evalkit.types import AnalogyAnswer
from tests.metrics._coco_cases import make_case
from tests.metrics._coco_keypoint_cases import make_keypoint_case
from tests.metrics._lvis_cases import make_lvis_case
from tests.style._contract import style_examples


@dataclass
class Example:
    """Samples for one metric: ``(prediction, target, id)`` triples, options, and options that change a number."""

    samples: list[tuple[Any, Any, str]]
    options: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    batch: Callable[[list[Any]], Any] = list


def _topk() -> Example:
    """1000-class logits with ImageNet-A labels, so restricting to that subset (an option) changes the number."""
    from evalkit.formats.imagenet import class_subset

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(40, 1000)).astype(np.float32)
    labels = rng.choice(class_subset("imagenet-a"), 40)
    logits[np.arange(40), labels] += 2.5
    return Example([(logits[i], int(labels[i]), f"im{i}") for i in range(40)], batch=np.stack,
                   changed={"class_subset": "imagenet-a"})


def _real_topk() -> Example:
    """ILSVRC2012 val file names (ReaL labels are looked up by name) with the first ReaL label boosted."""
    from evalkit.formats.imagenet import read_real_labels, real_file_name, real_labels_path

    sets = read_real_labels(real_labels_path(None))[0]
    rng = np.random.default_rng(9)
    logits = rng.normal(size=(40, 1000)).astype(np.float32)
    for i in range(40):
        if sets[i] and rng.random() < 0.5:
            logits[i, sets[i][0]] += 3.0
    return Example([(logits[i], 0, f"n0/{real_file_name(i)}") for i in range(40)], batch=np.stack,
                   meta={"image_count": len(sets)})


SENTENCES = ["the cat sat on the mat", "a dog ran in the park", "there is a big red ball", "two men play chess",
             "the sun is shining today", "she reads a long book", "we walk to the old town", "rain falls on roofs"]


def _translation(changed: dict[str, Any]) -> Callable[[], Example]:
    def make() -> Example:
        rng = np.random.default_rng(1)
        samples = []
        for i in range(30):
            ref = SENTENCES[i % len(SENTENCES)]
            words = ref.split()
            hyp = " ".join(w for w in words if rng.random() > 0.3) or words[0]
            samples.append((hyp.capitalize(), [ref, SENTENCES[(i + 3) % len(SENTENCES)]], f"s{i}"))
        return Example(samples, changed=changed)
    return make


def _cider() -> Example:
    rng = np.random.default_rng(2)
    samples = []
    for i in range(25):
        refs = [SENTENCES[(i + k) % len(SENTENCES)] for k in range(3)]
        words = refs[0].split()
        samples.append((" ".join(w for w in words if rng.random() > 0.25) or words[0], refs, f"img{i}"))
    return Example(samples, changed={"sigma": 3.0})


def _caption_metric(needs_java: bool) -> Callable[[], Example]:
    """rouge, meteor: captions with case and punctuation, so tokenizer 'none' changes the number."""
    def make() -> Example:
        import shutil

        if needs_java and shutil.which("java") is None:
            pytest.skip("METEOR 1.5 is a jar: java not installed")
        rng = np.random.default_rng(8)
        samples = []
        for i in range(20):
            refs = [SENTENCES[(i + k) % len(SENTENCES)].capitalize() + "." for k in range(3)]
            words = SENTENCES[i % len(SENTENCES)].split()
            cand = " ".join(w for w in words if rng.random() > 0.3) or words[0]
            samples.append((cand.capitalize() + rng.choice([".", ", too.", "!"]), refs, f"img{i}"))
        return Example(samples, changed={"tokenizer": "none"})
    return make


def _vqa() -> Example:
    rng = np.random.default_rng(3)
    answers = ["yes", "no", "2", "red", "dog"]
    samples = []
    for q in range(30):
        human = [answers[int(k)] for k in rng.integers(0, len(answers), 10)]
        target = {"question_id": q, "question_type": f"what {q % 3}", "answer_type": ["yes/no", "number"][q % 2],
                  "multiple_choice_answer": human[0],
                  "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": k + 1} for k, a in enumerate(human)]}
        samples.append((answers[int(rng.integers(0, len(answers)))], target, str(q)))
    return Example(samples)


def _analogy() -> Example:
    rng = np.random.default_rng(4)
    sections = ["capital-common", "gram1-adjective", "family"]
    samples = []
    for q in range(30):
        index = int(rng.integers(0, len(sections)))
        expected = f"w{q}"
        word = expected if rng.random() < 0.5 else f"x{q}"
        samples.append((AnalogyAnswer(word, bool(rng.random() < 0.1)), (index, sections[index], expected), f"q{q}"))
    return Example(samples, meta={"section_names": sections + ["empty-section"]})


def _coco(iou_type: str) -> Callable[[], Example]:
    def make() -> Example:
        gt, results = make_case(10, iou_type)  # a case whose box and mask areas fall in different ranges
        ids = [im["id"] for im in gt["images"]]
        by_image = {i: [r for r in results if r["image_id"] == i] for i in ids}
        return Example([(by_image[i], i, str(i)) for i in ids], changed={"area": "mask"} if iou_type == "segm" else None,
                       meta={"coco_gt": gt})
    return make


def _coco_keypoints() -> Example:
    gt, results, _ = make_keypoint_case(1, k=17)
    ids = [im["id"] for im in gt["images"]]
    by_image = {i: [r for r in results if r["image_id"] == i] for i in ids}
    return Example([(by_image[i], i, str(i)) for i in ids], changed={"kpt_oks_sigmas": [0.2] * 17},
                   meta={"coco_gt": gt})


def _lvis(iou_type: str) -> Callable[[], Example]:
    def make() -> Example:
        gt, results = make_lvis_case(4, iou_type)
        ids = [im["id"] for im in gt["images"]]
        by_image = {i: [r for r in results if r["image_id"] == i] for i in ids}
        return Example([(by_image[i], i, str(i)) for i in ids], meta={"coco_gt": gt})
    return make


def _plugin_mae() -> Example:
    rng = np.random.default_rng(5)
    values = rng.normal(size=30)
    return Example([(float(v) / 2, float(v), f"line-{i}") for i, v in enumerate(values)], changed={"scale": 100.0})


def _perplexity() -> Example:
    from evalkit.lmtypes import DocumentScore

    rng = np.random.default_rng(6)
    samples = []
    for i in range(25):
        text = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(int(rng.integers(0, 4))))
        tokens = len(text) // 3
        samples.append((DocumentScore(-float(rng.uniform(1, 4)) * tokens, tokens, max_length=64), text, f"doc{i}"))
    return Example(samples)


def _strided_perplexity() -> Example:
    from evalkit.lmtypes import DocumentScore, StridedWindows

    rng = np.random.default_rng(7)
    samples = []
    for i in range(20):
        n = 1  # the resampling unit is the window: one per document keeps the example's samples aligned
        windows = StridedWindows(8, 16, list(range(8 * i, 8 * i + 8 * n, 8)), rng.uniform(1, 5, n).tolist(),
                                 rng.integers(7, 16, n).tolist())
        samples.append((DocumentScore(0.0, 0, strided=windows), "", f"doc{i}"))
    return Example(samples)


EXAMPLES: dict[str, Callable[[], Example]] = {
    "topk": _topk,
    "real-topk": _real_topk,
    "bleu": _translation({"tokenize": "char"}),
    "chrf": _translation({"word_order": 2}),
    "ter": _translation({"case_sensitive": True}),
    "cider": _cider,
    "rouge": _caption_metric(needs_java=False),
    "meteor": _caption_metric(needs_java=True),
    "vqa": _vqa,
    "analogy": _analogy,
    "coco-segm": _coco("segm"),
    "coco-bbox": _coco("bbox"),
    "coco-keypoints": _coco_keypoints,
    "lvis-segm": _lvis("segm"),
    "lvis-bbox": _lvis("bbox"),
    "perplexity": _perplexity,
    "strided-perplexity": _strided_perplexity,
    "plugin-mae": _plugin_mae,  # the third-party plugin of tests/plugin_package, installed by conftest
}
from tests.generation.generation_examples import generation_examples  # noqa: E402 - fid, kid, isc, precision-recall

EXAMPLES.update(generation_examples(Example))
EXAMPLES.update(style_examples(Example))  # ssim, lpips, content-loss, style-loss, artfid (tests/style/_contract.py)


def filled(name: str, example: Example, samples: list[tuple[Any, Any, str]] | None = None,
           options: dict[str, Any] | None = None, batch_size: int = 7) -> Any:
    metric = METRICS.get(name)(**(example.options if options is None else options))
    metric.bind(example.meta)
    samples = example.samples if samples is None else samples
    for start in range(0, len(samples), batch_size):
        chunk = samples[start:start + batch_size]
        metric.update(example.batch([p for p, _, _ in chunk]), [t for _, t, _ in chunk], [i for _, _, i in chunk])
    return metric


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in
                                        ((a[k], b[k]) for k in a))


def example_of(name: str) -> Example:
    if name not in EXAMPLES:
        pytest.fail(f"metric {name!r} has no example in tests/metrics/test_metric_contract.py: add one")
    return EXAMPLES[name]()


@pytest.mark.parametrize("name", METRICS.names())
def test_declared_keys_and_direction(name):
    cls = METRICS.get(name)
    metric = filled(name, example_of(name))
    assert cls.main_key in cls.keys and isinstance(cls.higher_is_better, bool)
    assert set(metric.compute()) >= {cls.main_key}
    assert set(metric.aggregate()) <= set(cls.keys), "score() returned an undeclared key"


@pytest.mark.parametrize("name", METRICS.names())
def test_state_round_trips_through_json(name):
    metric = filled(name, example_of(name))
    state = json.loads(json.dumps(metric.state_dict()))
    restored = METRICS.get(name).from_state_dict(state)
    assert restored.sample_ids() == metric.sample_ids()
    assert same(restored.aggregate(), metric.aggregate())
    assert json.loads(json.dumps(restored.state_dict())) == state


@pytest.mark.parametrize("name", METRICS.names())
def test_shards_merged_equal_one_pass(name):
    example = example_of(name)
    single = filled(name, example)
    n = len(example.samples)
    cuts = [0, n // 3, n // 3, 2 * n // 3 + 1, n]  # one shard is empty
    shards = [filled(name, example, example.samples[a:b]) for a, b in zip(cuts, cuts[1:])]
    merged = METRICS.get(name).from_state_dict(json.loads(json.dumps(shards[0].state_dict())))
    for shard in shards[1:]:
        merged.merge(METRICS.get(name).from_state_dict(json.loads(json.dumps(shard.state_dict()))))
    assert merged.sample_ids() == single.sample_ids()
    assert same(merged.aggregate(), single.aggregate())
    assert merged.extras() == single.extras()


@pytest.mark.parametrize("name", METRICS.names())
def test_bootstrap_resample_equals_scoring_the_resampled_samples(name):
    example = example_of(name)
    metric = filled(name, example)
    for seed in range(3):
        indices = np.random.default_rng(seed).choice(len(example.samples), len(example.samples), replace=True)
        again = filled(name, example, [example.samples[i] for i in indices])
        expected = again.aggregate()
        assert same(metric.aggregate(indices), expected) or metric.aggregate(indices) == pytest.approx(
            expected, rel=1e-12, nan_ok=True)
        assert metric.resampled(indices).aggregate() == pytest.approx(expected, rel=1e-12, nan_ok=True)


@pytest.mark.parametrize("name", METRICS.names())
def test_signature_is_stable_and_names_every_option_that_changes_the_number(name):
    example = example_of(name)
    cls = METRICS.get(name)
    first, second = filled(name, example), filled(name, example)
    assert first.signature() == second.signature() and str(first.signature()) == str(second.signature())
    assert str(first.signature()).startswith(cls.name)
    if example.changed is None:
        assert not cls.defaults, f"{name} has options: give its example one that changes a number"
        return
    other = filled(name, example, options={**example.options, **example.changed})
    assert not same(other.aggregate(), first.aggregate()), "the example's changed option should change a number"
    assert other.signature() != first.signature()
    with pytest.raises(TypeError):
        first.merge(other)
    with pytest.raises(TypeError):
        first.paired_test(other)


def test_readme_metric_example_is_complete_and_keeps_the_contract():
    """The README's "Adding a metric" block, executed as written (under 40 lines)."""
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text()
    block = readme.split("### Adding a metric", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) < 40
    namespace: dict[str, Any] = {}
    registered = dict(METRICS._entries)
    try:
        exec(compile(block, "README.md", "exec"), namespace)
        cls = namespace["MeanAbsoluteError"]
        assert METRICS.get("mae") is cls
    finally:
        METRICS._entries.clear()
        METRICS._entries.update(registered)
    example = _plugin_mae()
    metric, shard_a, shard_b = cls(scale=2.0), cls(scale=2.0), cls(scale=2.0)
    for target, chunk in ((metric, example.samples), (shard_a, example.samples[:11]), (shard_b, example.samples[11:])):
        target.update([p for p, _, _ in chunk], [t for _, t, _ in chunk], [i for _, _, i in chunk])
    shard_a.merge(cls.from_state_dict(json.loads(json.dumps(shard_b.state_dict()))))
    expected = 2.0 * np.mean([abs(p - t) for p, t, _ in example.samples])
    assert metric.compute()["MAE"] == pytest.approx(expected, rel=1e-15) and shard_a.aggregate() == metric.aggregate()
    assert str(metric.signature()).startswith("mae|scale:2.0|ref:none|evalkit:")
    assert set(metric.compute(ci=True, n_resamples=20)["ci"]) == {"MAE"}
