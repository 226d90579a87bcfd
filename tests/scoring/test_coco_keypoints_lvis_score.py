"""``evalkit score coco-keypoints|lvis-segm|lvis-bbox``: the reference tools' stat names as keys, through the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

DATA = REPO / "tests" / "metrics" / "data" / "faster_coco_eval"


def _score(tmp_path: Path, name: str, gt: Path, results: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "evalkit", "score", name, "--gt", str(gt), "--results", str(results),
                           "--json"], capture_output=True, text=True, env=env, cwd=tmp_path)


def test_coco_keypoints_cli(tmp_path: Path) -> None:
    from evalkit.metrics._coco import summary as acc
    from evalkit.metrics._coco.reference import run_cocoeval

    gt, results = DATA / "keypoints_gt_dataset.json", DATA / "keypoints_dt_dataset.json"
    run = _score(tmp_path, "coco-keypoints", gt, results)
    assert run.returncode == 0, run.stderr
    row = json.loads(run.stdout)
    ev = run_cocoeval(json.loads(gt.read_text()), json.loads(results.read_text()), "keypoints")
    assert [row[k] for k in acc.KEYPOINT_STAT_KEYS] == ev.stats.tolist()
    assert "pycocotools==" in row["metric_signature"]
    bad = json.loads(results.read_text())
    bad[3]["keypoints"] = bad[3]["keypoints"][:50]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    run = _score(tmp_path, "coco-keypoints", gt, tmp_path / "bad.json")
    assert run.returncode == 2 and "record 3" in run.stderr and "'keypoints'" in run.stderr


def test_lvis_cli(tmp_path: Path) -> None:
    from tests.metrics._lvis_cases import lvis_results, make_lvis_case

    for iou_type in ("bbox", "segm"):
        gt, results = make_lvis_case(11, iou_type)
        (tmp_path / "gt.json").write_text(json.dumps(gt))
        (tmp_path / "res.json").write_text(json.dumps(results))
        run = _score(tmp_path, f"lvis-{iou_type}", tmp_path / "gt.json", tmp_path / "res.json")
        assert run.returncode == 0, run.stderr
        row = json.loads(run.stdout)
        expected = lvis_results(gt, results, iou_type)
        assert {k: row[k] for k in expected} == expected
        assert "ref:lvis==" in row["metric_signature"]
    del gt["images"][0]["neg_category_ids"]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    run = _score(tmp_path, "lvis-segm", tmp_path / "gt.json", tmp_path / "res.json")
    assert run.returncode == 2 and "images[0]" in run.stderr and "neg_category_ids" in run.stderr
