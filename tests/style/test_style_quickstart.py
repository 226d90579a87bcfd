"""The quickstart's style-transfer part: Gatys at 64 px with random VGG-19 weights, flagged as random."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_quickstart_gatys_part_runs_and_says_random(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "evalkit", "run", "suites/quickstart.yaml", "--model",
                           "gatys-64px-random-vgg19", "--json", "--no-progress", "--output-dir", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    record = record[0] if isinstance(record, list) else record
    assert record["task"] == "style-transfer" and record["model"]["random_weights"] is True
    assert 0.5 < record["metrics"]["SSIM"] <= 1.0
    assert record["dataset"]["num_samples"] == 2


def test_quickstart_style_data_is_small_and_credited():
    root = REPO / "data" / "quickstart" / "style"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    assert files == ["content/astronaut.png", "content/coffee.png", "style/starry_night.png"]
    sources = (root / "SOURCES.md").read_text()
    assert all(name.split("/")[1] in sources for name in files) and "public domain" in sources
    assert sum((root / f).stat().st_size for f in files) < 100_000
