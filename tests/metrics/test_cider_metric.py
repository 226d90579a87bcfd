"""CIDEr-D / BLEU against pycocoevalcap: the ABSTRACT-50S scores of SOURCES.md, pycocoevalcap called
on the same tokens, generated captions (hypothesis), and shard merges."""
from __future__ import annotations

import contextlib
import io
import json
import random

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.conftest import shared_file
from evalkit.metrics.cider import CiderD, cider_d

pycocoevalcap = pytest.importorskip("pycocoevalcap")
from pycocoevalcap.bleu.bleu import Bleu  # noqa: E402
from pycocoevalcap.cider.cider import Cider  # noqa: E402
from tests.helpers import merge_through_json


def reference_scores(refs: dict, cands: dict) -> tuple[float, np.ndarray, list[float]]:
    """pycocoevalcap's Cider and Bleu(4) on already tokenised captions."""
    gts = {k: list(v) for k, v in refs.items()}
    res = {k: [cands[k]] for k in refs}
    cider, per_image = Cider().compute_score(gts, res)
    with contextlib.redirect_stdout(io.StringIO()):  # Bleu prints its statistics
        bleu, _ = Bleu(4).compute_score(gts, res)
    return float(cider), np.asarray(per_image), bleu


def scored(refs: dict, cands: dict, tokenizer: str = "none") -> CiderD:
    metric = CiderD(tokenizer=tokenizer)
    keys = list(refs)
    metric.update([cands[k] for k in keys], [refs[k] for k in keys], keys)
    return metric


def abstract_set(member: int) -> tuple[dict, dict]:
    refs = json.loads(shared_file("captions", "derived_abstract48S_refs_for_candsB_images.json").read_text())
    rows = json.loads(shared_file("captions", f"derived_abstract_candsB_member{member}_results.json").read_text())
    return refs, {r["image_id"]: r["caption"] for r in rows}


@pytest.mark.parametrize("member", [0, 1])
def test_abstract50s_published_scores_python_tokenizer(member):
    expected = json.loads(shared_file("captions", "computed_pycocoevalcap_scores_abstract.json").read_text())
    expected = expected[f"candsB_member{member}"]
    refs, cands = abstract_set(member)
    metric = scored(refs, cands, "python")
    out = metric.aggregate()
    assert out["CIDEr"] == pytest.approx(expected["CIDEr-D(pycocoevalcap Cider)"], rel=1e-12)
    for k in range(4):
        assert out[f"BLEU-{k + 1}"] == pytest.approx(expected["Bleu_1..4"][k], rel=1e-12)
    # and pycocoevalcap itself on the same tokens, per image
    keys = list(refs)
    tok_cands, tok_refs = metric.tokenized()
    cider, per_image, bleu = reference_scores(
        {k: tok_refs[i] for i, k in enumerate(keys)},
        {k: tok_cands[i] for i, k in enumerate(keys)},
    )
    assert out["CIDEr"] == pytest.approx(cider, rel=1e-12)
    np.testing.assert_allclose(metric.image_scores(), per_image, rtol=1e-9, atol=1e-12)
    assert [out[f"BLEU-{k + 1}"] for k in range(4)] == pytest.approx(bleu, rel=1e-12)


@pytest.mark.java
def test_abstract50s_java_tokenizer():
    import shutil

    if shutil.which("java") is None:
        pytest.skip("java not installed")
    expected = json.loads(shared_file("captions", "computed_pycocoevalcap_scores_abstract.json").read_text())
    refs, cands = abstract_set(0)
    out = scored(refs, cands, "java").aggregate()
    assert out["CIDEr"] == pytest.approx(expected["candsB_member0"]["CIDEr-D(pycocoevalcap Cider)"], rel=1e-12)


WORDS = st.sampled_from("a an the dog cat man red big on in of with is sitting two ball table street".split())
SENT = st.lists(WORDS, min_size=0, max_size=25).map(" ".join)


@st.composite
def caption_sets(draw):
    n = draw(st.integers(1, 6))
    refs, cands = {}, {}
    for i in range(n):
        refs[f"img{i}"] = draw(st.lists(SENT, min_size=1, max_size=5))
        # repeated n-grams: sometimes a candidate copies or repeats a reference
        base = draw(st.sampled_from(["new", "copy", "repeat"]))
        cand = draw(SENT) if base == "new" else refs[f"img{i}"][0]
        cands[f"img{i}"] = " ".join([cand] * 3) if base == "repeat" else cand
    return refs, cands


@settings(max_examples=200, deadline=None)
@given(caption_sets())
def test_matches_pycocoevalcap_on_generated_captions(data):
    refs, cands = data
    assume(any(r.split() for rs in refs.values() for r in rs))  # else pycocoevalcap's Cider raises ValueError
    cider, per_image, bleu = reference_scores(refs, cands)
    metric = scored(refs, cands)
    out = metric.aggregate()
    np.testing.assert_allclose(metric.image_scores(), per_image, rtol=1e-9, atol=1e-12)
    assert out["CIDEr"] == pytest.approx(cider, rel=1e-9, abs=1e-12)
    assert [out[f"BLEU-{k + 1}"] for k in range(4)] == pytest.approx(bleu, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("refs, cands", [
    ({"a": [""], "b": ["", "  "]}, {"a": "", "b": "a dog on a dog"}),
    ({"a": [""]}, {"a": ""}),
])
def test_every_reference_empty_scores_zero_cider_where_pycocoevalcap_crashes(refs, cands):
    """The one case the generated-caption test leaves out: no reference token in the whole set."""
    with pytest.raises(ValueError):
        Cider().compute_score({k: list(v) for k, v in refs.items()}, {k: [cands[k]] for k in refs})
    with contextlib.redirect_stdout(io.StringIO()):
        bleu, _ = Bleu(4).compute_score({k: list(v) for k, v in refs.items()}, {k: [cands[k]] for k in refs})
    metric = scored(refs, cands)
    out = metric.aggregate()
    assert out["CIDEr"] == 0.0 and metric.image_scores().tolist() == [0.0] * len(refs)
    assert [out[f"BLEU-{k + 1}"] for k in range(4)] == pytest.approx(bleu, rel=1e-12, abs=1e-300)
    assert metric.aggregate(np.zeros(3, dtype=np.int64))["CIDEr"] == 0.0  # a resample of the set as well


def test_bootstrap_aggregate_equals_reference_on_the_resampled_set():
    """A resample is scored as the evaluated set: duplicates count in df and N, as pycocoevalcap with repeats."""
    refs = {"a": ["a dog on a mat", "the dog sits"], "b": ["two cats play", "a cat and a cat"], "c": ["a red car"]}
    cands = {"a": "a dog sits on the mat", "b": "two cats", "c": "a car that is red"}
    metric = scored(refs, cands)
    indices = np.array([0, 0, 2, 1, 2, 2])
    keys = list(refs)
    dup_refs = {f"{keys[i]}#{j}": refs[keys[i]] for j, i in enumerate(indices)}
    dup_cands = {f"{keys[i]}#{j}": cands[keys[i]] for j, i in enumerate(indices)}
    cider, _, bleu = reference_scores(dup_refs, dup_cands)
    out = metric.aggregate(indices)
    assert out["CIDEr"] == pytest.approx(cider, rel=1e-12)
    assert [out[f"BLEU-{k + 1}"] for k in range(4)] == pytest.approx(bleu, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(caption_sets(), st.integers(0, 2**32 - 1))
def test_random_shards_merged_in_random_order_equal_single_pass(data, seed):
    refs, cands = data
    single = scored(refs, cands)
    keys = list(refs)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(keys)), rng.randint(0, len(keys) - 1))) if len(keys) > 1 else []
    shards = [keys[a:b] for a, b in zip([0, *cuts], [*cuts, len(keys)])]
    rng.shuffle(shards)
    parts = []
    for shard in shards:
        part = CiderD(tokenizer="none")
        part.update([cands[k] for k in shard], [refs[k] for k in shard], shard)
        parts.append(part)
    merged = merge_through_json(parts, lambda: CiderD(tokenizer="none"))
    assert merged.aggregate() == single.aggregate()


def test_functional_form_and_bad_input():
    out = cider_d({1: ["a dog runs"], 2: ["a cat"]}, {1: "a dog runs", 2: ["the cat"]})
    assert set(out) == {"CIDEr", "BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4"}
    from evalkit.errors import InputError

    with pytest.raises(InputError, match="references"):
        CiderD().update(["a dog"], [[]], ["7"])
    with pytest.raises(InputError, match="caption"):
        CiderD().update([3], [["a dog"]], ["7"])
