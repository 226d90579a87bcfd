"""Analogy question files parsed as gensim parses them; BATS folders and vecto CSVs converted."""
from __future__ import annotations

import pytest

from tests.conftest import shared_file
from evalkit.datasets.analogy import AnalogyQuestions
from evalkit.errors import InputError
from evalkit.registry import DATASETS, TASKS


def test_google_file_sections_and_counts():
    data = DATASETS.get("analogy")(shared_file("analogy", "gensim_test_data", "questions-words.txt"))
    assert len(data) == 19544  # SOURCES.md
    assert len(data.section_names) == 14 and data.section_names[0] == "capital-common-countries"
    semantic = sum(1 for q in data.questions if not q.section.startswith("gram"))
    assert (semantic, len(data) - semantic) == (8869, 10675)  # SOURCES.md
    assert TASKS.get("analogy").default_loader == "analogy"


def test_default_is_gensims_copy():
    assert len(AnalogyQuestions()) == 19544


def test_invalid_lines_are_skipped_and_a_headerless_question_is_an_error(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": one\na b c d\n\na b c\n: two\ne f g h\n", encoding="utf-8")
    data = AnalogyQuestions(path)
    assert [q.words for q in data.questions] == [("a", "b", "c", "d"), ("e", "f", "g", "h")]
    assert data.invalid_lines == [3, 4] and data.sample_ids() == ["2", "6"]
    path.write_text("a b c d\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        AnalogyQuestions(path)
    assert (err.value.file, err.value.record, err.value.field) == (path, 1, "section")


def test_bats_folder_becomes_questions_over_pairs_of_pairs():
    folder = shared_file("analogy", "bats_sample")
    data = AnalogyQuestions(folder)
    assert data.section_names == ["I01 [noun - plural_reg]", "I02 [noun - plural_irreg]"]
    assert len(data) == 17 * 16 + 13 * 12  # SOURCES.md: 17 and 13 pairs
    assert data.questions[0].words[:2] == ("album", "albums")


def test_msr_csv_equals_the_derived_questions_file():
    csv = AnalogyQuestions(shared_file("analogy", "word-benchmarks", "msr.csv"))
    txt = AnalogyQuestions(shared_file("analogy", "word-benchmarks", "derived_msr_in_questions-words_format.txt"))
    assert len(csv) == 8000
    assert sorted((q.section, q.words) for q in csv.questions) == sorted((q.section, q.words) for q in txt.questions)


def test_bad_bats_line_names_file_and_line(tmp_path):
    (tmp_path / "cat.txt").write_text("a\tb\nlonely\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        AnalogyQuestions(tmp_path)
    assert (err.value.record, err.value.field) == (2, "answer")
