"""VQA v2 val scale (214,354 questions × 10 answers, benchmarks/gen_vqa.py): identical per-question accuracies."""
from __future__ import annotations

import copy
import sys

import pytest

from tests.conftest import REPO

from tests.metrics import _vqa_reference as ref
from evalkit.metrics.vqa import vqa_metric


@pytest.mark.slow
def test_val2014_scale_identical_to_reference():
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gen_vqa import cached

    annotations, results = cached()
    metric = vqa_metric(annotations, results)
    accuracy, per_question, _ = ref.evaluate(copy.deepcopy(annotations), results)
    assert metric.accuracies().tolist() == per_question
    assert metric.official_accuracy() == accuracy
    assert metric.compute()["overall"] == pytest.approx(100 * sum(per_question) / len(per_question), rel=1e-12)
