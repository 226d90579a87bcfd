"""Analogy accuracy and chosen answers against gensim 4.4 (called here), on real and generated vectors."""
from __future__ import annotations

import random
import tempfile
from unittest import mock
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import shared_file
from evalkit.api import analogy_accuracy
from evalkit.datasets.analogy import AnalogyQuestions
from evalkit.errors import InputError
from evalkit.metrics.analogy import AnalogyAccuracy
from evalkit.vectors import WordVectors, factored, load_vectors
from evalkit.vectors.engine import AnalogySolver

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
KeyedVectors = gensim_kv.KeyedVectors

REAL = [
    ("euclidean_vectors.bin", "word2vec-binary", {"binary": True}),
    ("lee_fasttext.vec", "fasttext", {}),
    ("word2vec_pre_kv_c", "word2vec", {}),
    ("test_glove.txt", "glove", {"no_header": True}),
]


def gensim_answers(kv, questions_file: Path, restrict_vocab, case_insensitive: bool, cosmul: bool = False):
    """Gensim's chosen answer per in-vocabulary question, with its own search (most_similar / _cosmul).

    The loop mirrors evaluate_word_analogies (which does not return predictions); its counts are
    checked against evaluate_word_analogies itself in the tests.
    """
    norm = (lambda w: w.upper()) if case_insensitive else (lambda w: w)
    ok_keys = kv.index_to_key[:restrict_vocab]
    ok_vocab = {}
    for key in ok_keys:
        ok_vocab.setdefault(norm(key), kv.get_index(key))
    search = kv
    if cosmul:  # gensim's cosmul ignores restrict_vocab: give it the restricted vocabulary only
        search = KeyedVectors(kv.vector_size)
        search.add_vectors(list(ok_keys), kv.vectors[: len(ok_keys)])
    out = []
    for line in questions_file.read_text(encoding="utf-8").splitlines():
        if line.startswith(": ") or len(line.split()) != 4:
            continue
        a, b, c, expected = (norm(w) for w in line.split())
        if any(w not in ok_vocab for w in (a, b, c, expected)):
            out.append(None)
            continue
        original, search.key_to_index = search.key_to_index, ok_vocab
        try:
            if cosmul:
                sims = search.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
            else:
                sims = search.most_similar(positive=[b, c], negative=[a], topn=5, restrict_vocab=restrict_vocab)
        finally:
            search.key_to_index = original
        predicted = None
        for word, _ in sims:
            predicted = norm(word)
            if predicted in ok_vocab and predicted not in {a, b, c}:
                break
        out.append(predicted)
    return out


#: both candidate searches of the engine (``auto`` picks one of them)
SEARCHES = ["gemm", "factored"]


def evalkit_answers(vectors: WordVectors, questions_file: Path, restrict_vocab, case_insensitive, method="3cosadd",
                    search="auto"):
    dataset = AnalogyQuestions(questions_file)
    solver = AnalogySolver(vectors, restrict_vocab, case_insensitive, method, search=search)
    answers = solver.answer([q.words for q in dataset.questions])
    norm = (lambda w: w.upper()) if case_insensitive else (lambda w: w)
    chosen = [None if a.skipped else (norm(a.word) if a.word is not None else None) for a in answers]
    return chosen, answers, dataset, solver


def gensim_totals(kv, questions_file: Path, restrict_vocab, case_insensitive):
    score, sections = kv.evaluate_word_analogies(str(questions_file), restrict_vocab=restrict_vocab,
                                                 case_insensitive=case_insensitive)
    return score, [(s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections]


def metric_of(answers, dataset) -> AnalogyAccuracy:
    metric = AnalogyAccuracy()
    metric.bind(dataset)
    metric.update(answers, [(q.section_index, q.section, q.words[3]) for q in dataset.questions], dataset.sample_ids())
    return metric


def check_against_gensim(kv, vectors, questions_file, restrict_vocab=300000, case_insensitive=True, search="auto"):
    mine, answers, dataset, solver = evalkit_answers(vectors, questions_file, restrict_vocab, case_insensitive,
                                                     search=search)
    theirs = gensim_answers(kv, questions_file, restrict_vocab, case_insensitive)
    assert mine == theirs
    score, sections = gensim_totals(kv, questions_file, restrict_vocab, case_insensitive)
    result = metric_of(answers, dataset).compute()
    assert result["accuracy"] == score
    assert (result["correct"], result["total"]) == sections[-1][1:]
    assert [(s["section"], s["correct"], s["total"]) for s in result["sections"]] == sections[:-1]
    return result, solver


@pytest.mark.parametrize("search", ["auto", "gemm", "factored"])
@pytest.mark.parametrize("name,fmt,kwargs", REAL)
def test_real_vectors_google_and_msr_match_gensim(name, fmt, kwargs, search):
    path = shared_file("analogy", "gensim_test_data", name)
    kv = KeyedVectors.load_word2vec_format(str(path), **kwargs)
    vectors = load_vectors(path, fmt)
    google = shared_file("analogy", "gensim_test_data", "questions-words.txt")
    msr = shared_file("analogy", "word-benchmarks", "derived_msr_in_questions-words_format.txt")
    result, _ = check_against_gensim(kv, vectors, google, search=search)
    check_against_gensim(kv, vectors, msr, search=search)
    expected = {"euclidean_vectors.bin": (1, 409), "lee_fasttext.vec": (3, 98), "word2vec_pre_kv_c": (0, 146),
                "test_glove.txt": (2, 2)}[name]  # SOURCES.md
    assert (result["correct"], result["total"]) == expected


def test_real_vectors_case_sensitive_and_small_restrict_vocab():
    path = shared_file("analogy", "gensim_test_data", "lee_fasttext.vec")
    kv = KeyedVectors.load_word2vec_format(str(path))
    google = shared_file("analogy", "gensim_test_data", "questions-words.txt")
    for search in SEARCHES:
        check_against_gensim(kv, load_vectors(path), google, restrict_vocab=700, case_insensitive=False, search=search)
        check_against_gensim(kv, load_vectors(path), google, restrict_vocab=None, search=search)
    with mock.patch.object(factored, "available", False):  # torch rescoring, the GPU's code path
        check_against_gensim(kv, load_vectors(path), google, restrict_vocab=700, case_insensitive=False)


def test_real_vectors_3cosmul_matches_gensim_most_similar_cosmul():
    path = shared_file("analogy", "gensim_test_data", "euclidean_vectors.bin")
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    google = shared_file("analogy", "gensim_test_data", "questions-words.txt")
    theirs = gensim_answers(kv, google, 2000, True, cosmul=True)
    for search in SEARCHES:
        assert evalkit_answers(load_vectors(path), google, 2000, True, "3cosmul", search)[0] == theirs
    with mock.patch.object(factored, "available", False):  # torch rescoring, the GPU's code path
        assert evalkit_answers(load_vectors(path), google, 2000, True, "3cosmul")[0] == theirs


def test_functional_form_accepts_paths_keyedvectors_and_pairs():
    path = shared_file("analogy", "gensim_test_data", "lee_fasttext.vec")
    google = shared_file("analogy", "gensim_test_data", "questions-words.txt")
    kv = KeyedVectors.load_word2vec_format(str(path))
    score, _ = kv.evaluate_word_analogies(str(google))
    for vectors in (str(path), kv, (kv.index_to_key, kv.vectors)):
        assert analogy_accuracy(vectors, google)["accuracy"] == score
    for search in SEARCHES:
        assert analogy_accuracy(str(path), google, search=search)["accuracy"] == score
    with pytest.raises(InputError, match="search must be one of"):
        analogy_accuracy(str(path), google, search="fast")


# --- generated vocabularies: ties, duplicates, case variants, OOV, tiny vocabularies -----------------

STEMS = ["a", "b", "c", "d", "e", "ab", "ba", "cd", "x"]
words_st = st.lists(st.sampled_from(STEMS).flatmap(lambda s: st.sampled_from([s, s.upper(), s.capitalize()])),
                    min_size=4, max_size=14, unique=True)


@st.composite
def analogy_case(draw):
    words = draw(words_st)
    dim = draw(st.integers(2, 5))
    integer = draw(st.booleans())  # small integers: many exact ties and duplicate vectors
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    matrix = (rng.integers(-2, 3, size=(len(words), dim)) if integer else rng.standard_normal((len(words), dim)))
    matrix = matrix.astype(np.float32)
    matrix[np.all(matrix == 0, axis=1), 0] = 1  # gensim divides by zero norms
    pool = words + ["oov", "Oov"]
    questions = draw(st.lists(st.tuples(*[st.sampled_from(pool)] * 4), min_size=1, max_size=25))
    restrict = draw(st.one_of(st.none(), st.integers(1, len(words) + 2)))
    return words, matrix, questions, restrict, draw(st.booleans())


def write_questions(folder: Path, questions) -> Path:
    path = folder / "q.txt"
    lines = [": first"]
    for i, q in enumerate(questions):
        if i == len(questions) // 2:
            lines.append(": gram-second")
        lines.append(" ".join(q))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
@pytest.mark.parametrize("search", SEARCHES)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(analogy_case())
def test_generated_vocabularies_match_gensim(method, search, case):
    check_generated_case(method, search, case)


def check_generated_case(method, search, case):
    """3CosAdd: answers, accuracy and section totals equal gensim's; 3CosMul: the answers."""
    words, matrix, questions, restrict, case_insensitive = case
    kv = KeyedVectors(matrix.shape[1])
    kv.add_vectors(words, matrix)
    with tempfile.TemporaryDirectory() as folder:
        qfile = write_questions(Path(folder), questions)
        if method == "3cosadd":
            check_against_gensim(kv, WordVectors(words, matrix), qfile, restrict, case_insensitive, search)
        else:
            mine, *_ = evalkit_answers(WordVectors(words, matrix), qfile, restrict, case_insensitive, method, search)
            assert mine == gensim_answers(kv, qfile, restrict, case_insensitive, cosmul=True)


@st.composite
def larger_vocabulary_case(draw):
    """More words than the engine's candidate count, so the bound on the rows it did not nominate decides."""
    n = draw(st.integers(12, 80))
    words = [f"w{i}" if i % 7 else f"W{i // 7}" for i in range(n)]
    dim = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["gaussian", "integer", "few directions"]))
    if kind == "few directions":  # more tied rows than candidates: only the bound on the rest can tell
        pool = rng.integers(-2, 3, size=(draw(st.integers(2, 5)), dim))
        matrix = pool[rng.integers(len(pool), size=n)] * rng.integers(1, 3, size=(n, 1))
    elif kind == "integer":
        matrix = rng.integers(-2, 3, size=(n, dim))
    else:
        matrix = rng.standard_normal((n, dim))
    matrix = matrix.astype(np.float32)
    matrix[np.all(matrix == 0, axis=1), 0] = 1
    questions = [tuple(rng.choice(words, 4)) for _ in range(draw(st.integers(1, 60)))]
    restrict = draw(st.one_of(st.none(), st.integers(1, n + 2)))
    return words, matrix, questions, restrict, draw(st.booleans())


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
@pytest.mark.parametrize("search", SEARCHES)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(larger_vocabulary_case())
def test_larger_generated_vocabularies_match_gensim(search, method, case):
    check_generated_case(method, search, case)


# --- merge, resampling, state ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def euclidean_metric():
    path = shared_file("analogy", "gensim_test_data", "euclidean_vectors.bin")
    google = shared_file("analogy", "gensim_test_data", "questions-words.txt")
    _, answers, dataset, _ = evalkit_answers(load_vectors(path), google, 300000, True)
    return answers, dataset


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_shards_merged_in_any_order_equal_single_pass(euclidean_metric, seed):
    answers, dataset = euclidean_metric
    targets = [(q.section_index, q.section, q.words[3]) for q in dataset.questions]
    ids = dataset.sample_ids()
    single = metric_of(answers, dataset).compute()
    rnd = random.Random(seed)
    cuts = sorted(rnd.sample(range(1, len(ids)), rnd.randint(1, 6)))
    bounds = list(zip([0] + cuts, cuts + [len(ids)]))
    rnd.shuffle(bounds)
    shards = []
    for lo, hi in bounds:
        shard = AnalogyAccuracy()
        shard.bind(dataset)
        shard.update(answers[lo:hi], targets[lo:hi], ids[lo:hi])
        shards.append(shard)
    merged = shards[0]
    for shard in shards[1:]:
        merged.merge(shard)
    assert merged.compute() == single
    restored = AnalogyAccuracy()
    restored.load_state_dict(merged.state_dict())
    assert restored.compute() == single


def test_aggregate_on_a_multiset_counts_repeated_questions(euclidean_metric):
    answers, dataset = euclidean_metric
    metric = metric_of(answers, dataset)
    correct = np.flatnonzero(np.array(metric.per_sample()["correct"]))
    answered = np.flatnonzero(~np.array(metric.per_sample()["skipped"]))
    wrong = np.setdiff1d(answered, correct)
    picked = np.concatenate([correct, correct, wrong[:2]])
    out = metric.aggregate(picked)
    assert (out["correct"], out["total"], out["accuracy"]) == (2 * len(correct), 2 * len(correct) + 2,
                                                              2 * len(correct) / (2 * len(correct) + 2))
    ci = metric.compute(ci=True, n_resamples=50)["ci"]
    assert ci["accuracy"][0] <= metric.aggregate()["accuracy"] <= ci["accuracy"][1]


@pytest.mark.parametrize("search", SEARCHES)
def test_exact_ties_are_settled_as_gensim_breaks_them(search):
    """Duplicate vectors tie exactly: the engine must fall back to gensim's own ordering of ties."""
    rng = np.random.default_rng(7)
    base = rng.standard_normal((6, 3)).astype(np.float32)
    matrix = np.concatenate([base, base, base[:3] * 2])  # rows 6..11 duplicate 0..5; 12..14 are rescaled copies
    words = [f"w{i}" for i in range(len(matrix))]
    kv = KeyedVectors(3)
    kv.add_vectors(words, matrix)
    questions = [tuple(rng.choice(words, 4)) for _ in range(60)]
    with tempfile.TemporaryDirectory() as folder:
        qfile = write_questions(Path(folder), questions)
        _, solver = check_against_gensim(kv, WordVectors(words, matrix), qfile, search=search)
    assert solver.exact_count > 0
