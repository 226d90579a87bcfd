"""Records → tidy DataFrame: tolerant of older records, clear about files that are not records."""
from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from tests.reports.recordgen import RecordFactory

from evalkit.errors import InputError
from evalkit.registry import TASKS
from evalkit.reports.frames import load_records, to_parquet

OLD_RECORD_DROPS = ("schema", "ci", "timing", "environment", "main_metric", "higher_is_better", "state_file",
                    "model.year", "metric_names", "started_at")


@pytest.fixture()
def results(tmp_path):
    factory = RecordFactory(tmp_path / "results")
    factory.imagenet_run("resnet50", 0.76, seed=1, year=2015)
    factory.imagenet_run("alexnet", 0.57, seed=3, drop=OLD_RECORD_DROPS)
    (factory.root / "suite.json").write_text(json.dumps({"name": "not a record"}))
    (factory.root / "broken.json").write_text("{oops")
    return factory.root


def test_one_row_per_run_and_metric_with_the_record_values(results):
    with pytest.warns(UserWarning, match="skipped 2 file"):
        frame = load_records(results)
    records = {json.loads(p.read_text())["model"]["name"]: json.loads(p.read_text())
               for p in results.glob("unit__*.json")}
    assert len(frame) == sum(len(r["metrics"]) for r in records.values())
    for row in frame.itertuples():
        record = records[row.model]
        assert row.value == record["metrics"][row.metric]
        assert row.task == "imagenet" and row.dataset_key == record["dataset"]["fingerprint"]
    full = frame[(frame["model"] == "resnet50") & (frame["metric"] == "top1_error")].iloc[0]
    assert [full.ci_low, full.ci_high] == records["resnet50"]["ci"]["top1_error"]
    assert full.throughput == records["resnet50"]["timing"]["throughput"]
    assert full.peak_memory_bytes == records["resnet50"]["timing"]["peak_host_rss_bytes"]
    assert full.model_year == 2015 and full.started_at == pd.Timestamp(records["resnet50"]["started_at"])


def test_missing_optional_fields_become_missing_values_and_task_defaults(results):
    with pytest.warns(UserWarning):
        frame = load_records(results)
    old = frame[frame["model"] == "alexnet"]
    assert len(old) == 2
    assert old[["ci_low", "ci_high", "throughput", "peak_memory_bytes", "model_year"]].isna().all().all()
    assert old["started_at"].isna().all() and old["state_file"].isna().all()
    task = TASKS.get("imagenet")
    assert set(old["main_metric"]) == {task.main_metric}
    assert set(old["higher_is_better"]) == {task.higher_is_better}
    assert old.loc[old["is_main"], "metric"].tolist() == [task.main_metric]


def test_files_that_are_not_records_are_named_with_the_reason(results):
    with pytest.warns(UserWarning):
        frame = load_records(results)
    skipped = "\n".join(frame.attrs["skipped"])
    assert "suite.json: no evalkit.run/* schema field" in skipped
    assert "broken.json: not valid JSON" in skipped
    with pytest.raises(InputError, match=r"file .*suite\.json.*not an evalkit run record"):
        load_records(results / "suite.json")


def test_evalkit_prediction_cache_next_to_the_records_is_not_warned_about(tmp_path):
    factory = RecordFactory(tmp_path / "runs")
    factory.imagenet_run("resnet50", 0.76)
    cache = factory.root / ".cache" / "key"
    cache.mkdir(parents=True)
    (cache / "run.json").write_text(json.dumps({"schema": "evalkit.cache/1", "key": "key"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = load_records(factory.root)
    assert frame.attrs["skipped"] == [] and set(frame["model"]) == {"resnet50"}


@pytest.mark.parametrize(("field", "value", "named"), [
    ("metrics", {"top1_error": "low"}, "metrics.top1_error"),
    ("ci", {"top1_error": [1.0]}, "ci.top1_error"),
    ("timing", "fast", "timing"),
    ("schema", "evalkit.run/3", "schema"),  # newer than this evalkit reads
    ("dataset", {"benchmark": 14, "num_evaluated": 20, "num_skipped": 0}, "dataset.benchmark"),
    ("suite", {"name": "unit", "evaluation": "e", "spec": {"benchmark": ["coco"]}}, "suite.spec.benchmark"),
])
def test_malformed_field_names_file_record_and_field(tmp_path, field, value, named):
    factory = RecordFactory(tmp_path)
    path = factory.imagenet_run("resnet50", 0.7, n=20)
    record = json.loads(path.read_text())
    record[field] = value
    path.write_text(json.dumps(record))
    with pytest.raises(InputError) as info:
        load_records(tmp_path)
    message = str(info.value)
    assert str(path) in message and record["run_id"] in message and repr(named) in message


def test_parquet_round_trip(results, tmp_path):
    with pytest.warns(UserWarning):
        frame = load_records(results)
    path = to_parquet(frame, tmp_path / "out" / "records.parquet")
    back = pd.read_parquet(path)
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    pd.testing.assert_series_equal(back["value"], frame["value"])
    assert not list((tmp_path / "out").glob(".*tmp"))
