"""At benchmark scale (300k × 300, 19,544 Google questions) the engine chooses gensim's answer every time.

gensim logs each wrong prediction (``expected X, predicted Y``) from inside evaluate_word_analogies;
with random vectors nearly every question is wrong, so the log gives gensim's answer per question.
"""
from __future__ import annotations

import logging
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("n", [30_000, 300_000])
def test_same_answers_as_gensim_at_benchmark_scale(n, caplog):
    gensim = pytest.importorskip("gensim.models")
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gen_analogy import google_questions_file, make_vectors

    from evalkit.datasets.analogy import AnalogyQuestions
    from evalkit.metrics.analogy import AnalogyAccuracy
    from evalkit.vectors import WordVectors
    from evalkit.vectors.engine import AnalogySolver

    words, matrix = make_vectors()
    kv = gensim.KeyedVectors(matrix.shape[1])
    kv.add_vectors(words, matrix)
    questions = google_questions_file()
    with caplog.at_level(logging.DEBUG, logger="gensim.models.keyedvectors"):
        score, sections = kv.evaluate_word_analogies(str(questions), restrict_vocab=n)
    theirs = [r.args[2] for r in caplog.records if "predicted" in r.msg]

    data = AnalogyQuestions(questions)
    answers = AnalogySolver(WordVectors(words, matrix), n).answer([q.words for q in data.questions])
    metric = AnalogyAccuracy()
    metric.bind(data)
    metric.update(answers, [(q.section_index, q.section, q.words[3]) for q in data.questions], data.sample_ids())
    mine = [a.word.upper() for a, q in zip(answers, data.questions) if not a.skipped and not a.is_correct(q.words[3])]
    assert mine == theirs
    result = metric.compute()
    assert result["accuracy"] == score and result["total"] == 19544
    assert [(s["section"], s["correct"], s["total"]) for s in result["sections"]] == [
        (s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections[:-1]]
