"""Session fixtures: PNG folders and the random-weight FID-Inception in a temporary TORCH_HOME."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.generation.generation_helpers import OFFICIAL_NAME, random_fid_inception, write_images


@pytest.fixture(scope="session")
def gen_data(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    root = tmp_path_factory.mktemp("generation")
    real = write_images(root / "real", 24, seed=1)
    fake = write_images(root / "fake", 24, seed=2, shift=25.0)
    torch_home = root / "torch_home"
    weights = random_fid_inception(real, torch_home / "hub" / "checkpoints" / OFFICIAL_NAME)
    return {"root": root, "real": real, "fake": fake, "torch_home": torch_home, "weights": weights}


@pytest.fixture
def torch_home(gen_data, monkeypatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(gen_data["torch_home"]))
    monkeypatch.setenv("EVALKIT_CACHE", str(gen_data["root"] / "evalkit_cache"))
    return gen_data["torch_home"]
