"""The suite's ``logging:`` block through ``evalkit.run_suite``, and where the trackers sit: above records,
imported by nothing below them, their packages imported only when a run logs to them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import evalkit
from evalkit.errors import InputError
from tests.test_layering import PACKAGE, ROOT, imports_of, module_name
from tests.trackers.conftest import offline_environment, records_in, tiny_suite

#: the modules that may import evalkit.trackers: the entry points, and the suite (its logging: block)
USERS = ("evalkit.cli", "evalkit.api", "evalkit.suite")


def test_the_suite_block_logs_through_run_suite_into_its_folder(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    offline_environment(monkeypatch, tmp_path / "home")
    suite = tiny_suite(tmp_path, {"to": ["tensorboard"], "tensorboard": {"dir": "boards/tb"}})
    results = evalkit.run_suite(suite, output_dir=tmp_path / "out", models=["normalised"])
    (path, record), = records_in(tmp_path / "out").values()
    assert results[0].record["run_id"] == record["run_id"]
    assert (tmp_path / "out" / "boards" / "tb" / path.stem).is_dir()
    assert list((tmp_path / "out" / "boards" / "tb" / path.stem).glob("events.out.tfevents.*"))


def test_trackers_need_an_output_folder(tmp_path):
    with pytest.raises(InputError, match="output_dir"):
        evalkit.run_suite(tiny_suite(tmp_path), log_to="tensorboard")


def test_nothing_below_the_entry_points_imports_the_trackers():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        if module.startswith("evalkit.trackers") or module in USERS:
            continue
        found += [f"{module}:{line}" for line, name in imports_of(path) if name.startswith("evalkit.trackers")]
    assert found == []


def test_tracker_packages_load_only_when_a_run_logs_to_them():
    code = ("import json, sys\n"
            "import evalkit.cli, evalkit.api, evalkit.suite, evalkit.trackers, evalkit.trackers.config\n"
            "from evalkit.cli import build_parser\n"
            "build_parser(['run', 'x.yaml'])\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'wandb', 'tensorboard')\n"
            "                        or m.startswith('evalkit.trackers.') and m != 'evalkit.trackers.config'"
            " and m != 'evalkit.trackers.base')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == []
