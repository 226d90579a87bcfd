"""What a run gives back to Python code: the record as written and the live metric objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.metrics.base import Metric


@dataclass
class RunResult:
    """One model's run: the record (as written) and the live metric objects."""

    record: dict[str, Any]
    metrics: list[Metric] = field(default_factory=list)
    path: Path | None = None

    @property
    def scores(self) -> dict[str, float]:
        return dict(self.record["metrics"])

    def to_dict(self) -> dict[str, Any]:
        return self.record

    def to_pandas(self) -> Any:
        """One row per metric key: model, task, metric, value, CI bounds."""
        import pandas as pd

        ci = self.record.get("ci", {})
        rows = [{"model": self.record["model"]["name"], "task": self.record["task"], "metric": key, "value": value,
                 "ci_low": ci.get(key, [None, None])[0], "ci_high": ci.get(key, [None, None])[1]}
                for key, value in self.record["metrics"].items()]
        return pd.DataFrame(rows)


@dataclass
class SuiteResult:
    """Every run of a suite, in order; indexable like a list."""

    runs: list[RunResult]

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, index: int) -> RunResult:
        return self.runs[index]

    def __iter__(self) -> Any:
        return iter(self.runs)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [run.record for run in self.runs]

    def to_pandas(self) -> Any:
        """One row per (run, metric key), with the evaluation each run belongs to."""
        import pandas as pd

        frames = [run.to_pandas().assign(evaluation=(run.record.get("suite") or {}).get("evaluation"))
                  for run in self.runs]
        columns = ["evaluation", "model", "task", "metric", "value", "ci_low", "ci_high"]
        return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
