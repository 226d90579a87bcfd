"""What ``--log-to mlflow`` wrote, read back through MLflow's own client (the file store under the output folder)."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

# found, not imported, at collection: importing mlflow outside a test would start its telemetry
pytestmark = pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="needs mlflow")


@pytest.fixture()
def client(logged, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 reads file stores only when told to
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.tracking import MlflowClient

    store = (logged["out"] / "mlruns").resolve().as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)  # MlflowClient.load_table searches the default store
    return MlflowClient(tracking_uri=store)


def _runs_by_record(client):
    experiment = client.get_experiment_by_name("trk")  # the suite's name
    runs = client.search_runs([experiment.experiment_id])
    return {run.data.tags["evalkit.record"]: run for run in runs}


def test_metrics_intervals_timing_and_signatures_equal_the_records(logged, client):
    runs = _runs_by_record(client)
    assert set(runs) == {path.name for path, _ in logged["records"].values()}
    for path, record in logged["records"].values():
        run = runs[path.name]
        assert run.info.run_name == f"{record['suite']['evaluation']}/{record['model']['name']}"
        assert run.info.status == "FINISHED"
        metrics, params = run.data.metrics, run.data.params
        for key, value in record["metrics"].items():
            assert metrics[f"metrics/{key}"] == value
            low, high = record["ci"][key]
            assert (metrics[f"metrics/{key}.ci_low"], metrics[f"metrics/{key}.ci_high"]) == (low, high)
        assert metrics["timing/throughput"] == record["timing"]["throughput"]
        assert metrics["timing/latency_ms.p50"] == record["timing"]["latency_ms"]["p50"]
        assert params["timing/device"] == "cpu" and params["run/id"] == record["run_id"]
        for name, signature in record["signatures"].items():
            assert params[f"signature/{name}"] == signature["text"]
        history = client.get_metric_history(run.info.run_id, f"metrics/{record['main_metric']}")
        assert [(m.step, m.value) for m in history] == [(0, record["metrics"][record["main_metric"]])]


def test_record_and_predictions_are_artifacts(logged, client, tmp_path):
    runs = _runs_by_record(client)
    for path, record in logged["records"].values():
        run_id = runs[path.name].info.run_id
        assert {a.path for a in client.list_artifacts(run_id)} == {path.name, "predictions.json"}
        copy = client.download_artifacts(run_id, path.name, str(tmp_path))
        assert json.loads(open(copy).read()) == record
        table = client.load_table(runs[path.name].info.experiment_id, "predictions.json", run_ids=[run_id])
        parquet = pd.read_parquet(path.parent / record["predictions_file"])
        assert list(table.columns) == list(parquet.columns)
        assert [str(i) for i in table["sample_id"]] == [str(i) for i in parquet["sample_id"]]
        assert len(table) == record["dataset"]["num_evaluated"]


def test_no_telemetry_starts_outside_tests(tmp_path):
    """MLflow 3 starts a telemetry client (an id in ~/.config/mlflow, events sent home) on import unless told not
    to; under pytest it stays off by itself, so this runs where it would not: a plain process, HOME a temp folder."""
    root = Path(__file__).resolve().parents[2]
    code = ("import os\n"
            "from pathlib import Path\n"
            "from evalkit.trackers.mlflow_runs import MLflowTracker\n"
            f"MLflowTracker({{}}, Path({str(tmp_path / 'out')!r}), 'study')\n"
            "from mlflow.telemetry.client import get_telemetry_client\n"
            "assert get_telemetry_client() is None, 'telemetry client started'\n"
            "assert 'MLFLOW_DISABLE_TELEMETRY' not in os.environ and 'MLFLOW_ALLOW_FILE_STORE' not in os.environ\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env)
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "home" / ".config" / "mlflow").exists()
    assert (tmp_path / "out" / "mlruns").is_dir()


@pytest.mark.parametrize("options, env, expected", [
    ({}, None, "{out}/mlruns"),
    ({"dir": "stores/ml"}, "{tmp}/elsewhere", "{out}/stores/ml"),  # the suite's folder over the environment's
    ({}, "{tmp}/elsewhere", "{tmp}/elsewhere"),  # MLFLOW_TRACKING_URI over the default
])
def test_where_the_store_is(tmp_path, monkeypatch, options, env, expected):
    from evalkit.trackers.mlflow_runs import MLflowTracker

    out = tmp_path / "out"
    fill = lambda text: Path(text.format(out=out, tmp=tmp_path)).as_uri()  # noqa: E731
    if env is None:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", fill(env))
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    tracker = MLflowTracker(options, out, "study")
    assert tracker.uri == fill(expected) and Path(expected.format(out=out, tmp=tmp_path)).is_dir()
    assert tracker.client.get_experiment(tracker.experiment_id).name == "study"
