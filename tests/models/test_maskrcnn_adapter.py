"""Detection adapters end to end on CPU: a tiny random Mask R-CNN → COCO results → pycocotools and coco-segm."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.models._cocoeval_stats import cocoeval_stats
from tests.models._tiny_maskrcnn import tiny_maskrcnn
from evalkit.datasets.coco import CocoInstances
from evalkit.errors import InputError, MissingResourceError
from evalkit.models.detection_postprocess import detections_to_coco, parse_label_map
from evalkit.registry import METRICS, MODELS

SIZES = {4: (64, 64), 7: (48, 64), 11: (64, 40)}  # image id → (height, width)
DOG = 18


@pytest.fixture(scope="module")
def coco_folder(tmp_path_factory) -> Path:
    """Three noise images and an instances file with one dog per image, in the official format."""
    from PIL import Image

    root = tmp_path_factory.mktemp("coco")
    (root / "val").mkdir()
    images, annotations = [], []
    for image_id, (h, w) in SIZES.items():
        pixels = np.random.default_rng(image_id).integers(0, 255, (h, w, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "val" / f"{image_id}.png")
        images.append({"id": image_id, "file_name": f"{image_id}.png", "height": h, "width": w})
        annotations.append({"id": image_id, "image_id": image_id, "category_id": DOG, "iscrowd": 0,
                            "bbox": [8.0, 8.0, 24.0, 16.0], "area": 384.0,
                            "segmentation": [[8, 8, 32, 8, 32, 24, 8, 24]]})
    gt = {"images": images, "annotations": annotations,
          "categories": [{"id": 1, "name": "person"}, {"id": DOG, "name": "dog"}]}
    (root / "instances.json").write_text(json.dumps(gt))
    return root


def run(adapter, dataset, batch_size: int = 2) -> tuple[list[list[dict]], list[int], list[str]]:
    """The runner's order of calls: bind, load, transform, batches, predict."""
    adapter.bind(dataset, "coco")
    adapter.load("cpu")
    predictions, targets, ids = [], [], []
    for batch in dataset.batches(dataset.select(), batch_size, adapter.transform()):
        predictions += adapter.predict(batch)
        targets += batch.targets
        ids += batch.ids
    return predictions, targets, ids


@pytest.fixture(scope="module")
def tiny_run(coco_folder):
    dataset = CocoInstances(root=coco_folder, annotation_file="instances.json", image_dir="val")
    adapter = MODELS.get("torch-detection")(
        factory=tiny_maskrcnn, kwargs={"box_detections_per_img": 150, "box_nms_thresh": 1.0}, label_map={1: DOG})
    return dataset, adapter, run(adapter, dataset)


def test_what_reaches_the_metric(tiny_run):
    dataset, adapter, (predictions, targets, ids) = tiny_run
    assert targets == [4, 7, 11] and ids == ["4", "7", "11"]
    assert adapter.random_weights is False and adapter.describe()["adapter"] == "torch-detection"
    for image_results, image_id in zip(predictions, targets):
        assert len(image_results) == 100  # the model gives 150: the best 100 are kept
        scores = [r["score"] for r in image_results]
        assert scores == sorted(scores, reverse=True)
        for r in image_results:
            assert set(r) == {"image_id", "category_id", "bbox", "score", "segmentation"}
            assert r["image_id"] == image_id and r["category_id"] == DOG
            assert r["segmentation"]["size"] == list(SIZES[image_id]) and isinstance(r["segmentation"]["counts"], str)
            assert len(r["bbox"]) == 4 and all(isinstance(v, float) for v in r["bbox"])


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_pycocotools_and_metric_agree(tiny_run, iou_type):
    dataset, _, (predictions, targets, ids) = tiny_run
    expected = cocoeval_stats(dataset.coco_gt, [r for p in predictions for r in p], iou_type)
    assert all(-1.0 <= s <= 1.0 for s in expected)
    if f"coco-{iou_type}" not in METRICS:
        pytest.skip(f"metric coco-{iou_type} not written yet")
    metric = METRICS.get(f"coco-{iou_type}")()
    metric.bind(dataset)
    metric.update(predictions, targets, ids)
    assert list(metric.aggregate().values()) == pytest.approx(expected, abs=1e-12)


def test_factory_by_import_path(coco_folder):
    adapter = MODELS.get("torch-detection")(factory="tests.models._tiny_maskrcnn:tiny_maskrcnn", label_map=[0, DOG])
    adapter.load("cpu")
    assert isinstance(adapter.module, torch.nn.Module)
    with pytest.raises(InputError, match="cannot import") as err:
        MODELS.get("torch-detection")(factory="tests.models._tiny_maskrcnn:nothing").load("cpu")
    assert err.value.field == "factory"


def test_label_map_checked_against_the_dataset(coco_folder):
    dataset = CocoInstances(root=coco_folder, annotation_file="instances.json", images_required=False)
    adapter = MODELS.get("torch-detection")(factory=tiny_maskrcnn, label_map={1: 3})
    with pytest.raises(InputError, match=r"category ids \[3\]"):
        adapter.bind(dataset, "coco")


def test_model_without_images_is_an_error(coco_folder):
    dataset = CocoInstances(root=coco_folder, annotation_file="instances.json", images_required=False)
    adapter = MODELS.get("torch-detection")(factory=tiny_maskrcnn)
    with pytest.raises(InputError, match="images_required: false"):
        run(adapter, dataset)


def test_pretrained_weights_never_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    adapter = MODELS.get("torchvision-maskrcnn")(arch="maskrcnn_resnet50_fpn_v2", pretrained=True)
    expected = tmp_path / "hub" / "checkpoints" / "maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth"
    with pytest.raises(MissingResourceError, match="never downloads") as err:
        adapter.load("cpu")
    assert str(expected) in str(err.value)
    assert not expected.exists()


def test_maskrcnn_options_are_checked():
    with pytest.raises(InputError, match="unknown arch"):
        MODELS.get("torchvision-maskrcnn")(arch="maskrcnn_resnet18")
    with pytest.raises(InputError, match="91 classes"):
        MODELS.get("torchvision-maskrcnn")(pretrained=True, num_classes=2)


def synthetic_output(n: int, size: tuple[int, int]) -> dict[str, torch.Tensor]:
    h, w = size
    generator = torch.Generator().manual_seed(n)
    masks = torch.zeros(n, 1, h, w)
    masks[:, :, : h // 2, : w // 4] = 0.9  # the top-left quarter-width block, at any scale
    return {"boxes": torch.tensor([[0.0, 0.0, w / 4, h / 2]]).repeat(n, 1),
            "labels": torch.ones(n, dtype=torch.int64) * 2,
            "scores": torch.rand(n, generator=generator), "masks": masks}


def test_postprocess_maps_back_to_the_original_size():
    results = detections_to_coco(synthetic_output(3, (32, 40)), 5, (32, 40), (64, 80), parse_label_map({2: 9}))
    from pycocotools import mask as mask_utils

    assert [r["bbox"] for r in results] == [[0.0, 0.0, 20.0, 32.0]] * 3
    mask = mask_utils.decode({"size": results[0]["segmentation"]["size"],
                              "counts": results[0]["segmentation"]["counts"].encode()})
    assert mask.shape == (64, 80) and mask.sum() == 32 * 20 and mask[:32, :20].all()
    assert {r["category_id"] for r in results} == {9} and {r["image_id"] for r in results} == {5}


def test_postprocess_keeps_the_best_and_handles_boxes_only_and_empty():
    output = synthetic_output(130, (16, 16))
    results = detections_to_coco(output, 1, (16, 16), (16, 16), max_detections=100)
    assert [r["score"] for r in results] == pytest.approx(output["scores"].sort(descending=True).values[:100].tolist())
    assert all(r["category_id"] == 2 for r in results)  # no label map: label == COCO category id
    boxes_only = {k: v for k, v in output.items() if k != "masks"}
    assert "segmentation" not in detections_to_coco(boxes_only, 1, (16, 16), (16, 16))[0]
    empty = {k: v[:0] for k, v in output.items()}
    assert detections_to_coco(empty, 1, (16, 16), (16, 16)) == []
    with pytest.raises(InputError, match="label 2"):
        detections_to_coco(output, 1, (16, 16), (16, 16), {1: 1})


@pytest.mark.slow
def test_pretrained_v1_builds_what_torchvision_builds(tmp_path, monkeypatch):
    """Weights in a fake hub cache: torchvision's own builder and the adapter give identical detections
    (FrozenBatchNorm2d with eps 0 for the v1 COCO weights included)."""
    import torchvision
    from torchvision.models.detection import MaskRCNN_ResNet50_FPN_Weights

    weights = MaskRCNN_ResNet50_FPN_Weights.COCO_V1
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(0)
    random_state = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None).state_dict()
    random_state = {k: v for k, v in random_state.items() if not k.endswith("num_batches_tracked")}
    torch.save(random_state, checkpoints / Path(weights.url).name)
    reference = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=weights, min_size=96, max_size=96).eval()
    adapter = MODELS.get("torchvision-maskrcnn")(pretrained=True, model_kwargs={"min_size": 96, "max_size": 96})
    adapter.load("cpu")
    assert adapter.random_weights is False and adapter.describe()["weights_match_torchvision"] is False
    image = torch.rand(3, 80, 96, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected, got = reference([image])[0], adapter.module([image])[0]
    assert set(expected) == set(got)
    for key in expected:
        assert torch.equal(expected[key], got[key]), key


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_cuda_with_workers_matches_cpu(tiny_run, precision):
    """On CUDA (pinned batches from 2 DataLoader workers, autocast): the same detections as on CPU."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    dataset, _, (cpu_predictions, _, _) = tiny_run
    adapter = MODELS.get("torch-detection")(
        factory=tiny_maskrcnn, kwargs={"box_detections_per_img": 150, "box_nms_thresh": 1.0}, label_map={1: DOG})
    adapter.load("cuda", precision)
    predictions = []
    for batch in dataset.batches(dataset.select(), 2, adapter.transform(), workers=2, pin_memory=True):
        predictions += adapter.predict(batch)
    for got, expected in zip(predictions, cpu_predictions):
        assert len(got) == len(expected) == 100
        assert [r["segmentation"]["size"] for r in got] == [r["segmentation"]["size"] for r in expected]
        tolerance = 1e-4 if precision == "fp32" else 2e-2
        assert sorted(r["score"] for r in got) == pytest.approx(sorted(r["score"] for r in expected), abs=tolerance)
