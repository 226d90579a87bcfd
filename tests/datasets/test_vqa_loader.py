"""The ``vqa`` loader on the real VQA v2 fixture (3 train2014 questions and their COCO image)."""
from __future__ import annotations

import json

import pytest

from tests.conftest import shared_file
from evalkit.errors import InputError, MissingResourceError
from evalkit.models.predictions import PREDICTION_FORMATS
from evalkit.registry import DATASETS, METRICS, MODELS, TASKS


@pytest.fixture
def fixture_dir():
    return shared_file("vqa", "allennlp_vqav2_fixture")


def loader(folder, image_pattern="COCO_train2014_%012d.jpg", **kw):
    return DATASETS.get("vqa")(questions_file=folder / "questions.json", annotations_file=folder / "annotations.json",
                               image_dir=folder, image_pattern=image_pattern, **kw)


def test_real_fixture_batches(fixture_dir):
    dataset = loader(fixture_dir)
    assert dataset.sample_ids() == ["458752000", "458752001", "458752002"]
    batch = next(dataset.batches([0, 2], batch_size=2))
    assert batch.ids == ["458752000", "458752002"]
    assert batch.inputs[0]["question"] == "What is this photo taken looking through?"
    assert batch.inputs[1]["image"].size == (640, 480) and batch.inputs[1]["image_id"] == 458752
    assert [a["answer"] for a in batch.targets[1]["answers"]] == ["orange"] * 10
    metric = METRICS.get("vqa")()
    metric.update(["net", "orange"], batch.targets, batch.ids)
    assert metric.compute()["overall"] == 100.0
    assert dataset.describe()["num_samples"] == 3 and len(dataset.fingerprint()) == 64


def test_task_and_prediction_format(fixture_dir, tmp_path):
    task = TASKS.get("vqa")
    assert (task.default_loader, task.default_metrics, task.main_metric, task.higher_is_better) == \
        ("vqa", ("vqa",), "overall", True)
    results = tmp_path / "results.json"
    results.write_text(json.dumps([{"question_id": 458752001, "answer": "pitcher"}]))
    adapter = MODELS.get("predictions")(path=str(results))  # loading the adapters registers the formats
    assert PREDICTION_FORMATS["vqa"].read(results) == {"458752001": "pitcher"}
    dataset = loader(fixture_dir)
    adapter.bind(dataset, "vqa")
    assert adapter.predict(next(dataset.batches([1], 1))) == ["pitcher"]
    with pytest.raises(InputError, match="no prediction"):
        adapter.predict(next(dataset.batches([0], 1)))


def test_missing_files_and_images(fixture_dir, tmp_path):
    with pytest.raises(MissingResourceError, match="does not exist"):
        DATASETS.get("vqa")(root=tmp_path / "absent")
    with pytest.raises(MissingResourceError, match="v2_mscoco_val2014_annotations.json"):
        DATASETS.get("vqa")(root=tmp_path, questions_file=fixture_dir / "questions.json")
    dataset = loader(fixture_dir, image_pattern="COCO_val2014_%012d.jpg")
    with pytest.raises(InputError, match="COCO_val2014_000000458752.jpg"):
        next(dataset.batches([0], 1))
    assert next(loader(fixture_dir, image_pattern="x%d.jpg", skip_corrupt=True).batches([0], 1)).skipped == \
        ["458752000"]


def test_annotations_must_be_in_questions(fixture_dir, tmp_path):
    questions = tmp_path / "q.json"
    questions.write_text(json.dumps({"questions": [{"question_id": 458752000, "image_id": 458752, "question": "?"}]}))
    with pytest.raises(InputError, match="458752001") as err:
        DATASETS.get("vqa")(questions_file=questions, annotations_file=fixture_dir / "annotations.json",
                            image_dir=fixture_dir)
    assert err.value.field == "question_id"
