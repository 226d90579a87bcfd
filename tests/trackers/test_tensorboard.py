"""What ``--log-to tensorboard`` wrote, read back through TensorBoard's own EventAccumulator."""
from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None, reason="needs tensorboard")


def _accumulator(folder):
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    return acc


def _value(acc, tag):
    from tensorboard.util import tensor_util

    (event,) = acc.Tensors(tag)
    return event.step, tensor_util.make_ndarray(event.tensor_proto)


def test_scalars_and_texts_equal_the_records(logged):
    for path, record in logged["records"].values():
        acc = _accumulator(logged["out"] / "tensorboard" / path.name.removesuffix(".json"))
        for key, value in record["metrics"].items():
            assert _value(acc, f"metrics/{key}") == (0, value)  # float64: equal, not rounded to float32
            assert [_value(acc, f"metrics/{key}.{b}")[1] for b in ("ci_low", "ci_high")] == record["ci"][key]
            assert acc.SummaryMetadata(f"metrics/{key}").plugin_data.plugin_name == "scalars"
        assert _value(acc, "timing/throughput")[1] == record["timing"]["throughput"]
        for name, signature in record["signatures"].items():
            assert _value(acc, f"signature/{name}")[1].item().decode() == signature["text"]
            assert acc.SummaryMetadata(f"signature/{name}").plugin_data.plugin_name == "text"
        assert json.loads(_value(acc, "record")[1].item().decode()) == record


def test_predictions_are_a_text_table_and_a_csv(logged):
    for path, record in logged["records"].values():
        folder = logged["out"] / "tensorboard" / path.name.removesuffix(".json")
        parquet = pd.read_parquet(path.parent / record["predictions_file"])
        table = _value(_accumulator(folder), "predictions")[1]
        assert [c.decode() for c in table[0]] == list(parquet.columns)
        assert [row[0].decode() for row in table[1:]] == [str(i) for i in parquet["sample_id"]]
        csv = pd.read_csv(folder / "predictions.csv", dtype=str, keep_default_na=False)
        assert list(csv.columns) == list(parquet.columns) and len(csv) == len(parquet)
        assert list(csv["sample_id"]) == [str(i) for i in parquet["sample_id"]]
