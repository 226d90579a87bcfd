"""The quickstart's generation part: bundled real crops, random FID-Inception weights flagged, the documented value."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "quickstart" / "generation"


def test_quickstart_generation_part(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from evalkit.cli import main

    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    code = main(["run", str(REPO / "suites" / "quickstart.yaml"), "--model", "blur-generator-random-inception",
                 "--json", "--no-progress", "--output-dir", str(tmp_path / "out")])
    out = capsys.readouterr()
    assert code == 0, out.err
    records = json.loads(out.out)
    (record,) = records if isinstance(records, list) else [records]
    expected = float(re.search(r"FID (\d+\.\d+)", (DATA / "SOURCES.md").read_text()).group(1))
    assert record["metrics"]["FID"] == pytest.approx(expected, rel=1e-6)
    assert record["model"]["random_weights"] is True and record["model"]["random_weights_seed"] == 0
    assert "weights:random-seed:0(unofficial)" in record["signatures"]["fid"]["text"]
    assert record["dataset"]["num_evaluated"] == 72
