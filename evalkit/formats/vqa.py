"""The official VQA files: questions, annotations, and results ``[{question_id, answer}]``.

Errors name the file, the record (its index in the file's list) and the field, so a broken
results file is fixed in one look instead of by a ``KeyError`` deep in the evaluator.
"""
from __future__ import annotations

import contextlib
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from evalkit import jsonio
from evalkit.errors import InputError

#: files from this size are read by the numba scanner (``evalkit.formats.vqa_scan``), smaller ones by orjson:
#: importing numba and loading the kernel cost what orjson's dicts cost for ~50 MB of annotations ...
MIN_SCAN_BYTES = 48 << 20
#: ... and once that is paid (the annotations were scanned), the questions and results from this size
WARM_SCAN_BYTES = 8 << 20
#: the scanner's file kinds (repeated here so that small files never import numba)
_ANNOTATIONS, _QUESTIONS, _RESULTS = 0, 1, 2


def read_json(path: str | Path) -> Any:
    """Parse a (possibly compressed) JSON file: VQA v2 val annotations are 300 MB of JSON."""
    return jsonio.read_json(path, "file")


def _scan_threshold() -> int:
    """The smallest file the scanner reads (smaller: orjson is faster than loading numba), lower once it is loaded."""
    warm = "evalkit.formats.vqa_scan" in sys.modules
    return min(MIN_SCAN_BYTES, WARM_SCAN_BYTES if warm else 1 << 62)


def _worth_scanning(path: Path) -> bool:
    """Whether the scanner would read ``path``; raises OSError for a file that cannot be read."""
    return path.suffix == ".json" and path.stat().st_size >= _scan_threshold()


def _scan(path: str | Path, kind: int) -> Any:
    """:func:`evalkit.formats.vqa_scan.scan` of a big plain ``.json`` file, or None: then the caller reads it
    with orjson, which gives every error."""
    data = jsonio.map_file(Path(path).expanduser(), _scan_threshold())
    if data is None:
        return None
    from evalkit.formats.vqa_scan import scan

    try:
        return scan(data, kind)
    except MemoryError:  # its columns are reserved for the worst case (untouched pages): left to orjson
        return None


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


def field_values(records: Sequence[dict[str, Any]], key: str) -> list[Any]:
    """``record.get(key)`` of every record, the loop in C."""
    return list(map(dict.get, records, itertools.repeat(key)))


def _only(values: Sequence[Any], *types: type) -> bool:
    """Whether every value's exact type is one of ``types`` (bool is not an int here)."""
    return set(map(type, values)) <= set(types)


@dataclass(frozen=True)
class AnnotationColumns:
    """The fields of annotation records that scoring reads, one list per field.

    VQA v2 val has 214k records; reading each field once, in C, is most of what makes scoring fast.
    """

    question_ids: list[Any]
    #: the records' ``answers`` lists, or (from the scanner) the answers already encoded
    answers: list[Any] | EncodedAnswers
    question_types: list[Any]
    answer_types: list[Any]

    @classmethod
    def of(cls, records: Sequence[dict[str, Any]]) -> "AnnotationColumns":
        """The columns of already checked records."""
        return cls(*(field_values(records, key) for key in ("question_id", "answers", "question_type", "answer_type")))

    def take(self, rows: Sequence[int] | None) -> "AnnotationColumns":
        """The records at ``rows`` (None: all of them)."""
        if rows is None:
            return self
        answers = self.answers.take(rows) if isinstance(self.answers, EncodedAnswers) else [self.answers[i] for i in rows]
        return AnnotationColumns([self.question_ids[i] for i in rows], answers,
                                 *([column[i] for i in rows] for column in (self.question_types, self.answer_types)))


@dataclass(frozen=True)
class EncodedAnswers:
    """The ``answers`` column as integer codes: question i owns the next ``lengths[i]`` of ``codes``, each an
    index into ``strings`` (distinct answers in order of first appearance). Its answer ids are distinct
    integers in each question (the scanner leaves any other file to the full reader)."""

    codes: Any  # np.ndarray, int64
    lengths: Any  # np.ndarray, int64
    strings: dict[str, int]

    def take(self, rows: Sequence[int]) -> "EncodedAnswers":
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths[rows]
        starts = (np.cumsum(self.lengths) - self.lengths)[rows]
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return EncodedAnswers(self.codes[np.repeat(starts, lengths) + offsets], lengths, self.strings)


def check_annotations(records: Sequence[Any], path: Path | str | None = None) -> AnnotationColumns:
    """:func:`check_annotation` of every record, and their columns.

    The usual all-valid case is checked column by column in C; only a failing file is walked
    record by record, to name the first bad record and field.
    """
    if _only(records, dict):
        columns = AnnotationColumns.of(records)
        answers = columns.answers
        if (_only(columns.question_ids, int) and _only(answers, list) and (not answers or min(map(len, answers)) > 0)
                and _only(columns.question_types, str, type(None)) and _only(columns.answer_types, str, type(None))):
            return columns
    for index, record in enumerate(records):
        check_annotation(record, index, path)
    return AnnotationColumns.of(records)


def load_annotations(path: str | Path) -> list[dict[str, Any]]:
    """The ``annotations`` of an official annotation file, checked, in file order (the official order)."""
    records = _list_in(read_json(path), "annotations", path)
    _check_unique(check_annotations(records, path).question_ids, path)
    return records


def load_annotation_columns(path: str | Path) -> AnnotationColumns:
    """:func:`load_annotations` as the columns that scoring reads (each field extracted once)."""
    return _annotation_columns(path, _scanned_columns(path))


def _scanned_columns(path: str | Path) -> AnnotationColumns | None:
    """The scanner's annotation columns, question ids not yet checked unique; None: the file is left to orjson."""
    scanned = _scan(path, _ANNOTATIONS)
    if scanned is None:
        return None
    types = [*scanned.types, None]  # code -1: null or absent
    records = scanned.records
    return AnnotationColumns(records[:, 0].tolist(),
                             EncodedAnswers(scanned.answers, records[:, 1], dict(zip(scanned.strings,
                                            range(len(scanned.strings))))),
                             list(map(types.__getitem__, records[:, 2].tolist())),
                             list(map(types.__getitem__, records[:, 3].tolist())))


def _annotation_columns(path: str | Path, scanned: AnnotationColumns | None) -> AnnotationColumns:
    """:func:`load_annotation_columns` given :func:`_scanned_columns`."""
    columns = check_annotations(_list_in(read_json(path), "annotations", path), path) if scanned is None else scanned
    _check_unique(columns.question_ids, path)
    return columns


def _check_unique(qids: Sequence[int], path: str | Path) -> None:
    if len(set(qids)) != len(qids):
        seen: dict[int, int] = {}
        for index, qid in enumerate(qids):
            if qid in seen:
                raise InputError(f"question_id {qid} is annotated twice (records {seen[qid]} and {index})",
                                 file=path, record=index, field="question_id")
            seen[qid] = index


def load_question_ids(path: str | Path) -> set[int]:
    """The question ids of an official questions file, checked as :func:`load_questions` checks them.

    The usual valid file is checked column-wise in C; a failing one is walked by :func:`load_questions`'s
    loop, which names the first bad record.
    """
    return _question_ids(path, _scanned_question_ids(path))


def _scanned_question_ids(path: str | Path) -> set[int] | None:
    """The scanner's question ids when they are distinct; None: the file is left to orjson."""
    scanned = _scan(path, _QUESTIONS)
    if scanned is None:
        return None
    out = set(scanned.records[:, 0].tolist())
    return out if len(out) == len(scanned.records) else None


def _question_ids(path: str | Path, scanned: set[int] | None) -> set[int]:
    """:func:`load_question_ids` given :func:`_scanned_question_ids`."""
    if scanned is not None:
        return scanned
    records = _list_in(read_json(path), "questions", path)
    if _only(records, dict):
        qids = field_values(records, "question_id")
        if _only(qids, int):
            out = set(qids)
            if len(out) == len(qids):
                return out
    return set(_questions_by_id(records, path))


def load_questions(path: str | Path) -> dict[int, dict[str, Any]]:
    """``question_id → question record`` of an official questions file."""
    return _questions_by_id(_list_in(read_json(path), "questions", path), path)


def _questions_by_id(records: list[Any], path: str | Path) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for index, record in enumerate(records):
        qid = _question_id(record, index, path)
        if qid in out:
            raise InputError(f"question_id {qid} appears twice", file=path, record=index, field="question_id")
        out[qid] = record
    return out


def parse_results(records: Any, path: Path | str | None = None) -> dict[int, str]:
    """``question_id → answer`` of a results list ``[{question_id, answer}]``; duplicates are an error."""
    if not isinstance(records, list):
        raise InputError("a results file is a JSON list of {question_id, answer} objects", file=path)
    if _only(records, dict):
        qids, answers = field_values(records, "question_id"), field_values(records, "answer")
        if _only(qids, int) and _only(answers, str):
            fast = dict(zip(qids, answers))
            if len(fast) == len(records):  # the usual valid file; else the loop below names the culprit
                return fast
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
    return _results(path, _scanned_results(path))


def _scanned_results(path: str | Path) -> dict[int, str] | None:
    """The scanner's ``question_id → answer`` when no question repeats; None: the file is left to orjson."""
    scanned = _scan(path, _RESULTS)
    if scanned is None:
        return None
    out = dict(zip(scanned.records[:, 0].tolist(), map(scanned.strings.__getitem__, scanned.records[:, 1].tolist())))
    return out if len(out) == len(scanned.records) else None


def _results(path: str | Path, scanned: dict[int, str] | None) -> dict[int, str]:
    """:func:`load_results` given :func:`_scanned_results`."""
    return parse_results(read_json(path), path) if scanned is None else scanned


def load_scoring_files(annotations: str | Path, questions: str | Path | None,
                       results: str | Path) -> tuple[AnnotationColumns, dict[int, str]]:
    """The annotation columns and results of a scoring run, each file read and checked as its loader does, and the
    questions (when given) checked to cover every annotated question; errors come in that order.

    The scanner reads the annotations on a second thread while this one reads the other two files: its kernels
    release the GIL, and the annotations are most of the bytes.
    """
    from concurrent.futures import ThreadPoolExecutor  # numba imports it anyway

    with ThreadPoolExecutor(1) as pool:
        with contextlib.suppress(OSError, ValueError):  # (the readers below name an unreadable file)
            if _worth_scanning(Path(annotations).expanduser()):  # numba loaded here: the two below see it
                import evalkit.formats.vqa_scan  # noqa: F401
        ahead = pool.submit(_scanned_columns, annotations)
        question_ids = _scanned_question_ids(questions) if questions else None
        answers = _scanned_results(results)
        columns = _annotation_columns(annotations, ahead.result())
    if questions:
        _check_covered(columns.question_ids, _question_ids(questions, question_ids), questions)
    return columns, _results(results, answers)


def _check_covered(annotated: Sequence[int], question_ids: set[int], path: str | Path) -> None:
    if not question_ids.issuperset(annotated):
        absent = [qid for qid in annotated if qid not in question_ids]
        raise InputError(f"{len(absent)} annotated questions are not in the questions file, first "
                         f"question_id {absent[0]} (do the two files belong to the same split?)",
                         file=path, record=f"question_id {absent[0]}")


def align_results(
    annotations: Sequence[dict[str, Any]], results: dict[int, str], subset: bool = False,
    results_file: Path | str | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Annotation records and their answers in annotation order, as ``vqaEval.evaluate`` walks them.

    A result for a question the annotations lack is always an error; a question without a result is
    an error unless ``subset`` (then only the answered questions are scored).
    """
    rows, answers = align_question_ids(field_values(annotations, "question_id"), results, subset, results_file)
    return (list(annotations) if rows is None else [annotations[i] for i in rows]), answers


def align_question_ids(question_ids: Sequence[Any], results: dict[int, str], subset: bool = False,
                       results_file: Path | str | None = None) -> tuple[list[int] | None, list[str]]:
    """:func:`align_results` on the annotations' question ids: the kept rows (None: all) and their answers."""
    known = set(question_ids)
    if not known.issuperset(results):
        unknown = [qid for qid in results if qid not in known]
        raise InputError(f"{len(unknown)} results for question ids the annotations do not have, first {unknown[0]}",
                         file=results_file, record=f"question_id {unknown[0]}", field="question_id")
    if len(results) == len(known):  # no unknown ids, so every question has a result
        return None, list(map(results.__getitem__, question_ids))
    rows = [i for i, qid in enumerate(question_ids) if qid in results]
    if not subset and len(rows) != len(question_ids):
        missing = next(qid for qid in question_ids if qid not in results)
        raise InputError(f"no result for {len(question_ids) - len(rows)} of {len(question_ids)} questions, "
                         f"first question_id {missing} (pass --subset to score only the answered questions)",
                         file=results_file, record=f"question_id {missing}")
    return rows, [results[question_ids[i]] for i in rows]
