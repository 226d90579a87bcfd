"""torchvision and Hugging Face image classifiers through the runner, with their own preprocessing."""
from __future__ import annotations

import json

import pytest
import torch
import yaml

from evalkit.cli import main
from evalkit.errors import MissingResourceError
from tests.helpers import make_imagefolder

WNIDS = ["n01440764", "n01443537", "n15075141"]


def run(tmp_path, capsys, model: dict) -> dict:
    root = make_imagefolder(tmp_path / "val", WNIDS, per_class=2)
    suite = {"name": "adapters", "task": "imagenet", "dataset": {"root": str(root)}, "models": [model],
             "runtime": {"device": "cpu", "batch_size": 4}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(suite))
    code = main(["run", str(tmp_path / "s.yaml"), "--json", "--no-progress", "--output-dir", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_torchvision_builder_with_random_weights(tmp_path, capsys):
    record = run(tmp_path, capsys, {"adapter": "torchvision", "name": "mobilenet_v3_small",
                                    "preprocess": {"input_size": [3, 64, 64]}})
    assert record["model"]["random_weights"] is True and record["dataset"]["num_evaluated"] == 9
    assert record["model"]["parameters"] == sum(
        p.numel() for p in __import__("torchvision").models.mobilenet_v3_small().parameters())


def test_torchvision_weights_are_never_downloaded(tmp_path, monkeypatch):
    from evalkit.models.torchvision_models import TorchvisionAdapter

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    adapter = TorchvisionAdapter(name="resnet18", weights="IMAGENET1K_V1")
    with pytest.raises(MissingResourceError, match=str(tmp_path / "torch" / "hub" / "checkpoints")):
        adapter.load("cpu")


def test_torchvision_weights_from_the_hub_cache(tmp_path, monkeypatch, capsys):
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = torchvision.models.get_model_weights("mobilenet_v3_small")["IMAGENET1K_V1"]
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.manual_seed(1)
    trained = torchvision.models.mobilenet_v3_small()
    torch.save(trained.state_dict(), cache / weights.url.rsplit("/", 1)[-1])
    record = run(tmp_path, capsys, {"adapter": "torchvision", "name": "mobilenet_v3_small", "weights": "IMAGENET1K_V1"})
    assert record["model"]["random_weights"] is False and len(record["model"]["weights_sha256"]) == 64


def test_hf_image_classifier_from_a_local_directory(tmp_path, capsys):
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64, num_labels=1000)
    torch.manual_seed(0)
    model = ViTForImageClassification(config).eval()
    model.save_pretrained(tmp_path / "vit")
    processor = ViTImageProcessor(size={"height": 32, "width": 32})
    processor.save_pretrained(tmp_path / "vit")
    record = run(tmp_path, capsys, {"adapter": "hf-image-classification", "path": str(tmp_path / "vit")})
    assert record["dataset"]["num_evaluated"] == 9 and record["model"]["parameters"] == model.num_parameters()

    from PIL import Image

    from evalkit.datasets.imagenet import ImageNetVal

    data = ImageNetVal(tmp_path / "val")
    errors = 0
    with torch.no_grad():
        for path, label in zip(data.files, data.labels):
            pixels = processor(images=Image.open(path).convert("RGB"), return_tensors="pt")["pixel_values"]
            errors += int(model(pixel_values=pixels).logits.argmax(-1).item() != label)
    assert record["metrics"]["top1_error"] == pytest.approx(100.0 * errors / 9)


def test_hf_missing_directory_names_it(tmp_path):
    from evalkit.models.hf_image_classification import HFImageClassificationAdapter

    with pytest.raises(MissingResourceError, match=str(tmp_path / "nope")):
        HFImageClassificationAdapter(path=str(tmp_path / "nope")).load("cpu")
