"""suites/imagenet_family.yaml end to end on generated data in every layout: one tiny model, seven evaluations,
and the report's family table with one column per test set."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytest.importorskip("timm")

from evalkit.cli import main  # noqa: E402
from evalkit.formats.imagenet import class_subset, imagenet_classes, real_file_name  # noqa: E402
from evalkit.reports.family import display_family, family_table  # noqa: E402
from evalkit.reports.frames import load_records  # noqa: E402
from tests.helpers import write_image  # noqa: E402

SUITE = Path(__file__).resolve().parents[2] / "suites" / "imagenet_family.yaml"
WNIDS = [w for w, _, _ in imagenet_classes()]
TINY = {"adapter": "timm", "name": "test_resnet", "num_classes": 1000, "label": "tiny",
        "preprocess": {"input_size": [3, 32, 32], "crop_pct": 1.0}}


def generated_root(root: Path) -> Path:
    """Each folder the suite reads, in its published layout, with a few small images."""
    for i in range(4):
        write_image(root / "imagenet" / "val" / real_file_name(i), seed=i, size=24)
    (root / "imagenet" / "ILSVRC2012_validation_ground_truth.txt").write_text("1\n2\n3\n4\n")
    (root / "real.json").write_text(json.dumps([[0], [], [5, 6], [7]]))
    folders = {
        "imagenetv2-matched-frequency-format-val": ["0", "10", "2"],
        "imagenetv2-threshold0.7-format-val": ["3", "999"],
        "imagenetv2-top-images-format-val": ["1"],
        "imagenet-sketch/sketch": [WNIDS[0], WNIDS[1]],
        "imagenet-a": [WNIDS[class_subset("imagenet-a")[0]], WNIDS[class_subset("imagenet-a")[5]]],
        "imagenet-r": [WNIDS[class_subset("imagenet-r")[3]]],
    }
    for folder, classes in folders.items():
        for c, name in enumerate(classes):
            for i in range(2):
                write_image(root / folder / name / f"{i}.jpg", seed=100 + c * 10 + i, size=24)
    return root


def tiny_suite(tmp_path: Path) -> Path:
    """The shipped suite with the tiny model and the generated 4-image ReaL file."""
    raw = yaml.safe_load(SUITE.read_text())
    for evaluation in raw["evaluations"]:
        evaluation["models"] = [TINY]
        evaluation["metrics"] = [{"name": "real-topk", "real_labels": str(tmp_path / "data" / "real.json")}
                                 if m == "real-topk" else m for m in evaluation["metrics"]]
    raw["runtime"] = {"device": "cpu", "batch_size": 4, "workers": 0}
    path = tmp_path / "family.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_family_suite_runs_every_layout_and_the_report_has_one_column_per_set(tmp_path, capsys):
    data = generated_root(tmp_path / "data")
    out = tmp_path / "results"
    assert main(["run", str(tiny_suite(tmp_path)), "--data-root", str(data), "--output-dir", str(out),
                 "--no-progress", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    by_name = {r["suite"]["evaluation"]: r for r in records}
    assert len(by_name) == 7
    assert by_name["imagenet"]["metrics"].keys() >= {"top1_accuracy", "real.top1_accuracy", "real.top5_error"}
    assert by_name["imagenet-a"]["signatures"]["topk"]["options"] == {"class_subset": "imagenet-a"}
    assert by_name["imagenet"]["signatures"]["real-topk"]["options"]["labels"].startswith("ReaL:")
    assert by_name["imagenet-v2-matched-frequency"]["dataset"]["num_evaluated"] == 6

    frame = load_records(out)
    table = family_table(frame)
    assert list(table.columns) == ["model", "ImageNet", "ReaL", "V2-matched-frequency", "V2-threshold-0.7",
                                   "V2-top-images", "Sketch", "A", "R"]
    assert len(table) == 1 and table["model"].iloc[0].startswith("tiny")
    row = table.iloc[0]
    assert row["ReaL"] == by_name["imagenet"]["metrics"]["real.top1_accuracy"]
    assert row["A"] == by_name["imagenet-a"]["metrics"]["top1_accuracy"]
    assert row["Sketch"] == by_name["imagenet-sketch"]["metrics"]["top1_accuracy"]
    assert family_table(frame, "top5_accuracy")["R"].iloc[0] == by_name["imagenet-r"]["metrics"]["top5_accuracy"]

    from evalkit.reports.report import TaskReport, _imagenet_family_section

    report = TaskReport("imagenet")
    _imagenet_family_section(report, frame)
    markdown = "".join(report.markdown)
    assert "ImageNet family: top-1 accuracy (%)" in markdown and "| model | ImageNet | ReaL | V2-matched-frequency" in markdown


def test_family_table_keeps_the_latest_run_and_needs_two_sets():
    def rows(model, dataset, metric, value, day):
        return {"task": "imagenet", "model": model, "dataset": dataset, "metric": metric, "value": value,
                "random_weights": False, "started_at": pd.Timestamp(f"2026-01-{day:02d}", tz="UTC")}

    frame = pd.DataFrame([rows("m", "imagenet", "top1_accuracy", 70.0, 1), rows("m", "imagenet", "top1_accuracy", 71.0, 2),
                          rows("m", "imagenet-r", "top1_accuracy", 30.0, 1), rows("n", "imagenet-r", "top1_accuracy", 20.0, 1)])
    table = family_table(frame)
    assert table["model"].tolist() == ["m", "n"] and table["R"].tolist() == [30.0, 20.0]
    assert table["ImageNet"].iloc[0] == 71.0 and pd.isna(table["ImageNet"].iloc[1])
    assert display_family(table)["ImageNet"].tolist() == ["71.00", "–"]
    assert family_table(frame[frame["dataset"] == "imagenet"]).empty
