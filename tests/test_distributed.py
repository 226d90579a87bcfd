"""Distributed runs on gloo: 2 and 3 ranks launched as torchrun launches them, equal to one process exactly."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests._dist_suite import REPO, WNIDS, assert_same_run, single_run, write_suite

LAUNCH_TIMEOUT_S = 150


QUICK_EVALUATIONS = ["images", "wmt17"]  # topk, bleu, chrf, ter; the slow tests add coco, cider and analogy


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    tmp = tmp_path_factory.mktemp("single")
    return tmp, single_run(tmp, QUICK_EVALUATIONS)


@pytest.fixture(scope="module")
def single_all(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    tmp = tmp_path_factory.mktemp("single_all")
    return tmp, single_run(tmp)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(world: int, argv: list[str], timeout_s: float = 20) -> list[subprocess.CompletedProcess]:
    """``world`` processes with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_*), no agent."""
    port = free_port()
    procs = []
    for rank in range(world):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world),
               "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
               "OMP_NUM_THREADS": "1", "EVALKIT_DIST_TIMEOUT_S": str(timeout_s), "HF_HUB_OFFLINE": "1"}
        procs.append(subprocess.Popen([sys.executable, "-m", "evalkit", *argv], cwd=REPO, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=LAUNCH_TIMEOUT_S)
            results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def run_distributed(world: int, suite: Path, out: Path, *extra: str) -> dict[str, dict]:
    ranks = launch(world, ["run", str(suite), "--output-dir", str(out), "--json", *extra])
    for rank, result in enumerate(ranks):
        assert result.returncode == 0, f"rank {rank}: {result.stderr[-3000:]}"
    assert all(r.stdout == "" for r in ranks[1:]), "only rank 0 prints"
    records = json.loads(ranks[0].stdout)
    return {r["suite"]["evaluation"]: r for r in (records if isinstance(records, list) else [records])}


def check_against_single(records: dict[str, dict], single: dict[str, dict], out: Path, world: int) -> None:
    assert set(records) <= set(single)
    for name, record in records.items():
        assert_same_run(record, single[name], out)
        timing = record["timing"]
        assert timing["world_size"] == world and len(timing["ranks"]) == world
        assert timing["throughput"] > 0 and all(r["throughput"] for r in timing["ranks"] if r["timed_samples"])
        assert timing["timed_samples"] == sum(r["timed_samples"] for r in timing["ranks"])
        assert len(record["cache_dirs"]) == world and len(set(record["cache_dirs"])) == world  # one cache per rank
    written = sorted(p.name for p in out.iterdir() if p.name != ".cache")
    assert len(written) == 3 * len(records), "rank 0 writes one record (+ predictions, state) per run; others none"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_ranks_equal_one_process_for_every_metric(single_all, tmp_path):
    tmp, reference = single_all
    records = run_distributed(2, write_suite(tmp), tmp_path / "out")
    assert set(records) == set(reference)
    check_against_single(records, reference, tmp_path / "out", 2)


@pytest.mark.timeout(300)
def test_three_ranks_uneven_shards_equal_one_process(single, tmp_path):
    tmp, reference = single
    records = run_distributed(3, write_suite(tmp, QUICK_EVALUATIONS), tmp_path / "out")  # 12 images, 101 sentences
    assert set(records) == set(QUICK_EVALUATIONS)
    check_against_single(records, reference, tmp_path / "out", 3)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_three_ranks_every_metric(single_all, tmp_path):
    tmp, reference = single_all
    check_against_single(run_distributed(3, write_suite(tmp), tmp_path / "out"), reference, tmp_path / "out", 3)


@pytest.mark.timeout(200)
def test_a_failing_rank_fails_every_rank_with_its_error(tmp_path):
    """A corrupt image in rank 1's shard only: every rank exits 2 naming that file, nobody hangs, nothing written."""
    suite = write_suite(tmp_path, ["images"])
    bad = tmp_path / "val" / WNIDS[-1] / "zz_bad.JPEG"  # the last sample: in rank 1's shard
    bad.write_bytes(b"not an image")
    ranks = launch(2, ["run", str(suite), "--output-dir", str(tmp_path / "out"), "--no-progress"])
    for rank, result in enumerate(ranks):
        assert result.returncode == 2, f"rank {rank}: {result.stderr[-2000:]}"
        assert "zz_bad.JPEG" in result.stderr
    assert "rank 1 failed" in ranks[0].stderr
    assert not list((tmp_path / "out").glob("*.json")), "no record of a failed run"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_torchrun_launch(tmp_path):
    """The documented command line, through torchrun's agent, on the bundled WMT17 data."""
    suite = REPO / "suites" / "wmt17_en_de.yaml"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port", str(free_port()),
           "-m", "evalkit", "run", str(suite), "--model", "uedin-nmt", "--output-dir", str(tmp_path), "--json",
           "--no-progress"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=110,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(done.stdout)
    assert record["metrics"]["BLEU"] == 28.301225088283296  # SOURCES.md: sacrebleu 2.6.0 on the full test set
    assert record["timing"]["world_size"] == 2 and record["dataset"]["num_evaluated"] == 3004
