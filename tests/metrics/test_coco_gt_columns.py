"""COCO ground truth: the bulk reading of annotation ids, areas and crowd flags equals the record-by-record one.

Each generated ground truth is read twice, bulk path on and off, and must give the same arrays or the same
error (message, file, record, field). Values mix plain integers with the odd ones the record-by-record
checks handle: integral floats, strings, bools, None, huge integers, NaN, missing fields.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, example, given, settings, strategies as st

from evalkit.errors import InputError
from evalkit.metrics._coco import groundtruth as G

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
ODD = st.sampled_from([1.0, 2.5, "1", True, False, None, 2**70, float("nan"), float("inf"), [1], -3])
MISSING = object()


def _value(plain: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(plain, plain, plain, ODD, st.just(MISSING))


ANNOTATION = st.fixed_dictionaries({
    "id": _value(st.integers(0, 30)), "image_id": _value(st.sampled_from([1, 2, 3, 9])),
    "category_id": _value(st.sampled_from([1, 5, 7])), "area": _value(st.floats(0, 1e4) | st.integers(0, 100)),
    "iscrowd": _value(st.sampled_from([0, 1])),
})


def _read(gt: dict[str, Any]) -> Any:
    try:
        g = G.GroundTruth(gt)
    except InputError as err:
        return "error", str(err), err.file, err.record, err.field
    return ("ok", g._ann_positions, g.ann_image.tolist(), g.ann_category.tolist(), g.area.tolist(),
            g.iscrowd.tolist(), g.id_nonzero.tolist(), g.sorted_anns.tolist(), g.image_start.tolist())


def _same(monkeypatch, gt: dict[str, Any]) -> None:
    fast = _read(gt)
    with monkeypatch.context() as m:
        m.setattr(G.GroundTruth, "_plain_annotations", lambda self, anns: None)
        m.setattr(G, "_plain_column", lambda *args: None)
        slow = _read(gt)
    assert repr(fast) == repr(slow)  # (repr: NaN areas compare equal)


@SETTINGS
@given(annotations=st.lists(ANNOTATION, max_size=12))
@example(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "area": 2.0, "iscrowd": 0}] * 2)
def test_bulk_annotations_read_as_record_by_record(monkeypatch, annotations):
    anns = [{k: v for k, v in a.items() if v is not MISSING} for a in annotations]
    gt = {"images": [{"id": i, "height": 10, "width": 12} for i in (3, 1, 2)],
          "categories": [{"id": c} for c in (7, 1, 5)], "annotations": anns}
    _same(monkeypatch, gt)


def test_annotations_that_are_not_objects(monkeypatch):
    base = {"images": [{"id": 1, "height": 4, "width": 4}], "categories": [{"id": 1}]}
    for anns in ([[1]], ["a"], [None], [{"id": 1, "image_id": 1, "category_id": 1, "area": 1, "iscrowd": 0}, 5]):
        _same(monkeypatch, {**base, "annotations": anns})
    assert np.array_equal(G.GroundTruth({**base, "annotations": []}).ann_image, [])
