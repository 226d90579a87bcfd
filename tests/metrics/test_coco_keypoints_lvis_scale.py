"""Near val size (benchmarks/gen_keypoints_lvis.py): keypoint and LVIS stats equal pycocotools' and lvis-api's."""
from __future__ import annotations

import sys

import pytest
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workload", ["keypoints", "lvis-bbox", "lvis-segm"])
def test_val_scale_equals_the_reference(workload: str) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench_coco_keypoints_lvis as bench

    got, expected = bench.evalkit_stats(workload), bench.reference_stats(workload)
    assert max(abs(a - b) for a, b in zip(got, expected)) <= 1e-12 and len(got) == len(expected)
