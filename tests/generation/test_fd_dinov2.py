"""``fd-dinov2``: timm's DINOv2 on an official-format checkpoint (seeded random ViT-S/14 weights saved as
``dinov2_vits14_pretrain.pth``), dgm-eval's preprocessing against torchvision's own transforms, and the
official model's forward (position embedding interpolated at run time) transcribed from facebookresearch/dinov2."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

ARCH = "vits14"
NAME = "dinov2_vits14_pretrain.pth"


def _official_keys(depth: int) -> set[str]:
    """The state-dict keys of the official ``DinoVisionTransformer`` (block_chunks=0, no registers, mlp FFN)."""
    block = ["norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
             "ls1.gamma", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight",
             "mlp.fc2.bias", "ls2.gamma"]
    return {"cls_token", "pos_embed", "mask_token", "patch_embed.proj.weight", "patch_embed.proj.bias", "norm.weight",
            "norm.bias"} | {f"blocks.{i}.{k}" for i in range(depth) for k in block}


@pytest.fixture(scope="session")
def dinov2_file(gen_data):
    """Seeded random ViT-S/14 weights in the official layout: 518-px position embedding (1 + 37²), mask token."""
    pytest.importorskip("timm")
    import timm
    import torch

    path = gen_data["root"] / "dinov2" / NAME
    if not path.exists():
        torch.manual_seed(0)
        model = timm.create_model("vit_small_patch14_dinov2", pretrained=False, img_size=518, num_classes=0)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        for key in state:
            if key.endswith("gamma"):
                state[key] = torch.rand_like(state[key]) * 0.5 + 0.1  # layer scales that matter (timm inits 1e-5)
        state["pos_embed"] = torch.randn_like(state["pos_embed"]) * 0.2
        state["mask_token"] = torch.zeros(1, 384)
        assert set(state) == _official_keys(12) and state["pos_embed"].shape == (1, 1370, 384)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, path)
    return path


def _official_forward(model, state, x):
    """facebookresearch/dinov2's forward at any input size: patches, CLS, the position embedding interpolated
    (bicubic, scale (w0 + 0.1)/M, no antialias), the blocks, the final norm, the CLS token."""
    import torch
    import torch.nn.functional as F

    tokens = model.patch_embed(x)
    tokens = torch.cat((model.cls_token.expand(x.shape[0], -1, -1), tokens), dim=1)
    pos = state["pos_embed"].float()
    m = int(math.sqrt(pos.shape[1] - 1))
    w0 = x.shape[-1] // 14
    patch = F.interpolate(pos[:, 1:].reshape(1, m, m, -1).permute(0, 3, 1, 2), mode="bicubic", antialias=False,
                          scale_factor=(float(w0 + 0.1) / m, float(w0 + 0.1) / m))
    pos = torch.cat((pos[:, :1], patch.permute(0, 2, 3, 1).view(1, -1, pos.shape[-1])), dim=1)
    tokens = tokens + pos
    for block in model.blocks:
        tokens = block(tokens)
    return model.norm(tokens)[:, 0]


def _dgm_eval_transform(path):
    """dgm-eval's DINOv2Encoder.transform (clean_resize=False) with torchvision's own transforms."""
    import torchvision.transforms as TF
    from PIL import Image

    image = Image.open(path).convert("RGB")
    image = TF.Compose([TF.Resize((224, 224), TF.InterpolationMode.BICUBIC), TF.ToTensor()])(image)
    return TF.Normalize(np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))(image)


def test_official_layout_loads_and_features_equal_the_official_forward(gen_data, dinov2_file):
    import torch

    from evalkit.features.dinov2 import DinoV2Extractor, build_dinov2, preprocess
    from evalkit.features.preprocess import decode_rgb

    state = torch.load(dinov2_file, weights_only=True)
    files = sorted(gen_data["fake"].glob("*.png"))[:3]
    ours = torch.stack([preprocess(decode_rgb(f)) for f in files])
    expected_input = torch.stack([_dgm_eval_transform(f) for f in files])
    assert torch.equal(ours, expected_input)
    model = build_dinov2(ARCH, state)
    with torch.no_grad():
        expected = _official_forward(model, state, expected_input)
    extractor = DinoV2Extractor(ARCH, str(dinov2_file))
    features = extractor.features({"dgm-eval": ours})["dinov2/dgm-eval:vits14"]
    np.testing.assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-5)
    assert features.std(axis=0).mean() > 1e-3  # the random network tells images apart
    assert extractor.describe()["official_weights"] is False and "(unofficial)" in extractor.signature()


def test_a_checkpoint_of_another_layout_is_refused(tmp_path, dinov2_file):
    import torch

    from evalkit.errors import InputError
    from evalkit.features.dinov2 import build_dinov2

    state = torch.load(dinov2_file, weights_only=True)
    state.pop("blocks.3.ls1.gamma")
    with pytest.raises(InputError, match="not an official DINOv2 vits14"):
        build_dinov2(ARCH, state)


def test_missing_dinov2_weights_name_the_official_file(tmp_path, monkeypatch):
    from evalkit.errors import MissingResourceError
    from evalkit.features.weights import resolve_weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(MissingResourceError, match="dinov2_vitl14_pretrain.pth"):
        resolve_weights("dinov2-vitl14")
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / "dinov2_vitl14_pretrain.pth").write_bytes(b"x")
    found = resolve_weights("dinov2-vitl14")
    assert found.official and found.describe()["official_hash_published"] is False


@pytest.mark.slow
def test_score_fd_dinov2_equals_dgm_eval_computation(torch_home, gen_data, dinov2_file, capsys):
    """dgm-eval's FD: float64 features, np.mean / np.cov, pytorch-fid's Fréchet distance (its compute_FD_with_stats)."""
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    import torch

    from evalkit.cli import main
    from evalkit.features.dinov2 import build_dinov2

    state = torch.load(dinov2_file, weights_only=True)
    model = build_dinov2(ARCH, state)
    reps = []
    for folder in ("real", "fake"):
        batch = torch.stack([_dgm_eval_transform(f) for f in sorted(gen_data[folder].glob("*.png"))])
        with torch.no_grad():
            reps.append(_official_forward(model, state, batch).numpy().astype(np.float64))
    (mu1, s1), (mu2, s2) = [(r.mean(axis=0), np.cov(r, rowvar=False)) for r in reps]
    expected = fid_score.calculate_frechet_distance(mu2, s2, mu1, s1)
    capsys.readouterr()
    code = main(["score", "fd-dinov2", "--real", str(gen_data["real"]), "--fake", str(gen_data["fake"]), "--arch", ARCH,
                 "--weights-file", str(dinov2_file), "--batch-size", "8", "--sqrt", "sqrtm", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    result = json.loads(out.out)
    assert result["FD_DINOv2"] == pytest.approx(expected, rel=1e-6)
    assert result["metric_signature"].startswith("fd-dinov2|arch:vits14|features:dinov2-vits14|weights:sha256:")
    assert result["random_or_unofficial_weights"] is True


@pytest.mark.slow
def test_suite_fd_dinov2_equals_score(torch_home, gen_data, dinov2_file, tmp_path, capsys):
    from evalkit.cli import main

    suite = tmp_path / "fd.yaml"
    suite.write_text(f"""
name: fd-test
task: generation
dataset: {{loader: generated-images, root: {gen_data['fake']}, reference_path: {gen_data['real']}}}
models: [{{adapter: dinov2-features, label: tiny, arch: {ARCH}, weights_file: {dinov2_file}}}]
metrics: [{{name: fd-dinov2, arch: {ARCH}, sqrt: sqrtm}}]
runtime: {{device: cpu, batch_size: 8}}
""")
    capsys.readouterr()
    assert main(["run", str(suite), "--json", "--no-progress", "--output-dir", str(tmp_path / "r")]) == 0
    record = json.loads(capsys.readouterr().out)
    assert main(["score", "fd-dinov2", "--real", str(gen_data["real"]), "--fake", str(gen_data["fake"]), "--arch", ARCH,
                 "--weights-file", str(dinov2_file), "--sqrt", "sqrtm", "--json"]) == 0
    assert record["metrics"]["FD_DINOv2"] == pytest.approx(json.loads(capsys.readouterr().out)["FD_DINOv2"], rel=1e-9)
    assert record["model"]["random_weights"] is True
