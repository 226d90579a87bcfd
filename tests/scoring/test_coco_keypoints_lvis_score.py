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
