"""Bad VQA files and records get errors that name the file, the record and the field."""
from __future__ import annotations

import json

import numpy as np
import pytest

from evalkit.errors import InputError, MissingResourceError
from evalkit.metrics.state import encode_array
from evalkit.metrics.vqa import VQAAccuracy
from evalkit.formats.vqa import align_results, load_annotations, load_questions, load_results


def _answers(*texts: str) -> list[dict]:
    return [{"answer": t, "answer_id": k + 1} for k, t in enumerate(texts)]


def _write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


@pytest.mark.parametrize("records, field", [
    ([{"question_id": "7", "answers": _answers("a")}], "question_id"),
    ([{"question_id": 7, "answers": []}], "answers"),
    ([{"question_id": 7, "answers": _answers("a"), "answer_type": 5}], "answer_type"),
    ([{"question_id": 7, "answers": _answers("a")}, {"question_id": 7, "answers": _answers("b")}], "question_id"),
])
def test_bad_annotations(tmp_path, records, field):
    path = _write(tmp_path, "ann.json", {"annotations": records})
    with pytest.raises(InputError) as err:
        load_annotations(path)
    assert err.value.field == field and err.value.file == path and err.value.record is not None


@pytest.mark.parametrize("records, field", [
    ([{"question_id": 7, "answer": None}], "answer"),
    ([{"question_id": 7.5, "answer": "x"}], "question_id"),
    ([{"question_id": 7, "answer": "x"}, {"question_id": 7, "answer": "y"}], "question_id"),
])
def test_bad_results(tmp_path, records, field):
    path = _write(tmp_path, "res.json", records)
    with pytest.raises(InputError) as err:
        load_results(path)
    assert err.value.field == field and err.value.file == path


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="not valid JSON"):
        load_results(_write(tmp_path, "broken.json", "[{"))
    with pytest.raises(InputError, match="JSON list"):
        load_results(_write(tmp_path, "obj.json", {"question_id": 1}))
    with pytest.raises(InputError, match="'questions' list"):
        load_questions(_write(tmp_path, "q.json", {"annotations": []}))
    with pytest.raises(MissingResourceError):
        load_annotations(tmp_path / "absent.json")


@pytest.mark.parametrize("answers", [[{"answer": "a"}, {"answer": 3}], [{"answer": "a"}, "b"], [{"text": "a"}],
                                     [{"answer": ["a"]}]])
def test_bad_answer_names_question_and_field(answers):
    records = [{"question_id": 5, "answers": [{"answer": "x"}]}, {"question_id": 7, "answers": answers}]
    bad = next(k for k, a in enumerate(answers) if not isinstance(a, dict) or not isinstance(a.get("answer"), str))
    with pytest.raises(InputError) as err:
        VQAAccuracy().add_records(records, ["x", "a"], file="ann.json")
    assert (err.value.file, err.value.record, err.value.field) == ("ann.json", "question_id 7", f"answers[{bad}].answer")


def test_unknown_and_missing_results():
    annotations = [{"question_id": q, "answers": _answers("a")} for q in (1, 2, 3)]
    with pytest.raises(InputError, match="do not have") as err:
        align_results(annotations, {1: "a", 2: "a", 3: "a", 9: "a"}, results_file="r.json")
    assert err.value.record == "question_id 9" and err.value.file == "r.json"
    with pytest.raises(InputError, match="no result for 1 of 3") as err:
        align_results(annotations, {1: "a", 3: "a"})
    assert err.value.record == "question_id 2"
    kept, answers = align_results(annotations, {3: "b", 1: "a"}, subset=True)
    assert [r["question_id"] for r in kept] == [1, 3] and answers == ["a", "b"]
    with pytest.raises(InputError, match="do not have"):
        align_results(annotations, {9: "a"}, subset=True)


def test_metric_rejects_bad_predictions_and_state():
    metric = VQAAccuracy()
    with pytest.raises(InputError, match="answer string"):
        metric.update([None], [{"question_id": 1, "answers": _answers("a")}])
    with pytest.raises(InputError, match="2 predictions for 1"):
        metric.update(["a", "b"], [{"question_id": 1, "answers": _answers("a")}])
    with pytest.raises(InputError, match="answers"):
        metric.update(["a"], [{"question_id": 1}])
    with pytest.raises(InputError, match="accuracy"):
        state = metric.state_dict()
        state["state"].update(ids=["1"], columns={"accuracy": encode_array(np.zeros(0)), "question_type": [None],
                                                  "answer_type": [None], "answer": ["a"]})
        metric.load_state_dict(state)
