"""The translation loader reads files byte for byte as sacrebleu does, and says which file is wrong."""
from __future__ import annotations

import gzip
import lzma
from pathlib import Path

import pytest
import sacrebleu
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sacrebleu.utils import smart_open

from tests.conftest import REPO, shared_file
from evalkit.datasets.translation import TranslationDataset, read_lines
from evalkit.errors import InputError, MissingResourceError
from evalkit.models.predictions import PredictionsFile
from evalkit.registry import DATASETS, METRICS, MODELS, TASKS

BUNDLED = REPO / "data" / "quickstart" / "wmt17_en_de"

# line separators other than \n, BOM, unicode spaces: the cases where "reading lines" differs between tools
tricky = st.text(st.sampled_from(list("ab é\t\r\n\x0b\x0c\x1c\x85\u2028\u2029\u00a0\u3000\ufeff日")), max_size=40)


def sacrebleu_cli_lines(path: Path) -> list[str]:
    """What ``sacrebleu REF -i HYP`` reads (sacrebleu.py: smart_open, then ``line.rstrip()``)."""
    with smart_open(str(path)) as f:
        return [line.rstrip() for line in f]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tricky)
def test_lines_read_exactly_as_sacrebleu_cli(tmp_path, text):
    data = text.encode("utf-8")
    plain, gz, xz = tmp_path / "f.txt", tmp_path / "f.txt.gz", tmp_path / "f.txt.xz"
    plain.write_bytes(data)
    gz.write_bytes(gzip.compress(data))
    xz.write_bytes(lzma.compress(data))
    expected = sacrebleu_cli_lines(plain)
    assert read_lines(plain) == expected
    assert read_lines(gz) == sacrebleu_cli_lines(gz) == expected
    assert read_lines(xz) == expected


def test_bundled_files_are_the_shared_data_byte_for_byte(shared_data):
    files = sorted(BUNDLED.glob("*.xz"))
    assert len(files) >= 7
    for path in files:
        assert lzma.decompress(path.read_bytes()) == shared_file("wmt17_en_de", path.name[:-3]).read_bytes()


def test_bundled_reference_loads_with_bom_kept():
    dataset = DATASETS.get("translation")(reference_file=str(BUNDLED / "newstest2017-ende-ref.de.xz"))
    assert len(dataset) == 3004 and dataset.sample_ids()[:3] == ["0", "1", "2"]
    batch = next(dataset.batches([5, 0], 2))
    assert batch.ids == ["5", "0"] and batch.inputs == [None, None]
    assert [len(t) for t in batch.targets] == [1, 1] and batch.targets[1][0].startswith("28-jähriger Koch")
    online_a = read_lines(BUNDLED / "newstest2017.online-A.0.en-de.xz")
    assert online_a[0].startswith("\ufeff")
    assert TASKS.get("translation").default_loader == "translation"


@pytest.mark.parametrize("name, benchmark", [
    ("newstest2017-ende-ref.de.xz", "wmt17-en-de"), ("newstest2014-deen-ref.en", "wmt14-de-en"),
    ("newstest2014-ende-ref.de.sgm", "wmt14-en-de"), ("my-refs.de", None), ("newstest2014-ende-ref.des", None)])
def test_wmt_reference_file_names_say_the_benchmark(tmp_path, name, benchmark):
    """WMT's own reference names identify the test set, so a report draws the run on that year's history only."""
    path = tmp_path / name
    path.write_bytes(lzma.compress(b"Eins .\n") if name.endswith(".xz") else b"Eins .\n")
    dataset = TranslationDataset(reference_file=str(path))
    assert dataset.benchmark == benchmark and dataset.describe()["benchmark"] == benchmark


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_source_and_several_references(tmp_path):
    write(tmp_path / "src.en", ["Hello .", "Bye ."])
    write(tmp_path / "r1.de", ["Hallo .", "Tschüss ."])
    write(tmp_path / "r2.de", ["Hi .", "Ciao ."])
    dataset = TranslationDataset(root=tmp_path, source_file="src.en", reference_files=["r1.de", "r2.de"])
    batch = next(dataset.batches([0, 1], 8, transform=str.upper))
    assert batch.inputs == ["HELLO .", "BYE ."]
    assert batch.targets == [["Hallo .", "Hi ."], ["Tschüss .", "Ciao ."]]
    assert dataset.describe()["reference_files"] == [str((tmp_path / n).resolve()) for n in ("r1.de", "r2.de")]


def test_line_count_mismatch_names_the_files(tmp_path):
    write(tmp_path / "src.en", ["a", "b", "c"])
    write(tmp_path / "ref.de", ["a", "b"])
    with pytest.raises(InputError, match="line counts differ") as err:
        TranslationDataset(source_file=str(tmp_path / "src.en"), reference_file=str(tmp_path / "ref.de"))
    assert "src.en has 3" in str(err.value) and "ref.de has 2" in str(err.value)


def test_undecodable_bytes_name_file_and_line(tmp_path):
    bad = tmp_path / "ref.de"
    bad.write_bytes(b"ok\nstill ok\nbad \xff byte\n")
    with pytest.raises(InputError, match="line 3") as err:
        TranslationDataset(reference_file=str(bad))
    assert str(bad) in str(err.value)


def test_missing_files_and_options(tmp_path):
    with pytest.raises(MissingResourceError, match="nope.de"):
        TranslationDataset(reference_file=str(tmp_path / "nope.de"))
    with pytest.raises(InputError, match="reference_file"):
        TranslationDataset()
    with pytest.raises(InputError, match="langpair"):
        TranslationDataset(testset="wmt17")


def test_sacrebleu_testset_from_local_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SACREBLEU", str(tmp_path))
    with pytest.raises(MissingResourceError, match=r"sacrebleu -t wmt17 -l en-de --echo src") as err:
        TranslationDataset(testset="wmt17", langpair="en-de")
    assert str(tmp_path / "wmt17" / "wmt17.en-de.src") in str(err.value)
    (tmp_path / "wmt17").mkdir()
    write(tmp_path / "wmt17" / "wmt17.en-de.src", ["One .", "Two ."])
    write(tmp_path / "wmt17" / "wmt17.en-de.ref", ["Eins .", "Zwei ."])
    dataset = TranslationDataset(testset="wmt17", langpair="en-de")
    assert next(dataset.batches([0, 1], 2)).targets == [["Eins ."], ["Zwei ."]]
    assert dataset.describe()["benchmark"] == "wmt17-en-de"
    with pytest.raises(InputError, match="language pair"):
        TranslationDataset(testset="wmt17", langpair="xx-yy")


def test_prediction_file_feeds_the_metric_in_dataset_order(tmp_path):
    write(tmp_path / "ref.de", ["der Hund bellt", "die Katze", "ein Haus"])
    write(tmp_path / "hyp.de", ["der Hund bellt laut", "die Katze", "Haus"])
    dataset = TranslationDataset(reference_file=str(tmp_path / "ref.de"))
    adapter = MODELS.get("predictions")(path=str(tmp_path / "hyp.de"))
    adapter.bind(dataset, "translation")
    metric = METRICS.get("bleu")()
    for batch in dataset.batches(dataset.select(), 2):
        metric.update(adapter.predict(batch), batch.targets, batch.ids)
    expected = sacrebleu.corpus_bleu(["der Hund bellt laut", "die Katze", "Haus"],
                                     [["der Hund bellt", "die Katze", "ein Haus"]]).score
    assert metric.compute()["BLEU"] == expected
    assert metric.sample_ids() == ["0", "1", "2"]


def test_prediction_file_with_the_wrong_line_count_is_an_input_error(tmp_path):
    write(tmp_path / "ref.de", ["a", "b"])
    dataset = TranslationDataset(reference_file=str(tmp_path / "ref.de"))
    longer = PredictionsFile(path=str(write(tmp_path / "long.de", ["a", "b", "c"])))
    with pytest.raises(InputError, match="long.de"):
        longer.bind(dataset, "translation")
    shorter = PredictionsFile(path=str(write(tmp_path / "short.de", ["a"])))
    shorter.bind(dataset, "translation")
    with pytest.raises(InputError, match="short.de"):
        shorter.predict(next(dataset.batches([0, 1], 2)))


def test_wmt17_suite_runs_end_to_end(tmp_path):
    import json
    import os
    import subprocess
    import sys

    suite = REPO / "suites" / "wmt17_en_de.yaml"
    done = subprocess.run([sys.executable, "-m", "evalkit", "run", str(suite), "--limit", "150", "--model", "uedin-nmt",
                           "--model", "online-A", "--output-dir", str(tmp_path), "--no-progress"],
                          capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert done.returncode == 0, done.stderr
    records = {r["model"]["label"]: r for r in (json.loads(p.read_text()) for p in tmp_path.glob("*.json"))}
    assert set(records) == {"uedin-nmt", "online-A"}
    refs = [read_lines(BUNDLED / "newstest2017-ende-ref.de.xz")[:150]]
    for label, system in (("uedin-nmt", "uedin-nmt.4722"), ("online-A", "online-A.0")):
        hyps = read_lines(BUNDLED / f"newstest2017.{system}.en-de.xz")[:150]
        assert records[label]["metrics"]["BLEU"] == sacrebleu.corpus_bleu(hyps, refs).score
        assert records[label]["metrics"]["chrF"] == sacrebleu.corpus_chrf(hyps, refs).score
        assert records[label]["details"]["bleu"]["signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp")
