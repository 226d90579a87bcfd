"""VQA accuracy against the official rules: real VQA v2 questions, and a differential oracle.

The oracle is ``_vqa_reference``, a loop-for-loop transcription of the official ``vqaEval.py``.
"""
from __future__ import annotations

import copy
import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.metrics import _vqa_reference as ref
from tests.metrics._vqa_strategies import TOKENS, answer_text, questions
from tests.conftest import shared_file
from evalkit.metrics.vqa import VQAAccuracy, vqa_accuracy, vqa_metric
from evalkit.metrics.vqa_engine import answer_table, question_accuracies
from evalkit.metrics.vqa_normalize import (ARTICLES, CONTRACTIONS, NUMBER_WORDS, PUNCTUATION, clean_whitespace,
                                          normalize_answer, normalize_answers, strip_punctuation)
from evalkit.registry import METRICS
from tests.helpers import merge_through_json

FIXTURE = ("vqa", "allennlp_vqav2_fixture")
#: SOURCES.md: per-question accuracy of candidate answers, hand-computed with the official formula
SOURCES_VALUES = {
    458752000: {"net": 1.0, "netting": 0.3, "mesh": 0.3, "pitcher": 0.3, "orange": 0.3, "other": 0.0},
    458752001: {"pitcher": 1.0, "catcher": 0.3},
    458752002: {"orange": 1.0},
}


@pytest.fixture(scope="module")
def real_annotations() -> list[dict]:
    records = json.loads(shared_file(*FIXTURE, "annotations.json").read_text())["annotations"]
    for record in records:  # allennlp stripped the type fields; the official evaluator needs them
        record.setdefault("question_type", "what")
        record.setdefault("answer_type", "other")
    return records


def test_real_questions_match_sources_values(real_annotations):
    for record in real_annotations:
        for answer, expected in SOURCES_VALUES[record["question_id"]].items():
            got = question_accuracies(answer_table([record["answers"]]), [answer])[0]
            result = [{"question_id": record["question_id"], "answer": answer}]
            _, official, _ = ref.evaluate([copy.deepcopy(record)], result)
            assert got == official[0]
            assert got == pytest.approx(expected, rel=1e-12)


def test_real_questions_overall_from_sources(real_annotations):
    results = [{"question_id": 458752000, "answer": "net"}, {"question_id": 458752001, "answer": "catcher"},
               {"question_id": 458752002, "answer": "orange"}]
    metric = vqa_metric(real_annotations, results)
    assert metric.official_accuracy()["overall"] == 76.67  # SOURCES.md: 100*(1+0.3+1)/3 = 76.67
    assert metric.compute()["overall"] == pytest.approx(100 * (1 + 0.3 + 1) / 3, rel=1e-12)
    assert metric.official_accuracy() == ref.evaluate(copy.deepcopy(real_annotations), results)[0]


def test_real_questions_normalised_predictions(real_annotations):
    """Split answers are normalised, unanimous ones compared raw: 'Net.' counts only on the split question."""
    results = [{"question_id": 458752000, "answer": " The Net."}, {"question_id": 458752001, "answer": "a pitcher!"},
               {"question_id": 458752002, "answer": "Orange"}]
    metric = vqa_metric(real_annotations, results)
    accuracy, official, _ = ref.evaluate(copy.deepcopy(real_annotations), results)
    assert metric.accuracies().tolist() == official == [1.0, 1.0, 0.0]
    assert metric.official_accuracy() == accuracy


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(answer_text(), st.text(alphabet="".join(sorted(set("".join(TOKENS)))) + " ,.\n\t", max_size=40)))
def test_normalisation_matches_reference(text):
    cleaned = clean_whitespace(text)
    assert normalize_answer(cleaned) == ref.processDigitArticle(ref.processPunctuation(cleaned))


#: words every rule acts on (number words, articles, contraction keys), plain words, and anything at all
_WORDS = st.one_of(st.sampled_from(TOKENS), st.sampled_from(sorted({*NUMBER_WORDS, *ARTICLES, *CONTRACTIONS})),
                   st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), st.text(max_size=4))
_GLUE = st.sampled_from([" ", " ", " ", "  ", "", "\u00a0", "\u3000", *PUNCTUATION, ".", ", ", " .", "'"])


@settings(max_examples=500, deadline=None)
@given(parts=st.lists(st.tuples(_WORDS, _GLUE), max_size=6))
def test_fast_paths_match_reference(parts):
    """The plain-answer shortcut and the one-translation punctuation step equal the official loops."""
    text = "".join(word + glue for word, glue in parts)
    for answer in (text, clean_whitespace(text), text.strip(" ,.")):
        expected = ref.processDigitArticle(ref.processPunctuation(answer))
        assert strip_punctuation(answer) == ref.processPunctuation(answer)
        assert normalize_answer.__wrapped__(answer) == expected
        assert normalize_answers([answer, answer]) == [expected, expected]


def test_period_strip_quirks():
    """The malformed look-behind never blocks, and re.UNICODE (32) is the count of deleted periods."""
    text = "a." * 40
    assert normalize_answer(text) == ref.processDigitArticle(ref.processPunctuation(text))
    assert normalize_answer(text).count(".") == 40 - 32
    assert normalize_answer("3.5.") == "3.5"


@settings(max_examples=200, deadline=None)
@given(data=questions())
def test_differential_against_official(data):
    annotations, results = data
    accuracy, official_acc, _ = ref.evaluate(copy.deepcopy(annotations), results)
    metric = vqa_metric(annotations, results)
    assert metric.accuracies().tolist() == official_acc  # bit for bit, per question
    assert metric.official_accuracy() == accuracy
    exact = metric.compute()
    assert exact["overall"] == pytest.approx(100 * sum(official_acc) / len(official_acc), rel=1e-12, abs=1e-12)
    for key, field in (("perAnswerType", "answer_type"), ("perQuestionType", "question_type")):
        groups: dict[str, list[float]] = {}
        for record, value in zip(annotations, official_acc):
            groups.setdefault(record[field], []).append(value)
        assert exact[key] == pytest.approx({g: 100 * sum(v) / len(v) for g, v in groups.items()}, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(data=questions(min_size=2, max_size=10), seed=st.integers(0, 2**32 - 1))
def test_merge_of_random_shards_equals_single_pass(data, seed):
    annotations, results = data
    answers = {r["question_id"]: r["answer"] for r in results}
    single = VQAAccuracy()
    single.update([answers[a["question_id"]] for a in annotations], copy.deepcopy(annotations))
    rng = random.Random(seed)
    order = list(range(len(annotations)))
    rng.shuffle(order)
    cuts = sorted(rng.sample(range(1, len(order)), rng.randint(0, len(order) - 1)))
    shards = []
    for lo, hi in zip([0, *cuts], [*cuts, len(order)]):
        shard = VQAAccuracy()
        picked = [annotations[i] for i in order[lo:hi]]
        shard.update([answers[a["question_id"]] for a in picked], picked)
        shards.append(shard)
    merged = merge_through_json(shards, VQAAccuracy)
    assert merged.aggregate() == single.aggregate()
    assert merged.extras() == single.extras()
    assert sorted(merged.accuracies().tolist()) == sorted(single.accuracies().tolist())


def test_aggregate_on_a_multiset_equals_scoring_that_multiset():
    rng = np.random.default_rng(0)
    annotations = [{"question_id": i, "answers": [{"answer": str(rng.integers(3)), "answer_id": k} for k in range(10)],
                    "answer_type": "number", "question_type": "how many"} for i in range(50)]
    results = [{"question_id": i, "answer": str(rng.integers(3))} for i in range(50)]
    metric = vqa_metric(annotations, results)
    indices = rng.integers(0, 50, size=50)
    resampled = VQAAccuracy()
    for i in indices:
        resampled.add_records([annotations[i]], [results[i]["answer"]])
    assert metric.aggregate(indices) == resampled.aggregate()
    ci = metric.compute(ci=True, n_resamples=200)["ci"]["overall"]
    assert ci[0] <= metric.aggregate()["overall"] <= ci[1]


def test_registry_and_per_sample(real_annotations):
    metric = METRICS.get("vqa")()
    metric.update([{"answer": "net"}, "pitcher", "blue"], real_annotations)
    columns = metric.per_sample()
    assert columns["sample_id"] == ["458752000", "458752001", "458752002"]
    assert columns["accuracy"] == [1.0, 1.0, 0.0]
    assert vqa_accuracy(real_annotations, {458752000: "net", 458752001: "pitcher", 458752002: "blue"})["overall"] \
        == metric.compute()["overall"]
