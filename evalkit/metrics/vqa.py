"""VQA v2 accuracy (percent), overall / per answer type / per question type, as the official ``vqaEval.py``.

Per question, the official accuracy is the mean over the leave-one-annotator-out subsets of
``min(1, #matches / 3)``, with answers normalised only when the humans disagree (see
``vqa_normalize``). State keeps each question's accuracy, types and answer, so bootstrap
intervals, paired tests and merges of shards are exact.

Reported numbers: ``overall`` and the per-type tables are *unrounded* percentages, summed exactly
(order-independent, so shards merge to the single-pass value bit for bit); they differ from the
script's float sums by < 1e-12 relative. :func:`official_accuracy` reproduces the script's
``vqaEval.accuracy`` exactly (its summation order and ``round(·, 2)``) for samples in annotation order.
"""
from __future__ import annotations

import math
import sys
from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.metrics.state import Column
from evalkit.metrics.vqa_engine import AnswerTable, BadAnswer, _encoder, answer_table, question_accuracies
from evalkit.formats.vqa import AnnotationColumns, EncodedAnswers, align_question_ids, check_annotations, parse_results
from evalkit.registry import METRICS


def exact_mean_percent(values: np.ndarray, indices: np.ndarray | None = None) -> float:
    """100 × mean, with the sum exactly rounded, so the result does not depend on the sample order.

    Per-question accuracies take few distinct values, so the sum is ``fsum(value × count)``.
    """
    uniques, inverse = np.unique(values, return_inverse=True)
    if indices is not None:
        inverse = inverse[indices]
    if not len(inverse):
        return float("nan")
    counts = np.bincount(inverse, minlength=len(uniques))
    return 100.0 * math.fsum((uniques * counts).tolist()) / len(inverse)


def _answer_of(prediction: Any, position: int) -> str:
    if isinstance(prediction, dict):
        prediction = prediction.get("answer")
    if not isinstance(prediction, str):
        raise InputError(f"a VQA prediction is an answer string (or {{'answer': ...}}), got {prediction!r}",
                         record=position, field="answer")
    return prediction


@METRICS.register("vqa")
class VQAAccuracy(Metric):
    """Official VQA accuracy. ``update(answers, annotation records, question ids)``."""

    name = "vqa"
    state = {"accuracy": Column("float64"), "question_type": Column(), "answer_type": Column(), "answer": Column()}
    keys = ("overall",)
    higher_is_better = True
    reference = None  # the official vqaEval.py is a script, not a package: its rules are transcribed

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        targets = list(targets)
        answers = [_answer_of(p, i) for i, p in enumerate(predictions)]
        if len(answers) != len(targets):
            raise InputError(f"{len(answers)} predictions for {len(targets)} annotation records")
        self.add_columns(check_annotations(targets), answers, ids)

    def add_records(self, records: Sequence[dict[str, Any]], answers: Sequence[str],
                    ids: Sequence[Any] | None = None, file: Any = None) -> None:
        """Score checked annotation records (``check_annotations``) against their answers."""
        self.add_columns(AnnotationColumns.of(records), answers, ids, file)

    def add_columns(self, columns: AnnotationColumns, answers: Sequence[str],
                    ids: Sequence[Any] | None = None, file: Any = None) -> None:
        """Score checked annotation columns against their answers, vectorised.

        ``file`` names the annotation file in the error about a malformed answer.
        """
        ids = columns.question_ids if ids is None else ids  # (the state makes them strings)
        if isinstance(columns.answers, EncodedAnswers):  # distinct answer ids: no other field can matter
            table = AnswerTable(columns.answers.codes, columns.answers.lengths, columns.answers.strings, {})
        else:
            table = self._answer_table(columns, file)
        accuracy = question_accuracies(table, answers)
        self.add_scored(ids, accuracy, columns.question_types, columns.answer_types, answers)

    @staticmethod
    def _answer_table(columns: AnnotationColumns, file: Any) -> AnswerTable:
        try:
            return answer_table(columns.answers)
        except BadAnswer as err:
            raise InputError(str(err), file=file, record=f"question_id {columns.question_ids[err.row]}",
                             field=f"answers[{err.k}].answer") from None

    def add_scored(self, ids: Sequence[Any], accuracy: np.ndarray, question_types: Sequence[str | None],
                   answer_types: Sequence[str | None], answers: Sequence[str]) -> None:
        """Append questions whose official accuracies (fractions) are already computed."""
        if not len(ids) == len(accuracy) == len(question_types) == len(answer_types) == len(answers):
            raise ValueError("every column needs one value per question")
        self.add(ids, accuracy=accuracy, question_type=question_types, answer_type=answer_types, answer=answers)

    def accuracies(self) -> np.ndarray:
        """Per-question official accuracy (fraction), in state order."""
        return self.column("accuracy")

    def score(self) -> dict[str, float]:
        return {"overall": exact_mean_percent(self.accuracies())}

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        return {"overall": exact_mean_percent(self.accuracies(), indices)}

    def _groups(self, column: str) -> tuple[list[Any], np.ndarray]:
        """The distinct values of ``column`` in order of first appearance, and each sample's index into them."""
        # the tables and official_accuracy share it while the state (this very object, unchanged) is the same
        state, cached = self._state, getattr(self, "_group_cache", {}).get(column)
        if cached is not None and cached[0] is state and cached[1] == state.version:
            return cached[2], cached[3]
        index = _encoder()
        values = self.column(column)
        codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
        self._group_cache = {**getattr(self, "_group_cache", {}), column: (state, state.version, list(index), codes)}
        return list(index), codes

    def _per(self, column: str) -> dict[str, float]:
        """:func:`exact_mean_percent` of each group (None: in no group), sorted by group, one pass over the samples."""
        acc = self.accuracies()
        keys, codes = self._groups(column)
        uniques, inverse = np.unique(acc, return_inverse=True)
        counts = np.bincount(codes * len(uniques) + inverse, minlength=len(keys) * len(uniques))
        counts = counts.reshape(len(keys), len(uniques))
        out = {}
        for code, key in sorted(((c, k) for c, k in enumerate(keys) if k is not None), key=lambda ck: ck[1]):
            # exact_mean_percent(acc[rows]): the exact sum does not depend on zero terms of absent values
            out[key] = 100.0 * math.fsum((uniques * counts[code]).tolist()) / int(counts[code].sum())
        return out

    def extras(self) -> dict[str, Any]:
        return {"perAnswerType": self._per("answer_type"), "perQuestionType": self._per("question_type")}

    def official_accuracy(self, n: int = 2) -> dict[str, Any]:
        """``vqaEval.accuracy`` as the script computes it: sums in state order, ``round(·, n)``.

        Questions without a question/answer type are left out of that type's table (the script would fail).
        """
        def rounded(values: np.ndarray) -> float:
            # Python < 3.12's sum() of floats adds left to right, as np.cumsum does: the same float, bit for
            # bit; 3.12's sum() compensates, so there the script's sum() itself runs
            total = np.cumsum(values)[-1] if sys.version_info < (3, 12) else sum(values.tolist())
            return round(100 * float(total) / len(values), n)

        acc = np.ascontiguousarray(self.accuracies(), dtype=np.float64)
        out: dict[str, Any] = {"overall": rounded(acc) if len(acc) else float("nan")}
        for key, column in (("perQuestionType", "question_type"), ("perAnswerType", "answer_type")):
            groups, codes = self._groups(column)  # first-appearance order, as the script's dict fills
            out[key] = {group: rounded(acc[codes == code]) for code, group in enumerate(groups) if group is not None}
        return out

    def per_sample(self) -> dict[str, Any]:
        return {"sample_id": self.sample_ids(), **{c: list(self.column(c)) for c in self.state}}


def vqa_metric(annotations: Sequence[dict[str, Any]], results: Any, subset: bool = False) -> VQAAccuracy:
    """A filled metric for annotation records and results (a ``[{question_id, answer}]`` list or a dict)."""
    columns = check_annotations(annotations)
    answers = results if isinstance(results, dict) else parse_results(results)
    rows, predictions = align_question_ids(columns.question_ids, answers, subset)
    metric = VQAAccuracy()
    metric.add_columns(columns.take(rows), predictions)
    return metric


def vqa_accuracy(annotations: Sequence[dict[str, Any]], results: Any, subset: bool = False) -> dict[str, Any]:
    """Functional form: ``{"overall", "perAnswerType", "perQuestionType"}`` in percent, unrounded."""
    return vqa_metric(annotations, results, subset).compute()
