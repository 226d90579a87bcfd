"""A bad suite is an error naming the file, the key path and what was expected; nothing runs."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evalkit.cli import main
from evalkit.errors import SuiteError
from evalkit.suite import load_suite

GOOD = {
    "name": "s",
    "task": "imagenet",
    "dataset": {"root": "data"},
    "models": [{"adapter": "timm", "name": "test_resnet", "num_classes": 3}],
    "metrics": ["topk"],
    "runtime": {"batch_size": 4},
}


def write(tmp_path: Path, suite: dict) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def test_good_suite_resolves_paths_against_the_suite_folder(tmp_path):
    suite = load_suite(write(tmp_path, GOOD))
    (ev,) = suite.evaluations
    assert ev.dataset.name == "imagenet" and ev.dataset.options["root"] == str(tmp_path / "data")
    assert ev.runtime.batch_size == 4 and ev.metrics[0].name == "topk"


def test_an_evaluation_may_name_its_benchmark_for_the_reports(tmp_path):
    (ev,) = load_suite(write(tmp_path, {**GOOD, "benchmark": "imagenet"})).evaluations
    assert ev.spec["benchmark"] == "imagenet"  # recorded as suite.spec.benchmark


def test_data_root_rebases_dataset_paths_only(tmp_path):
    suite = load_suite(write(tmp_path, {**GOOD, "models": [{"adapter": "predictions", "path": "p.txt"}]}),
                       data_root=tmp_path / "elsewhere")
    (ev,) = suite.evaluations
    assert ev.dataset.options["root"] == str(tmp_path / "elsewhere" / "data")
    assert ev.models[0].options["path"] == str(tmp_path / "p.txt")


@pytest.mark.parametrize("change, keypath, expected", [
    ({"runtime": {"batch_size": "eight"}}, "runtime.batch_size", "expected int"),
    ({"runtime": {"precision": "fp8"}}, "runtime.precision", "fp32, fp16, bf16"),
    ({"runtime": {"limit": 0}}, "runtime.limit", "positive"),
    ({"runtime": {"prefetch_factor": 0}}, "runtime.prefetch_factor", "positive"),
    ({"runtime": {"persistent_workers": "yes"}}, "runtime.persistent_workers", "bool"),
    ({"runtime": {"batchsize": 3}}, "runtime.batchsize", "unknown key"),
    ({"modles": []}, "modles", "unknown key"),
    ({"models": []}, "models", "non-empty list"),
    ({"models": [{"adapter": "timmm"}]}, "models[0].adapter", "did you mean 'timm'"),
    ({"metrics": ["top-k"]}, "metrics[0].name", "did you mean 'topk'"),
    ({"task": "imagenett"}, "task", "did you mean 'imagenet'"),
    ({"dataset": ["root"]}, "dataset", "expected a mapping"),
    ({"benchmark": ["coco"]}, "benchmark", "expected a benchmark name"),
    ({"benchmark": "../coco"}, "benchmark", "expected a benchmark name"),
    ({"benchmark": ""}, "benchmark", "expected a benchmark name"),
    ({"benchmark": "x" * 10_000 + "\n"}, "benchmark", "expected a benchmark name"),
    ({"name": "s\n"}, "name", "expected a name"),  # names become file names: no trailing newline
])
def test_errors_name_file_keypath_and_expectation(tmp_path, change, keypath, expected):
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    message = str(err.value)
    assert str(path) in message and f"field {keypath!r}" in message and expected in message


def test_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(SuiteError, match="not valid YAML"):
        load_suite(bad)
    with pytest.raises(SuiteError, match="not found"):
        load_suite(tmp_path / "absent.yaml")


def test_yaml_tags_are_not_executed(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(SuiteError, match="not valid YAML"):
        load_suite(path)


def test_cli_exits_2_and_runs_nothing_on_a_bad_suite(tmp_path, capsys):
    path = write(tmp_path, {**GOOD, "runtime": {"workers": -1}})
    assert main(["run", str(path), "--output-dir", str(tmp_path / "out")]) == 2
    assert "runtime.workers" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_multi_part_suite_with_shared_runtime(tmp_path):
    suite = {"name": "multi", "runtime": {"batch_size": 2},
             "evaluations": [{**{k: v for k, v in GOOD.items() if k not in ("runtime", "name")}, "name": "a"},
                             {**{k: v for k, v in GOOD.items() if k != "name"}, "name": "b"}]}
    parsed = load_suite(write(tmp_path, suite))
    assert [e.name for e in parsed.evaluations] == ["a", "b"]
    assert [e.runtime.batch_size for e in parsed.evaluations] == [2, 4]
