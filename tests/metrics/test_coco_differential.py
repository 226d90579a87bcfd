"""Both COCO engines against pycocotools on generated inputs full of the reference's quirks."""
from __future__ import annotations

import numpy as np
import pytest
from tests.metrics._coco_cases import make_case, relabel_copies
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.metrics._coco.reference import reference_stats
from evalkit.metrics.coco import CocoBbox, CocoSegm, coco_evaluate
from tests.helpers import merge_through_json

METRIC = {"segm": CocoSegm, "bbox": CocoBbox}


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_engines_equal_pycocotools(iou_type: str, seed: int) -> None:
    gt, results = make_case(seed, iou_type)
    expected = reference_stats(gt, results, iou_type)
    for engine in ("fast", "reference"):
        got = coco_evaluate(gt, results, iou_type, engine=engine)
        assert {k: got[k] for k in expected} == expected, engine


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), draw=st.integers(0, 2**32 - 1))
def test_image_multiset_equals_pycocotools_on_relabelled_copies(iou_type: str, seed: int, draw: int) -> None:
    gt, results = make_case(seed, iou_type)
    metric = METRIC[iou_type](gt=gt)
    metric.add_results(results)
    rng = np.random.default_rng(draw)
    indices = rng.integers(0, metric.num_samples(), size=int(rng.integers(1, 2 * metric.num_samples() + 1)))
    # samples are GT images in file order; relabel_copies indexes images sorted by id
    rank_of = np.argsort(np.argsort([im["id"] for im in gt["images"]]))
    gt2, res2 = relabel_copies(gt, results, rank_of[indices])
    if not res2:
        return
    assert metric.aggregate(indices) == reference_stats(gt2, res2, iou_type)


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), split=st.integers(0, 2**32 - 1))
def test_random_shards_merged_in_any_order_equal_single_pass(iou_type: str, seed: int, split: int) -> None:
    gt, results = make_case(seed, iou_type)
    if "bbox" not in results[0]:  # mask-area mode: make every shard see it first (boxes unused for segm)
        results = [{k: v for k, v in r.items() if k != "bbox"} for r in results]
    image_ids = [im["id"] for im in gt["images"]]
    per_image = [[r for r in results if r["image_id"] == i] for i in image_ids]
    single = METRIC[iou_type](gt=gt)
    single.update(per_image, image_ids)
    rng = np.random.default_rng(split)
    shard_of = rng.integers(0, 3, len(image_ids))
    shards = []
    for s in rng.permutation(3):
        m = METRIC[iou_type](gt=gt)
        members = [i for i in range(len(image_ids)) if shard_of[i] == s]
        for i in rng.permutation(members):  # several updates per shard, any order
            m.update([per_image[i]], [image_ids[i]])
        shards.append(m)
    merged = merge_through_json(shards, METRIC[iou_type])
    assert merged.aggregate() == single.aggregate()
    assert merged.extras()["per_category_AP"] == single.extras()["per_category_AP"]
    assert merged.aggregate() == reference_stats(gt, results, iou_type)
