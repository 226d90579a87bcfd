"""BLEU/chrF/TER against sacrebleu: the 16 real WMT17 systems, generated corpora, merges, state round trips."""
from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shared_file
from evalkit.datasets.translation import read_lines
from evalkit.errors import InputError
from evalkit.metrics.bleu import BLEUMetric, CHRFMetric, TERMetric, bleu, chrf, ter
from evalkit.registry import METRICS

WMT17 = "wmt17_en_de"


def published_wmt17() -> list[tuple[str, float, int]]:
    """(system, sacrebleu full-precision BLEU, digits) from the data folder's SOURCES.md table."""
    text = shared_file(WMT17, "SOURCES.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([\w.-]+) \| [\d.]+ \| ([\d.]+)", text, flags=re.M)
    return [(name, float(value), len(value.split(".")[1])) for name, value in rows]


def test_sources_table_lists_all_16_systems(shared_data):
    assert len(published_wmt17()) == 16


FAST_SYSTEMS = ("uedin-nmt.4722", "online-A.0", "PROMT-Rule-based.4735")  # best, the BOM one, the rule-based one


@pytest.mark.parametrize("systems", [
    pytest.param(FAST_SYSTEMS, id="3-systems"),
    pytest.param(None, id="all-16", marks=pytest.mark.slow),
])
def test_wmt17_systems_match_sacrebleu_and_published(shared_data, systems):
    ref = read_lines(shared_file(WMT17, "newstest2017-ende-ref.de"))
    cached = sacrebleu.metrics.BLEU(references=[ref])
    for name, expected, digits in published_wmt17():
        if systems is not None and name not in systems:
            continue
        hyp = read_lines(shared_file(WMT17, f"newstest2017.{name}.en-de"))
        ours = bleu(hyp, [ref])
        reference = cached.corpus_score(hyp, None)
        assert ours["BLEU"] == pytest.approx(reference.score, rel=1e-9, abs=0), name
        assert round(ours["BLEU"], digits) == expected, name
        assert ours["signature"] == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" + sacrebleu.__version__
    assert ours["breakdown"]["hyp_len"] == reference.sys_len and ours["breakdown"]["ref_len"] == reference.ref_len


def test_wmt17_chrf_published(shared_data):
    ref = read_lines(shared_file(WMT17, "newstest2017-ende-ref.de"))
    hyp = read_lines(shared_file(WMT17, "newstest2017.C-3MA.4959.en-de"))
    ours = chrf(hyp, [ref])["chrF"]  # parity with sacrebleu itself: test_chrf_matches_sacrebleu
    assert round(ours, 4) == 51.9533  # sacrebleu test.sh, quoted in SOURCES.md


@pytest.mark.slow
def test_wmt17_chrf_plus_plus_published(shared_data):
    ref = read_lines(shared_file(WMT17, "newstest2017-ende-ref.de"))
    hyp = read_lines(shared_file(WMT17, "newstest2017.C-3MA.4959.en-de"))
    plus = chrf(hyp, [ref], word_order=2, eps_smoothing=True)["chrF"]  # test.sh's chrF++ uses eps smoothing
    assert round(plus, 4) == 49.1683


# --- generated corpora -------------------------------------------------------------------------------------------

WORDS = ["the", "cat", "Cat", "sat", "on", "mat", ".", ",", "!", "Straße", "größer", "日本", "語", "naïve", "«", "»",
         "e-mail", "3.5", "$", "—", "a", "b", "ab", "\u00a0", "x\u0301"]
sentence = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join) | st.text(max_size=20)


@st.composite
def corpora(draw):
    """Hypotheses and 1–3 reference streams; later streams may lack some segments (None)."""
    n = draw(st.integers(1, 8))
    hyps = draw(st.lists(sentence, min_size=n, max_size=n))
    streams = [draw(st.lists(sentence, min_size=n, max_size=n))]
    for _ in range(draw(st.integers(0, 2))):
        streams.append(draw(st.lists(st.none() | sentence, min_size=n, max_size=n)))
    return hyps, streams


@settings(max_examples=200, deadline=None)
@given(corpora(), st.sampled_from(["13a", "intl", "char", "none"]), st.booleans(),
       st.sampled_from(["exp", "floor", "add-k", "none"]))
def test_bleu_matches_sacrebleu(corpus, tokenize, lowercase, smooth):
    hyps, refs = corpus
    ours = bleu(hyps, refs, tokenize=tokenize, lowercase=lowercase, smooth_method=smooth)
    theirs = sacrebleu.metrics.BLEU(tokenize=tokenize, lowercase=lowercase, smooth_method=smooth)
    score = theirs.corpus_score(hyps, refs)
    assert ours["BLEU"] == pytest.approx(score.score, rel=1e-9, abs=1e-12)
    assert ours["signature"] == str(theirs.get_signature())


@settings(max_examples=200, deadline=None)
@given(corpora(), st.sampled_from([0, 2]))
def test_chrf_matches_sacrebleu(corpus, word_order):
    hyps, refs = corpus
    ours = chrf(hyps, refs, word_order=word_order)
    theirs = sacrebleu.metrics.CHRF(word_order=word_order)
    assert ours["chrF"] == pytest.approx(theirs.corpus_score(hyps, refs).score, rel=1e-9, abs=1e-12)
    assert ours["signature"] == str(theirs.get_signature())


@settings(max_examples=200, deadline=None)
@given(corpora(), st.booleans())
def test_ter_matches_sacrebleu(corpus, case_sensitive):
    hyps, refs = corpus
    ours = ter(hyps, refs, case_sensitive=case_sensitive)
    theirs = sacrebleu.metrics.TER(case_sensitive=case_sensitive)
    assert ours["TER"] == pytest.approx(theirs.corpus_score(hyps, refs).score, rel=1e-9, abs=1e-12)


def _filled(cls, hyps, refs, ids):
    metric = cls()
    targets = [[s[i] for s in refs if s[i] is not None] for i in range(len(hyps))]
    metric.update(hyps, targets, ids)
    return metric, targets


@settings(max_examples=200, deadline=None)
@given(corpora(), st.sampled_from([BLEUMetric, CHRFMetric, TERMetric]), st.randoms(use_true_random=False))
def test_random_shards_merged_in_random_order_equal_single_pass(corpus, cls, rnd):
    hyps, refs = corpus
    n = len(hyps)
    single, targets = _filled(cls, hyps, refs, [str(i) for i in range(n)])
    cuts = sorted(rnd.sample(range(1, n), rnd.randint(0, n - 1))) if n > 1 else []
    bounds = [0, *cuts, n]
    shards = []
    for lo, hi in zip(bounds, bounds[1:]):
        shard = cls()
        shard.update(hyps[lo:hi], targets[lo:hi], [str(i) for i in range(lo, hi)])
        shards.append(shard)
    rnd.shuffle(shards)
    merged = cls()
    for shard in shards:
        merged.merge(shard)
    assert merged.aggregate() == single.aggregate()
    assert merged.signature() == single.signature()
    assert sorted(merged.sample_ids(), key=int) == single.sample_ids()
    order = np.argsort([int(i) for i in merged.sample_ids()])
    probe = np.random.default_rng(rnd.randint(0, 99)).integers(0, n, size=n)
    assert merged.aggregate(order[probe]) == single.aggregate(probe)


@settings(max_examples=200, deadline=None)
@given(corpora(), st.sampled_from([BLEUMetric, CHRFMetric, TERMetric]))
def test_state_dict_json_round_trip(corpus, cls):
    hyps, refs = corpus
    metric, _ = _filled(cls, hyps, refs, [f"s{i}" for i in range(len(hyps))])
    restored = cls()
    restored.load_state_dict(json.loads(json.dumps(metric.state_dict())))
    assert restored.compute() == metric.compute()
    assert restored.sample_ids() == metric.sample_ids()
    assert restored.per_sample() == metric.per_sample()


def test_aggregate_of_indices_is_the_score_of_that_multiset():
    hyps = ["the cat sat", "a dog", "on the mat .", "hello"]
    refs = [["the cat sat down", "a dog barks", "on the mat .", "hi"]]
    metric, _ = _filled(BLEUMetric, hyps, refs, None)
    idx = np.array([2, 0, 2, 3])
    expected = sacrebleu.corpus_bleu([hyps[i] for i in idx], [[refs[0][i] for i in idx]]).score
    assert metric.aggregate(idx)["BLEU"] == pytest.approx(expected, rel=1e-12)


def test_registry_bad_options_and_bad_inputs():
    assert METRICS.get("bleu") is BLEUMetric and METRICS.get("chrf") is CHRFMetric and METRICS.get("ter") is TERMetric
    with pytest.raises(InputError, match="bleu"):
        BLEUMetric(no_such_option=1)
    metric = BLEUMetric()
    with pytest.raises(InputError, match="hypothesis"):
        metric.update([3], [["x"]], ["0"])
    with pytest.raises(InputError, match="reference"):
        metric.update(["x"], [[]], ["7"])
    with pytest.raises(TypeError):
        metric.merge(BLEUMetric(tokenize="char"))
    with pytest.raises(InputError, match="options"):
        BLEUMetric(lowercase=True).load_state_dict(BLEUMetric().state_dict())


def test_signature_says_var_for_variable_reference_counts():
    ours = bleu(["a b", "c d"], [["a b", "c d"], ["a", None]])
    theirs = sacrebleu.metrics.BLEU()
    theirs.corpus_score(["a b", "c d"], [["a b", "c d"], ["a", None]])
    assert ours["signature"].startswith("nrefs:var") and ours["signature"] == str(theirs.get_signature())


def test_bootstrap_ci_brackets_the_score():
    rnd = random.Random(0)
    refs = [" ".join(rnd.choices(WORDS[:10], k=8)) for _ in range(60)]
    hyps = [" ".join(w if rnd.random() < 0.7 else "x" for w in r.split()) for r in refs]
    metric, _ = _filled(BLEUMetric, hyps, [refs], None)
    out = metric.compute(ci=True, n_resamples=200, seed=3)
    low, high = out["ci"]["BLEU"]
    assert low < out["BLEU"] < high


@settings(max_examples=200, deadline=None)
@given(corpora(), st.sampled_from([1, 2, 4, 6]), st.sampled_from(["13a", "char", "none"]))
def test_bleu_segment_rows_equal_sacrebleu_rows(corpus, order, tokenize):
    """evalkit counts n-grams itself (in C); each segment's row equals sacrebleu's private computation."""
    hyps, streams = corpus
    refs = [[s[i] for s in streams if s[i] is not None] for i in range(len(hyps))]
    theirs = sacrebleu.metrics.BLEU(max_ngram_order=order, tokenize=tokenize)
    prep = theirs._preprocess_segment
    expected = [theirs._compute_segment_statistics(prep(h), theirs._extract_reference_info([prep(r) for r in rs]))
                for h, rs in zip(hyps, refs)]
    assert BLEUMetric(max_ngram_order=order, tokenize=tokenize).segment_stats(hyps, refs) == expected
