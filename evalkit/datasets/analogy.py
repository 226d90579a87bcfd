"""Analogy questions: questions-words.txt files (Google, MSR), vecto CSVs, and BATS folders of word pairs.

Parsing follows gensim's ``evaluate_word_analogies``: ``: NAME`` lines open a section,
lines that do not split into exactly four words are skipped (and counted here),
and a question before any section header is an error.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from evalkit.datasets.base import DatasetLoader
from evalkit.errors import InputError, MissingResourceError
from evalkit.registry import DATASETS


@dataclass(frozen=True)
class Question:
    """One ``a : b :: c : ?`` question; ``section_index`` orders sections as the file does."""

    id: str
    section_index: int
    section: str
    words: tuple[str, str, str, str]


@dataclass
class QuestionSet:
    questions: list[Question]
    #: every section header in file order, empty sections included (gensim lists those too)
    sections: list[str]
    #: line numbers of lines gensim skips (not four words)
    invalid_lines: list[int]


def default_questions_file() -> Path:
    """The questions-words.txt gensim ships (the file ``evaluate_word_analogies`` examples use)."""
    try:
        from gensim.test.utils import datapath
    except ImportError:
        raise MissingResourceError("no questions file given and gensim (which ships questions-words.txt) "
                                   "is not installed; pass the file's path") from None
    return Path(datapath("questions-words.txt"))


def read_questions_words(path: Path) -> QuestionSet:
    """Questions of a questions-words.txt file, its sections and the line numbers of the lines gensim skips."""
    questions: list[Question] = []
    invalid: list[int] = []
    names: list[str] = []
    section: str | None = None
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise InputError(f"not UTF-8 ({err.reason})", file=path, record=line_no) from None
            if line.startswith(": "):
                section = line.lstrip(": ").strip()
                names.append(section)
                continue
            if section is None:
                raise InputError("question before the first ': SECTION' header", file=path, record=line_no,
                                 field="section")
            words = line.split()
            if len(words) != 4:
                invalid.append(line_no)
                continue
            questions.append(Question(str(line_no), len(names) - 1, section, tuple(words)))  # type: ignore[arg-type]
    return QuestionSet(questions, names, invalid)


def read_vecto_csv(path: Path) -> QuestionSet:
    """vecto word-benchmarks CSV (``,type,word1,word2,word3,target``), one section per ``type``."""
    questions: list[Question] = []
    order: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for record, row in enumerate(reader, start=2):
            try:
                words = tuple(row[k].strip() for k in ("word1", "word2", "word3", "target"))
                section = row["type"].strip()
            except (KeyError, AttributeError):
                missing = [k for k in ("type", "word1", "word2", "word3", "target") if not row.get(k)]
                raise InputError("expected columns type, word1, word2, word3, target", file=path, record=record,
                                 field=missing[0] if missing else None) from None
            index = order.setdefault(section, len(order))
            questions.append(Question(str(record), index, section, words))  # type: ignore[arg-type]
    return QuestionSet(questions, list(order), [])


def read_bats_folder(path: Path) -> QuestionSet:
    """BATS categories (``word<TAB>answer1/answer2`` files) as questions over every ordered pair of pairs.

    Each pair (a, b) with another pair (c, d) of the same category gives ``a b c d``;
    only the first listed answer is used, as questions-words.txt has one answer per question.
    """
    questions: list[Question] = []
    files = sorted(p for p in path.rglob("*.txt") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise MissingResourceError(f"no BATS category files (*.txt) under {path.resolve()}")
    for index, file in enumerate(files):
        pairs = []
        with open(file, encoding="utf-8") as f:
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                parts = line.split("\t") if "\t" in line else line.split()
                answers = [a for a in parts[1].strip().split("/") if a] if len(parts) == 2 else []
                if not parts[0].strip() or not answers:
                    raise InputError("expected 'word<TAB>answer[/answer…]'", file=file, record=line_no,
                                     field="answer")
                pairs.append((parts[0].strip(), answers[0]))
        for i, (a, b) in enumerate(pairs):
            for j, (c, d) in enumerate(pairs):
                if i != j:
                    questions.append(Question(f"{file.stem}/{i}/{j}", index, file.stem, (a, b, c, d)))
    return QuestionSet(questions, [f.stem for f in files], [])


def read_questions(path: Path) -> QuestionSet:
    """Dispatch on what ``path`` is: a BATS folder, a vecto CSV, or a questions-words.txt file."""
    if path.is_dir():
        return read_bats_folder(path)
    reader: Callable[[Path], QuestionSet] = (
        read_vecto_csv if path.suffix.lower() == ".csv" else read_questions_words
    )
    return reader(path)


@DATASETS.register("analogy")
class AnalogyQuestions(DatasetLoader):
    """Analogy questions; ``root`` is a questions file, a vecto CSV or a BATS folder (default: gensim's copy).

    Each sample's input is the question's four words as written (the fourth decides, as in
    gensim, whether a question is out of vocabulary); its target is ``(section_index, section, answer)``.
    """

    name = "analogy"
    task = "analogy"

    def __init__(self, root: str | Path | None = None, **options: Any):
        path = Path(root).expanduser() if root is not None else default_questions_file()
        super().__init__(path, **options)
        self.require_root("a questions-words.txt file, a vecto CSV or a BATS folder")
        parsed = read_questions(path)
        self.questions, self.section_names, self.invalid_lines = parsed.questions, parsed.sections, parsed.invalid_lines
        if not self.questions:  # gensim would report 0.0 over 0 questions: a number that means nothing
            raise InputError(f"no analogy questions ({len(self.invalid_lines)} lines are not 4 words and were skipped, "
                             "as gensim skips them)", file=self.root, record=f"line {self.invalid_lines[0]}"
                             if self.invalid_lines else None)
        self._ids = [q.id for q in self.questions]

    def sample_ids(self) -> list[str]:
        return self._ids

    def item(self, index: int, transform: Callable | None) -> tuple[Any, Any]:
        q = self.questions[index]
        return q.words, (q.section_index, q.section, q.words[3])

    def dataset_meta(self) -> dict[str, Any]:
        return {"section_names": list(self.section_names)}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "sections": len(self.section_names), "invalid_lines": len(self.invalid_lines)}
