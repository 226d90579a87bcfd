"""``evalkit score bleu`` against sacrebleu's API and paired test, in-process and through the CLI."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sacrebleu
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from tests.conftest import REPO, shared_file
from evalkit.datasets.translation import read_lines
from evalkit.errors import InputError
from evalkit.registry import SCORERS

N = 200
SYSTEMS = ("uedin-nmt.4722", "LMU-nmt-reranked.4934", "LMU-nmt-single.4893")


def namespace(**kw) -> argparse.Namespace:
    defaults = dict(ref=[], hyp=[], testset=None, langpair=None, metrics="bleu", tokenize=None, lowercase=False,
                    paired=False, json=True, ci=False, n_resamples=1000, seed=12345)
    return argparse.Namespace(**{**defaults, **kw})


@pytest.fixture(scope="module")
def wmt_files(tmp_path_factory, shared_data) -> tuple[Path, list[Path]]:
    """The first N lines of the WMT17 reference and three systems (small, so the paired test is quick)."""
    folder = tmp_path_factory.mktemp("wmt")
    ref = folder / "ref.de"
    ref.write_text("".join(line + "\n" for line in read_lines(shared_file("wmt17_en_de", "newstest2017-ende-ref.de"))[:N]),
                   encoding="utf-8")
    hyps = []
    for name in SYSTEMS:
        lines = read_lines(shared_file("wmt17_en_de", f"newstest2017.{name}.en-de"))[:N]
        hyps.append(folder / f"{name}.de")
        hyps[-1].write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return ref, hyps


def test_rows_and_paired_test_equal_sacrebleu(wmt_files):
    ref, hyps = wmt_files
    rows = SCORERS.get("bleu")().score(namespace(ref=[str(ref)], hyp=[str(h) for h in hyps], paired=True,
                                                  metrics="bleu,chrf"))
    refs = [read_lines(ref)]
    systems = [read_lines(h) for h in hyps]
    for row, hyp in zip(rows, systems):
        assert row["BLEU"] == sacrebleu.corpus_bleu(hyp, refs).score
        assert row["chrF"] == sacrebleu.corpus_chrf(hyp, refs).score
        assert row["signatures"]["bleu"] == str(BLEU(references=refs).get_signature())
    _, scores = PairedTest([(str(h), s) for h, s in zip(hyps, systems)],
                           {"BLEU": BLEU(references=refs), "chrF": CHRF(references=refs)}, references=None,
                           test_type="bs", n_samples=1000)()
    bleu_key = next(k for k in scores if k.startswith("BLEU"))
    chrf_key = next(k for k in scores if k.startswith("chrF"))
    assert rows[0]["paired"] == "baseline"
    for row, b, c in zip(rows[1:], scores[bleu_key][1:], scores[chrf_key][1:]):
        assert row["BLEU_p"] == b.p_value and row["chrF_p"] == c.p_value
        assert row["paired"]["BLEU"]["system_mean"] == b.mean and row["paired"]["BLEU"]["system_ci"] == b.ci
        assert row["BLEU_diff"] == b.score - scores[bleu_key][0].score
        assert row["BLEU_diff_ci"][0] < row["BLEU_diff"] < row["BLEU_diff_ci"][1]


def test_two_references_tokenizer_and_ci(wmt_files):
    ref, hyps = wmt_files
    other = read_lines(hyps[2])
    row, = SCORERS.get("bleu")().score(namespace(ref=[str(ref), str(hyps[2])], hyp=[str(hyps[0])], tokenize="intl",
                                                  lowercase=True, ci=True, n_resamples=200))
    expected = sacrebleu.corpus_bleu(read_lines(hyps[0]), [read_lines(ref), other], tokenize="intl", lowercase=True)
    assert row["BLEU"] == expected.score
    assert row["signature"].startswith("nrefs:2|case:lc|") and "tok:intl" in row["signature"]
    low, high = row["BLEU_ci"]
    assert low < row["BLEU"] < high


def test_bad_inputs_raise_input_errors(tmp_path, wmt_files):
    ref, hyps = wmt_files
    short = tmp_path / "short.de"
    short.write_text("one line\n", encoding="utf-8")
    scorer = SCORERS.get("bleu")()
    with pytest.raises(InputError, match="short.de"):
        scorer.score(namespace(ref=[str(ref)], hyp=[str(short)]))
    with pytest.raises(InputError, match="line counts differ"):
        scorer.score(namespace(ref=[str(ref), str(short)], hyp=[str(hyps[0])]))
    with pytest.raises(InputError, match="--paired"):
        scorer.score(namespace(ref=[str(ref)], hyp=[str(hyps[0])], paired=True))
    with pytest.raises(InputError, match="metrics"):
        scorer.score(namespace(ref=[str(ref)], hyp=[str(hyps[0])], metrics="bleu,meteor"))
    with pytest.raises(InputError, match="--ref"):
        scorer.score(namespace(hyp=[str(hyps[0])]))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "evalkit", "score", "bleu", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120)


def test_cli_json_and_exit_status(tmp_path, wmt_files):
    ref, hyps = wmt_files
    done = run_cli("--ref", str(ref), "--hyp", str(hyps[0]), "--json")
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)  # one system: one object
    assert row["BLEU"] == sacrebleu.corpus_bleu(read_lines(hyps[0]), [read_lines(ref)]).score
    bad = tmp_path / "bad.de"
    bad.write_bytes(b"\xff\n")
    done = run_cli("--ref", str(ref), "--hyp", str(bad))
    assert done.returncode == 2 and "bad.de" in done.stderr
