"""Batches that run out of memory are split and retried: nothing lost, nothing repeated, the same metrics as a
fixed batch size that fits; ``batch_size: auto`` finds the largest batch that fits. The test plugin's adapter
raises an out-of-memory error above ``max_batch`` samples, as a GPU would."""
from __future__ import annotations

import json

import pytest
import yaml

from evalkit.oom import find_batch_size, predict_fitting
from evalkit.runner import run_suite
from evalkit.suite import load_suite
from evalkit.types import Batch
from tests._dist_suite import assert_same_run

VALUES = [3.0, -1.5, 8.25, 0.5, 12.0, -7.0, 2.0, 4.5, -3.25, 9.0, 1.0]


def write_suite(tmp_path, batch_size, max_batch=None):
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("\n".join(map(str, VALUES)) + "\n")
    model = {"adapter": "plugin-halver", "label": "half", **({"max_batch": max_batch} if max_batch else {})}
    path = tmp_path / f"oom-{batch_size}-{max_batch}.yaml"
    path.write_text(yaml.safe_dump({"name": "oom", "task": "plugin-numbers", "dataset": {"root": str(numbers)},
                                    "models": [model], "runtime": {"device": "cpu", "batch_size": batch_size,
                                                                   "progress": False}}))
    return path


def record_of(tmp_path, suite, out):
    result, = run_suite(load_suite(suite), output_dir=tmp_path / out)
    return {**result.record, "_path": str(result.path)}


def test_predict_fitting_splits_in_order_until_the_pieces_fit():
    seen = []

    def predict(batch):
        if len(batch) > 3:
            raise MemoryError("out of memory")
        seen.append(list(batch.ids))
        return [f"p{i}" for i in batch.ids]

    batch = Batch([str(i) for i in range(10)], list(range(10)), list(range(10)), skipped=["bad"])
    pieces = predict_fitting(predict, batch)
    assert [i for piece, _ in pieces for i in piece.ids] == batch.ids  # every sample once, in order
    assert all(len(piece) <= 3 for piece, _ in pieces) and [p.skipped for p, _ in pieces][0] == ["bad"]
    assert sum(len(p.skipped) for p, _ in pieces) == 1
    assert [pred for _, preds in pieces for pred in preds] == [f"p{i}" for i in range(10)]
    with pytest.raises(ValueError):  # anything but running out of memory is not retried
        predict_fitting(lambda b: (_ for _ in ()).throw(ValueError("bug")), batch)


def test_find_batch_size_halves_to_the_largest_that_fits():
    tried = []

    def predict(batch):
        tried.append(len(batch))
        if len(batch) > 40:
            raise MemoryError("out of memory")

    size = find_batch_size(predict, lambda n: Batch([str(i) for i in range(n)], list(range(n)), list(range(n))), 1000)
    assert size == 32 and tried == [256, 128, 64, 32]


def test_split_batches_give_the_metrics_of_a_batch_size_that_fits(tmp_path):
    fits = record_of(tmp_path, write_suite(tmp_path, 2), "fits")
    split = record_of(tmp_path, write_suite(tmp_path, 8, max_batch=2), "split")
    assert_same_run(split, fits, tmp_path / "split")


def test_batch_size_auto_finds_what_fits_and_says_so(tmp_path):
    fits = record_of(tmp_path, write_suite(tmp_path, 2), "fits")
    auto = record_of(tmp_path, write_suite(tmp_path, "auto", max_batch=3), "auto")
    assert auto["timing"]["batch_size"] == 2 and auto["timing"]["batch_size_auto"] is True  # 11, 5 fail; 2 fits
    assert_same_run(auto, fits, tmp_path / "auto")


def test_out_of_memory_under_two_torchrun_ranks(tmp_path):
    from tests.test_distributed import run_distributed

    fits = record_of(tmp_path, write_suite(tmp_path, 2), "fits")
    record = run_distributed(2, write_suite(tmp_path, 4, max_batch=1), tmp_path / "dist", "--no-progress")["oom"]
    assert record["timing"]["world_size"] == 2
    assert_same_run(record, fits, tmp_path / "dist")


def test_a_single_sample_that_does_not_fit_is_one_clear_error(tmp_path, capsys):
    from evalkit.cli import main

    suite = write_suite(tmp_path, 4, max_batch=0.5)
    assert main(["run", str(suite), "--output-dir", str(tmp_path / "out"), "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert "does not fit in memory" in err and "Traceback" not in err and json.dumps(err).count("\\n") == 1
