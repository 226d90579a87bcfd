"""`evalkit score topk` against timm's accuracy(), and its bad-input errors."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from timm.utils import accuracy

from evalkit.cli import build_parser, main


def write(tmp_path, logits, labels):
    np.save(tmp_path / "logits.npy", logits)
    (tmp_path / "labels.txt").write_text("".join(f"{x}\n" for x in labels))
    return ["score", "topk", "--logits", str(tmp_path / "logits.npy"), "--labels", str(tmp_path / "labels.txt")]


def test_equals_timm_accuracy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((500, 20)).astype(np.float32), rng.integers(0, 20, 500)
    assert main([*write(tmp_path, logits, labels), "--json", "--ci"]) == 0
    out = json.loads(capsys.readouterr().out)
    top1, top5 = accuracy(torch.from_numpy(logits), torch.from_numpy(labels), topk=(1, 5))
    assert out["top1_error"] == pytest.approx(100 - top1.item(), rel=1e-6)
    assert out["top5_error"] == pytest.approx(100 - top5.item(), rel=1e-6)
    assert out["ci"]["top1_error"][0] <= out["top1_error"] <= out["ci"]["top1_error"][1]


@pytest.mark.parametrize("logits, labels, message", [
    (np.zeros((3, 4)), [0, 1], "2 labels for 3 rows"),
    (np.zeros((2, 4)), [0, 9], "line 2"),
    (np.zeros((2, 4)), [0, "x"], "line 2"),
    (np.array([[0.0, np.nan], [1.0, 2.0]]), [0, 1], "row 0"),
    (np.zeros(4), [0], "2-D"),
])
def test_bad_files_exit_2_naming_file_and_record(tmp_path, capsys, logits, labels, message):
    assert main(write(tmp_path, logits, labels)) == 2
    err = capsys.readouterr().err
    assert message in err and str(tmp_path) in err


def test_every_help_text_renders():
    parser = build_parser()
    commands = [[], ["run"], ["score"], ["list"]]
    scorer_names = parser._subparsers._group_actions[0].choices["score"]._subparsers._group_actions[0].choices
    commands += [["score", name] for name in scorer_names]
    for command in commands:
        proc = subprocess.run([sys.executable, "-m", "evalkit", *command, "--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "usage: evalkit" in proc.stdout, (command, proc.stderr[-500:])
