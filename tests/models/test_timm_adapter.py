"""The timm adapter resolves the data config as timm's validate.py does: at the model's test input size."""
from __future__ import annotations

import pytest

pytest.importorskip("timm")

from timm.data import create_transform, resolve_data_config  # noqa: E402

from evalkit.models.timm_models import TimmAdapter  # noqa: E402

#: validate.py's preprocessing arguments when none is given on its command line
VALIDATE_DEFAULTS = {"img_size": None, "input_size": None, "crop_pct": None, "crop_mode": None, "mean": None,
                     "std": None, "interpolation": "", "crop_border_pixels": None}
#: the families the adapter tests use, with and without a separate test size
FAMILIES = ["resnet50", "resnet18", "convnext_tiny", "efficientnet_b0", "vit_base_patch16_224", "test_resnet"]


def adapter(name: str, **options) -> TimmAdapter:
    model = TimmAdapter(name=name, **options)
    model.load("cpu")
    return model


@pytest.mark.parametrize("name", FAMILIES)
def test_data_config_equals_validate_py(name):
    model = adapter(name)
    expected = resolve_data_config(dict(VALIDATE_DEFAULTS), model=model.eager_module, use_test_size=True)
    assert model.data_config == expected
    assert repr(model.transform()) == repr(create_transform(**expected, is_training=False))
    assert model.describe()["input_size_from"] == "test"


def test_resnet50_is_evaluated_at_288_with_full_crop_and_train_size_on_request():
    test_size = adapter("resnet50")
    assert test_size.data_config["input_size"] == (3, 288, 288) and test_size.data_config["crop_pct"] == 1.0
    train_size = adapter("resnet50", use_train_size=True)
    assert train_size.data_config["input_size"] == (3, 224, 224) and train_size.data_config["crop_pct"] == 0.95
    assert train_size.describe()["input_size_from"] == "train"
    assert train_size.data_config == resolve_data_config({}, model=train_size.eager_module, use_test_size=False)


def test_suite_preprocess_overrides_still_win():
    model = adapter("resnet50", preprocess={"input_size": [3, 64, 64], "crop_pct": 0.5})
    assert model.data_config["input_size"] == (3, 64, 64) and model.data_config["crop_pct"] == 0.5
