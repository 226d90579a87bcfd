"""ReaL top-k against timm's RealLabelsImagenet, and topk's class_subset against validate.py's valid_labels,
on hypothesis-generated logits full of ties, label sets (empty ones included) and batch splits."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("timm")

from timm.data import RealLabelsImagenet  # noqa: E402

from evalkit.formats.imagenet import class_subset, read_real_labels, real_file_name, real_labels_path  # noqa: E402
from evalkit.metrics.real_topk import RealTopK  # noqa: E402
from evalkit.metrics.topk import TopKError  # noqa: E402


@st.composite
def real_case(draw):
    n = draw(st.integers(1, 30))
    classes = draw(st.integers(5, 12))  # RealLabelsImagenet takes the top 5: at least 5 classes
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    logits = rng.integers(-2, 3, (n, classes)).astype(np.float32)  # few distinct values: many ties
    sets = [sorted(set(rng.integers(0, classes, rng.integers(0, 4)).tolist())) for _ in range(n)]
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    return logits, sets, [0, *cuts, n]


@settings(max_examples=150, deadline=None)
@given(real_case())
def test_real_topk_equals_real_labels_imagenet(tmp_path_factory, case):
    logits, sets, cuts = case
    path = tmp_path_factory.mktemp("real") / "real.json"
    path.write_text(json.dumps(sets))
    names = [real_file_name(i) for i in range(len(sets))]
    reference = RealLabelsImagenet(names, real_json=str(path))
    metric = RealTopK(real_labels=str(path))
    metric.bind({"image_count": len(sets)})
    for a, b in zip(cuts, cuts[1:]):  # validate.py's batches, fed to both
        if a < b:
            reference.add_result(torch.from_numpy(logits[a:b]))
            metric.update(torch.from_numpy(logits[a:b]), [0] * (b - a), [f"n0/{x}" for x in names[a:b]])
    scores = metric.aggregate()
    for k in (1, 5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # np.mean of no rated image
            expected = reference.get_accuracy(k)
        got = scores[f"top{k}_accuracy"]
        assert got == expected or (math.isnan(got) and math.isnan(expected))
        assert reference.is_correct[k] == metric.column(f"correct{k}")[metric.column("rated")].tolist()


@st.composite
def subset_case(draw):
    n = draw(st.integers(1, 25))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = rng.integers(-3, 4, (n, 1000)).astype(np.float32)
    name = draw(st.sampled_from(["imagenet-a", "imagenet-r"]))
    labels = rng.choice(class_subset(name), n)
    logits[np.arange(n), labels] += draw(st.sampled_from([0.0, 1.0, 3.0]))
    return logits, labels, name


@settings(max_examples=100, deadline=None)
@given(subset_case())
def test_class_subset_equals_validate_py_valid_labels(case):
    logits, labels, name = case
    metric = TopKError(class_subset=name)
    metric.update(torch.from_numpy(logits), labels)
    valid_labels = [int(i) for i in class_subset(name)]
    output = torch.from_numpy(logits)[:, valid_labels]  # validate.py: output = output[:, valid_labels]
    target = torch.tensor([valid_labels.index(int(label)) for label in labels])  # ImageFolder index in the subset
    pred = output.topk(5, 1, True, True).indices
    for k in (1, 5):
        timm_hits = (pred[:, :k] == target[:, None]).any(dim=1).tolist()
        assert metric.column(f"correct{k}").tolist() == timm_hits
    assert metric.column("top5").tolist() == [[valid_labels[i] for i in row] for row in pred.tolist()]


def test_class_subset_accepts_numpy_and_refuses_labels_outside_or_other_widths():
    logits = np.zeros((2, 1000), np.float32)
    metric = TopKError(class_subset="imagenet-r")
    with pytest.raises(Exception, match="not one of the 200 imagenet-r classes"):
        metric.update(logits, [0, 1])
    with pytest.raises(Exception, match="needs 1000-class logits"):
        metric.update(np.zeros((2, 200), np.float32), [1, 2])
    metric.update(logits, [1, 2])
    assert metric.num_samples() == 2


def test_all_classes_keeps_the_old_signature_and_state_options():
    metric = TopKError()
    assert "class_subset" not in str(metric.signature()) and metric.state_dict()["options"] == {}
    assert TopKError.from_state_dict(metric.state_dict()).options["class_subset"] is None


def test_bundled_real_json_is_the_published_file():
    sets, digest = read_real_labels(real_labels_path(None))
    assert digest == "d83e9bff374c631aae8439eb064c7019acc56e1b3bc3f56b8380c2a710b0220b"  # real.json @ bcd006f
    assert len(sets) == 50_000 and all(len(s) == len(set(s)) for s in sets)
    assert sets[1] == (970, 795) and sets[0] == ()


def test_bundled_real_json_agrees_with_the_devkit_labels():
    """Most ReaL sets hold the original label (Beyer et al.: the original label is wrong for a minority)."""
    from tests.conftest import shared_file

    truth = shared_file("imagenet", "derived_val_labels_ILSVRC2012.tsv")
    import csv

    with open(truth, newline="") as f:
        original = [int(row["sorted_wnid_index"]) for row in csv.DictReader(f, delimiter="\t")]
    sets = read_real_labels(real_labels_path(None))[0]
    rated = [(o, s) for o, s in zip(original, sets) if s]
    agree = sum(o in s for o, s in rated) / len(rated)
    assert 0.85 < agree < 0.99


def test_merged_shards_with_other_label_files_are_refused(tmp_path):
    files = []
    for i, sets in enumerate(([[1], [2]], [[1], [3]])):
        files.append(tmp_path / f"real{i}.json")
        files[-1].write_text(json.dumps(sets))
    a, b = RealTopK(real_labels=str(files[0])), RealTopK(real_labels=str(files[1]))
    a.update(np.eye(2, 10, dtype=np.float32), [0, 0], ["ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"])
    b.update(np.eye(2, 10, dtype=np.float32), [0, 0], ["ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"])
    assert a.signature() != b.signature()
    with pytest.raises(Exception, match="labels_sha256"):
        a.merge(b)
    restored = RealTopK.from_state_dict(json.loads(json.dumps(b.state_dict())))
    assert restored.signature() == b.signature() and restored.aggregate() == b.aggregate()
    assert Path(files[1]).name not in str(b.signature())  # the content names the labels, not the path
