"""The bundled VQA quickstart (data/quickstart/vqa): a suite run with results files, checked against the
vqaEval.py transcription and SOURCES.md; the vqa_v2.yaml suite validates."""
from __future__ import annotations

import copy
import json

import pytest
import yaml

from tests.conftest import REPO
from evalkit.cli import main
from evalkit.suite import load_suite
from tests.metrics import _vqa_reference as ref

QUICKSTART = REPO / "data" / "quickstart" / "vqa"
#: SOURCES.md expected values
EXPECTED = {"results_sources_example.json": 76.67, "results_normalised.json": 66.67}

SNIPPET = """
name: vqa-quickstart
evaluations:
  - name: vqa-v2-3-questions
    task: vqa
    dataset: {loader: vqa, questions_file: ../data/quickstart/vqa/questions.json,
              annotations_file: ../data/quickstart/vqa/annotations.json, images_required: false}
    models:
      - {adapter: predictions, label: sources-example, path: ../data/quickstart/vqa/results_sources_example.json}
      - {adapter: predictions, label: normalised, path: ../data/quickstart/vqa/results_normalised.json}
    metrics: [vqa]
"""


def test_quickstart_suite_matches_reference_and_sources(tmp_path, capsys):
    suite = REPO / "suites" / f"_vqa_quickstart_test_{tmp_path.name}.yaml"
    suite.write_text(SNIPPET)
    try:
        assert main(["run", str(suite), "--json", "--no-progress", "--output-dir", str(tmp_path)]) == 0
    finally:
        suite.unlink()
    printed = json.loads(capsys.readouterr().out)
    records = printed if isinstance(printed, list) else [printed]
    annotations = json.loads((QUICKSTART / "annotations.json").read_text())["annotations"]
    for annotation in annotations:  # the fixture lacks the type fields the transcription reads
        annotation.update(question_type="", answer_type="")
    by_label = {r["model"]["name"]: r for r in records}
    for label, name in (("sources-example", "results_sources_example.json"), ("normalised", "results_normalised.json")):
        results = json.loads((QUICKSTART / name).read_text())
        accuracy, per_question, _ = ref.evaluate(copy.deepcopy(annotations), results)
        overall = by_label[label]["metrics"]["overall"]
        assert overall == pytest.approx(100 * sum(per_question) / 3, rel=1e-12)
        assert round(overall, 2) == accuracy["overall"] == EXPECTED[name]


def test_vqa_v2_suite_validates(tmp_path):
    suite = load_suite(REPO / "suites" / "vqa_v2.yaml", data_root=tmp_path)
    spec = yaml.safe_load((REPO / "suites" / "vqa_v2.yaml").read_text())
    assert spec["task"] == "vqa" and [m["adapter"] for m in spec["models"]] == ["hf-vqa", "hf-vqa"]
    assert suite is not None
