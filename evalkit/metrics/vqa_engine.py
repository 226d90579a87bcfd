"""Vectorised VQA accuracy: the official per-question numbers, bit for bit, without per-question Python.

Answers repeat massively (2.1M human answers of VQA v2 val hold ~10% distinct strings), so each
distinct string is cleaned and normalised once, answers become integer codes, and the
leave-one-annotator-out matches are counted with numpy. The official code compares answer *dicts*
when it leaves one annotator out (``item != gtAnsDatum``); with distinct ``answer_id`` values that
removes exactly one answer, and questions where it could remove more are handled exactly below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from evalkit.metrics.vqa_normalize import clean_whitespace, normalize_answer


@dataclass
class AnswerTable:
    """Human answers of N questions, flattened: ``answers[offsets[i]:offsets[i+1]]`` belong to question i."""

    answers: list[str]
    lengths: np.ndarray
    #: per question whose answer dicts may compare equal: the answers' other fields, frozen; else absent
    other_fields: dict[int, list[Any]]


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def answer_table(answer_lists: Sequence[Sequence[dict[str, Any]]]) -> AnswerTable:
    """Flatten the ``answers`` lists of annotation records (already validated: dicts with an ``answer``).

    Questions whose ``answer_id`` values are missing or repeated keep their other fields, because
    there the official dict comparison can drop several answers at once.
    """
    flat: list[str] = []
    ids: list[Any] = []
    lengths = np.fromiter((len(a) for a in answer_lists), dtype=np.int64, count=len(answer_lists))
    for answers in answer_lists:
        for record in answers:
            flat.append(record["answer"])
            ids.append(record.get("answer_id"))
    other: dict[int, list[Any]] = {}
    for row in _rows_with_unsafe_ids(ids, lengths):
        other[row] = [_freeze({k: v for k, v in r.items() if k != "answer"}) for r in answer_lists[row]]
    return AnswerTable(flat, lengths, other)


def _rows_with_unsafe_ids(ids: list[Any], lengths: np.ndarray) -> list[int]:
    """Questions whose answer ids are not all distinct integers (rare: never in the official files)."""
    try:
        values = np.asarray(ids, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        values = None
    n = len(lengths)
    if values is None or values.ndim != 1:
        return [i for i, ok in enumerate(_distinct_python(ids, lengths)) if not ok]
    if n and (lengths == lengths[0]).all():
        grid = np.sort(values.reshape(n, int(lengths[0])), axis=1)
        bad = (grid[:, 1:] == grid[:, :-1]).any(axis=1)
        return np.flatnonzero(bad).tolist()
    return [i for i, ok in enumerate(_distinct_python(ids, lengths)) if not ok]


def _distinct_python(ids: list[Any], lengths: np.ndarray) -> list[bool]:
    out, start = [], 0
    for length in lengths.tolist():
        row = ids[start : start + length]
        out.append(all(isinstance(v, int) for v in row) and len(set(row)) == length)
        start += length
    return out


def _codes(strings: Sequence[str], index: dict[str, int]) -> np.ndarray:
    """Integer code of each string, extending ``index`` with unseen strings."""
    setdefault = index.setdefault
    return np.fromiter((setdefault(s, len(index)) for s in strings), dtype=np.int64, count=len(strings))


def question_accuracies(table: AnswerTable, predictions: Sequence[str]) -> np.ndarray:
    """The official ``avgGTAcc`` of each question (a fraction in [0, 1]), identical to ``vqaEval.py``."""
    n = len(table.lengths)
    if len(predictions) != n:
        raise ValueError(f"{len(predictions)} predictions for {n} questions")
    if n == 0:
        return np.empty(0)
    index: dict[str, int] = {}
    raw = _codes(table.answers, index)
    raw_pred = _codes(predictions, index)
    distinct = list(index)
    clean_index: dict[str, int] = {}
    cleaned = [clean_whitespace(s) for s in distinct]
    clean_of = _codes(cleaned, clean_index)
    norm_of = _codes([normalize_answer(s) for s in cleaned], {})

    width = int(table.lengths.max())
    mask = np.arange(width)[None, :] < table.lengths[:, None]
    grid = np.zeros((n, width), dtype=np.int64)
    grid[mask] = raw
    grid = np.where(mask, grid, grid[:, :1])  # padding repeats the first answer: unanimity unchanged

    clean = clean_of[grid]
    disagree = (clean != clean[:, :1]).any(axis=1)
    gt = np.where(disagree[:, None], norm_of[grid], clean)
    pred = np.where(disagree, norm_of[raw_pred], clean_of[raw_pred])
    match = (gt == pred[:, None]) & mask
    matches = match.sum(axis=1)

    removed = match.astype(np.int64)
    for row, fields in table.other_fields.items():
        keys = list(zip(gt[row, : table.lengths[row]].tolist(), fields))
        for j, key in enumerate(keys):
            removed[row, j] = keys.count(key) if match[row, j] else 0
    per_answer = np.minimum(1.0, (matches[:, None] - removed) / 3.0)
    per_answer = np.where(mask, per_answer, 0.0)
    total = per_answer[:, 0].copy()
    for j in range(1, width):  # left to right, as Python's sum() adds them
        total += per_answer[:, j]
    return total / table.lengths
