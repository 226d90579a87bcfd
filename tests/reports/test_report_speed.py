"""Speed/accuracy plots show only models that ran: a predictions file's "throughput" is file reading."""
from __future__ import annotations

import pandas as pd

from evalkit.reports.frames import record_rows
from evalkit.reports.plots import plottable_speed
from tests.reports.recordgen import RecordFactory


def test_predictions_file_runs_are_not_plotted_for_speed(tmp_path):
    factory = RecordFactory(tmp_path)
    ran = factory.record("resnet", "imagenet", {"top1_error": 20.0}, {}, main=("top1_error", False))
    read = factory.record("results-file", "imagenet", {"top1_error": 21.0}, {}, main=("top1_error", False))
    read["model"]["runs_model"] = False
    old = factory.record("old-file", "imagenet", {"top1_error": 22.0}, {}, main=("top1_error", False))
    old["model"].pop("runs_model")  # a record before format 2, from the predictions adapter
    rows = [row for record in (ran, read, old) for row in record_rows(record, tmp_path / "r.json")]
    board = pd.DataFrame(rows)
    assert list(plottable_speed(board)["model"]) == ["resnet"]
