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


def test_class_subset_equals_validate_py_valid_labels(tmp_path, capsys):
    """``--class-subset imagenet-r``: timm's accuracy() on ``output[:, valid_labels]`` with subset-index targets."""
    from evalkit.formats.imagenet import class_subset

    rng = np.random.default_rng(1)
    valid = list(class_subset("imagenet-r"))
    labels = rng.choice(valid, 300)
    logits = rng.standard_normal((300, 1000)).astype(np.float32)
    logits[np.arange(300), labels] += 2.5
    assert main([*write(tmp_path, logits, labels), "--class-subset", "imagenet-r", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    target = torch.tensor([valid.index(int(label)) for label in labels])
    top1, top5 = accuracy(torch.from_numpy(logits)[:, valid], target, topk=(1, 5))
    assert out["top1_error"] == pytest.approx(100 - top1.item(), rel=1e-6)
    assert out["top5_error"] == pytest.approx(100 - top5.item(), rel=1e-6)
    assert "class_subset:imagenet-r" in out["metric_signature"]
    assert main([*write(tmp_path, logits, [*labels[:-1], 0]), "--class-subset", "imagenet-r"]) == 2
    err = capsys.readouterr().err
    assert "line 300" in err and "labels.txt" in err and "imagenet-r" in err
    assert main([*write(tmp_path, logits[:, :999], labels), "--class-subset", "imagenet-r"]) == 2
    assert "logits.npy" in capsys.readouterr().err


def test_real_topk_equals_timm_real_labels_imagenet(tmp_path, capsys):
    """``score real-topk`` on the bundled real.json equals timm's RealLabelsImagenet, in official row order and
    with a --files list in another order."""
    from timm.data import RealLabelsImagenet

    from evalkit.formats.imagenet import real_file_name

    rng = np.random.default_rng(2)
    logits = rng.standard_normal((400, 1000)).astype(np.float32)
    every = [real_file_name(i) for i in rng.permutation(50_000)]  # timm takes all 50,000 names, scores in order
    names = every[:400]
    reference = RealLabelsImagenet(every)  # timm's default: its own copy of real.json, the same published file
    reference.add_result(torch.from_numpy(logits))
    np.save(tmp_path / "logits.npy", logits)
    (tmp_path / "files.txt").write_text("".join(f"{n}\n" for n in names))
    command = ["score", "real-topk", "--logits", str(tmp_path / "logits.npy"), "--json"]
    assert main([*command, "--files", str(tmp_path / "files.txt")]) == 0
    out = json.loads(capsys.readouterr().out)
    for k in (1, 5):
        assert out[f"top{k}_accuracy"] == pytest.approx(reference.get_accuracy(k), rel=1e-12)
    assert out["rated_images"] + out["unrated_images"] == 400 and "labels:ReaL:d83e9bff374c" in out["metric_signature"]
    ordered = RealLabelsImagenet(sorted(every))
    ordered.add_result(torch.from_numpy(logits))
    assert main(command) == 0
    assert json.loads(capsys.readouterr().out)["top1_accuracy"] == pytest.approx(ordered.get_accuracy(1), rel=1e-12)


@pytest.mark.parametrize("lines, message", [
    (["ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000001.JPEG"], "record line 2: the same file name as line 1"),
    (["ILSVRC2012_val_00000001.JPEG", "cat.jpg"], "record line 2: not an ILSVRC2012 val file name"),
    (["ILSVRC2012_val_00000001.JPEG"], "1 file names for 2 rows"),
])
def test_real_topk_bad_file_list_exits_2_naming_the_line(tmp_path, capsys, lines, message):
    np.save(tmp_path / "logits.npy", np.zeros((2, 1000), np.float32))
    (tmp_path / "files.txt").write_text("\n".join(lines) + "\n")
    assert main(["score", "real-topk", "--logits", str(tmp_path / "logits.npy"), "--files",
                 str(tmp_path / "files.txt")]) == 2
    err = capsys.readouterr().err
    assert message in err and "files.txt" in err
