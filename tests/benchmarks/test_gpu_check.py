"""benchmarks/gpu_check.py --smoke runs on the CPU and prints the one table (the GPU run needs an H100/H200)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_check_smoke_prints_every_row(tmp_path):
    out = tmp_path / "gpu.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, env={"HF_HUB_OFFLINE": "1",
                                                                            "CUDA_VISIBLE_DEVICES": "",
                                                                            "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "device: cpu (smoke)" in done.stdout
    result = json.loads(out.read_text())
    assert [r["task"] for r in result["rows"]] == ["imagenet", "maskrcnn", "seq2seq", "fid", "perplexity"]
    assert all(r["harness"] > 0 and r["bare"] > 0 for r in result["rows"])
    agreement, = result["agreement"]
    assert agreement["pass"] and agreement["same_top1"] == 1.0  # the CPU pipeline against itself
