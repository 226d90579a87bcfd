"""What ``--log-to wandb`` wrote: offline runs under the output folder, read back from W&B's run files (the
``.wandb`` records decoded with W&B's protobuf messages, and the table file W&B wrote beside them)."""
from __future__ import annotations

import importlib.util
import base64
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.trackers.wandb_records import read_records

pytestmark = pytest.mark.skipif(importlib.util.find_spec("wandb") is None, reason="needs wandb")


def _runs(out):
    """Run name → {history, config, artifacts, folder} of every offline run in ``out/wandb``."""
    runs = {}
    for file in sorted((out / "wandb").glob("offline-run-*/run-*.wandb")):
        found = {"history": {}, "config": {}, "artifacts": [], "folder": file.parent}
        for record in read_records(file):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                found["name"], found["project"] = record.run.display_name, record.run.project
                found["config"].update({u.key: json.loads(u.value_json) for u in record.run.config.update})
            elif kind == "config":
                found["config"].update({u.key: json.loads(u.value_json) for u in record.config.update})
            elif kind == "history":
                for item in record.history.item:  # a table's fields come as nested keys: (predictions, nrows)
                    *parents, last = [item.key] if item.key else list(item.nested_key)
                    node = found["history"]
                    for parent in parents:
                        node = node.setdefault(parent, {})
                    node[last] = json.loads(item.value_json)
            elif kind == "artifact":
                found["artifacts"].append(record.artifact)
        runs[found["name"]] = found
    return runs


def test_offline_runs_hold_the_records_numbers_and_signatures(logged):
    runs = _runs(logged["out"])
    assert len(runs) == 2
    for path, record in logged["records"].values():
        run = runs[f"{record['suite']['evaluation']}/{record['model']['name']}"]
        assert run["project"] == "trk"
        history = run["history"]
        assert history["_step"] == 0
        for key, value in record["metrics"].items():
            assert history[f"metrics/{key}"] == value
            assert [history[f"metrics/{key}.ci_low"], history[f"metrics/{key}.ci_high"]] == record["ci"][key]
        assert history["timing/throughput"] == record["timing"]["throughput"]
        for name, signature in record["signatures"].items():
            assert run["config"][f"signature/{name}"] == signature["text"]
        assert run["config"]["run/id"] == record["run_id"]


def test_record_is_an_artifact_and_predictions_a_table(logged):
    runs = _runs(logged["out"])
    for path, record in logged["records"].values():
        run = runs[f"{record['suite']['evaluation']}/{record['model']['name']}"]
        (artifact,) = [a for a in run["artifacts"] if a.type == "evalkit-record"]
        (entry,) = artifact.manifest.contents
        assert entry.path == path.name
        assert Path(entry.local_path) == path  # by reference, not copied into W&B's staging folder
        assert entry.digest == base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()
        table_ref = run["history"]["predictions"]
        assert table_ref["_type"] == "table-file" and table_ref["nrows"] == record["dataset"]["num_evaluated"]
        table = json.loads((run["folder"] / "files" / table_ref["path"]).read_text())
        parquet = pd.read_parquet(path.parent / record["predictions_file"])
        assert table["columns"] == list(parquet.columns)
        assert [str(row[0]) for row in table["data"]] == [str(i) for i in parquet["sample_id"]]


def test_runs_stay_in_the_output_folder_and_scratch_in_wandbs_own_folders(logged):
    """The offline runs are in the output folder; all W&B writes elsewhere is its own staging and logs, in its
    data and cache folders (here under the temporary HOME)."""
    assert len(list((logged["out"] / "wandb").glob("offline-run-*/run-*.wandb"))) == 2
    home = logged["home"]
    scratch = (home / "wandb-data", home / "wandb-cache", home / "wandb-config")
    assert [p for p in home.rglob("*") if p.is_file() and not any(p.is_relative_to(s) for s in scratch)] == []
    assert "wandb sync" in logged["stderr"]
