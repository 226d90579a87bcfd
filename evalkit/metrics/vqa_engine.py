"""Vectorised VQA accuracy: the official per-question numbers, bit for bit, without per-question Python.

Answers repeat massively (2.1M human answers of VQA v2 val hold ~10% distinct strings), so each
distinct string is cleaned and normalised once, answers become integer codes, and the
leave-one-annotator-out matches are counted with numpy. The official code compares answer *dicts*
when it leaves one annotator out (``item != gtAnsDatum``); with distinct ``answer_id`` values that
removes exactly one answer, and questions where it could remove more are handled exactly below.
"""
from __future__ import annotations

import itertools
import operator
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from evalkit.metrics.vqa_normalize import clean_whitespace, normalize_answers


@dataclass
class AnswerTable:
    """Human answers of N questions as integer codes, flattened: question i owns ``lengths[i]`` codes."""

    codes: np.ndarray
    lengths: np.ndarray
    #: code → answer string (every distinct answer once)
    strings: dict[str, int]
    #: per question whose answer dicts may compare equal: the answers' other fields, frozen; else absent
    other_fields: dict[int, list[Any]]


class BadAnswer(ValueError):
    """An answer record that is not ``{"answer": str, ...}``: question ``row``, answer ``k``."""

    def __init__(self, row: int, k: int, value: Any):
        self.row, self.k, self.value = row, k, value
        super().__init__(f"answers[{k}] must be an object with a string 'answer', got {value!r}")


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def answer_table(answer_lists: Sequence[Sequence[dict[str, Any]]]) -> AnswerTable:
    """Encode the ``answers`` lists of annotation records; raises :class:`BadAnswer` on a malformed answer.

    The loops run in C (``map`` into ``np.fromiter``): VQA v2 val has 2.1M answers. Questions whose
    ``answer_id`` values are missing or repeated keep their other fields, because there the official
    dict comparison can drop several answers at once.
    """
    lengths = np.fromiter(map(len, answer_lists), dtype=np.int64, count=len(answer_lists))
    total = int(lengths.sum())
    strings = _encoder()
    try:
        codes = _codes(map(operator.itemgetter("answer"), itertools.chain.from_iterable(answer_lists)), strings, total)
    except (KeyError, TypeError):  # a non-dict answer, or one without "answer" (or unhashable)
        raise _locate_bad_answer(answer_lists) from None
    if not all(type(s) is str for s in strings):
        raise _locate_bad_answer(answer_lists)
    try:  # ids that compare equal convert equal, so distinct int64 values mean distinct ids
        ids = np.fromiter(map(operator.itemgetter("answer_id"), itertools.chain.from_iterable(answer_lists)),
                          dtype=np.int64, count=total)
    except (KeyError, TypeError, ValueError, OverflowError):
        ids = None
    other: dict[int, list[Any]] = {}
    for row in _rows_with_unsafe_ids(ids, answer_lists, lengths):
        other[row] = [_freeze({k: v for k, v in r.items() if k != "answer"}) for r in answer_lists[row]]
    return AnswerTable(codes, lengths, dict(strings), other)


def _locate_bad_answer(answer_lists: Sequence[Sequence[Any]]) -> BadAnswer:
    for row, answers in enumerate(answer_lists):
        for k, record in enumerate(answers):
            if not isinstance(record, dict) or not isinstance(record.get("answer"), str):
                return BadAnswer(row, k, record)
    raise AssertionError("no malformed answer found")


def _rows_with_unsafe_ids(ids: np.ndarray | None, answer_lists: Sequence[Sequence[dict[str, Any]]],
                          lengths: np.ndarray) -> list[int]:
    """Questions whose answer ids are not all distinct integers (rare: never in the official files)."""
    n = len(lengths)
    if ids is not None and n and (lengths == lengths[0]).all():
        grid = np.sort(ids.reshape(n, int(lengths[0])), axis=1)
        return np.flatnonzero((grid[:, 1:] == grid[:, :-1]).any(axis=1)).tolist()
    unsafe = []
    for row, answers in enumerate(answer_lists):
        values = [r.get("answer_id") for r in answers]
        if not all(type(v) is int for v in values) or len(set(values)) != len(values):
            unsafe.append(row)
    return unsafe


def _encoder(known: dict[str, int] | None = None) -> defaultdict[str, int]:
    """String → code, giving each unseen string the next code (``known`` must hold codes 0..n-1)."""
    index: defaultdict[str, int] = defaultdict(itertools.count(len(known or ())).__next__)
    index.update(known or {})
    return index


def _codes(strings: Iterable[str], index: defaultdict[str, int], count: int = -1) -> np.ndarray:
    """Integer code of each string, extending ``index`` with unseen strings (the loop runs in C)."""
    return np.fromiter(map(index.__getitem__, strings), dtype=np.int64, count=count)


def question_accuracies(table: AnswerTable, predictions: Sequence[str]) -> np.ndarray:
    """The official ``avgGTAcc`` of each question (a fraction in [0, 1]), identical to ``vqaEval.py``."""
    n = len(table.lengths)
    if len(predictions) != n:
        raise ValueError(f"{len(predictions)} predictions for {n} questions")
    if n == 0:
        return np.empty(0)
    index = _encoder(table.strings)
    raw = table.codes
    raw_pred = _codes(predictions, index)
    distinct = list(index)  # insertion order is code order
    cleaned = list(map(clean_whitespace, distinct))
    clean_of = _codes(cleaned, _encoder())

    lengths = table.lengths
    width = int(lengths.max())
    mask = None if (lengths == width).all() else np.arange(width)[None, :] < lengths[:, None]
    if mask is None:  # ten answers per question, as in the official files
        grid = raw.reshape(n, width)
    else:
        grid = np.zeros((n, width), dtype=np.int64)
        grid[mask] = raw
        grid = np.where(mask, grid, grid[:, :1])  # padding repeats the first answer: unanimity unchanged

    gt = clean_of[grid]
    pred = clean_of[raw_pred]
    disagree = np.flatnonzero((gt != gt[:, :1]).any(axis=1))
    # only answers of questions where the humans disagree are normalised
    wanted = np.zeros(len(distinct), dtype=bool)
    wanted[grid[disagree]] = True
    wanted[raw_pred[disagree]] = True
    needed = np.flatnonzero(wanted)
    norm_of = np.full(len(distinct), -1, dtype=np.int64)
    norm_of[needed] = _codes(normalize_answers(map(cleaned.__getitem__, needed.tolist())), _encoder())
    gt[disagree] = norm_of[grid[disagree]]  # rows compare in one code space each: cleaned or normalised
    pred[disagree] = norm_of[raw_pred[disagree]]
    match = gt == pred[:, None]
    if mask is not None:
        match &= mask
    matches = match.sum(axis=1)

    # leaving out a matching answer removes that one match; leaving out another removes none
    per_answer = np.where(match, np.minimum(1.0, (matches - 1) / 3.0)[:, None], np.minimum(1.0, matches / 3.0)[:, None])
    for row, fields in table.other_fields.items():
        keys = list(zip(gt[row, : lengths[row]].tolist(), fields))
        for j, key in enumerate(keys):
            per_answer[row, j] = min(1.0, (matches[row] - (keys.count(key) if match[row, j] else 0)) / 3.0)
    if mask is not None:
        per_answer[~mask] = 0.0
    total = per_answer[:, 0].copy()
    for j in range(1, width):  # left to right, as Python's sum() adds them
        total += per_answer[:, j]
    return total / table.lengths
