"""ROUGE_L and METEOR against pycocoevalcap's Rouge and Meteor (its METEOR 1.5 jar), on the same tokens: real
ABSTRACT-50S captions (bundled quickstart and ../shared), hypothesis-generated captions, resamples and shards."""
from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest
from hypothesis import given, settings

from tests.conftest import REPO, shared_file
from evalkit.metrics.meteor import Meteor, aggregate_statistics, scores_from_statistics
from evalkit.metrics.rouge import RougeL, lcs_length
from tests.metrics.test_cider_metric import caption_sets

pytest.importorskip("pycocoevalcap")
from pycocoevalcap.rouge.rouge import Rouge, my_lcs  # noqa: E402

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="java not installed (METEOR 1.5 is a jar)")


def quickstart_set(n: int | None = None, n_refs: int | None = None) -> tuple[list[str], dict, dict]:
    folder = REPO / "data" / "quickstart" / "captions"
    refs = json.loads(gzip.decompress((folder / "abstract50s_refs.json.gz").read_bytes()))
    rows = json.loads((folder / "abstract50s_candsB_member0_results.json").read_text())
    cands = {str(r["image_id"]): r["caption"] for r in rows}
    refs = {str(k): v for k, v in refs.items()}
    keys = [k for k in refs if k in cands][:n]
    return keys, {k: refs[k][:n_refs] for k in keys}, cands


def shared_set(member: int) -> tuple[list[str], dict, dict]:
    refs = json.loads(shared_file("captions", "derived_abstract48S_refs_for_candsB_images.json").read_text())
    rows = json.loads(shared_file("captions", f"derived_abstract_candsB_member{member}_results.json").read_text())
    return list(refs), refs, {r["image_id"]: r["caption"] for r in rows}


def filled(cls, keys, refs, cands, tokenizer="python"):
    metric = cls(tokenizer=tokenizer)
    metric.update([cands[k] for k in keys], [refs[k] for k in keys], keys)
    return metric


def pycoco_inputs(metric, keys):
    """pycocoevalcap's gts/res dicts from the metric's own tokens (the tokenizer is tested elsewhere)."""
    tok_cands, tok_refs = metric.tokenized()
    return {k: tok_refs[i] for i, k in enumerate(keys)}, {k: [tok_cands[i]] for i, k in enumerate(keys)}


# --- ROUGE_L ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["quickstart", "member0", "member1"])
def test_rouge_equals_pycocoevalcap_on_abstract50s(source):
    keys, refs, cands = quickstart_set() if source == "quickstart" else shared_set(int(source[-1]))
    metric = filled(RougeL, keys, refs, cands)
    expected, per_image = Rouge().compute_score(*pycoco_inputs(metric, keys))
    assert metric.aggregate()["ROUGE_L"] == expected  # bitwise
    assert np.array_equal(metric.image_scores(), per_image)


def test_lcs_equals_pycocoevalcap_dynamic_programme():
    rng = np.random.default_rng(0)
    for _ in range(3000):
        a = [str(t) for t in rng.integers(0, 5, rng.integers(1, 30))]
        b = [str(t) for t in rng.integers(0, 5, rng.integers(1, 30))]
        assert lcs_length(a, b) == my_lcs(a, b)


@settings(max_examples=200, deadline=None)
@given(caption_sets())
def test_rouge_equals_pycocoevalcap_on_generated_captions(data):
    refs, cands = data  # empty captions included: pycocoevalcap splits them into one empty token
    keys = list(refs)
    metric = filled(RougeL, keys, refs, cands, tokenizer="none")
    expected, per_image = Rouge().compute_score({k: refs[k] for k in keys}, {k: [cands[k]] for k in keys})
    assert np.array_equal(metric.image_scores(), per_image)
    assert metric.aggregate()["ROUGE_L"] == expected


def test_rouge_resample_and_shards():
    keys, refs, cands = quickstart_set(40, 5)
    metric = filled(RougeL, keys, refs, cands)
    indices = np.random.default_rng(1).integers(0, len(keys), len(keys))
    gts, res = pycoco_inputs(metric, keys)
    dup_gts = {f"{keys[i]}#{j}": gts[keys[i]] for j, i in enumerate(indices)}
    dup_res = {f"{keys[i]}#{j}": res[keys[i]] for j, i in enumerate(indices)}
    assert metric.aggregate(indices)["ROUGE_L"] == pytest.approx(Rouge().compute_score(dup_gts, dup_res)[0], rel=1e-15)
    first, second = filled(RougeL, keys[:13], refs, cands), filled(RougeL, keys[13:], refs, cands)
    merged = RougeL.from_state_dict(json.loads(json.dumps(first.state_dict())))
    merged.merge(RougeL.from_state_dict(json.loads(json.dumps(second.state_dict()))))
    assert merged.aggregate() == metric.aggregate()


# --- METEOR (one pycocoevalcap Meteor process for the module; evalkit caches the jar's statistics per line) ----
@pytest.fixture(scope="module")
def reference_meteor():
    if shutil.which("java") is None:
        pytest.skip("java not installed (METEOR 1.5 is a jar)")
    from pycocoevalcap.meteor.meteor import Meteor as PycocoMeteor

    return PycocoMeteor()


@pytest.mark.java
@needs_java
def test_meteor_equals_pycocoevalcap_on_abstract50s_subset(reference_meteor):
    keys, refs, cands = quickstart_set(30, 5)
    metric = filled(Meteor, keys, refs, cands)
    expected, per_image = reference_meteor.compute_score(*pycoco_inputs(metric, keys))
    assert metric.aggregate()["METEOR"] == expected  # bitwise: the corpus score from summed statistics
    assert np.array_equal(metric.image_scores(), np.array(per_image))
    assert expected != pytest.approx(np.mean(per_image), abs=1e-6)  # it is not the mean of the image scores
    # a bootstrap resample equals the jar on the resampled set (drawn images repeated)
    indices = np.random.default_rng(2).integers(0, len(keys), len(keys))
    gts, res = pycoco_inputs(metric, keys)
    dup = [f"{keys[i]}#{j}" for j, i in enumerate(indices)]
    resampled, _ = reference_meteor.compute_score({d: gts[d.split("#")[0]] for d in dup},
                                                  {d: res[d.split("#")[0]] for d in dup})
    assert metric.aggregate(indices)["METEOR"] == resampled


@pytest.mark.slow
@pytest.mark.java
@needs_java
@pytest.mark.parametrize("member", [0, 1])
def test_meteor_equals_pycocoevalcap_on_abstract50s(member, reference_meteor):
    """200 images with 48 references each (about 25 s per side)."""
    keys, refs, cands = shared_set(member)
    metric = filled(Meteor, keys, refs, cands)
    expected, per_image = reference_meteor.compute_score(*pycoco_inputs(metric, keys))
    assert metric.aggregate()["METEOR"] == expected
    assert np.array_equal(metric.image_scores(), np.array(per_image))


@pytest.mark.java
@needs_java
def test_meteor_equals_pycocoevalcap_on_generated_captions(reference_meteor):
    """≥150 hypothesis caption sets (empty captions, copies, repeats), scored in one jar launch per side."""
    drawn: list[tuple[dict, dict]] = []

    @settings(max_examples=150, deadline=None, database=None)
    @given(caption_sets())
    def collect(data):
        drawn.append(data)

    collect()
    refs, cands = {}, {}
    for n, (r, c) in enumerate(drawn):
        for k in r:
            refs[f"{n}/{k}"], cands[f"{n}/{k}"] = r[k], c[k]
    keys = list(refs)
    metric = filled(Meteor, keys, refs, cands, tokenizer="none")
    expected, per_image = reference_meteor.compute_score({k: refs[k] for k in keys}, {k: [cands[k]] for k in keys})
    assert np.array_equal(metric.image_scores(), np.array(per_image))
    assert metric.aggregate()["METEOR"] == expected
    # each drawn set on its own is a corpus too: the jar's aggregate from the same per-image statistics
    stats = metric.statistics()
    for n in range(0, len(drawn), 25):
        rows = [i for i, k in enumerate(keys) if k.startswith(f"{n}/")]
        sub, _ = reference_meteor.compute_score({keys[i]: refs[keys[i]] for i in rows},
                                                {keys[i]: [cands[keys[i]]] for i in rows})
        assert scores_from_statistics(aggregate_statistics(stats[rows]))[0] == sub
