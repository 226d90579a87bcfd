"""What every tracker logs of one finished run, named the same way in each: read from the record as written.

Trackers sit above records: they read finished records and their prediction files, and nothing below
(metrics, datasets, models, the runner) imports them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class LoggedRun:
    """One written record: its content and its file (its prediction file lies beside it)."""

    record: dict[str, Any]
    record_path: Path

    @property
    def name(self) -> str:
        """The record's file stem: unique per run, and safe as a file or folder name."""
        return self.record_path.name.removesuffix(".json")

    @property
    def title(self) -> str:
        """``evaluation/model``, the run's display name in the trackers' interfaces."""
        evaluation = (self.record.get("suite") or {}).get("evaluation") or self.record["task"]
        return f"{evaluation}/{self.record['model']['name']}"

    @property
    def started(self) -> float:
        """When the run started, in seconds since the epoch."""
        return dt.datetime.fromisoformat(self.record["started_at"]).timestamp()

    @property
    def finished(self) -> float:
        """When the run finished (seconds since the epoch): logged points carry this time, not the logging's."""
        return dt.datetime.fromisoformat(self.record["finished_at"]).timestamp()

    @property
    def predictions_path(self) -> Path | None:
        name = self.record.get("predictions_file")
        return self.record_path.parent / Path(name).name if name else None

    def record_text(self) -> str:
        return self.record_path.read_text(encoding="utf-8")


class Tracker(Protocol):
    """A tracker logs runs one by one, then says where they went (a line for the terminal)."""

    def log(self, run: LoggedRun) -> None: ...

    def close(self) -> str: ...


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """Every number of the record under one naming: ``metrics/<key>``, ``metrics/<key>.ci_low`` and ``.ci_high``,
    ``timing/<field>`` (nested fields joined by dots: ``timing/latency_ms.p50``). Missing values are left out.

    No name is a folder of another (``a/b`` beside ``a/b/c``): MLflow's file store keeps each name as a path."""
    out: dict[str, float] = {}
    for key, value in record["metrics"].items():
        if value is not None:
            out[f"metrics/{key}"] = float(value)
        for bound, end in zip(("ci_low", "ci_high"), (record.get("ci") or {}).get(key) or ()):
            if end is not None:
                out[f"metrics/{key}.{bound}"] = float(end)
    for key, value in _flat(record.get("timing") or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"timing/{key}"] = float(value)
    return out


def params(record: dict[str, Any]) -> dict[str, str]:
    """What the numbers depend on, as text: each metric's signature (``signature/<metric>``), the run, model,
    dataset and suite, and the run's settings (the timing fields that are not numbers: device, precision...)."""
    model, dataset, suite = record["model"], record["dataset"], record.get("suite") or {}
    out = {f"signature/{name}": sig["text"] for name, sig in (record.get("signatures") or {}).items()}
    out.update({"run/id": record["run_id"], "run/task": record["task"], "run/main_metric": record["main_metric"],
                "model/name": model["name"], "model/adapter": str(model.get("adapter")),
                "model/random_weights": str(bool(model.get("random_weights"))),
                "dataset/loader": str(dataset.get("loader")), "dataset/fingerprint": str(dataset.get("fingerprint")),
                "dataset/num_evaluated": str(dataset.get("num_evaluated")),
                "suite/name": str(suite.get("name")), "suite/evaluation": str(suite.get("evaluation")),
                "suite/sha256": str(suite.get("sha256"))})
    if model.get("weights_sha256"):
        out["model/weights_sha256"] = model["weights_sha256"]
    for key, value in _flat(record.get("timing") or {}).items():
        if isinstance(value, (str, bool)):
            out[f"timing/{key}"] = str(value)
    return out


def _flat(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out.update(_flat(item, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = item
    return out


def predictions_frame(run: LoggedRun) -> Any:
    """The run's per-sample predictions (its Parquet file) as a pandas frame whose cells are plain Python values
    (arrays become lists), as the trackers' table formats take them; None when the run wrote none."""
    path = run.predictions_path
    if path is None or not path.is_file():
        return None
    import pandas as pd

    frame = pd.read_parquet(path)
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = [v.tolist() if hasattr(v, "tolist") else v for v in frame[column]]
    return frame
