"""The style-transfer task end to end: ``evalkit run`` with the task's default metrics (all five keys) for a folder
of stylised outputs and a ``torch-style`` factory, and ``evalkit score style`` giving the same numbers.

Every network is a seeded random one under its reference's file name (VGG-19 and AlexNet in TORCH_HOME,
art-Inception in ``$TMPDIR/art_fid``), so nothing is downloaded.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO
from tests.style._images import write_folders
from tests.style._weights import art_fid_tempdir, shared_torch_home

torch = pytest.importorskip("torch")

KEYS = ("SSIM", "LPIPS", "content_loss", "style_loss", "ArtFID")


class HalfBlend(torch.nn.Module):
    """A stand-in feed-forward model (``factory: tests.style.test_style_suite:HalfBlend``)."""

    def forward(self, content, style):
        return 0.7 * content + 0.3 * style.mean(dim=(2, 3), keepdim=True)


def _evalkit(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TORCH_HOME": str(shared_torch_home(("alexnet", "vgg19"))),
           "TMPDIR": str(art_fid_tempdir()), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True, text=True, cwd=REPO, env=env)


@pytest.mark.slow
def test_style_transfer_suite_and_score_agree(tmp_path):
    folders = write_folders(tmp_path / "data", contents=2, styles=2, size=(80, 88))
    suite = {"name": "style-e2e", "evaluations": [{
        "name": "pairs", "task": "style-transfer", "dataset": {"loader": "style-pairs", "root": str(tmp_path / "data")},
        "models": [{"adapter": "stylized", "label": "outputs", "path": str(folders["stylized"])},
                   {"adapter": "torch-style", "label": "half-blend", "factory": "tests.style.test_style_suite:HalfBlend"}],
        "runtime": {"device": "cpu", "batch_size": 2}}]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    run = _evalkit("run", str(tmp_path / "suite.yaml"), "--json", "--no-progress", "--output-dir", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    records = {r["model"]["name"]: r for r in json.loads(run.stdout)}
    assert set(records) == {"outputs", "half-blend"}
    for record in records.values():
        assert set(KEYS) <= set(record["metrics"]) and record["dataset"]["num_samples"] == 4
    assert records["half-blend"]["model"]["random_weights"] is True

    score = _evalkit("score", "style", "--content", str(folders["content"]), "--style", str(folders["style"]),
                     "--stylized", str(folders["stylized"]), "--metrics", "ssim,lpips,content-loss,style-loss,artfid",
                     "--json")
    assert score.returncode == 0, score.stderr
    scored = json.loads(score.stdout)
    for key in KEYS:
        assert scored[key] == pytest.approx(records["outputs"]["metrics"][key], rel=1e-9), key
    assert set(scored["metric_signature"]) == {"ssim", "lpips", "content-loss", "style-loss", "artfid"}
    assert set(scored["weights"]["artfid"]) == {"art_inception", "lpips_backbone", "lpips_heads"}
