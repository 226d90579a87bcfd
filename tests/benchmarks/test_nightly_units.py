"""The nightly job's pieces that need no asv run: thresholds next to benchmarks, direction, GPU skips."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import nightly  # noqa: E402
import noise  # noqa: E402


def test_thresholds_are_read_next_to_benchmarks(tmp_path):
    (tmp_path / "bench_a.py").write_text(
        "threshold = 1.4\n"
        "class Base:\n"
        "    threshold = 1.3\n"
        "    def time_x(self): pass\n"
        "    def time_y(self): pass\n"
        "    time_y.threshold = 2.0\n"
        "class Child(Base):\n"
        "    pass\n"
        "class Other:\n"
        "    def time_z(self): pass\n"
        "def time_free(): pass\n"
        "time_free.threshold = 1.1\n")
    table = nightly.thresholds(tmp_path)
    assert nightly.threshold_for("bench_a.Base.time_x", table) == (1.3, True)
    assert nightly.threshold_for("bench_a.Base.time_y", table) == (2.0, True)
    assert nightly.threshold_for("bench_a.Child.time_x", table) == (1.3, True)
    assert nightly.threshold_for("bench_a.Child.time_y", table) == (2.0, True)
    assert nightly.threshold_for("bench_a.Other.time_z", table) == (1.4, True)
    assert nightly.threshold_for("bench_a.time_free", table) == (1.1, True)
    assert nightly.threshold_for("bench_a.Base.time_y(1.5, cpu)", table) == (2.0, True)
    assert nightly.threshold_for("bench_b.X.time_q", table) == (nightly.DEFAULT_THRESHOLD, False)


def test_every_real_benchmark_module_has_thresholds():
    table = nightly.thresholds(BENCH)
    for path in sorted(BENCH.glob("bench_*.py")):
        module = path.stem
        assert any(k == module or k.startswith(module + ".") for k in table), (
            f"{path.name}: no nightly threshold; write `threshold = …` on its classes (measured with "
            "benchmarks/noise.py --runs 5, or a default marked as not measured)")
    assert all(1.0 < v <= 5.0 for v in table.values()), table


def test_every_tracked_number_is_lower_is_better():
    """No speed-ups or throughputs: asv reads a rise as a regression."""
    for path in sorted(BENCH.glob("bench_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("track_"):
                assert "speedup" not in node.name and "throughput" not in node.name, f"{path.name}: {node.name}"
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute) \
                    and node.targets[0].attr == "unit" and isinstance(node.value, ast.Constant):
                assert node.value.value not in ("x", "img/s", "images/s"), path.name


def test_suggested_threshold_rule():
    assert noise.suggested_threshold(1.01) == 1.2
    assert noise.suggested_threshold(1.2) == 1.4
    assert noise.suggested_threshold(1.26) == 1.55


def test_noise_json_keeps_the_runs_finished_before_an_interruption(tmp_path, monkeypatch):
    """--json is replaced whole after every run: a measurement cut off in run 2 keeps run 1's values."""
    import argparse
    import json
    import subprocess

    readings = iter([{"bench_x.t": 2.0, "bench_x.nan": float("nan")}])

    def fake_asv(*args, **kwargs):
        return subprocess.CompletedProcess(args, 0, "", "")

    def next_reading(*args):
        try:
            return next(readings)
        except StopIteration:
            raise KeyboardInterrupt from None  # the machine went away during run 2

    monkeypatch.setattr(noise.subprocess, "run", fake_asv)
    monkeypatch.setattr(noise, "load_values", next_reading)
    out = tmp_path / "noise.json"
    args = argparse.Namespace(runs=5, bench=["bench_x"], quick=False, json=out)
    with pytest.raises(KeyboardInterrupt):
        noise._measure(args, tmp_path, "0" * 40, {})
    saved = json.loads(out.read_text())
    assert saved["runs_done"] == 1 and len(saved["load_average"]) == 3
    assert saved["benchmarks"] == {"bench_x.t": {"values": [2.0], "spread": 1.0, "threshold": 1.2}}
    assert [p.name for p in tmp_path.iterdir()] == ["noise.json"]  # no partial file left beside it


def test_environment_differences():
    before = {"python": "3.11.7", "threads": {"OMP_NUM_THREADS": "2"}, "packages": {"numpy": "2.4.6", "torch": "2.14.1"}}
    after = {"python": "3.11.7", "threads": {"OMP_NUM_THREADS": "4"}, "packages": {"numpy": "2.4.7", "scipy": "1.16"}}
    lines = nightly.environment_differences(before, after)
    assert "OMP_NUM_THREADS: '2' → '4'" in lines
    assert "numpy: 2.4.6 → 2.4.7" in lines and "torch: 2.14.1 → absent" in lines and "scipy: absent → 1.16" in lines
    assert not any(line.startswith("python") for line in lines)


def test_gpu_benchmarks_skip_without_cuda():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the benchmarks run instead of skipping")
    import bench_gpu

    assert bench_gpu.ResNet50Throughput().setup_cache() is None
    for bench, args in ((bench_gpu.ResNet50Throughput(), (None, "fp32", "cpu")),
                        (bench_gpu.ResNet50BareForward(), ("fp32",)), (bench_gpu.Analogy300k(), ())):
        with pytest.raises(NotImplementedError):
            bench.setup(*args)


def test_importing_the_benchmarks_keeps_the_installed_evalkit_first(tmp_path):
    """asv's forkserver imports every module of benchmarks/ before each benchmark; none may put the working
    tree's root ahead of the environment the commit was installed into."""
    import subprocess

    code = (
        "import importlib, sys, sysconfig; sys.path.insert(0, %r); before = list(sys.path);"
        "[importlib.import_module(m) for m in %r];"
        "site = sysconfig.get_paths()['purelib']; new = [p for p in sys.path[:sys.path.index(site)] if p not in before];"
        "print(new)"
    ) % (str(BENCH), sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__"))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    new = eval(out.stdout.strip().splitlines()[-1])
    root = str(BENCH.parent)
    assert not [p for p in new if p.rstrip("/") in (root, str(BENCH.parent.resolve()))], new


def test_uv_gets_pips_package_sources():
    """Per-commit environments install with uv, which reads no pip.conf: pip's sources become UV_* variables."""
    config = ("global.cert='/etc/ssl/certs/ca.crt'\n"
              "global.extra-index-url='file:///opt/a/simple file:///opt/b/simple'\n"
              "global.find-links='/opt/wheels'\n"
              "global.constraint='/etc/pip/constraints.txt'\n"
              ":env:.default-timeout='180'\n"
              ":env:.find-links='/opt/wheels /srv/wheelhouse'\n")
    assert nightly.uv_settings(config) == {
        "SSL_CERT_FILE": "/etc/ssl/certs/ca.crt",
        "UV_EXTRA_INDEX_URL": "file:///opt/a/simple file:///opt/b/simple",
        "UV_INDEX_STRATEGY": "unsafe-best-match",  # pip's choice: the best version across all indexes
        "UV_FIND_LINKS": "/opt/wheels,/srv/wheelhouse",  # the later scope wins; uv separates with commas
        "UV_CONSTRAINT": "/etc/pip/constraints.txt",
    }
    assert nightly.uv_settings("") == {}


def test_per_commit_environments_install_what_benchmarks_import():
    """asv.conf.json installs the `bench` extra with uv, torch pinned; the extra holds every reference a benchmark imports."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    conf = nightly.load_conf(BENCH.parent / "asv.conf.json")
    install = " ".join(conf["install_command"])
    assert "uv pip install" in install and "{wheel_file}[bench]" in install and "torch==" in install
    assert "uv" in conf["matrix"]["req"]
    extras = tomllib.loads((BENCH.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    bench = " ".join(extras["bench"])
    for package in ("lvis", "lm-eval", "accelerate", "faster-coco-eval", "generation-dev", "style-dev", "torchmetrics"):
        assert package in bench, package
