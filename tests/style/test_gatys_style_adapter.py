"""The gatys adapter (exact evaluation count, seeded, weights from files only) and the torch-style adapter."""
from __future__ import annotations

import numpy as np
import pytest

from evalkit.errors import InputError, MissingResourceError
from evalkit.registry import MODELS
from evalkit.types import Batch
from tests.style._images import smooth_image

torch = pytest.importorskip("torch")


def _batch():
    return Batch(["c__s"], [(smooth_image(0, 36, 40), smooth_image(1, 40, 36))], None)


def test_gatys_runs_exactly_the_steps_and_is_seeded(monkeypatch):
    from evalkit.models import gatys

    counts = []
    run = gatys.GatysOptimizer.run
    monkeypatch.setattr(gatys.GatysOptimizer, "run", lambda self, steps: (out := run(self, steps), counts.append(
        self.evaluations))[0])
    outputs = []
    for _ in range(2):
        adapter = MODELS.get("gatys")(pretrained=False, image_size=32, steps=3, seed=7)
        adapter.load("cpu")
        outputs.append(adapter.predict(_batch())[0])
    assert counts == [3, 3]
    assert outputs[0].shape == (32, 35, 3) and outputs[0].dtype == np.uint8
    assert np.array_equal(outputs[0], outputs[1])
    assert adapter.random_weights is True and adapter.describe()["options"]["steps"] == 3


def test_gatys_adam_and_tutorial_variant():
    adapter = MODELS.get("gatys")(pretrained=False, image_size=32, steps=2, optimizer="adam", variant="tutorial",
                                  init="noise")
    adapter.load("cpu")
    assert adapter.predict(_batch())[0].shape == (32, 35, 3)


def test_gatys_weights_come_from_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(MissingResourceError, match="vgg19-dcbb9e9d.pth"):
        MODELS.get("gatys")().load("cpu")
    with pytest.raises(InputError, match="optimiser"):
        MODELS.get("gatys")(optimiser="sgd")


class HalfBlend(torch.nn.Module):
    """A stand-in feed-forward model: the content image, darkened by the style's mean."""

    def forward(self, content, style):
        return content * style.mean(dim=(1, 2, 3), keepdim=True)


def test_torch_style_adapter_batches_and_returns_uint8():
    adapter = MODELS.get("torch-style")(module=HalfBlend())
    adapter.load("cpu")
    content, style = smooth_image(0, 20, 24), smooth_image(1, 30, 30)
    out = adapter.predict(Batch(["a", "b", "c"], [(content, style), (smooth_image(2, 16, 16), style),
                                                  (content, smooth_image(3, 30, 30))], None))
    expected = np.round(np.clip(content / 255.0 * (style / 255.0).mean(), 0, 1) * 255)
    assert out[0].dtype == np.uint8 and out[1].shape == (16, 16, 3)
    assert np.abs(out[0].astype(int) - expected).max() <= 1
