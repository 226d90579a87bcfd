"""``evalkit score coco-segm|coco-bbox``: through the scorer object and through the CLI."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO, shared_file

from evalkit.errors import InputError
from evalkit.metrics._coco.reference import reference_stats
from evalkit.registry import SCORERS

FILES = {"segm": "cocoapi_instances_val2014_fakesegm100_results.json",
         "bbox": "cocoapi_instances_val2014_fakebbox100_results.json"}


def _args(gt: Path | str, pred: Path | str, **kw) -> argparse.Namespace:
    base = {"gt": str(gt), "pred": str(pred), "engine": "fast", "ci": False, "n_resamples": 20, "seed": 12345, "json": True}
    return argparse.Namespace(**{**base, **kw})


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_scorer_equals_pycocotools(iou_type: str) -> None:
    gt, pred = shared_file("coco_mask", "instances_val2014_100.json"), shared_file("coco_mask", FILES[iou_type])
    row = SCORERS.get(f"coco-{iou_type}")().score(_args(gt, pred, ci=True))
    expected = reference_stats(json.loads(gt.read_text()), json.loads(pred.read_text()), iou_type)
    assert {k: row[k] for k in expected} == expected
    assert row["images"] == 100 and len(row["per_category_AP"]) == 80
    assert set(row["ci"]) == set(expected)
    json.dumps(row)


def test_bad_files_raise_input_error_naming_file_record_field(tmp_path: Path) -> None:
    gt = shared_file("coco_mask", "instances_val2014_100.json")
    pred = json.loads(shared_file("coco_mask", FILES["bbox"]).read_text())
    pred[5]["image_id"] = 999999999
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(pred))
    with pytest.raises(InputError) as err:
        SCORERS.get("coco-bbox")().score(_args(gt, bad))
    assert (err.value.file, err.value.record, err.value.field) == (str(bad), 5, "image_id")
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(InputError):
        SCORERS.get("coco-bbox")().score(_args(gt, broken))
    with pytest.raises(InputError):
        SCORERS.get("coco-bbox")().score(_args(gt, tmp_path / "missing.json"))


def test_cli_json_and_exit_code(tmp_path: Path) -> None:
    if not (REPO / "evalkit" / "cli.py").exists():
        pytest.skip("evalkit/cli.py not written yet")
    gt, pred = shared_file("coco_mask", "instances_val2014_100.json"), shared_file("coco_mask", FILES["segm"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "evalkit", "score", "coco-segm", "--gt", str(gt), "--pred", str(pred),
                          "--json"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    row = out[0] if isinstance(out, list) else out
    expected = reference_stats(json.loads(gt.read_text()), json.loads(pred.read_text()), "segm")
    assert row["AP"] == expected["AP"]
    bad = tmp_path / "bad.json"
    bad.write_text('[{"image_id": 42, "category_id": 1, "score": "high", "bbox": [0, 0, 1, 1]}]')
    run = subprocess.run([sys.executable, "-m", "evalkit", "score", "coco-bbox", "--gt", str(gt), "--pred", str(bad)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 2 and "score" in run.stderr
