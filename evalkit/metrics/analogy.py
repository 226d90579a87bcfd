"""Word-analogy accuracy as gensim's ``KeyedVectors.evaluate_word_analogies`` reports it.

The model adapter does the search (3CosAdd / 3CosMul) and answers each question
with an :class:`AnalogyAnswer`; this metric only counts. As in gensim, questions
with an out-of-vocabulary word are skipped (not counted in ``total``), an empty
selection scores 0.0, and ``sections`` lists every section of the file in order.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.metrics.state import Column, Shared
from evalkit.registry import METRICS
from evalkit.types import AnalogyAnswer, is_syntactic

def _ratio(correct: int, total: int) -> float:
    """gensim's section score: 0.0 when nothing was answered."""
    return correct / total if total else 0.0


@METRICS.register("analogy")
class AnalogyAccuracy(Metric):
    """Accuracy over answered questions, with the Google set's semantic / syntactic split.

    State: per question its section, expected word, chosen word, skipped and correct flags; the
    questions file's section list (dataset metadata ``section_names``) so empty sections are listed.
    """

    name = "analogy"
    state = {"section_index": Column("int64"), "section": Column(), "expected": Column(), "answer": Column(),
             "skipped": Column("bool"), "correct": Column("bool"), "section_names": Shared()}
    keys = ("accuracy", "correct", "total", "skipped", "semantic_accuracy", "syntactic_accuracy")
    main_key = "accuracy"
    reference = "gensim"

    def bind(self, dataset_meta: Any) -> None:
        """Remember every section of the questions file, so that empty ones are listed as gensim lists them."""
        super().bind(dataset_meta)
        self._state.set_shared("section_names", list(self.dataset_meta.get("section_names") or []) or None)

    def reset(self) -> None:
        names = getattr(self, "_state", None) and self._state.shared["section_names"]
        super().reset()
        self._state.set_shared("section_names", names or None)

    def reset_caches(self) -> None:
        self._arrays_cache: tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def update(self, predictions: Sequence[AnalogyAnswer], targets: Sequence[Any],
               ids: Sequence[Any] | None = None) -> None:
        if len(predictions) != len(targets):
            raise InputError(f"{len(predictions)} answers for {len(targets)} questions")
        ids = list(ids) if ids is not None else self.default_ids(len(targets))
        rows = []
        for sample_id, answer, target in zip(ids, predictions, targets):
            section_index, section, expected = target
            if not isinstance(answer, AnalogyAnswer):
                raise InputError(f"expected an AnalogyAnswer, got {type(answer).__name__}", record=sample_id)
            rows.append((int(section_index), str(section), str(expected), answer.word, bool(answer.skipped),
                         answer.is_correct(expected)))
        columns = list(zip(*rows)) if rows else [()] * 6
        self.add(ids, **dict(zip(("section_index", "section", "expected", "answer", "skipped", "correct"), columns)))

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(correct, answered, syntactic) per question, built once per state (bootstraps call this often)."""
        if self._arrays_cache is None or self._arrays_cache[0] != self._state.version:
            self._arrays_cache = (self._state.version, (
                self.column("correct"), ~self.column("skipped"),
                np.array([is_syntactic(s) for s in self.column("section")], dtype=bool)))
        return self._arrays_cache[1]

    def score(self) -> dict[str, float]:
        return self.aggregate(None)

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        correct, answered, syntactic = self._arrays()
        split = bool(syntactic.any() and (~syntactic).any())
        if indices is not None:
            correct, answered, syntactic = correct[indices], answered[indices], syntactic[indices]
        n_correct, n_total = int(correct.sum()), int(answered.sum())
        out = {"accuracy": _ratio(n_correct, n_total), "correct": float(n_correct), "total": float(n_total),
               "skipped": float(len(answered) - n_total)}
        if split:
            for key, mask in (("semantic_accuracy", ~syntactic), ("syntactic_accuracy", syntactic)):
                out[key] = _ratio(int(correct[mask].sum()), int(answered[mask].sum()))
        return out

    def extras(self) -> dict[str, Any]:
        """Per-section counts in file order (gensim's ``sections`` list, without the total)."""
        correct, answered, _ = self._arrays()
        names = self._state.shared["section_names"] or []
        by_section: dict[tuple[int, str], list[int]] = {(i, s): [0, 0] for i, s in enumerate(names)}
        for index, section, ok, seen in zip(self.column("section_index").tolist(), self.column("section"), correct,
                                            answered):
            counts = by_section.setdefault((index, section), [0, 0])
            counts[0] += int(ok)
            counts[1] += int(seen)
        return {"sections": [
            {"section": section, "correct": c, "total": t, "accuracy": _ratio(c, t)}
            for (_, section), (c, t) in sorted(by_section.items())
        ]}

    def per_sample(self) -> dict[str, Any]:
        return {"sample_id": self.sample_ids(), **{c: list(self.column(c)) for c in
                                                   ("section", "expected", "answer", "skipped", "correct")}}
