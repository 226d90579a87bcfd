"""Reading and checking the official VQA files: questions, annotations, and results ``[{question_id, answer}]``.

Errors name the file, the record (its index in the file's list) and the field, so a broken
results file is fixed in one look instead of by a ``KeyError`` deep in the evaluator.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from evalkit import jsonio
from evalkit.errors import InputError


def read_json(path: str | Path) -> Any:
    """Parse a (possibly compressed) JSON file: VQA v2 val annotations are 300 MB of JSON."""
    return jsonio.read_json(path, "file")


def _list_in(data: Any, key: str, path: Path | str) -> list[Any]:
    """``data[key]`` of an official file (or ``data`` itself when it is already the list)."""
    items = data.get(key) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InputError(f"expected a JSON object with a {key!r} list", file=path, field=key)
    return items


def _question_id(record: Any, index: int, path: Path | str | None) -> int:
    if not isinstance(record, dict):
        raise InputError(f"expected an object, got {type(record).__name__}", file=path, record=index)
    qid = record.get("question_id")
    if not isinstance(qid, int) or isinstance(qid, bool):
        raise InputError(f"question_id must be an integer, got {qid!r}", file=path, record=index,
                         field="question_id")
    return qid


def check_annotation(record: Any, index: int, path: Path | str | None = None) -> int:
    """Validate one annotation record (question_id, a non-empty answers list, types); its question id.

    Each answer's ``{"answer": str}`` shape is checked where the answers are encoded (``answer_table``).
    """
    qid = _question_id(record, index, path)
    where = f"{index} (question_id {qid})"
    answers = record.get("answers")
    if not isinstance(answers, list) or not answers:
        raise InputError("answers must be a non-empty list of {answer: ...} objects", file=path, record=where,
                         field="answers")
    for field in ("question_type", "answer_type"):
        value = record.get(field)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{field} must be a string, got {value!r}", file=path, record=where, field=field)
    return qid


def load_annotations(path: str | Path) -> list[dict[str, Any]]:
    """The ``annotations`` of an official annotation file, checked, in file order (the official order)."""
    records = _list_in(read_json(path), "annotations", path)
    seen: dict[int, int] = {}
    for index, record in enumerate(records):
        qid = check_annotation(record, index, path)
        if qid in seen:
            raise InputError(f"question_id {qid} is annotated twice (records {seen[qid]} and {index})",
                             file=path, record=index, field="question_id")
        seen[qid] = index
    return records


def load_questions(path: str | Path) -> dict[int, dict[str, Any]]:
    """``question_id → question record`` of an official questions file."""
    out: dict[int, dict[str, Any]] = {}
    for index, record in enumerate(_list_in(read_json(path), "questions", path)):
        qid = _question_id(record, index, path)
        if qid in out:
            raise InputError(f"question_id {qid} appears twice", file=path, record=index, field="question_id")
        out[qid] = record
    return out


def parse_results(records: Any, path: Path | str | None = None) -> dict[int, str]:
    """``question_id → answer`` of a results list ``[{question_id, answer}]``; duplicates are an error."""
    if not isinstance(records, list):
        raise InputError("a results file is a JSON list of {question_id, answer} objects", file=path)
    out: dict[int, str] = {}
    for index, record in enumerate(records):
        qid = _question_id(record, index, path)
        answer = record.get("answer")
        if not isinstance(answer, str):
            raise InputError(f"answer must be a string, got {answer!r}", file=path,
                             record=f"{index} (question_id {qid})", field="answer")
        if qid in out:
            raise InputError(f"question_id {qid} has two answers", file=path, record=index, field="question_id")
        out[qid] = answer
    return out


def load_results(path: str | Path) -> dict[int, str]:
    return parse_results(read_json(path), path)


def align_results(
    annotations: Sequence[dict[str, Any]], results: dict[int, str], subset: bool = False,
    results_file: Path | str | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Annotation records and their answers in annotation order, as ``vqaEval.evaluate`` walks them.

    A result for a question the annotations lack is always an error; a question without a result is
    an error unless ``subset`` (then only the answered questions are scored).
    """
    known = {record["question_id"] for record in annotations}
    unknown = [qid for qid in results if qid not in known]
    if unknown:
        raise InputError(f"{len(unknown)} results for question ids the annotations do not have, first {unknown[0]}",
                         file=results_file, record=f"question_id {unknown[0]}", field="question_id")
    complete = len(results) == len(known)  # no unknown ids, so every question has a result
    kept = list(annotations) if complete else [record for record in annotations if record["question_id"] in results]
    if not subset and len(kept) != len(annotations):
        missing = next(r["question_id"] for r in annotations if r["question_id"] not in results)
        raise InputError(f"no result for {len(annotations) - len(kept)} of {len(annotations)} questions, "
                         f"first question_id {missing} (pass --subset to score only the answered questions)",
                         file=results_file, record=f"question_id {missing}")
    return kept, [results[record["question_id"]] for record in kept]
