"""COCO suites: the bundled fake-results suite gives cocoapi's published stats; val2017 fails clearly without data."""
from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import MissingResourceError
from evalkit.runner import run_suite
from evalkit.suite import load_suite

SUITES = Path(__file__).resolve().parents[1] / "suites"
# cocoapi results/val2014_fake_eval_res.txt, printed to 3 decimals (data/quickstart/coco/SOURCES.md)
PUBLISHED = {
    "coco-val2014-100-segm": [0.320, 0.562, 0.299, 0.387, 0.310, 0.327, 0.268, 0.415, 0.417, 0.469, 0.377, 0.381],
    "coco-val2014-100-bbox": [0.505, 0.697, 0.573, 0.586, 0.519, 0.501, 0.387, 0.594, 0.595, 0.640, 0.566, 0.564],
}


def test_bundled_fake_results_suite(tmp_path):
    results = run_suite(load_suite(SUITES / "coco_val2014_fake.yaml"), output_dir=tmp_path)
    assert len(results) == 2 and len(list(tmp_path.glob("*.json"))) == 2
    for result in results:
        record = result.record
        main = "coco-bbox.AP" if record["suite"]["evaluation"].endswith("bbox") else "AP"  # keys name their metric
        assert record["task"] == "coco" and record["main_metric"] == main
        assert record["dataset"]["num_evaluated"] == 100 and record["model"]["random_weights"] is False
        stats = [round(v, 3) for v in record["metrics"].values()]
        assert stats == PUBLISHED[record["suite"]["evaluation"]]


def test_val2017_suite_without_data_names_the_missing_file(tmp_path):
    suite = load_suite(SUITES / "coco_segm.yaml", data_root=tmp_path)
    assert [m.name for m in suite.evaluations[0].models] == ["torchvision-maskrcnn"] * 2
    with pytest.raises(MissingResourceError, match=r"coco/annotations/instances_val2017\.json"):
        run_suite(suite, output_dir=tmp_path)
