"""Top-1/top-5 error against an independent computation and timm's accuracy helper."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from timm.utils import accuracy

from evalkit.metrics.topk import TopKError, topk_error


def independent_bounds(logits: np.ndarray, labels: np.ndarray, k: int) -> tuple[float, float]:
    """Error (%) if every tie went against / for the label: computed with numpy only.

    The label is surely in the top k when fewer than k logits are >= its own and surely
    out when k or more are strictly greater; ties in between are torch.topk's to break.
    """
    own = logits[np.arange(len(labels)), labels][:, None]
    greater = (logits > own).sum(axis=1)
    greater_or_equal = (logits >= own).sum(axis=1) - 1
    surely_in = greater_or_equal < k
    surely_out = greater >= k
    n = len(labels)
    return surely_out.sum() * 100.0 / n, (n - surely_in.sum()) * 100.0 / n


@st.composite
def logits_with_ties(draw):
    n = draw(st.integers(1, 40))
    classes = draw(st.integers(2, 12))
    # few distinct values → many ties
    values = draw(st.lists(st.integers(-3, 3), min_size=n * classes, max_size=n * classes))
    labels = draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n))
    return np.asarray(values, dtype=np.float32).reshape(n, classes), np.asarray(labels)


@settings(max_examples=200, deadline=None)
@given(logits_with_ties())
def test_topk_matches_independent_and_timm(data):
    logits, labels = data
    result = topk_error(logits, labels)
    k5 = min(5, logits.shape[1])
    for key, k in (("top1_error", 1), ("top5_error", k5)):
        low, high = independent_bounds(logits, labels, k)
        assert low - 1e-9 <= result[key] <= high + 1e-9
    top = torch.from_numpy(logits).topk(k5, dim=1).indices.numpy()
    assert result["top1_error"] == pytest.approx(100.0 * (top[:, 0] != labels).mean(), rel=1e-12, abs=1e-12)
    k = min(5, logits.shape[1])
    timm_top1, timm_top5 = accuracy(torch.from_numpy(logits), torch.from_numpy(labels), topk=(1, k))
    assert result["top1_accuracy"] == pytest.approx(timm_top1.item(), rel=1e-6)
    assert result["top5_accuracy"] == pytest.approx(timm_top5.item(), rel=1e-6)


def test_batched_updates_equal_timm_validate_average():
    """validate.py averages per-batch accuracies weighted by batch size."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((1000, 50)).astype(np.float32)
    labels = rng.integers(0, 50, 1000)
    metric, total1, total5 = TopKError(), 0.0, 0.0
    for start in range(0, 1000, 96):
        lo, la = torch.from_numpy(logits[start:start + 96]), torch.from_numpy(labels[start:start + 96])
        metric.update(lo, la)
        a1, a5 = accuracy(lo, la, topk=(1, 5))
        total1 += a1.item() * len(la)
        total5 += a5.item() * len(la)
    out = metric.compute()
    assert out["top1_accuracy"] == pytest.approx(total1 / 1000, rel=1e-6)
    assert out["top5_error"] == pytest.approx(100 - total5 / 1000, rel=1e-6)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.integers(2, 30), st.integers(0, 2**32 - 1))
def test_tie_free_logits_match_numpy_exactly(n, classes, seed):
    rng = np.random.default_rng(seed)
    logits = np.stack([rng.permutation(classes) for _ in range(n)]).astype(np.float64)
    labels = rng.integers(0, classes, n)
    low1, high1 = independent_bounds(logits, labels, 1)
    low5, high5 = independent_bounds(logits, labels, min(5, classes))
    assert low1 == high1 and low5 == high5
    result = topk_error(logits, labels)
    assert result["top1_error"] == pytest.approx(low1, rel=1e-12, abs=1e-12)
    assert result["top5_error"] == pytest.approx(low5, rel=1e-12, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(logits_with_ties(), st.randoms(use_true_random=False))
def test_merge_of_shards_equals_single_pass(data, rnd):
    logits, labels = data
    single = TopKError()
    single.update(logits, labels, ids=list(range(len(labels))))
    cuts = sorted(rnd.sample(range(1, len(labels)), k=min(3, len(labels) - 1))) if len(labels) > 1 else []
    bounds = [0, *cuts, len(labels)]
    shards = []
    for lo, hi in zip(bounds, bounds[1:]):
        shard = TopKError()
        shard.update(logits[lo:hi], labels[lo:hi], ids=list(range(lo, hi)))
        shards.append(shard)
    order = list(range(len(shards)))
    rnd.shuffle(order)
    merged = TopKError()
    for i in order:
        merged.merge(shards[i])
    assert merged.aggregate() == single.aggregate()
    restored = TopKError()
    restored.load_state_dict(merged.state_dict())
    assert restored.aggregate() == single.aggregate()


def test_nan_logits_and_mismatched_lengths_are_errors():
    from evalkit.errors import InputError

    with pytest.raises(InputError, match="NaN"):
        topk_error(np.array([[np.nan, 1.0]]), [0])
    with pytest.raises(InputError, match="labels"):
        topk_error(np.zeros((3, 4)), [0, 1])


def test_bootstrap_interval_contains_estimate_and_is_seeded():
    rng = np.random.default_rng(1)
    metric = TopKError()
    metric.update(rng.standard_normal((300, 10)), rng.integers(0, 10, 300))
    a, b = metric.compute(ci=True, seed=7), metric.compute(ci=True, seed=7)
    low, high = a["ci"]["top1_error"]
    assert low <= a["top1_error"] <= high and a["ci"] == b["ci"]


def test_generic_paired_bootstrap_uses_sacrebleus_p_value_formula():
    """Recompute the p-value from the same resamples by sacrebleu's own helper functions."""
    from sacrebleu.significance import _compute_p_value, estimate_ci

    from evalkit.metrics.resampling import paired_bootstrap, resample_indices

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, 400)
    a, b = TopKError(), TopKError()
    a.update(rng.standard_normal((400, 10)), labels)
    logits_b = rng.standard_normal((400, 10))
    logits_b[np.arange(400)[:150], labels[:150]] += 3.0
    b.update(logits_b, labels)
    result = paired_bootstrap(a.aggregate, b.aggregate, 400, "top1_error", n_resamples=300, seed=11)
    idx = resample_indices(400, 300, 11)
    base = np.array([a.aggregate(i)["top1_error"] for i in idx])
    sys_ = np.array([b.aggregate(i)["top1_error"] for i in idx])
    diffs = np.abs(sys_ - base)
    observed = abs(b.aggregate()["top1_error"] - a.aggregate()["top1_error"])
    assert result["p_value"] == _compute_p_value(diffs - diffs.mean(), observed)
    assert (result["system_mean"], result["system_halfwidth"]) == pytest.approx(estimate_ci(sys_), rel=1e-12)
    assert result["difference"] < 0 and result["ci"][1] < 0
