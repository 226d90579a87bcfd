"""The whole ImageNet flow through the CLI: suite → loader → timm model → top-k → record."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evalkit.cli import main
from evalkit.records import load_record
from tests.helpers import make_imagefolder, write_image

WNIDS = ["n01440764", "n01443537", "n15075141"]
TINY = {"adapter": "timm", "name": "test_resnet", "num_classes": 1000, "label": "tiny",
        "preprocess": {"input_size": [3, 32, 32], "crop_pct": 1.0}}


def suite_file(tmp_path: Path, root: Path, models=None, runtime=None, **dataset) -> Path:
    suite = {"name": "flow", "task": "imagenet", "dataset": {"root": str(root), **dataset},
             "models": models or [TINY], "runtime": {"batch_size": 4, "device": "cpu", **(runtime or {})}}
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def run_json(capsys, *argv) -> object:
    assert main(["run", *map(str, argv), "--json", "--no-progress"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def test_imagefolder_flow_writes_a_complete_record(tmp_path, capsys):
    root = make_imagefolder(tmp_path / "val", WNIDS)
    record = run_json(capsys, "run" and suite_file(tmp_path, root), "--output-dir", tmp_path / "out")
    assert isinstance(record, dict)
    assert record["schema"] == "evalkit.run/2" and record["task"] == "imagenet"
    assert record["dataset"]["num_samples"] == 12 and record["dataset"]["num_evaluated"] == 12
    assert record["model"]["random_weights"] is True and "chance" in record["notes"][0]
    assert record["model"]["parameters"] > 0
    assert set(record["metrics"]) >= {"top1_error", "top5_error"}
    timing = record["timing"]
    assert timing["timed_batches"] == 2 and timing["timed_samples"] == 8  # 3 batches, 1 warm-up
    assert timing["throughput"] > 0 and timing["latency_ms"]["p50"] > 0 and timing["peak_host_rss_bytes"] > 0
    assert record["environment"]["python"] and record["suite"]["sha256"]
    files = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != ".cache")  # .cache: predictions
    assert len(files) == 3 and not any(f.startswith(".") for f in files)
    saved = load_record(next((tmp_path / "out").glob("*.json")))
    assert saved["metrics"] == record["metrics"]
    frame = pd.read_parquet(tmp_path / "out" / saved["predictions_file"])
    assert len(frame) == 12 and set(frame.columns) >= {"sample_id", "label", "top5", "correct1"}
    assert (100 * (1 - frame["correct1"].mean())) == pytest.approx(record["metrics"]["top1_error"])
    assert "n15075141/dog's toy.JPEG" in set(frame["sample_id"])


def test_metrics_recomputed_from_parquet_equal_the_record(tmp_path, capsys):
    from evalkit.metrics.topk import TopKError

    root = make_imagefolder(tmp_path / "val", WNIDS)
    record = run_json(capsys, suite_file(tmp_path, root), "--output-dir", tmp_path / "out")
    frame = pd.read_parquet(tmp_path / "out" / record["predictions_file"])
    metric = TopKError()
    import numpy as np

    metric.add_topk(np.stack(frame["top5"].to_numpy()), frame["label"].to_numpy(), list(frame["sample_id"]))
    assert metric.aggregate()["top5_error"] == record["metrics"]["top5_error"]


def test_flat_devkit_layout_flow(tmp_path, capsys):
    val = tmp_path / "val"
    for i in range(5):
        write_image(val / f"ILSVRC2012_val_{i + 1:08d}.JPEG", seed=i, mode="L" if i == 2 else "RGB")
    (tmp_path / "ILSVRC2012_validation_ground_truth.txt").write_text("490\n361\n171\n822\n297\n")
    record = run_json(capsys, suite_file(tmp_path, val), "--output-dir", tmp_path / "out")
    assert record["dataset"]["layout"] == "flat" and record["dataset"]["num_evaluated"] == 5


def test_limit_evaluates_exactly_the_first_n_and_runs_are_deterministic(tmp_path, capsys):
    root = make_imagefolder(tmp_path / "val", WNIDS)
    path = suite_file(tmp_path, root)
    first = run_json(capsys, path, "--limit", 5, "--output-dir", tmp_path / "a")
    second = run_json(capsys, path, "--limit", 5, "--output-dir", tmp_path / "b")
    assert first["dataset"]["num_evaluated"] == 5
    frame = pd.read_parquet(tmp_path / "a" / first["predictions_file"])
    from evalkit.datasets.imagenet import ImageNetVal

    assert list(frame["sample_id"]) == ImageNetVal(root).sample_ids()[:5]
    assert first["metrics"] == second["metrics"]
    again = pd.read_parquet(tmp_path / "b" / second["predictions_file"])
    assert frame["top5"].map(list).tolist() == again["top5"].map(list).tolist()  # same random weights (seeded)


def test_model_filter_and_several_runs_print_a_json_array(tmp_path, capsys):
    root = make_imagefolder(tmp_path / "val", WNIDS)
    other = {**TINY, "label": "tiny-b"}
    path = suite_file(tmp_path, root, models=[TINY, other])
    both = run_json(capsys, path, "--output-dir", tmp_path / "out")
    assert isinstance(both, list) and [r["model"]["name"] for r in both] == ["tiny", "tiny-b"]
    one = run_json(capsys, path, "--model", "tiny-b", "--output-dir", tmp_path / "out2")
    assert isinstance(one, dict) and one["model"]["name"] == "tiny-b"
    assert main(["run", str(path), "--model", "nope"]) != 0


def test_corrupt_image_fails_with_its_name_unless_skipped(tmp_path, capsys):
    root = make_imagefolder(tmp_path / "val", WNIDS)
    (root / WNIDS[0] / "bad.JPEG").write_bytes(b"not an image")
    assert main(["run", str(suite_file(tmp_path, root)), "--output-dir", str(tmp_path / "out"),
                 "--no-progress"]) == 2
    assert "bad.JPEG" in capsys.readouterr().err
    record = run_json(capsys, suite_file(tmp_path, root, skip_corrupt=True), "--output-dir", tmp_path / "out")
    assert record["dataset"]["num_skipped"] == 1 and record["dataset"]["skipped_ids"] == [f"{WNIDS[0]}/bad.JPEG"]


def test_missing_data_fails_before_building_any_model(tmp_path, capsys, monkeypatch):
    import evalkit.models.timm_models as timm_models

    monkeypatch.setattr(timm_models.TimmAdapter, "build", lambda self: pytest.fail("model was built"))
    assert main(["run", str(suite_file(tmp_path, tmp_path / "missing")), "--no-progress"]) == 2
    assert str(tmp_path / "missing") in capsys.readouterr().err


def test_missing_pretrained_weights_say_where_they_were_looked_for(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    root = make_imagefolder(tmp_path / "val", WNIDS)
    models = [{"adapter": "timm", "name": "resnet18", "pretrained": True}]
    assert main(["run", str(suite_file(tmp_path, root, models=models)), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "not in the local Hugging Face cache" in err and "checkpoint" in err


def test_checkpoint_loads_weights_only(tmp_path, capsys):
    import timm
    import torch

    model = timm.create_model("test_resnet", num_classes=1000)
    torch.save(model.state_dict(), tmp_path / "w.pth")
    root = make_imagefolder(tmp_path / "val", WNIDS)
    models = [{**TINY, "checkpoint": str(tmp_path / "w.pth")}]
    record = run_json(capsys, suite_file(tmp_path, root, models=models), "--output-dir", tmp_path / "out")
    assert record["model"]["random_weights"] is False and len(record["model"]["weights_sha256"]) == 64

    class Evil:
        def __reduce__(self):
            return (print, ("unpickled code ran",))

    torch.save({"state_dict": Evil()}, tmp_path / "evil.pth")
    models = [{**TINY, "checkpoint": str(tmp_path / "evil.pth")}]
    assert main(["run", str(suite_file(tmp_path, root, models=models)), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "unpickled code ran" not in captured.out and "weights-only" in captured.err


def test_record_write_is_atomic(tmp_path, monkeypatch):
    """A crash while writing leaves no partial record and no temp file behind."""
    import evalkit.records as records

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(records.json, "dump", crash)
    with pytest.raises(OSError, match="disk full"):
        records.write_json_atomic(tmp_path / "r.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "r.json").write_text('{"old": true}')
    with pytest.raises(OSError):
        records.write_json_atomic(tmp_path / "r.json", {"a": 1})
    assert json.loads((tmp_path / "r.json").read_text()) == {"old": True}


def test_hostile_names_stay_inside_the_output_dir(tmp_path, capsys):
    root = make_imagefolder(tmp_path / "val", WNIDS)
    models = [{**TINY, "label": "../../escape"}]
    record = run_json(capsys, suite_file(tmp_path, root, models=models), "--output-dir", tmp_path / "out")
    written = list((tmp_path / "out").iterdir())
    assert written and all(p.parent == tmp_path / "out" for p in written)
    assert not (tmp_path.parent / "escape").exists() and record["model"]["name"] == "../../escape"


def test_compiled_timm_model_keeps_its_data_config():
    """torch.compile's wrapper hides model attributes; preprocessing must come from the eager module."""
    from evalkit.models.timm_models import TimmAdapter

    adapter = TimmAdapter(name="test_resnet", preprocess={"input_size": [3, 32, 32]})
    adapter.load("cpu", compile=True)
    assert adapter.data_config["input_size"] == (3, 32, 32) and adapter.module is not adapter.eager_module


def test_persistent_workers_give_the_records_of_a_plain_run(tmp_path, capsys, monkeypatch):
    from evalkit.datasets.base import DatasetLoader

    root = make_imagefolder(tmp_path / "val", WNIDS)
    models = [TINY, {**TINY, "label": "tiny-b"}]
    plain = run_json(capsys, suite_file(tmp_path, root, models=models), "--no-cache", "--output-dir", tmp_path / "a")
    released = []
    monkeypatch.setattr(DatasetLoader, "release_workers",
                        lambda self: released.append(len(self._persistent_loaders)) or self.__dict__.pop("_loaders"))
    kept = run_json(capsys, suite_file(tmp_path, root, models=models,
                                       runtime={"workers": 2, "persistent_workers": True}), "--no-cache",
                    "--output-dir", tmp_path / "b")
    assert released == [1]  # both models were served by one DataLoader, stopped once the evaluation ended
    assert [r["metrics"] for r in kept] == [r["metrics"] for r in plain]
