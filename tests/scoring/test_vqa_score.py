"""``evalkit score vqa`` on the real VQA v2 questions, through the Scorer and through the CLI."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, shared_file
from evalkit.errors import InputError
from evalkit.registry import SCORERS

FIXTURE = ("vqa", "allennlp_vqav2_fixture")


def _args(**kw) -> argparse.Namespace:
    base = {"questions": None, "subset": False, "ci": False, "n_resamples": 1000, "seed": 12345}
    return argparse.Namespace(**{**base, **kw})


@pytest.fixture
def files(tmp_path):
    annotations = shared_file(*FIXTURE, "annotations.json")
    questions = shared_file(*FIXTURE, "questions.json")
    pred = tmp_path / "results.json"
    pred.write_text(json.dumps([{"question_id": 458752000, "answer": "net"},
                                {"question_id": 458752001, "answer": "catcher"},
                                {"question_id": 458752002, "answer": "orange"}]))
    return str(annotations), str(questions), str(pred)


def test_score_sources_value(files):
    annotations, questions, pred = files
    result = SCORERS.get("vqa")().score(_args(annotations=annotations, questions=questions, pred=pred, ci=True,
                                              n_resamples=100))
    assert result["official"]["overall"] == 76.67  # SOURCES.md
    assert result["overall"] == pytest.approx(100 * (1 + 0.3 + 1) / 3, rel=1e-12)
    assert result["ci"]["overall"][0] <= result["overall"] <= result["ci"]["overall"][1]
    assert result["num_questions"] == 3
    json.dumps(result)


def test_missing_result_needs_subset(files, tmp_path):
    annotations, _, _ = files
    pred = tmp_path / "partial.json"
    pred.write_text(json.dumps([{"question_id": 458752001, "answer": "pitcher"}]))
    with pytest.raises(InputError, match="--subset"):
        SCORERS.get("vqa")().score(_args(annotations=annotations, pred=str(pred)))
    result = SCORERS.get("vqa")().score(_args(annotations=annotations, pred=str(pred), subset=True))
    assert result["overall"] == 100.0 and result["num_questions"] == 1 and result["num_annotated"] == 3


def test_questions_from_another_split(files, tmp_path):
    annotations, _, pred = files
    questions = tmp_path / "q.json"
    questions.write_text(json.dumps({"questions": [{"question_id": 1, "image_id": 1, "question": "?"}]}))
    with pytest.raises(InputError, match="not in the questions file") as err:
        SCORERS.get("vqa")().score(_args(annotations=annotations, questions=str(questions), pred=pred))
    assert err.value.record == "question_id 458752000"


def test_cli(files, tmp_path):
    annotations, questions, pred = files
    if not (REPO / "evalkit" / "cli.py").exists():
        pytest.skip("evalkit/cli.py not written yet")
    cmd = [sys.executable, "-m", "evalkit", "score", "vqa", "--annotations", annotations, "--questions", questions]
    ok = subprocess.run([*cmd, "--pred", pred, "--json"], capture_output=True, text=True, cwd=REPO)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["official"]["overall"] == 76.67
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"question_id": 458752000, "answer": 1}]))
    failed = subprocess.run([*cmd, "--pred", str(bad)], capture_output=True, text=True, cwd=REPO)
    assert failed.returncode == 2 and "bad.json" in failed.stderr and "'answer'" in failed.stderr
