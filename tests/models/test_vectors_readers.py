"""Vector readers equal gensim's load_word2vec_format bit for bit; malformed files name file, line and field."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from tests.conftest import shared_file
from evalkit.datasets.base import Batch
from evalkit.errors import InputError
from evalkit.registry import MODELS
from evalkit.vectors import load_vectors

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")

REAL = [("euclidean_vectors.bin", "word2vec-binary", {"binary": True}), ("lee_fasttext.vec", "fasttext", {}),
        ("word2vec_pre_kv_c", "word2vec", {}), ("test_glove.txt", "glove", {"no_header": True})]


@pytest.mark.parametrize("name,fmt,kwargs", REAL)
@pytest.mark.parametrize("limit", [None, 7])
def test_readers_equal_gensim(name, fmt, kwargs, limit):
    path = shared_file("analogy", "gensim_test_data", name)
    kv = gensim_kv.KeyedVectors.load_word2vec_format(str(path), limit=limit, **kwargs)
    vectors = load_vectors(path, fmt, limit)
    assert vectors.words == kv.index_to_key
    assert vectors.matrix.dtype == np.float32 and vectors.matrix.flags.c_contiguous
    assert np.array_equal(vectors.matrix, kv.vectors)
    assert load_vectors(path, None, limit).words == vectors.words  # format guessed from name / header


def write_binary(path, entries, header=None, newline=b""):
    dim = len(entries[0][1])
    with open(path, "wb") as f:
        f.write(header if header is not None else f"{len(entries)} {dim}\n".encode())
        for word, values in entries:
            f.write(word.encode() + b" " + struct.pack(f"<{dim}f", *values) + newline)


@pytest.mark.parametrize("newline", [b"", b"\n"])
def test_binary_duplicates_and_newlines_as_gensim(tmp_path, newline):
    path = tmp_path / "v.bin"
    write_binary(path, [("a", [1, 2]), ("b", [3, 4]), ("a", [5, 6]), ("Ä", [7, 8])], newline=newline)
    kv = gensim_kv.KeyedVectors.load_word2vec_format(str(path), binary=True)
    vectors = load_vectors(path, "word2vec-binary")
    # gensim keeps a trailing None slot for the dropped duplicate; the rows it holds are the same
    assert vectors.words == [w for w in kv.index_to_key if w is not None] == ["a", "b", "Ä"]
    assert np.array_equal(vectors.matrix, kv.vectors[:3])


def test_keyedvectors_file(tmp_path):
    path = shared_file("analogy", "gensim_test_data", "lee_fasttext.vec")
    kv = gensim_kv.KeyedVectors.load_word2vec_format(str(path))
    kv.save(str(tmp_path / "lee.kv"))
    with pytest.raises(InputError, match="allow_pickle"):
        load_vectors(tmp_path / "lee.kv")  # a pickle: refused unless trusted
    vectors = load_vectors(tmp_path / "lee.kv", allow_pickle=True)
    assert vectors.words == kv.index_to_key and np.array_equal(vectors.matrix, kv.vectors)


@pytest.mark.parametrize("content,fmt,record,field", [
    (b"3 two\n", "word2vec", 1, "header"),
    (b"2 3\na 1 2 3\nb 1 x 3\n", "word2vec", 3, "vector"),
    (b"2 3\na 1 2 3\nb 1 2\n", "word2vec", 3, "vector"),
    (b"3 3\na 1 2 3\nb 1 2 3\n", "word2vec", 4, None),
    (b"a 1 2 3\nb 1 2\n", "glove", 2, "vector"),
    (b"a 1 2\n\xff 1 2\n", "glove", 2, "word"),
])
def test_malformed_text_files_name_file_line_field(tmp_path, content, fmt, record, field):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_vectors(path, fmt)
    assert (err.value.file, err.value.record, err.value.field) == (path, record, field)
    assert str(path) in str(err.value)


def test_truncated_binary_names_the_entry(tmp_path):
    path = tmp_path / "v.bin"
    write_binary(path, [("a", [1, 2]), ("b", [3, 4])], header=b"3 2\n")
    with pytest.raises(InputError) as err:
        load_vectors(path, "word2vec-binary")
    assert (err.value.record, err.value.field) == (4, "word")
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(InputError) as err:
        load_vectors(path, "word2vec-binary")
    assert (err.value.record, err.value.field) == (3, "vector")


@pytest.mark.parametrize("adapter,name", [("word2vec", "euclidean_vectors.bin"), ("fasttext", "lee_fasttext.vec"),
                                           ("glove", "test_glove.txt")])
def test_adapters_answer_batches(adapter, name):
    path = shared_file("analogy", "gensim_test_data", name)
    model = MODELS.get(adapter)(path=str(path))
    model.load("cpu")
    a, b, c, d = model.vectors.words[:4]
    questions = [(a, b, c, d), ("nosuchword", b, c, d)]
    answers = model.predict(Batch(["1", "2"], questions, None))
    assert [a.skipped for a in answers] == [False, True]
    assert answers[0].word in model.vectors.words
    assert model.describe()["vocabulary"] == len(model.vectors)


def test_binary_reader_peak_memory_is_about_the_matrix(tmp_path):
    """Issue 4: a word2vec binary loads into one preallocated matrix (peak well under 1.5× its size)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n, dim = 40_000, 100
    matrix = rng.standard_normal((n, dim)).astype("<f4")
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.write(f"{n} {dim}\n".encode())
        for i in range(n):
            f.write(f"w{i} ".encode() + matrix[i].tobytes())
    tracemalloc.start()
    vectors = load_vectors(path, "word2vec-binary")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.array_equal(vectors.matrix, matrix)
    assert peak < 1.5 * matrix.nbytes
