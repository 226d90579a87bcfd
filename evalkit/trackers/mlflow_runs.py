"""MLflow: one MLflow run per record, in an experiment named after the suite.

The store is a file store under the output folder (``<output-dir>/mlruns``, or the suite's ``dir``) unless
MLFLOW_TRACKING_URI or the suite's ``tracking_uri`` (a server) names another. MLflow 3 refuses file stores unless
MLFLOW_ALLOW_FILE_STORE is set; it is set while evalkit writes to one (and must be set to read one:
``MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri results/mlruns``).
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from evalkit.trackers.base import LoggedRun, params, predictions_frame, scalars
from evalkit.trackers.config import inside

_BAD = re.compile(r"[^/\w.\- ]")
ALLOW = "MLFLOW_ALLOW_FILE_STORE"


def mlflow_key(name: str) -> str:
    """``name`` as MLflow takes metric and param names (letters, digits, ``_-. /``; no empty or dot segments)."""
    parts = [_BAD.sub("_", part) for part in name.split("/")]
    return "/".join(p if p.strip(".") else "_" for p in parts)


@contextlib.contextmanager
def _mlflow_environment(local: bool) -> Iterator[None]:
    """While evalkit calls MLflow: no telemetry (MLflow 3 sends usage events unless told not to; a run must not
    reach the network), and MLflow 3's opt-in to file stores when writing evalkit's own. The previous values
    come back afterwards."""
    values = {"MLFLOW_DISABLE_TELEMETRY": "true", **({ALLOW: "true"} if local else {})}
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class MLflowTracker:
    def __init__(self, options: dict[str, str], output_dir: Path, suite_name: str):
        uri = options.get("tracking_uri") or (None if "dir" in options else os.environ.get("MLFLOW_TRACKING_URI"))
        if uri is None:
            uri = inside(output_dir, options.get("dir"), "mlruns").resolve().as_uri()
        self.uri = uri
        self.local = urlparse(uri).scheme in ("", "file")  # a file store, evalkit's or MLFLOW_TRACKING_URI's
        with _mlflow_environment(self.local):
            from mlflow.tracking import MlflowClient  # imported here: importing mlflow starts its telemetry

            self.client = MlflowClient(tracking_uri=uri)
            name = options.get("experiment") or suite_name
            found = self.client.get_experiment_by_name(name)
            self.experiment_id = found.experiment_id if found else self.client.create_experiment(name)
        self.count = 0

    def log(self, run: LoggedRun) -> None:
        from mlflow.entities import Metric, Param

        record = run.record
        stamp = int(run.finished * 1000)
        with _mlflow_environment(self.local):
            created = self.client.create_run(self.experiment_id, run_name=run.title, start_time=int(run.started * 1000),
                                             tags={"evalkit.run_id": record["run_id"],
                                                   "evalkit.record": run.record_path.name})
            run_id = created.info.run_id
            metrics = [Metric(mlflow_key(k), v, stamp, 0) for k, v in scalars(record).items()]
            texts = [Param(mlflow_key(k), v) for k, v in params(record).items()]
            for start in range(0, max(len(metrics), len(texts)), 100):  # MLflow takes 100 params per batch
                self.client.log_batch(run_id, metrics=metrics[start:start + 100], params=texts[start:start + 100])
            self.client.log_artifact(run_id, str(run.record_path))
            frame = predictions_frame(run)
            if frame is not None:
                self.client.log_table(run_id, data=frame, artifact_file="predictions.json")
            self.client.set_terminated(run_id, end_time=stamp)
        self.count += 1

    def close(self) -> str:
        return f"mlflow: {self.count} run(s) in {self.uri} (experiment id {self.experiment_id})"
