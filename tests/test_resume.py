"""Prediction cache: SIGKILL at random points and --resume give the uninterrupted record; bad chunks are recomputed."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from evalkit.cache import decode, encode, read_chunk, scan_chunks
from evalkit.cli import main
from tests._dist_suite import REPO, TINY, WNIDS, states_of
from tests.helpers import make_imagefolder

KILLS = 5


def image_suite(tmp: Path) -> Path:
    root = make_imagefolder(tmp / "val", WNIDS, per_class=14)  # 45 images, one batch each: 45 batches
    path = tmp / "resume.yaml"
    path.write_text(yaml.safe_dump({"name": "resume", "task": "imagenet", "dataset": {"root": str(root)},
                                    # larger inputs make each batch take long enough to be killed mid-run
                                    "models": [{**TINY, "preprocess": {"input_size": [3, 192, 192]}}],
                                    "metrics": ["topk"],
                                    "runtime": {"batch_size": 1, "device": "cpu", "progress": False}}))
    return path


def chunks(out: Path) -> list[Path]:
    return sorted(out.glob(".cache/*/chunk-*.npz"))


def run_cli(capsys, *argv) -> dict:
    assert main(["run", *map(str, argv), "--json", "--no-progress"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.timeout(300)
def test_sigkill_at_random_points_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    suite = image_suite(tmp_path)
    reference = run_cli(capsys, suite, "--output-dir", tmp_path / "ref", "--no-cache")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "evalkit", "run", str(suite), "--output-dir", str(out), "--resume",
            "--cache-chunk", "2", "--no-progress"]
    rng = random.Random(7)
    counts = []
    for _ in range(KILLS):
        before = len(chunks(out))
        target = before + rng.randint(1, 3)
        proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "OMP_NUM_THREADS": "1"})
        deadline = time.monotonic() + 120
        while len(chunks(out)) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))  # land anywhere: inside a batch, a chunk write, between them
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
        counts.append(len(chunks(out)))
    assert counts == sorted(counts) and counts[-1] > counts[0], f"the cache did not grow across resumes: {counts}"
    record = run_cli(capsys, suite, "--output-dir", out, "--resume", "--cache-chunk", 2)
    assert 0 < record["timing"]["resumed_samples"] < 45
    assert record["metrics"] == reference["metrics"]
    assert record["dataset"]["num_evaluated"] == reference["dataset"]["num_evaluated"] == 45
    assert states_of(record, out) == states_of(reference, tmp_path / "ref")  # every sample's top-5 and label


def test_corrupt_and_partial_chunks_are_recomputed_not_trusted(tmp_path, capsys):
    suite = image_suite(tmp_path)
    out = tmp_path / "out"
    first = run_cli(capsys, suite, "--output-dir", out, "--cache-chunk", 4, "--limit", 20)
    files = chunks(out)
    assert len(files) == 5 and all(p.name.count("-") == 2 for p in files)
    data = bytearray(files[2].read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped bit in chunk 2
    files[2].write_bytes(bytes(data))
    (files[0].parent / ".chunk-000005-x.npz.tmp").write_bytes(b"half a write")  # a killed atomic write
    resumed = run_cli(capsys, suite, "--output-dir", out, "--cache-chunk", 4, "--limit", 20, "--resume")
    assert resumed["timing"]["resumed_samples"] == 8  # chunks 0 and 1 only; 2 (corrupt) and after recomputed
    assert resumed["metrics"] == first["metrics"] and states_of(resumed, out) == states_of(first, out)
    assert len(chunks(out)) == 5 and not list(files[0].parent.glob(".*tmp"))
    again = run_cli(capsys, suite, "--output-dir", out, "--cache-chunk", 4, "--limit", 20, "--resume")
    assert again["timing"]["resumed_samples"] == 20 and again["metrics"] == first["metrics"]
    other = run_cli(capsys, suite, "--output-dir", out, "--cache-chunk", 4, "--limit", 12, "--resume")
    assert other["timing"]["resumed_samples"] == 0  # another run (limit) has another cache: never mixed


def test_a_corrupt_chunk_is_named_and_nothing_is_deleted(tmp_path, capsys):
    """rescore (a read command) names the bad chunk and changes nothing; --resume keeps it in set-aside/."""
    suite = image_suite(tmp_path)
    out = tmp_path / "out"
    first = run_cli(capsys, suite, "--output-dir", out, "--cache-chunk", 4, "--limit", 20)
    files = chunks(out)
    data = bytearray(files[1].read_bytes())
    data[len(data) // 3] ^= 0x01
    files[1].write_bytes(bytes(data))
    before = {p: p.read_bytes() for p in files[0].parent.iterdir()}
    (cache_dir,) = first["cache_dirs"]
    assert main(["rescore", cache_dir, "--output-dir", str(tmp_path / "re")]) == 2
    err = capsys.readouterr().err
    assert files[1].name in err and "corrupt" in err and "--resume" in err
    assert {p: p.read_bytes() for p in files[0].parent.iterdir()} == before  # not a byte changed
    assert not (tmp_path / "re").exists() or not list((tmp_path / "re").iterdir())
    resumed = run_cli(capsys, suite, "--output-dir", out, "--cache-chunk", 4, "--limit", 20, "--resume")
    assert resumed["timing"]["resumed_samples"] == 4 and resumed["metrics"] == first["metrics"]
    aside = files[0].parent / "set-aside"
    assert sorted(p.name for p in aside.iterdir()) == sorted(p.name for p in files[1:])  # kept, not deleted
    assert resumed["timing"]["cache_set_aside"][0] == files[1].name


def test_rescore_from_the_cache_without_the_model(tmp_path, capsys, monkeypatch):
    import evalkit.models.timm_models as timm_models

    suite = image_suite(tmp_path)
    record = run_cli(capsys, suite, "--output-dir", tmp_path / "out", "--limit", 10)
    (cache_dir,) = record["cache_dirs"]
    monkeypatch.setattr(timm_models.TimmAdapter, "build", lambda self: pytest.fail("model was built"))
    assert main(["rescore", cache_dir, "--output-dir", str(tmp_path / "re"), "--json"]) == 0
    rescored = json.loads(capsys.readouterr().out)
    assert rescored["metrics"] == record["metrics"] and "rescored" in rescored["notes"][-1]
    assert main(["rescore", cache_dir, "--ci", "--output-dir", str(tmp_path / "re"), "--json"]) == 0
    assert "top1_error" in json.loads(capsys.readouterr().out)["ci"]
    assert main(["rescore", str(tmp_path), "--output-dir", str(tmp_path / "re")]) == 2  # not a cache folder


def test_the_chunk_codec_keeps_types_without_pickle(tmp_path):
    import torch

    from evalkit.cache import CachedBatch, write_chunk

    value = {"logits": torch.randn(3, 5), 7: (np.float32(1.5), b"rle\x00", [None, True, "s"]), "a": np.arange(4)}
    arrays: dict = {}
    tree = [[["x"], encode(value, arrays), encode([1, 2], arrays), []]]
    path = write_chunk(tmp_path, 0, tree, arrays)
    (batch,) = read_chunk(path)
    assert isinstance(batch, CachedBatch) and batch.targets == [1, 2]
    got = batch.predictions
    assert torch.equal(got["logits"], value["logits"]) and got[7][0].dtype == np.float32 and got[7][1] == b"rle\x00"
    assert got[7][2] == [None, True, "s"] and isinstance(got[7], tuple) and np.array_equal(got["a"], np.arange(4))
    assert scan_chunks(tmp_path).good == [path]
    with np.load(path, allow_pickle=False) as npz:  # loads with pickle disabled
        assert all(npz[name].dtype != object for name in npz.files)
    with pytest.raises(TypeError):
        encode(object(), {})
    with pytest.raises(ValueError):
        decode({"D": ["os:system", {}]}, {})
