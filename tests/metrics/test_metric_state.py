"""Declared metric state (metrics/state.py): every kind merges, resamples and round-trips as documented."""
from __future__ import annotations

import json

import numpy as np
import pytest

from evalkit.errors import InputError
from evalkit.metrics.state import Column, MetricState, Rows, Shared, Sum

SPEC = {"score": Column("float64"), "label": Column(), "boxes": Rows({"x": "float32", "hit": "bool"}),
        "categories": Shared()}


def filled(ids, scores, boxes_of):
    state = MetricState(SPEC)
    sample = [i for i, boxes in enumerate(boxes_of) for _ in boxes]
    xs = [x for boxes in boxes_of for x in boxes]
    state.append(ids, {"score": scores, "label": [f"l{i}" for i in ids]},
                 {"boxes": {"sample": sample, "x": xs, "hit": [x > 0 for x in xs]}})
    state.set_shared("categories", ["a", "b"])
    return state


def test_merge_appends_samples_and_renumbers_rows():
    one = filled(["1", "2"], [0.5, np.nan], [[1.0, -2.0], []])
    two = filled(["3"], [2.0], [[3.0]])
    one.merge(two)
    assert one.ids == ["1", "2", "3"] and one.column("label") == ["l1", "l2", "l3"]
    assert np.array_equal(one.column("score"), [0.5, np.nan, 2.0], equal_nan=True)
    rows = one.rows("boxes")
    assert rows["sample"].tolist() == [0, 0, 2] and rows["x"].tolist() == [1.0, -2.0, 3.0]
    other = filled(["9"], [1.0], [[]])
    other.shared["categories"] = ["z"]
    with pytest.raises(ValueError, match="categories"):  # shards must agree on shared values
        one.merge(other)


def test_take_copies_each_drawn_sample_with_its_rows():
    state = filled(["1", "2", "3"], [0.1, 0.2, 0.3], [[1.0], [2.0, 2.5], []])
    taken = state.take(np.array([1, 1, 0, 2]))
    assert taken.ids == ["2", "2", "1", "3"] and taken.column("score").tolist() == [0.2, 0.2, 0.1, 0.3]
    rows = taken.rows("boxes")
    assert rows["sample"].tolist() == [0, 0, 1, 1, 2] and rows["x"].tolist() == [2.0, 2.5, 2.0, 2.5, 1.0]
    assert taken.shared == state.shared


def test_json_round_trip_is_exact_and_checked():
    state = filled(["1", "2"], [np.nan, -0.0], [[1.5], [np.inf]])
    data = json.loads(json.dumps(state.to_json()))
    again = MetricState.from_json(SPEC, data)
    assert again.ids == state.ids and np.array_equal(again.column("score"), state.column("score"), equal_nan=True)
    assert np.signbit(again.column("score")[1]) and again.rows("boxes")["x"].tolist() == [1.5, np.inf]
    data["columns"]["label"] = ["only one"]
    with pytest.raises(InputError, match="label"):
        MetricState.from_json(SPEC, data)
    with pytest.raises(InputError, match="rows"):
        MetricState.from_json(SPEC, {k: v for k, v in state.to_json().items() if k != "rows"})


def test_sums_add_on_merge_and_refuse_resampling():
    spec = {"n": Column("int64"), "total": Sum("float64")}
    one, two = MetricState(spec), MetricState(spec)
    one.append(["a"], {"n": [1]}, sums={"total": [1.0, 2.0]})
    two.append(["b"], {"n": [2]}, sums={"total": [0.5, 0.5]})
    one.merge(two)
    assert one.total("total").tolist() == [1.5, 2.5]
    assert MetricState.from_json(spec, json.loads(json.dumps(one.to_json()))).total("total").tolist() == [1.5, 2.5]
    with pytest.raises(ValueError, match="resampled"):
        one.take([0, 1])


def test_append_refuses_what_the_declaration_does_not_hold():
    state = MetricState(SPEC)
    with pytest.raises(ValueError, match="columns"):
        state.append(["1"], {"score": [1.0]})
    with pytest.raises(ValueError, match="2 values for 1"):
        state.append(["1"], {"score": [1.0, 2.0], "label": ["x"]})
    with pytest.raises(ValueError, match="outside"):
        state.append(["1"], {"score": [1.0], "label": ["x"]}, {"boxes": {"sample": [1], "x": [0.0], "hit": [True]}})
