"""WikiText as lm-eval reads it (document split, detokeniser) on files in the exact raw format; text/JSONL corpora;
bad input: non-UTF-8 text, missing data, GGUF files of an unsupported architecture or quantisation."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.datasets.text import TextCorpusLoader, WikiTextLoader
from evalkit.errors import InputError, MissingResourceError
from evalkit.lmtypes import split_wikitext_documents, wikitext_detokenize

RAW = (" \n = Robert Boulter = \n \n Robert Boulter is an English film , television and theatre actor . He had a "
       "guest @-@ starring role in 2000 . \n \n = = Career = = \n \n In 2006 , Boulter 's play ( Citizenship ) "
       "ran 1 @,@ 000 nights . \n \n = Du Fu = \n \n Du Fu ( 712 – 770 ) was a prominent Chinese poet . \n \n")


def dataset_script_pages(text: str) -> list[str]:
    """EleutherAI/wikitext_document_level's _generate_examples, as published (the oracle)."""
    out, ret = [], []
    data = text.split("\n")
    for line in data:
        rline = line.replace("= = =", "===").replace("= =", "==").strip()
        if rline.startswith("= ") and rline.strip().endswith(" ="):
            page = "\n".join(ret)
            if page.strip():
                out.append(page)
            ret = []
        ret.append(line)
    out.append("\n".join(ret))
    return out


def test_wikitext_raw_file_split_and_detokenised_as_lm_eval(tmp_path):
    (tmp_path / "wiki.test.raw").write_text(RAW, encoding="utf-8")
    loader = WikiTextLoader(str(tmp_path))
    pages = dataset_script_pages(RAW)
    assert len(pages) == 2 and [d.original for d in loader.documents] == pages
    assert [d.text for d in loader.documents] == [wikitext_detokenize(p) for p in pages]
    text = loader.documents[0].text
    assert "guest-starring" in text and "== Career ==" in text and "Boulter's play (Citizenship)" in text
    assert "1,000 nights." in text and loader.documents[1].text.startswith(" = Du Fu =\n\nDu Fu (712 – 770)")
    assert loader.sample_ids() == ["test-00000", "test-00001"]
    assert loader.describe()["benchmark"] == "wikitext"  # WikiText-2 and -103 share their test set
    (tmp_path / "wiki.valid.raw").write_text(RAW, encoding="utf-8")
    assert WikiTextLoader(str(tmp_path), split="valid").benchmark is None
    # the strided corpus: the line-level dataset's rows (blank lines as ""), every row once, in order
    rows = [u for _, units in loader.strided_corpus() for u in units]
    assert rows == [line + "\n" if line.strip() else "" for line in RAW.split("\n")[:-1]]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["", " ", " = A = ", " = = B = = ", " = = = C = = = ", "text .", "=", " = x", "x = "]),
                max_size=30))
def test_generated_files_split_as_the_dataset_script_does(lines):
    raw = "\n".join(lines)
    assert split_wikitext_documents(raw) == dataset_script_pages(raw)


def test_wikitext_crlf_compressed_and_parquet_copies_give_the_same_documents(tmp_path):
    import lzma

    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "wiki.valid.raw").write_bytes(RAW.replace("\n", "\r\n").encode())
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "wiki.test.raw.xz").write_bytes(lzma.compress(RAW.encode()))
    pages = dataset_script_pages(RAW)
    (tmp_path / "c" / "wikitext-2-raw-v1").mkdir(parents=True)
    pq.write_table(pa.table({"page": pages}), tmp_path / "c" / "wikitext-2-raw-v1" / "test-00000-of-00001.parquet")
    (tmp_path / "d").mkdir()
    rows = [line + "\n" if line.strip() else "" for line in RAW.split("\n")[:-1]]
    pq.write_table(pa.table({"text": rows}), tmp_path / "d" / "test-00000-of-00001.parquet")
    for root, split in [("a", "validation"), ("b", "test"), ("c", "test"), ("d", "test")]:
        loader = WikiTextLoader(str(tmp_path / root), split=split)
        assert [d.original for d in loader.documents] == pages, root


def test_text_and_jsonl_corpora(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps({"body": t}) for t in ["one doc", "", "two\nlines"]) + "\n")
    loader = TextCorpusLoader(str(path), text_field="body")
    assert [d.text for d in loader.documents] == ["one doc", "", "two\nlines"]
    assert loader.describe()["empty_documents"] == 1  # kept and counted, as lm-eval keeps them
    txt = tmp_path / "c.txt"
    txt.write_text("para one\nline two\n\n\npara two\n")
    assert [d.text for d in TextCorpusLoader(str(txt)).documents] == ["para one\nline two", "para two"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"txt": "no"}\n')
    with pytest.raises(InputError, match="line 2"):
        TextCorpusLoader(str(bad))


def test_text_that_is_not_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("fine\nstill fine\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(InputError) as err:
        TextCorpusLoader(str(path))
    assert "latin1.txt" in str(err.value) and "line 3" in str(err.value)
    (tmp_path / "wiki.test.raw").write_bytes(b" = A = \n \xff\n")
    with pytest.raises(InputError, match="line 2"):
        WikiTextLoader(str(tmp_path))


def test_missing_wikitext_says_where_to_put_what(tmp_path):
    with pytest.raises(MissingResourceError) as err:
        WikiTextLoader(str(tmp_path / "nothing"))
    assert "wiki.test.raw" in str(err.value) and "never downloads" in str(err.value)
    with pytest.raises(MissingResourceError, match="parquet"):
        WikiTextLoader(str(tmp_path))


def _gguf(path, arch: str, dtype: str) -> None:
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), arch)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=dtype))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_gguf_of_an_unsupported_architecture_or_quantisation_names_file_and_what_is_supported(tmp_path):
    pytest.importorskip("gguf")
    from evalkit.models.causal_lm import check_gguf

    _gguf(tmp_path / "rwkv.gguf", "rwkv-unknown", "float32")
    with pytest.raises(InputError) as err:
        check_gguf(tmp_path / "rwkv.gguf")
    assert "rwkv.gguf" in str(err.value) and "rwkv-unknown" in str(err.value) and "llama" in str(err.value)
    _gguf(tmp_path / "i8.gguf", "llama", "int8")
    with pytest.raises(InputError) as err:
        check_gguf(tmp_path / "i8.gguf")
    assert "i8.gguf" in str(err.value) and "I8" in str(err.value) and "Q4_1" in str(err.value)
    assert check_gguf_ok(tmp_path)


def check_gguf_ok(tmp_path) -> bool:
    from evalkit.models.causal_lm import check_gguf

    _gguf(tmp_path / "ok.gguf", "llama", "float32")
    return check_gguf(tmp_path / "ok.gguf")["architecture"] == "llama"
