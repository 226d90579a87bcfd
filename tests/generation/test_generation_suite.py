"""The generation task through ``evalkit run``: a suite, the record (signatures, unofficial weights), resume."""
from __future__ import annotations

import json

import pytest


def write_suite(folder, gen_data, name: str, model_extra: str, batch_size: int):
    """A FID (dims 64) suite over the test folders with the random-weight network."""
    suite = folder / "gen.yaml"
    suite.write_text(f"""
name: {name}
task: generation
dataset: {{loader: generated-images, root: {gen_data['fake']}, reference_path: {gen_data['real']}}}
models:
  - {{adapter: fid-inception, label: tiny-gan, weights_file: {gen_data['weights']}, layers: ["64"]{model_extra}}}
metrics: [{{name: fid, dims: 64, sqrt: sqrtm}}]
runtime: {{device: cpu, batch_size: {batch_size}}}
""")
    return suite


def run_fid_suite(tmp_path, gen_data, capsys, name: str, model_extra: str) -> tuple[dict, float]:
    """The record of a FID suite run, and pytorch-fid's FID of the same folders."""
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    from evalkit.cli import main

    suite = write_suite(tmp_path, gen_data, name, model_extra, 8)
    code = main(["run", str(suite), "--json", "--no-progress", "--output-dir", str(tmp_path / "results")])
    out = capsys.readouterr().out
    assert code == 0, out
    expected = fid_score.calculate_fid_given_paths([str(gen_data["fake"]), str(gen_data["real"])], 8, "cpu", 64, 0)
    return json.loads(out), expected


def test_suite_run_equals_score_and_flags_unofficial_weights(torch_home, gen_data, tmp_path, capsys):
    record, expected = run_fid_suite(tmp_path, gen_data, capsys, "gen-test", "")
    assert record["metrics"]["FID"] == pytest.approx(expected, rel=1e-6)
    assert record["model"]["random_weights"] is True and record["model"]["unofficial_weights"] is True
    assert "fid-inception|weights:sha256:" in json.dumps(record["signatures"])
    assert "bn_folded" not in json.dumps(record["signatures"]) and record["model"]["bn_folded"] is False


def test_suite_fast_option_folds_batchnorm_and_says_so(torch_home, gen_data, tmp_path, capsys):
    """``fast: true`` on the adapter: pytorch-fid's FID to 1e-6, the record and the signature say bn_folded."""
    record, expected = run_fid_suite(tmp_path, gen_data, capsys, "gen-fast", ", fast: true")
    assert record["metrics"]["FID"] == pytest.approx(expected, rel=1e-6)
    assert record["model"]["bn_folded"] is True and "|bn_folded" in json.dumps(record["signatures"])


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_reference_features_shard_across_two_gloo_ranks(gen_data, tmp_path):
    """Under torchrun each rank extracts half of the reference images; the cached features (joined on rank 0)
    and the FID equal one process's exactly."""
    import numpy as np

    from tests.test_distributed import run_distributed

    suite = write_suite(tmp_path, gen_data, "gen-dist", ", reference_batch_size: 4", 4)
    single = run_distributed(1, suite, tmp_path / "one", "--no-progress", "--set",  # one thread per process, as below
                             f"dataset.cache_dir={tmp_path / 'cache1'}")["gen-dist"]
    records = run_distributed(2, suite, tmp_path / "two", "--no-progress", "--set",
                              f"dataset.cache_dir={tmp_path / 'cache2'}")
    (one,), (two,) = sorted((tmp_path / "cache1").glob("*.npz")), sorted((tmp_path / "cache2").glob("*.npz"))
    assert one.name == two.name  # same file list, extractor and key
    with np.load(one) as a, np.load(two) as b:
        assert a["features"].shape == (24, 64)
        np.testing.assert_array_equal(a["features"], b["features"])
    assert records["gen-dist"]["metrics"]["FID"] == single["metrics"]["FID"]
