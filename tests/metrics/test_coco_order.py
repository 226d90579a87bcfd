"""The accumulation order of COCO detections: the short sort (category, score) taken when the state is stored by
image equals the full sort (category, score, image, rank), whichever order images were added in."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from evalkit.metrics.coco import CocoBbox, CocoSegm
from tests.metrics._coco_cases import make_case


def _full_order(tables) -> np.ndarray:
    n = len(tables)
    image_pos = np.empty(n, np.int64)
    image_pos[np.lexsort((np.arange(n), tables.image_ids))] = np.arange(n)
    d = tables.detections
    return np.lexsort((d["rank"], image_pos[d["sample"]], -d["score"], d["category"]))


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 10_000), iou_type=st.sampled_from(["segm", "bbox"]), data=st.data())
def test_short_sort_equals_full_sort(seed, iou_type, data):
    gt, results = make_case(seed, iou_type)
    if not all("bbox" in r for r in results):  # (whichever result comes first decides the area rule)
        results = [{k: v for k, v in r.items() if k != "bbox"} for r in results]
    metric = (CocoSegm if iou_type == "segm" else CocoBbox)(gt=gt)
    if data.draw(st.booleans()):
        metric.add_results(results)
    else:  # images in a drawn order, in one or two updates
        images = data.draw(st.permutations([im["id"] for im in gt["images"]]))
        cut = data.draw(st.integers(0, len(images)))
        for part in (images[:cut], images[cut:]):
            if part:
                metric.update([[r for r in results if r["image_id"] == i] for i in part], part)
    tables = metric.tables()
    offsets, sample, score, rank, match, ignore = tables._order()
    order = _full_order(tables)
    assert np.array_equal(sample, tables.detections["sample"][order])
    assert np.array_equal(rank, tables.detections["rank"][order])
    assert np.array_equal(score, tables.detections["score"][order])
