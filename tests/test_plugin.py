"""A third-party plugin (tests/plugin_package: task, loader, adapter, metric through entry points) runs like
the built-in tasks: validated, listed, sharded with ``--shard`` + ``merge`` and under 2 torchrun ranks,
each equal to a single process."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from evalkit.cli import main
from evalkit.errors import SuiteError
from evalkit.recompute import merge_part_files
from evalkit.runner import run_suite
from evalkit.suite import load_suite, parse_suite
from tests._dist_suite import assert_same_run


def write_suite(tmp: Path) -> Path:
    numbers = tmp / "numbers.txt"
    numbers.write_text("\n".join(str(v) for v in (3.0, -1.5, 8.25, 0.5, 12.0, -7.0, 2.0)) + "\n")
    suite = tmp / "plugin.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "plugin", "task": "plugin-numbers", "dataset": {"root": str(numbers)},
        "models": [{"adapter": "plugin-halver", "label": "half"}],
        "metrics": [{"name": "plugin-mae", "scale": 2.0}],
        "runtime": {"device": "cpu", "batch_size": 2, "progress": False, "ci": True, "n_resamples": 50}}))
    return suite


@pytest.fixture()
def single(tmp_path) -> tuple[Path, dict]:
    suite = write_suite(tmp_path)
    result, = run_suite(load_suite(suite), output_dir=tmp_path / "single")
    return suite, {**result.record, "_path": str(result.path)}


def test_plugin_runs_and_its_metric_is_right(single):
    _, record = single
    values = [3.0, -1.5, 8.25, 0.5, 12.0, -7.0, 2.0]
    assert record["metrics"]["MAE"] == pytest.approx(2.0 * sum(abs(v) / 2 for v in values) / len(values), rel=1e-15)
    assert record["main_metric"] == "MAE" and record["higher_is_better"] is False
    assert record["signatures"]["plugin-mae"]["options"] == {"scale": 2.0}
    assert record["signatures"]["plugin-mae"]["text"].startswith("plugin-mae|scale:2.0|")


def test_plugin_under_shards_and_merge_equals_one_process(single, tmp_path):
    suite, reference = single
    for index in (1, 0):
        assert main(["run", str(suite), "--shard", f"{index}/2", "--output-dir", str(tmp_path / "parts"),
                     "--no-progress"]) == 0
    merged, = merge_part_files(sorted((tmp_path / "parts").glob("*.part.json.gz")), tmp_path / "merged")
    assert_same_run(json.loads(merged.path.read_text()), reference, tmp_path / "merged")


def test_plugin_under_two_torchrun_ranks_equals_one_process(single, tmp_path):
    from tests.test_distributed import run_distributed

    suite, reference = single
    record = run_distributed(2, suite, tmp_path / "dist", "--no-progress")["plugin"]
    assert record["timing"]["world_size"] == 2
    assert_same_run(record, reference, tmp_path / "dist")


def test_suite_rejects_a_plugin_adapter_for_another_task(tmp_path):
    raw = yaml.safe_load(write_suite(tmp_path).read_text())
    raw["task"], raw["dataset"] = "imagenet", {"root": str(tmp_path)}
    with pytest.raises(SuiteError, match=r"models\[0\]\.adapter.*serves task plugin-numbers, not 'imagenet'"):
        parse_suite(raw, file=tmp_path / "x.yaml")
    raw = yaml.safe_load(write_suite(tmp_path).read_text())
    raw["metrics"] = [{"name": "plugin-mae", "scael": 2.0}]
    with pytest.raises(SuiteError, match=r"metrics\[0\]\.scael.*did you mean 'scale'"):
        parse_suite(raw, file=tmp_path / "x.yaml")
