"""VQA v2 val scale (214,354 questions × 10 answers, benchmarks/gen_vqa.py): identical per-question accuracies."""
from __future__ import annotations

import copy
import json
import sys

import pytest

from tests.conftest import REPO

from tests.metrics import _vqa_reference as ref
from evalkit.formats.vqa import (MIN_SCAN_BYTES, WARM_SCAN_BYTES, EncodedAnswers, align_question_ids,
                                 load_annotation_columns, load_results)
from evalkit.metrics.vqa import VQAAccuracy, vqa_metric


@pytest.mark.slow
def test_val2014_scale_identical_to_reference(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gen_vqa import cached

    annotations, results = cached()
    metric = vqa_metric(annotations, results)
    accuracy, per_question, _ = ref.evaluate(copy.deepcopy(annotations), results)
    assert metric.accuracies().tolist() == per_question
    assert metric.official_accuracy() == accuracy
    assert metric.compute()["overall"] == pytest.approx(100 * sum(per_question) / len(per_question), rel=1e-12)

    # the same files as `evalkit score vqa` reads them: at this size the numba scanner reads them
    ann_file, res_file = tmp_path / "annotations.json", tmp_path / "results.json"
    ann_file.write_text(json.dumps({"info": {}, "annotations": annotations}))
    res_file.write_text(json.dumps(results))
    assert ann_file.stat().st_size >= MIN_SCAN_BYTES and res_file.stat().st_size >= WARM_SCAN_BYTES
    columns = load_annotation_columns(ann_file)
    assert isinstance(columns.answers, EncodedAnswers)
    rows, answers = align_question_ids(columns.question_ids, load_results(res_file))
    from_files = VQAAccuracy()
    from_files.add_columns(columns.take(rows), answers)
    assert from_files.accuracies().tolist() == per_question
    assert from_files.official_accuracy() == accuracy
