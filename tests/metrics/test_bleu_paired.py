"""The paired bootstrap equals sacrebleu's ``--paired-bs`` (``sacrebleu.significance.PairedTest``) number for number."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

from tests.conftest import shared_file
from evalkit.datasets.translation import read_lines
from evalkit.metrics.bleu import BLEUMetric, CHRFMetric, TERMetric

WMT17 = "wmt17_en_de"
SACREBLEU_CLASS = {BLEUMetric: BLEU, CHRFMetric: CHRF, TERMetric: TER}


def sacrebleu_paired(systems: list[list[str]], refs: list[str], cls, n_resamples: int):
    """Results of sacrebleu's paired bootstrap for systems[1:] against systems[0] (baseline first)."""
    named = [(f"sys{i}", hyps) for i, hyps in enumerate(systems)]
    reference = SACREBLEU_CLASS[cls](references=[refs])
    _, scores = PairedTest(named, {"m": reference}, references=None, test_type="bs", n_samples=n_resamples)()
    return next(v for k, v in scores.items() if k != "System")


def evalkit_paired(systems: list[list[str]], refs: list[str], cls, n_resamples: int, seed: int):
    metrics = []
    for hyps in systems:
        metric = cls()
        metric.update(hyps, [[r] for r in refs], [str(i) for i in range(len(refs))])
        metrics.append(metric)
    return [metrics[0].paired_test(m, n_resamples=n_resamples, seed=seed) for m in metrics[1:]]


def assert_same(ours: list[dict], theirs: list) -> None:
    baseline = theirs[0]
    for result, reference in zip(ours, theirs[1:]):
        assert result["p_value"] == reference.p_value
        assert result["system"] == reference.score
        assert result["baseline"] == baseline.score
        assert result["difference"] == reference.score - baseline.score
        assert result["system_mean"] == float(reference.mean) and result["system_ci"] == float(reference.ci)
        assert result["baseline_mean"] == float(baseline.mean) and result["baseline_ci"] == float(baseline.ci)
        low, high = result["ci"]
        assert low <= result["system_mean"] - result["baseline_mean"] <= high


@pytest.mark.parametrize("cls", [BLEUMetric, CHRFMetric, TERMetric])
def test_paired_bs_matches_sacrebleu_on_wmt17(shared_data, cls, monkeypatch):
    # close systems, so the p-values are not all at their floor; a non-default seed on both sides
    monkeypatch.setenv("SACREBLEU_SEED", "2024")
    n = 600 if cls is not TERMetric else 80
    refs = read_lines(shared_file(WMT17, "newstest2017-ende-ref.de"))[:n]
    names = ["SYSTRAN.4847", "online-B.0", "LIUM-NMT.4900", "xmu.4910"]
    systems = [read_lines(shared_file(WMT17, f"newstest2017.{name}.en-de"))[:n] for name in names]
    ours = evalkit_paired(systems, refs, cls, 1000, seed=2024)
    theirs = sacrebleu_paired(systems, refs, cls, 1000)
    assert_same(ours, theirs)
    assert any(r["p_value"] > 0.05 for r in ours)  # the test exercised the comparison, not only the floor


@pytest.mark.slow
def test_paired_bs_matches_sacrebleu_on_all_16_wmt17_systems(shared_data):
    text = shared_file(WMT17, "SOURCES.md").read_text(encoding="utf-8")
    names = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ") and "." in line.split("|")[1]]
    refs = read_lines(shared_file(WMT17, "newstest2017-ende-ref.de"))
    systems = [read_lines(shared_file(WMT17, f"newstest2017.{name}.en-de")) for name in names]
    assert_same(evalkit_paired(systems, refs, BLEUMetric, 1000, seed=12345),
                sacrebleu_paired(systems, refs, BLEUMetric, 1000))


WORDS = ["the", "a", "cat", "dog", "sat", "ran", "on", "mat", ".", "über", "naïve"]
sentence = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.lists(sentence, min_size=n, max_size=n), st.lists(sentence, min_size=n, max_size=n),
    st.lists(sentence, min_size=n, max_size=n))), st.sampled_from([BLEUMetric, CHRFMetric, TERMetric]))
def test_paired_bs_matches_sacrebleu_on_generated(data, cls):
    refs, base, system = data
    assert_same(evalkit_paired([base, system], refs, cls, 40, seed=12345),
                sacrebleu_paired([base, system], refs, cls, 40))


def test_paired_test_refuses_misaligned_or_different_metrics():
    a, b = BLEUMetric(), BLEUMetric()
    a.update(["x y"], [["x y"]], ["0"])
    b.update(["x y"], [["x y"]], ["1"])
    with pytest.raises(ValueError, match="same samples"):
        a.paired_test(b)
    c = BLEUMetric(tokenize="char")
    c.update(["x y"], [["x y"]], ["0"])
    with pytest.raises(TypeError):
        a.paired_test(c)
