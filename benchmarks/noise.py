"""Measure benchmark noise: run the same commit N times with asv and report each benchmark's spread.

    python benchmarks/noise.py --runs 5 --bench 'bench_topk|CorpusBLEU3000'

Runs ``asv run -E existing`` (the current interpreter, a clean tree of HEAD first on the path) ``--runs``
times into a scratch results folder, and prints, per benchmark, the values' min, median, max and spread (max / min). The
threshold written next to a benchmark (``threshold = …``, read by nightly.py) is
:func:`suggested_threshold` of that spread: twice the observed excess, at least 1.2, rounded up to 0.05.
Not a benchmark module: asv imports it during discovery and finds nothing to run.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nightly import git, load_conf, load_values  # noqa: E402


def suggested_threshold(spread: float) -> float:
    return math.ceil(max(1.2, 1 + 2 * (spread - 1)) * 20 - 1e-9) / 20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bench", action="append", required=True, help="asv --bench regular expression")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, help="write the measurements here (rewritten after every run)")
    args = parser.parse_args(argv)
    repo = Path(__file__).resolve().parents[1]
    conf = load_conf(repo / "asv.conf.json")
    commit = git(repo, "rev-parse", "HEAD")
    tmp = Path(tempfile.mkdtemp(prefix="asv-noise-"))
    # a clean tree of the commit, first on the benchmarks' path: edits in the working tree during the
    # runs cannot leak into them; the generated data cache is shared with the working tree
    tree = tmp / "tree"
    git(repo, "worktree", "add", "--detach", str(tree), commit)
    bench_dir = tree / conf.get("benchmark_dir", "benchmarks")
    cache = repo / conf.get("benchmark_dir", "benchmarks") / ".cache"
    cache.mkdir(exist_ok=True)
    if not (bench_dir / ".cache").exists():
        (bench_dir / ".cache").symlink_to(cache)
    env = dict(os.environ, ASV_PYTHONPATH=str(tree))
    conf.update(repo=str(repo), benchmark_dir=str(bench_dir),
                results_dir=str(tmp / "results"), html_dir=str(tmp / "html"), env_dir=str(tmp / "env"))
    (tmp / "asv.conf.json").write_text(json.dumps(conf))
    subprocess.run([sys.executable, "-m", "asv", "machine", "--config", str(tmp / "asv.conf.json"), "--machine",
                    "noise", "--yes"], check=True, capture_output=True)
    try:
        series = _measure(args, tmp, commit, env)
    finally:
        git(repo, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'benchmark':60} {'n':>2} {'min':>10} {'median':>10} {'max':>10} {'spread':>7} {'threshold':>9}")
    for name, row in _summary(series).items():
        values = row["values"]
        print(f"{name:60} {len(values):2d} {min(values):10.4g} {statistics.median(values):10.4g} "
              f"{max(values):10.4g} {row['spread']:7.3f} {row['threshold']:9.2f}")
    return 0


def _summary(series: dict[str, list[float]]) -> dict[str, dict]:
    """Each benchmark's values, spread (max / min) and the threshold that spread suggests."""
    rows = {}
    for name, values in sorted(series.items()):
        spread = max(values) / min(values)
        rows[name] = {"values": values, "spread": spread, "threshold": suggested_threshold(spread)}
    return rows


def _measure(args, tmp: Path, commit: str, env: dict) -> dict[str, list[float]]:
    series: dict[str, list[float]] = {}
    for run in range(args.runs):
        cmd = [sys.executable, "-m", "asv", "run", "--config", str(tmp / "asv.conf.json"), "-E",
               f"existing:{sys.executable}", "--set-commit-hash", commit, "--machine", "noise"]
        cmd += [x for b in args.bench for x in ("--bench", b)] + (["--quick"] if args.quick else [])
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode:  # a failed benchmark: asv exits 2; the others' values still count
            print(done.stdout[-2000:], file=sys.stderr)
        for name, value in load_values(tmp / "results", "noise", commit).items():
            if value is not None and not math.isnan(value):
                series.setdefault(name, []).append(value)
        if args.json:  # after every run, replaced whole: an interrupted measurement keeps the runs it finished
            partial = args.json.with_name(args.json.name + ".partial")
            partial.write_text(json.dumps({"runs_done": run + 1, "load_average": os.getloadavg(),
                                           "benchmarks": _summary(series)}, indent=1))
            os.replace(partial, args.json)
        print(f"run {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
    return series


if __name__ == "__main__":
    sys.exit(main())
