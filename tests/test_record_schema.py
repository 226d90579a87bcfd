"""docs/schema describes what evalkit writes: records, metric states and part files validate against it."""
from __future__ import annotations

import json

import pytest

from evalkit.cli import main
from tests._dist_suite import write_suite
from tests.conftest import validate_written_files

pytest.importorskip("jsonschema")


def test_written_files_fit_the_schema_and_a_broken_record_does_not(tmp_path):
    suite = write_suite(tmp_path, ["wmt17", "analogy"])
    assert main(["run", str(suite), "--output-dir", str(tmp_path / "out"), "--no-progress", "--ci"]) == 0
    assert main(["run", str(suite), "--shard", "0/2", "--output-dir", str(tmp_path / "parts"), "--no-progress"]) == 0
    records = sorted((tmp_path / "out").glob("*__*.json"))
    assert len(records) == 2 and len(list((tmp_path / "parts").glob("*.part.json.gz"))) == 2
    assert validate_written_files(tmp_path) == []
    record = json.loads(records[0].read_text())
    record["metrics"] = {"BLEU": "28.3"}
    record["signatures"] = {"bleu": {"metric": "bleu"}}
    records[0].write_text(json.dumps(record))
    failures = validate_written_files(tmp_path)
    assert len(failures) == 1 and records[0].name in failures[0]
    records[0].unlink()  # the session's own check of every written record must not see the broken one
