"""Speed/accuracy plots show only models that ran: a predictions file's "throughput" is file reading."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from evalkit.reports.frames import record_rows
from evalkit.reports.plots import plottable_speed, speed_accuracy_figure
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


def _board(throughputs: list[float]) -> pd.DataFrame:
    n = len(throughputs)
    return pd.DataFrame({"system": [f"m{i}" for i in range(n)], "throughput": throughputs,
                         "value": [20.0 + i for i in range(n)], "ci_low": [19.0 + i for i in range(n)],
                         "ci_high": [21.0 + i for i in range(n)], "random_weights": [False] * n,
                         "runs_model": [True] * n})


@pytest.mark.parametrize("throughputs", [[640.0], [500.0, 900.0], [210.0, 3100.0], [1.5, 12.0, 95.0],
                                         [1.0, 1e6], [0.02, 3e8], [3000.0, 52000.0], [120.0, 130.0],
                                         [8000.0, 9500.0, 11000.0, 999999.0]])
def test_log_axis_tick_labels_never_overlap(throughputs):
    """Rendered, the x tick labels (major and minor) inside the axis have disjoint bounding boxes; at least two."""
    fig = speed_accuracy_figure(_board(throughputs), "top1_error", False, "t")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    ticks = [t for t in ax.xaxis.get_major_ticks() + ax.xaxis.get_minor_ticks()
             if t.label1.get_visible() and t.label1.get_text() and low <= t.get_loc() <= high]
    labels = [(t.label1.get_text(), t.label1.get_window_extent(renderer)) for t in ticks]
    plt.close(fig)
    assert len(labels) >= 2, labels
    overlapping = [(a, b) for i, (a, box) in enumerate(labels) for b, other in labels[i + 1:] if box.overlaps(other)]
    assert not overlapping, overlapping
