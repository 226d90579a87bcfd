"""Under ``torchrun --nproc_per_node=2`` (gloo, CPU) torchmetrics' own sync merges the states: every rank's
``compute()`` equals the single-process numbers, bit for bit, for every class and in MetricCollections."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torchmetrics")
pytest.importorskip("pycocotools")

from tests.torchmetrics_compat._ddp_worker import hexed, scores  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_ranks_equal_one_process(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port", str(free_port()),
           str(Path(__file__).with_name("_ddp_worker.py")), str(tmp_path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=280, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    single = hexed(scores(0, 1))
    assert ranks[0] == ranks[1] == single
    assert set(single["coco"]) >= {"bbox_AP", "segm_AP"} and set(single["text"]) >= {"BLEU", "CIDEr"}
