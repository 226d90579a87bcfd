"""Word-analogy accuracy as gensim's ``KeyedVectors.evaluate_word_analogies`` reports it.

The model adapter does the search (3CosAdd / 3CosMul) and answers each question
with an :class:`AnalogyAnswer`; this metric only counts. As in gensim, questions
with an out-of-vocabulary word are skipped (not counted in ``total``), an empty
selection scores 0.0, and ``sections`` lists every section of the file in order.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from evalkit.datasets.analogy import is_syntactic
from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.registry import METRICS
from evalkit.vectors.engine import AnalogyAnswer

_COLUMNS = ("ids", "section_index", "section", "expected", "answer", "skipped", "correct")


def _ratio(correct: int, total: int) -> float:
    """gensim's section score: 0.0 when nothing was answered."""
    return correct / total if total else 0.0


@METRICS.register("analogy")
class AnalogyAccuracy(Metric):
    """Accuracy over answered questions, with the Google set's semantic / syntactic split.

    State: per question its section, expected word, chosen word, skipped and correct flags.
    """

    name = "analogy"
    main_key = "accuracy"

    def reset(self) -> None:
        self._state: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._section_names: list[str] = getattr(self, "_section_names", [])

    def bind(self, dataset: Any) -> None:
        """Remember every section of the questions file, so that empty ones are listed as gensim lists them."""
        self._section_names = list(getattr(dataset, "section_names", []))

    def update(self, predictions: Sequence[AnalogyAnswer], targets: Sequence[Any],
               ids: Sequence[Any] | None = None) -> None:
        if len(predictions) != len(targets):
            raise InputError(f"{len(predictions)} answers for {len(targets)} questions")
        ids = list(ids) if ids is not None else list(range(self.num_samples(), self.num_samples() + len(targets)))
        for sample_id, answer, target in zip(ids, predictions, targets):
            section_index, section, expected = target
            if not isinstance(answer, AnalogyAnswer):
                raise InputError(f"expected an AnalogyAnswer, got {type(answer).__name__}", record=sample_id)
            row = (sample_id, int(section_index), str(section), str(expected), answer.word, bool(answer.skipped),
                   answer.is_correct(expected))
            for column, value in zip(_COLUMNS, row):
                self._state[column].append(value)
        self._cache = None

    def merge(self, other: Metric) -> None:
        if not isinstance(other, AnalogyAccuracy):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        for column in _COLUMNS:
            self._state[column].extend(other._state[column])
        self._section_names = self._section_names or list(other._section_names)
        self._cache = None

    def num_samples(self) -> int:
        return len(self._state["ids"])

    def sample_ids(self) -> list[Any]:
        return list(self._state["ids"])

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(correct, answered, syntactic) per question, built once per state (bootstraps call this often)."""
        if self._cache is None:
            self._cache = (np.array(self._state["correct"], dtype=bool),
                           ~np.array(self._state["skipped"], dtype=bool),
                           np.array([is_syntactic(s) for s in self._state["section"]], dtype=bool))
        return self._cache

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
        by_section: dict[tuple[int, str], list[int]] = {(i, s): [0, 0] for i, s in enumerate(self._section_names)}
        for index, section, ok, seen in zip(self._state["section_index"], self._state["section"], correct, answered):
            counts = by_section.setdefault((index, section), [0, 0])
            counts[0] += int(ok)
            counts[1] += int(seen)
        return {"sections": [
            {"section": section, "correct": c, "total": t, "accuracy": _ratio(c, t)}
            for (_, section), (c, t) in sorted(by_section.items())
        ]}

    def per_sample(self) -> dict[str, Any]:
        return {"sample_id": [str(i) for i in self._state["ids"]], "section": list(self._state["section"]),
                "expected": list(self._state["expected"]), "answer": list(self._state["answer"]),
                "skipped": list(self._state["skipped"]), "correct": list(self._state["correct"])}

    def state_dict(self) -> dict[str, Any]:
        return {**{c: list(v) for c, v in self._state.items()}, "section_names": list(self._section_names)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = [c for c in _COLUMNS if c not in state]
        if missing:
            raise InputError(f"analogy state lacks {', '.join(missing)}", field=missing[0])
        self._state = {c: list(state[c]) for c in _COLUMNS}
        self._section_names = list(state.get("section_names", []))
        self._cache = None


def analogy_accuracy(vectors: Any, questions: Any = None, restrict_vocab: int | None = 300000,
                     case_insensitive: bool = True, method: str = "3cosadd", device: str = "cpu",
                     vectors_format: str | None = None, search: str = "auto") -> dict[str, Any]:
    """Functional form: gensim's ``evaluate_word_analogies`` numbers for one set of vectors.

    ``vectors``: a file path, a gensim ``KeyedVectors``, a :class:`WordVectors` or a ``(words, matrix)`` pair;
    ``questions``: a questions-words.txt path, vecto CSV or BATS folder (default: gensim's questions-words.txt).
    """
    from evalkit.datasets.analogy import AnalogyQuestions
    from evalkit.vectors import as_word_vectors
    from evalkit.vectors.engine import AnalogySolver

    solver = AnalogySolver(as_word_vectors(vectors, vectors_format), restrict_vocab, case_insensitive, method, device,
                           search=search)
    dataset = AnalogyQuestions(questions)
    metric = AnalogyAccuracy()
    metric.bind(dataset)
    metric.update(solver.answer([q.words for q in dataset.questions]),
                  [(q.section_index, q.section, q.words[3]) for q in dataset.questions], dataset.sample_ids())
    return metric.compute()
