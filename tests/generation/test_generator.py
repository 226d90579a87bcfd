"""The ``generator`` adapter (seeded latents → images) and ``ppl``, against the unmodified torch-fidelity on a tiny
seeded generator, with random LPIPS-VGG16 weights saved under torch-fidelity's and torchvision's file names."""
from __future__ import annotations

import json

import numpy as np
import pytest

FACTORY = "tests.generation.tiny_generator:make"


@pytest.fixture(scope="session")
def lpips_home(gen_data):
    """Random VGG-16 (torchvision's file name) and LPIPS heads (torch-fidelity's) in the test TORCH_HOME."""
    import torch

    from tests.style._weights import random_state

    folder = gen_data["torch_home"] / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(random_state("vgg16", seed=3), folder / "vgg16-397923af.pth")
    g = torch.Generator().manual_seed(4)
    heads = {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1, generator=g) * 0.1
             for k, c in enumerate((64, 128, 256, 512, 512))}
    torch.save(heads, folder / "weights-vgg16-lpips.pth")
    return gen_data["torch_home"]


def test_latents_depend_only_on_seed_and_index():
    import torch

    from evalkit.features.latents import LatentSource

    source = LatentSource(8, num_classes=5, seed=7)
    z, labels = source.samples(range(6))
    z_part, labels_part = source.samples([4, 2])
    assert torch.equal(z_part, z[[4, 2]]) and torch.equal(labels_part, labels[[4, 2]])
    assert not torch.equal(z, LatentSource(8, num_classes=5, seed=8).samples(range(6))[0])
    a0, a1, _ = source.ppl_pairs(range(6), 1e-4, "slerp_any")
    b0, b1, _ = source.ppl_pairs([5], 1e-4, "slerp_any")
    assert torch.equal(a0[5:], b0) and torch.equal(a1[5:], b1)


def test_torch_fidelity_seeding_is_its_stream():
    torch_fidelity = pytest.importorskip("torch_fidelity")
    import torch
    from torch_fidelity.noise import random_unit
    from torch_fidelity.utils import batch_interp, sample_random

    from evalkit.features.latents import LatentSource

    source = LatentSource(8, "unit", seed=2020, seeding="torch-fidelity", num_samples=10, block=4)
    rng = np.random.RandomState(2020)
    expected = torch.cat([random_unit(rng, (n, 8)) for n in (4, 4, 2)])
    assert torch.equal(source.samples([9, 0, 5])[0], expected[[9, 0, 5]])
    rng = np.random.RandomState(2020)
    e0 = sample_random(rng, (10, 8), "unit")
    e1 = batch_interp(e0, sample_random(rng, (10, 8), "unit"), 1e-4, "slerp_unit")
    z0, z1, _ = source.ppl_pairs(range(10), 1e-4, "slerp_unit")
    assert torch.equal(z0, e0) and torch.equal(z1, e1)
    assert torch_fidelity is not None


def test_output_ranges_become_uint8():
    import torch

    from evalkit.errors import InputError
    from evalkit.features.latents import to_uint8

    x = torch.tensor([-1.0, -0.5, 0.0, 0.999, 1.0]).view(1, 1, 1, 5).expand(1, 3, 1, 5)
    assert to_uint8(x, "symmetric")[0, 0, 0].tolist() == [0, 64, 128, 255, 255]
    assert to_uint8((x + 1) / 2, "unit")[0, 0, 0].tolist() == [0, 64, 128, 255, 255]
    with pytest.raises(InputError, match="output_range: uint8"):
        to_uint8(x, "uint8")
    with pytest.raises(InputError, match="N×3×H×W"):
        to_uint8(x[:, :1], "unit")


def _suite(tmp_path, gen_data, model: str, metrics: str, n: int, batch_size: int, reference: bool = False) -> str:
    ref = f", reference_path: {gen_data['real']}" if reference else ""
    path = tmp_path / "gen.yaml"
    path.write_text(f"""
name: gen-model
task: generation
dataset: {{loader: generator-samples, num_samples: {n}{ref}}}
models:
  - {{adapter: generator, factory: "{FACTORY}", z_size: 8, weights_file: {gen_data['weights']}, {model}}}
metrics: {metrics}
runtime: {{device: cpu, batch_size: {batch_size}}}
""")
    return str(path)


def _run(capsys, suite, tmp_path, *extra) -> dict:
    from evalkit.cli import main

    capsys.readouterr()
    code = main(["run", suite, "--json", "--no-progress", "--output-dir", str(tmp_path / "results"), *extra])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _numpy2_percentile(monkeypatch) -> None:
    """torch-fidelity 0.4's ppl passes ``interpolation=``, which NumPy 2 removed for ``method=`` (same meaning)."""
    percentile = np.percentile

    def compat(a, q, *args, interpolation=None, **kwargs):
        return percentile(a, q, *args, **({"method": interpolation} if interpolation else {}), **kwargs)

    monkeypatch.setattr(np, "percentile", compat)


@pytest.mark.slow
def test_ppl_equals_torch_fidelity(torch_home, lpips_home, gen_data, tmp_path, capsys, monkeypatch):
    torch_fidelity = pytest.importorskip("torch_fidelity")
    from tests.generation.tiny_generator import TinyGenerator

    _numpy2_percentile(monkeypatch)

    wrapped = torch_fidelity.GenerativeModelModuleWrapper(TinyGenerator(uint8=True), 8, "normal", 0)
    expected = torch_fidelity.calculate_metrics(input1=wrapped, input1_model_num_samples=12, ppl=True, cuda=False,
                                                batch_size=7, verbose=False, rng_seed=2020,
                                                ppl_z_interp_mode="slerp_any", ppl_sample_similarity_resize=32)
    suite = _suite(tmp_path, gen_data, 'kwargs: {uint8: true}, output_range: uint8, seeding: torch-fidelity, '
                   'layers: ["64"], ppl: {z_interp_mode: slerp_any, similarity_resize: 32}',
                   "[{name: ppl, z_interp_mode: slerp_any, similarity_resize: 32}]", 12, 5)
    record = _run(capsys, suite, tmp_path)
    assert record["metrics"]["PPL"] == pytest.approx(expected["perceptual_path_length_mean"], rel=1e-6)
    assert record["metrics"]["PPL_std"] == pytest.approx(expected["perceptual_path_length_std"], rel=1e-6)
    model = record["model"]
    assert model["random_weights"] is True and model["latents"]["seeding"] == "torch-fidelity"
    assert model["ppl"]["lpips"]["heads"]["file"].endswith("weights-vgg16-lpips.pth")


def test_per_sample_seeding_is_independent_of_batch_size(torch_home, lpips_home, gen_data, tmp_path, capsys):
    """Conditional generator, [-1, 1] outputs: batch sizes 4 and 7 give the same path lengths sample by sample."""
    suite = _suite(tmp_path, gen_data, 'kwargs: {num_classes: 3}, num_classes: 3, layers: ["64"], '
                   'ppl: {similarity_resize: 16}', "[{name: ppl, similarity_resize: 16}]", 6, 4)
    first = _run(capsys, suite, tmp_path, "--set", "runtime.batch_size=7")
    second = _run(capsys, suite, tmp_path)
    assert first["metrics"]["PPL"] == pytest.approx(second["metrics"]["PPL"], rel=1e-6)
    assert first["model"]["latents"] == {"z_size": 8, "z_type": "normal", "num_classes": 3, "seed": 2020,
                                         "seeding": "per-sample", "num_samples": 6}


def test_a_ppl_metric_without_distances_names_the_fix(torch_home, gen_data, tmp_path, capsys):
    from evalkit.cli import main

    suite = _suite(tmp_path, gen_data, 'layers: ["64"]', "[ppl]", 3, 3)
    capsys.readouterr()
    assert main(["run", suite, "--json", "--no-progress", "--output-dir", str(tmp_path / "r")]) == 2
    assert "ppl: true" in capsys.readouterr().err


@pytest.mark.slow
def test_generator_fid_equals_torch_fidelity(torch_home, gen_data, tmp_path, capsys):
    """FID (``mode: tf``) of a generator's 24 samples: the unmodified torch-fidelity with ``input1=<model>``."""
    torch_fidelity = pytest.importorskip("torch_fidelity")
    from tests.generation.tiny_generator import TinyGenerator

    wrapped = torch_fidelity.GenerativeModelModuleWrapper(TinyGenerator(uint8=True), 8, "normal", 0)
    expected = torch_fidelity.calculate_metrics(
        input1=wrapped, input1_model_num_samples=24, input2=str(gen_data["real"]), fid=True, cuda=False,
        batch_size=8, verbose=False, cache=False, feature_extractor_weights_path=str(gen_data["weights"]))
    suite = _suite(tmp_path, gen_data, 'kwargs: {uint8: true}, output_range: uint8, seeding: torch-fidelity, '
                   'seeding_block: 8, modes: [tf]', "[{name: fid, mode: tf}]", 24, 5, reference=True)
    record = _run(capsys, suite, tmp_path)
    assert record["metrics"]["FID"] == pytest.approx(expected["frechet_inception_distance"], rel=1e-6)


def test_no_code_refuses_a_generator_factory(gen_data, tmp_path, capsys):
    from evalkit.cli import main

    suite = _suite(tmp_path, gen_data, 'layers: ["64"]', "[fid]", 3, 3)
    capsys.readouterr()
    assert main(["run", suite, "--no-code", "--json", "--no-progress", "--output-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--no-code" in err and FACTORY in err
