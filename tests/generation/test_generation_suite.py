"""The generation task through ``evalkit run``: a suite, the record (signatures, unofficial weights), resume."""
from __future__ import annotations

import json

import pytest


def test_suite_run_equals_score_and_flags_unofficial_weights(torch_home, gen_data, tmp_path, capsys):
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    from evalkit.cli import main

    suite = tmp_path / "gen.yaml"
    suite.write_text(f"""
name: gen-test
task: generation
dataset: {{loader: generated-images, root: {gen_data['fake']}, reference_path: {gen_data['real']}}}
models:
  - {{adapter: fid-inception, label: tiny-gan, weights_file: {gen_data['weights']}, layers: ["64"]}}
metrics: [{{name: fid, dims: 64, sqrt: sqrtm}}]
runtime: {{device: cpu, batch_size: 8}}
""")
    code = main(["run", str(suite), "--json", "--no-progress", "--output-dir", str(tmp_path / "results")])
    out = capsys.readouterr().out
    assert code == 0, out
    record = json.loads(out)
    expected = fid_score.calculate_fid_given_paths([str(gen_data["fake"]), str(gen_data["real"])], 8, "cpu", 64, 0)
    assert record["metrics"]["FID"] == pytest.approx(expected, rel=1e-6)
    assert record["model"]["random_weights"] is True and record["model"]["unofficial_weights"] is True
    assert "fid-inception|weights:sha256:" in json.dumps(record["signatures"])
