"""The coco task with ``metrics: [coco-keypoints]`` and ``[lvis-bbox]``: prediction files scored through a suite
give the reference's numbers under the metrics' prefixed keys."""
from __future__ import annotations

import json
from pathlib import Path

from evalkit.runner import run_suite
from evalkit.suite import load_suite

DATA = Path(__file__).resolve().parent / "metrics" / "data" / "faster_coco_eval"


def test_keypoints_and_lvis_through_the_coco_task(tmp_path: Path) -> None:
    from tests.metrics._lvis_cases import lvis_results, make_lvis_case
    from tests.metrics.test_coco_keypoints import PUBLISHED

    lvis_gt, lvis_res = make_lvis_case(12, "bbox")
    (tmp_path / "lvis_gt.json").write_text(json.dumps(lvis_gt))
    (tmp_path / "lvis_res.json").write_text(json.dumps(lvis_res))
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"""
name: keypoints-lvis
runtime: {{device: cpu, batch_size: 16}}
evaluations:
  - name: person-keypoints
    task: coco
    dataset: {{loader: coco, annotation_file: {DATA / 'keypoints_gt_dataset.json'}, images_required: false}}
    models: [{{adapter: predictions, label: fake-kp, path: {DATA / 'keypoints_dt_dataset.json'}}}]
    metrics: [coco-keypoints]
  - name: lvis-sample
    task: coco
    dataset: {{loader: coco, annotation_file: {tmp_path / 'lvis_gt.json'}, images_required: false}}
    models: [{{adapter: predictions, label: fake-lvis, path: {tmp_path / 'lvis_res.json'}}}]
    metrics: [lvis-bbox]
""")
    kp, lvis = (r.record for r in run_suite(load_suite(suite), output_dir=tmp_path / "out"))
    assert kp["main_metric"] == "coco-keypoints.AP" and lvis["main_metric"] == "lvis-bbox.AP"
    assert [kp["metrics"][f"coco-keypoints.{k}"] for k in ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75",
                                                           "ARm", "ARl")] == PUBLISHED
    expected = lvis_results(lvis_gt, lvis_res, "bbox")
    assert all(abs(lvis["metrics"][f"lvis-bbox.{k}"] - v) <= 1e-12 for k, v in expected.items())
