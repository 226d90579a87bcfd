"""benchmarks/nightly.sh end to end on a throwaway git repository with one tiny benchmark.

Three commits: the first is the baseline night, the second is 5% slower (within the benchmark's noise
threshold of 1.3), the third 2x slower. The next night runs both new commits and must report the third
alone, with the range second..third, and exit 1. The default run uses the current interpreter
(``--env existing``: no per-commit builds, about 20 s); the slow variant builds each commit's wheel into an
asv virtualenv, as the evalkit nightly does.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NIGHTLY = REPO / "benchmarks" / "nightly.sh"

pytest.importorskip("asv")

CONF = {"version": 1, "project": "tiny", "project_url": "https://example.invalid/tiny",
        "show_commit_url": "https://example.invalid/tiny/commit/", "repo": ".", "branches": ["main"],
        "environment_type": "virtualenv", "benchmark_dir": "benchmarks", "env_dir": ".asv/env",
        "results_dir": ".asv/results", "html_dir": ".asv/html", "pythons": [f"{sys.version_info[0]}.{sys.version_info[1]}"],
        "build_command": ["python -m pip wheel --no-deps --no-build-isolation -w {build_cache_dir} {build_dir}"]}
PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tiny"
version = "0.1"

[tool.setuptools]
py-modules = ["tiny"]
"""

BENCH = '''\
import tiny


class Tiny:
    number = 1
    repeat = 5
    rounds = 1
    warmup_time = 0
    #: a 50 ms sleep: scheduling jitter on a loaded 2-core machine stays well under 30%
    threshold = 1.3

    def time_work(self):
        tiny.work()

    def track_calls(self):
        """a constant: never regresses"""
        return 3.0
'''


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def _commit(repo: Path, delay: float, message: str) -> str:
    (repo / "tiny.py").write_text(f"import time\n\nDELAY = {delay}\n\n\ndef work():\n    time.sleep(DELAY)\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


def _nightly(repo: Path, home: Path, mode: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(home), NIGHTLY_REPO=str(repo), NIGHTLY_PYTHON=sys.executable,
               NIGHTLY_MACHINE="tiny-box", NIGHTLY_CPUS=str(min(os.sched_getaffinity(0))), PYTHONPATH="")
    return subprocess.run(["bash", str(NIGHTLY), "--env", mode], env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.parametrize("mode", ["existing", pytest.param("asv", marks=pytest.mark.slow)])
def test_nightly_reports_only_the_slow_commit(tmp_path, monkeypatch, mode):
    repo, home = tmp_path / "tiny", tmp_path / "home"
    (repo / "benchmarks").mkdir(parents=True)
    home.mkdir()
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}.items():
        monkeypatch.setenv(key, value)
    _git(tmp_path, "init", "-q", "-b", "main", str(repo))
    (repo / "asv.conf.json").write_text(json.dumps(CONF))
    (repo / "benchmarks" / "__init__.py").write_text("")
    (repo / "benchmarks" / "bench_tiny.py").write_text(BENCH)
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / ".gitignore").write_text(".asv/\n")
    first = _commit(repo, 0.05, "baseline")

    night1 = _nightly(repo, home, mode)
    assert night1.returncode == 0, night1.stderr[-3000:] + night1.stdout[-3000:]
    state = repo / ".asv" / "nightly"
    assert (state / "last-nightly").read_text().strip() == first
    assert "first nightly" in (state / "regressions.md").read_text()

    second = _commit(repo, 0.0525, "5% slower: noise")
    third = _commit(repo, 0.1, "2x slower")
    night2 = _nightly(repo, home, mode)
    report = (state / "regressions.md").read_text()
    assert night2.returncode == 1, night2.stderr[-3000:] + report
    section = report.split("## Regressions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) == 1, report
    assert "bench_tiny.Tiny.time_work" in rows[0]
    assert f"{second[:8]}](https://example.invalid/tiny/commit/{second})..[{third[:8]}]" in rows[0], report
    ratio = float(rows[0].split("|")[5])
    assert 1.5 < ratio < 2.6, report
    assert "track_calls" not in section and "| bench_tiny.Tiny.track_calls | 3 | 3 | 1.00 | 1.30 |" in report
    # the regression is not accepted: the baseline stays, and the published history has all three commits
    assert (state / "last-nightly").read_text().strip() == first
    index = json.loads((repo / ".asv" / "html" / "index.json").read_text())
    assert {first[:8], second[:8], third[:8]} <= {h[:8] for h in index["revision_to_hash"].values()}
