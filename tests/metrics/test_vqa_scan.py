"""The numba scanner of big VQA files reads exactly what the orjson reader reads, or leaves the file to it.

Every check loads one file twice, scanner forced (``MIN_SCAN_BYTES = 0``) and scanner off, and asserts the same
outcome: equal values, or the same error (type, message, file, record, field). Inputs: hand-written edge cases,
hypothesis-generated records in varied layouts, and random byte mutations of valid files.
"""
from __future__ import annotations

import json
import random
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from evalkit.errors import InputError
from evalkit.formats import vqa as F
from evalkit.metrics.vqa import VQAAccuracy

pytest.importorskip("numba")
from evalkit.formats import vqa_scan  # noqa: E402

# each example sets MIN_SCAN_BYTES itself and writes its own file: the shared fixtures are safe to reuse
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _answers_of(columns: F.AnnotationColumns) -> list[list[str]]:
    answers = columns.answers
    if isinstance(answers, F.EncodedAnswers):
        strings, out, k = list(answers.strings), [], 0
        for n in answers.lengths.tolist():
            out.append([strings[c] for c in answers.codes[k:k + n].tolist()])
            k += n
        return out
    return [[a["answer"] for a in record] for record in answers]


def _annotations(path: str) -> Any:
    columns = F.load_annotation_columns(path)
    metric = VQAAccuracy()
    n = len(columns.question_ids)
    metric.add_columns(columns, (["a", "2", "two", "A "] * n)[:n])  # checks the answers
    accuracies = metric.accuracies().tolist()
    rows = list(range(0, len(columns.question_ids), 2))  # a subset, as --subset takes it
    taken = columns.take(rows)
    return (columns.question_ids, _answers_of(columns), columns.question_types, columns.answer_types, accuracies,
            taken.question_ids, _answers_of(taken), taken.question_types)


LOADERS: dict[str, Callable[[str], Any]] = {
    "annotations": _annotations, "questions": F.load_question_ids, "results": F.load_results,
}


def _outcome(load: Callable[[str], Any], path: str) -> Any:
    try:
        return "ok", load(path)
    except InputError as err:
        return "error", type(err).__name__, str(err), err.file, err.record, err.field


def _same(monkeypatch, tmp_path, kind: str, data: bytes | str) -> bool:
    """Both readers agree on the file; whether the scanner took it."""
    path = tmp_path / f"{kind}.json"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    monkeypatch.setattr(F, "MIN_SCAN_BYTES", 1 << 62)
    expected = _outcome(LOADERS[kind], str(path))
    monkeypatch.setattr(F, "MIN_SCAN_BYTES", 0)
    taken = F._scan(path, {"annotations": 0, "questions": 1, "results": 2}[kind]) is not None
    assert _outcome(LOADERS[kind], str(path)) == expected
    monkeypatch.setattr(vqa_scan, "SPLIT_BYTES", 0)  # and scanned in two parts from a guessed record start
    assert _outcome(LOADERS[kind], str(path)) == expected
    monkeypatch.undo()
    return taken


def _answer(text: str, k: int) -> dict[str, Any]:
    return {"answer": text, "answer_confidence": "yes", "answer_id": k + 1}


RECORD = {"question_id": 7, "image_id": 1, "question_type": "what", "answer_type": "other",
          "answers": [_answer(t, k) for k, t in enumerate(["a", "b", "a"])], "multiple_choice_answer": "a"}
ANN = {"info": {"v": [1, 2.5, None, True]}, "annotations": [RECORD, {**RECORD, "question_id": 8}]}
QUESTIONS = {"questions": [{"question_id": 7, "question": "What?"}, {"question_id": 8, "question": "Why?"}]}
RESULTS = [{"question_id": 7, "answer": "a"}, {"question_id": 8, "answer": "b"}]
VALID = {"annotations": json.dumps(ANN), "questions": json.dumps(QUESTIONS), "results": json.dumps(RESULTS)}


@pytest.mark.parametrize("kind", list(VALID))
def test_the_scanner_takes_the_official_layouts(monkeypatch, tmp_path, kind):
    data = json.loads(VALID[kind])
    for text in (json.dumps(data), json.dumps(data, indent=2), json.dumps(data, separators=(",", ":"))):
        assert _same(monkeypatch, tmp_path, kind, text)


WORDS = st.sampled_from(["a", "b", "two", "é", "\\u00e9", "x y"])


@st.composite
def valid_files(draw: st.DrawFn) -> tuple[int, bytes]:
    """A valid file of each kind with 2-8 records whose strings repeat within and across its halves."""
    kind = draw(st.sampled_from([0, 1, 2]))
    records = []
    for qid in range(draw(st.integers(2, 8))):
        record: dict[str, Any] = {"question_id": qid}
        if kind == 0:
            record["answers"] = [{"answer": draw(WORDS), "answer_id": k} for k in range(draw(st.integers(1, 4)))]
            record.update(draw(st.fixed_dictionaries({}, optional={"question_type": st.none() | WORDS,
                                                                   "answer_type": st.none() | WORDS})))
        elif kind == 2:
            record["answer"] = draw(WORDS)
        records.append(record)
    data = records if kind == 2 else {"info": 1, ("annotations" if kind == 0 else "questions"): records}
    text = json.dumps(data, indent=draw(st.sampled_from([None, 1])), ensure_ascii=draw(st.booleans()))
    return kind, text.replace("\\\\u00e9", "\\u00e9").encode()


@SETTINGS
@given(file=valid_files())
def test_two_parts_equal_one_pass(monkeypatch, file):
    """The second part starts at a record that the first part reaches; the parts add up to the one-pass scan."""
    kind, data = file
    monkeypatch.setattr(vqa_scan, "SPLIT_BYTES", 1 << 62)
    whole = vqa_scan.scan(data, kind)
    monkeypatch.setattr(vqa_scan, "SPLIT_BYTES", 0)
    parts = vqa_scan.scan(data, kind)
    assert (whole is None) == (parts is None)
    if whole is not None:
        assert (whole.records.tolist(), whole.answers.tolist(), whole.strings, whole.types) == (
            parts.records.tolist(), parts.answers.tolist(), parts.strings, parts.types)
    if data.isascii():  # a guess the first part confirms, or one it runs past
        assert vqa_scan._scan_part(np.frombuffer(data, dtype=np.uint8), kind, len(data) // 2, False)[0] in (1, 2)


def test_two_parts_are_taken(monkeypatch):
    """The official layout: the guessed start is a record's, and the second part's scan is kept."""
    for kind, text in enumerate([VALID["annotations"], VALID["questions"], VALID["results"]]):
        data = json.dumps(json.loads(text), indent=1).encode()
        buf = np.frombuffer(data, dtype=np.uint8)
        assert vqa_scan._scan_part(buf, kind, len(buf) // 2, False)[0] == 2
        assert vqa_scan._scan_part(buf, kind, len(buf) // 2, True)[0] == 1


ANNOTATION_CASES = [
    '{"annotations": []}', '{"annotations": [], "annotations": []}', '{"info": 1}', "[]", "{}",
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}]}]}   \n',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}]}]} x',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}]},]}',
    '{"annotations": [{"question_id": 1, "question_id": 2, "answers": [{"answer": "a", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer": "b", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}, {"answer": "b", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a"}]}]}',
    '{"annotations": [{"question_id": 1, "answers": []}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": 3, "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1.0, "answers": [{"answer": "a", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": -0, "answers": [{"answer": "a", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 123456789012345678901, "answers": [{"answer": "a", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": true, "answers": [{"answer": "a", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}], "question_type": null}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}], "answer_type": 5}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "\\u0061", "answer_id": 1}, {"answer": "a", '
    '"answer_id": 2}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "\\ud83d\\ude00", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "\\ud800", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "caf\u00e9", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a\\tb\\"c\\\\\\/", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a\tb", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}], "x": NaN}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}], "x": 1e400}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}], "x": 1e40}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}], "x": 01}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}], "x": [[[[{}]]]]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}], "x": ' + "[" * 600 + "]" * 600
    + "}]}",
    '{"annotations": [{"questio\\u006e_id": 1, "question_id": 2, "answers": [{"answer": "a", "answer_id": 1}]}]}',
    '{"annotations": [{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}]}, '
    '{"question_id": 1, "answers": [{"answer": "a", "answer_id": 1}]}]}',
    '\ufeff{"annotations": []}', '', '   ', '{"annotations": [1]}', '{"annotations": {}}',
]


@pytest.mark.parametrize("text", ANNOTATION_CASES)
def test_annotation_edge_cases(monkeypatch, tmp_path, text):
    _same(monkeypatch, tmp_path, "annotations", text)


@pytest.mark.parametrize("text", [
    '[]', '[{"question_id": 1, "answer": "a"}, {"question_id": 1, "answer": "b"}]',
    '[{"question_id": 1, "answer": null}]', '[{"question_id": 1}]', '[{"answer": "a"}]', '{"question_id": 1}',
    '[{"question_id": 1, "answer": "a", "answer": "b"}]', '[{"question_id": 1, "answer": "a", "x": {"y": [1, "z"]}}]',
    '[{"question_id": 1, "answer": "\\u00e9"}, {"question_id": 2, "answer": "\u00e9"}]',
])
def test_results_edge_cases(monkeypatch, tmp_path, text):
    _same(monkeypatch, tmp_path, "results", text)


@pytest.mark.parametrize("text", [
    '{"questions": []}', '{"questions": [{"question_id": 1}, {"question_id": 1}]}', '{"questions": [{"id": 1}]}',
    '{"questions": [{"question_id": "1"}]}', '{"questions": [], "questions": [{"question_id": 1}]}', '[]',
])
def test_questions_edge_cases(monkeypatch, tmp_path, text):
    _same(monkeypatch, tmp_path, "questions", text)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False)
                           | st.text(max_size=4), lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=6)
TEXT = st.text(st.characters(codec="utf-8"), max_size=6) | st.sampled_from(["a", "A ", "two", "2", "é", "\\", '"'])


@st.composite
def annotation_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    records = []
    for qid in draw(st.lists(st.integers(-5, 2**62) | st.sampled_from([1, 2]), max_size=5)):
        answers = [{"answer": draw(TEXT), "answer_id": draw(st.sampled_from([k, k + 1, 1]) | st.integers(-3, 3)),
                    **draw(st.dictionaries(st.sampled_from(["answer_confidence", "x"]), JSON_VALUES, max_size=1))}
                   for k in range(draw(st.integers(0, 4)))]
        record = {"question_id": qid, "answers": answers,
                  **draw(st.dictionaries(st.sampled_from(["question_type", "answer_type", "image_id"]),
                                         st.none() | TEXT | JSON_VALUES, max_size=3))}
        records.append(record)
    return records


def _dumps(draw: st.DrawFn, data: Any) -> str:
    indent = draw(st.sampled_from([None, 1, "\t"]))
    return json.dumps(data, indent=indent, ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([None, (",", ":"), (" ,  ", " : ")])))


@SETTINGS
@given(data=st.data())
def test_fuzz_annotations(monkeypatch, tmp_path, data):
    records = data.draw(annotation_records())
    _same(monkeypatch, tmp_path, "annotations", _dumps(data.draw, {"info": data.draw(JSON_VALUES),
                                                                    "annotations": records}))


@SETTINGS
@given(data=st.data())
def test_fuzz_results_and_questions(monkeypatch, tmp_path, data):
    qids = data.draw(st.lists(st.integers(-3, 2**62) | st.sampled_from([1, 2]) | JSON_VALUES, max_size=5))
    results = [{"question_id": q, "answer": data.draw(TEXT | JSON_VALUES)} for q in qids]
    _same(monkeypatch, tmp_path, "results", _dumps(data.draw, results))
    _same(monkeypatch, tmp_path, "questions", _dumps(data.draw, {"questions": [{"question_id": q} for q in qids]}))


@pytest.mark.parametrize("kind", list(VALID))
def test_byte_mutations(monkeypatch, tmp_path, kind):
    """Random one-byte edits of a valid file (most break it, some keep it valid): same outcome each time."""
    rng = random.Random(kind)
    original = json.dumps(json.loads(VALID[kind]), indent=1).encode()
    alphabet = b'{}[],:"\\ \n0123456789-.eEtrufalsn\x00\x7f\xc3\xa9ux'
    for _ in range(150):
        data = bytearray(original)
        at = rng.randrange(len(data))
        action = rng.randrange(3)
        if action == 0:
            data[at] = rng.choice(alphabet)
        elif action == 1:
            del data[at]
        else:
            data.insert(at, rng.choice(alphabet))
        _same(monkeypatch, tmp_path, kind, bytes(data))


def _one_by_one(annotations: str, questions: str | None, results: str) -> Any:
    """What ``evalkit score vqa`` read before the files were read concurrently: one loader after the other."""
    columns = F.load_annotation_columns(annotations)
    if questions:
        F._check_covered(columns.question_ids, F.load_question_ids(questions), questions)
    return columns, F.load_results(results)


def _comparable(columns: F.AnnotationColumns, results: dict[int, str]) -> Any:
    return columns.question_ids, _answers_of(columns), columns.question_types, columns.answer_types, results


FILE_VARIANTS = {
    "annotations": [VALID["annotations"], "{", json.dumps({"annotations": [RECORD, RECORD]})],
    "questions": [None, VALID["questions"], "[1", json.dumps({"questions": [{"question_id": 7}]}),
                  json.dumps({"questions": [{"question_id": 7}, {"question_id": 7}, {"question_id": 8}]})],
    "results": [VALID["results"], '[{"question_id": 7}]', json.dumps(RESULTS + RESULTS)],
}


@pytest.mark.parametrize("scanner", [False, True])
def test_concurrent_reading_gives_the_one_by_one_outcome(monkeypatch, tmp_path, scanner):
    """Every mix of valid and broken files: the same columns and results, or the same first error."""
    monkeypatch.setattr(F, "MIN_SCAN_BYTES", 0 if scanner else 1 << 62)
    cases = 0
    for ann in FILE_VARIANTS["annotations"]:
        for questions in FILE_VARIANTS["questions"]:
            for results in FILE_VARIANTS["results"]:
                paths = []
                for kind, text in (("annotations", ann), ("questions", questions), ("results", results)):
                    if text is not None:
                        (tmp_path / f"{kind}.json").write_text(text)
                    paths.append(None if text is None else str(tmp_path / f"{kind}.json"))
                expected = _outcome(lambda _: _comparable(*_one_by_one(*paths)), "")
                assert _outcome(lambda _: _comparable(*F.load_scoring_files(*paths)), "") == expected
                cases += expected[0] == "ok"
    assert cases == 2  # the valid files, with and without questions
