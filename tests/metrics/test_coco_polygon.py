"""The numba polygon rasteriser against pycocotools' frPyObjects + merge, string for string."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from evalkit.metrics._coco.polygon import polygons_to_strings

coordinate = st.one_of(st.integers(-15, 100).map(float), st.floats(-15, 100, allow_nan=False),
                       st.integers(-30, 200).map(lambda v: v / 2))
polygon = st.lists(coordinate, min_size=6, max_size=24)


@settings(max_examples=200, deadline=None)
@given(h=st.integers(1, 90), w=st.integers(1, 90), parts=st.lists(polygon, min_size=1, max_size=4))
def test_polygons_equal_pycocotools(h: int, w: int, parts: list[list[float]]) -> None:
    coords = np.array([c for p in parts for c in p], np.float64)
    poly_offsets = np.r_[0, np.cumsum([len(p) for p in parts])].astype(np.int64)
    buf, starts, ends = polygons_to_strings(coords, poly_offsets, np.array([0, len(parts)], np.int64),
                                            np.array([h]), np.array([w]))
    expected = mask_utils.merge(mask_utils.frPyObjects(parts, h, w))
    mine = {"size": [h, w], "counts": buf[starts[0]:ends[0]].tobytes()}
    assert np.array_equal(mask_utils.decode(mine), mask_utils.decode(expected))
    assert mine["counts"] == expected["counts"]
