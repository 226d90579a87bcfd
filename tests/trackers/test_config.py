"""The suite's ``logging:`` block and ``--log-to``: checked before anything runs, with errors that name the
file and field (exit status 2), and folders that cannot leave the output folder."""
from __future__ import annotations

import importlib.util

import pytest

from evalkit.errors import InputError, SuiteError
from evalkit.suite import load_suite
from evalkit.trackers import TRACKERS, plan
from evalkit.trackers.config import TRACKER_NAMES, LoggingConfig
from tests.trackers.conftest import run_cli, tiny_suite


def test_every_tracker_has_its_options_and_its_class():
    assert tuple(TRACKERS) == TRACKER_NAMES == ("mlflow", "tensorboard", "wandb")


def test_a_valid_block_is_read_into_the_suite(tmp_path):
    suite = load_suite(tiny_suite(tmp_path, {"to": ["mlflow", "wandb"], "mlflow": {"experiment": "study"},
                                             "wandb": {"project": "p", "dir": "runs/wandb"}}))
    assert suite.logging == LoggingConfig(("mlflow", "wandb"), {"mlflow": {"experiment": "study"},
                                                                "wandb": {"project": "p", "dir": "runs/wandb"}})
    assert all("logging" not in e.spec for e in suite.evaluations)


def test_a_single_evaluation_suite_takes_the_block_at_its_top(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text("name: one\ntask: vqa\nmodels: [{adapter: predictions, path: x.json}]\n"
                    "dataset: {loader: vqa, questions_file: q.json, annotations_file: a.json}\n"
                    "logging: {to: [tensorboard]}\n")
    suite = load_suite(path)
    assert suite.logging.to == ("tensorboard",) and "logging" not in suite.evaluations[0].spec


@pytest.mark.parametrize("block, field, words", [
    ({"to": ["mlfow"]}, "logging.to", "did you mean 'mlflow'"),
    ({"to": "tensorbord"}, "logging.to", "did you mean 'tensorboard'"),
    ({"to": []}, "logging.to", "expected tracker names"),
    ({"tensorbaord": {}}, "logging.tensorbaord", "did you mean 'tensorboard'"),
    ({"mlflow": {"experiement": "x"}}, "logging.mlflow.experiement", "did you mean 'experiment'"),
    ({"mlflow": {"experiment": 3}}, "logging.mlflow.experiment", "expected text"),
    ({"mlflow": "x"}, "logging.mlflow", "expected a mapping"),
    ({"mlflow": {"tracking_uri": "file:///tmp/elsewhere"}}, "logging.mlflow.tracking_uri", "http"),
    ({"mlflow": {"tracking_uri": "https://mlflow.example", "dir": "m"}}, "logging.mlflow.dir", "not both"),
    ({"tensorboard": {"dir": "../outside"}}, "logging.tensorboard.dir", "inside the output folder"),
    ({"wandb": {"dir": "/tmp/outside"}}, "logging.wandb.dir", "inside the output folder"),
    ({"wandb": {"dir": "a/../../b"}}, "logging.wandb.dir", "inside the output folder"),
    ({"wandb": {"dir": "C:\\\\runs"}}, "logging.wandb.dir", "inside the output folder"),
    ([], "logging", "expected a mapping"),
])
def test_a_bad_block_names_its_field(tmp_path, block, field, words):
    path = tiny_suite(tmp_path, block)
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    assert err.value.field == field and words in str(err.value) and str(path) in str(err.value)


def test_a_bad_block_fails_evalkit_check_with_status_2(tmp_path):
    code, _, stderr = run_cli(["check", str(tiny_suite(tmp_path, {"to": ["wandb"], "wandb": {"dir": "../x"}}))])
    assert code == 2 and "logging.wandb.dir" in stderr


def test_log_to_replaces_the_suites_trackers_and_keeps_their_options():
    configured = LoggingConfig(("mlflow",), {"mlflow": {"experiment": "study"}})
    assert plan(configured, "tensorboard,mlflow") == LoggingConfig(("tensorboard", "mlflow"), configured.options)
    assert plan(configured, None) == configured
    assert plan(configured, "") is None and plan(configured, []) is None and plan(None, None) is None
    with pytest.raises(InputError, match="did you mean 'wandb'"):
        plan(None, "wandbb")


def test_a_missing_package_is_named_before_anything_runs(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    out = tmp_path / "results"
    code, _, stderr = run_cli(["run", str(tiny_suite(tmp_path)), "--output-dir", str(out), "--log-to", "wandb"])
    assert code == 2 and "'wandb' package" in stderr and "evalkit[trackers]" in stderr
    assert not out.exists()


def test_shard_runs_write_parts_so_log_to_is_refused(tmp_path):
    code, _, stderr = run_cli(["run", str(tiny_suite(tmp_path)), "--output-dir", str(tmp_path / "r"),
                               "--shard", "0/2", "--log-to", "tensorboard"])
    assert code == 2 and "--shard" in stderr and not (tmp_path / "r").exists()
