"""The language-modelling task through the runner: suites, per-document predictions, CIs, shards, resume, bad input."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from evalkit.cli import main
from tests.lm import _tiny

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def lm_setup(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("lm")
    _tiny.save(tmp / "gpt2", "gpt2", "gpt2", max_positions=32)
    docs = _tiny.documents()
    with open(tmp / "corpus.jsonl", "w", encoding="utf-8") as f:
        for text in docs + docs[:3]:
            f.write(json.dumps({"body": text}) + "\n")
    suite = {"name": "lm", "task": "language-modeling",
             "dataset": {"loader": "text", "path": str(tmp / "corpus.jsonl"), "text_field": "body"},
             "models": [{"adapter": "hf-causal-lm", "path": str(tmp / "gpt2"), "max_length": 16, "stride": 8,
                         "random_weights": True}],
             "metrics": ["perplexity", "strided-perplexity"],
             "runtime": {"device": "cpu", "batch_size": 2}}
    (tmp / "lm.yaml").write_text(yaml.safe_dump(suite))
    return tmp


def run_cli(capsys, *argv) -> dict:
    assert main(["run", *map(str, argv), "--json", "--no-progress"]) == 0
    return json.loads(capsys.readouterr().out)


def test_suite_run_records_both_recipes_documents_and_intervals(lm_setup, capsys):
    import pandas as pd

    record = run_cli(capsys, lm_setup / "lm.yaml", "--output-dir", lm_setup / "out", "--ci")
    metrics = record["metrics"]
    assert set(metrics) == {"word_perplexity", "byte_perplexity", "bits_per_byte", "token_perplexity"}
    assert record["main_metric"] == "word_perplexity" and record["higher_is_better"] is False
    assert all(math.isfinite(v) for v in metrics.values())
    low, high = record["ci"]["word_perplexity"]
    assert low <= metrics["word_perplexity"] <= high
    assert record["signatures"]["perplexity"]["text"].startswith("perplexity|ref:lm-eval")
    assert record["signatures"]["strided-perplexity"]["text"].startswith("strided-perplexity|ref:transformers")
    assert record["details"]["strided-perplexity"]["stride"] == 8
    assert record["dataset"]["num_evaluated"] == 9 and record["dataset"]["empty_documents"] == 1
    rows = pd.read_parquet(lm_setup / "out" / record["predictions_file"])
    assert len(rows) >= 9 and "loglikelihood" in rows.columns  # per-document log-likelihoods


@pytest.fixture(scope="module")
def one_window_suite(lm_setup) -> Path:
    """One window per forward pass: a document's numbers then do not depend on which documents share its batch,
    so split runs equal the single run exactly (batched windows agree to float rounding)."""
    suite = yaml.safe_load((lm_setup / "lm.yaml").read_text())
    suite["models"][0]["window_batch_size"] = 1
    path = lm_setup / "shards.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def test_shards_merged_equal_one_run(lm_setup, one_window_suite, capsys):
    path = one_window_suite
    single = run_cli(capsys, path, "--output-dir", lm_setup / "single", "--no-cache")
    for shard in ("0/2", "1/2"):
        assert main(["run", str(path), "--output-dir", str(lm_setup / "parts"), "--shard", shard,
                     "--no-progress", "--no-cache"]) == 0
    capsys.readouterr()
    parts = sorted((lm_setup / "parts").glob("*.part.json.gz"))
    assert main(["merge", *map(str, parts), "--output-dir", str(lm_setup / "merged"), "--json"]) == 0
    merged = json.loads(capsys.readouterr().out)
    merged = merged[0] if isinstance(merged, list) else merged
    assert merged["metrics"] == single["metrics"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_ranks_under_torchrun_equal_one_process(lm_setup, one_window_suite, capsys):
    """Documents split across 2 gloo ranks (torchrun's environment): per-document log-likelihoods and every
    aggregate equal one process's exactly."""
    from tests.test_distributed import run_distributed

    single = run_cli(capsys, one_window_suite, "--output-dir", lm_setup / "single-dist", "--no-cache")
    records = run_distributed(2, one_window_suite, lm_setup / "dist", "--no-cache", "--no-progress")
    (record,) = records.values()
    assert record["timing"]["world_size"] == 2
    assert record["metrics"] == single["metrics"]
    assert record["dataset"]["num_evaluated"] == single["dataset"]["num_evaluated"]


def test_a_killed_run_resumes_from_its_cache(lm_setup, capsys):
    out = lm_setup / "resume"
    first = run_cli(capsys, lm_setup / "lm.yaml", "--output-dir", out, "--cache-chunk", 2, "--batch-size", 1)
    chunks = sorted(out.glob(".cache/*/chunk-*.npz"))
    assert len(chunks) >= 4
    for path in chunks[2:]:
        path.unlink()  # as if killed after two chunks
    again = run_cli(capsys, lm_setup / "lm.yaml", "--output-dir", out, "--cache-chunk", 2, "--batch-size", 1,
                    "--resume")
    assert again["timing"]["resumed_samples"] == 4
    assert again["metrics"] == first["metrics"]


def test_a_model_without_a_maximum_length_must_say_max_length(lm_setup, capsys):
    suite = yaml.safe_load((lm_setup / "lm.yaml").read_text())
    suite["models"] = [{"adapter": "torch-lm", "factory": "tests.lm._tiny:model", "kwargs": {"arch": "gpt2"},
                        "tokenizer_dir": str(lm_setup / "gpt2")}]
    suite["metrics"] = ["perplexity"]
    # a GPT-2 module built by the factory has a config with n_positions; strip it to model a bare module
    import tests.lm._tiny as tiny

    original = tiny.model

    def bare(arch: str):
        net = original(arch)
        return _Bare(net)

    import torch

    class _Bare(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, ids):
            return self.net(ids).logits

    tiny.bare_model = bare
    suite["models"][0]["factory"] = "tests.lm._tiny:bare_model"
    path = lm_setup / "nolen.yaml"
    path.write_text(yaml.safe_dump(suite))
    assert main(["run", str(path), "--no-progress", "--output-dir", str(lm_setup / "nolen")]) == 2
    err = capsys.readouterr().err
    assert "max_length" in err
    suite["models"][0]["max_length"] = 16
    path.write_text(yaml.safe_dump(suite))
    record = run_cli(capsys, path, "--output-dir", lm_setup / "nolen")
    assert math.isfinite(record["metrics"]["word_perplexity"])


def test_missing_model_folder_and_corpus_say_where(lm_setup, capsys):
    suite = yaml.safe_load((lm_setup / "lm.yaml").read_text())
    suite["models"][0]["path"] = str(lm_setup / "nowhere")
    path = lm_setup / "missing.yaml"
    path.write_text(yaml.safe_dump(suite))
    assert main(["run", str(path), "--no-progress", "--output-dir", str(lm_setup / "m")]) == 2
    assert "nowhere" in capsys.readouterr().err
    suite["dataset"]["path"] = str(lm_setup / "absent.jsonl")
    path.write_text(yaml.safe_dump(suite))
    assert main(["run", str(path), "--no-progress", "--output-dir", str(lm_setup / "m")]) == 2
    assert "absent.jsonl" in capsys.readouterr().err
