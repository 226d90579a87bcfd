"""results/: the committed measured tables equal what scripts/update_results_tables.py computes, the published
tables are sourced row by row and agree with the measured numbers, and ``run --compare-published`` shows them."""
from __future__ import annotations

import csv
import importlib.util

import pytest

from evalkit.cli import main
from evalkit.errors import InputError
from evalkit.records import RUNS_DIR
from evalkit.registry import MODELS
from evalkit.reports.published import compare, read_published
from tests.conftest import REPO

RESULTS = REPO / "results"
CHEAP = ["vqa-v2-3-questions", "coco-val2014-100-bbox"]  # seconds each; the others are checked by the quickstart test


def measured_rows(task: str) -> list[dict[str, str]]:
    with (RESULTS / "measured" / f"{task}.csv").open(encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


def load_script():
    script = REPO / "scripts" / "update_results_tables.py"
    spec = importlib.util.spec_from_file_location("update_results_tables", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runs_go_to_the_gitignored_folder_and_the_tables_are_committed():
    assert RUNS_DIR.as_posix() == "results/runs"
    assert "/results/runs/" in (REPO / ".gitignore").read_text().splitlines()
    assert sorted(p.stem for p in (RESULTS / "measured").glob("*.csv")) == [
        "analogy", "captions", "coco", "imagenet", "language-modeling", "translation", "vqa"]


def test_committed_cheap_rows_equal_what_the_script_computes():
    computed = load_script().measure(CHEAP)
    for task, rows in computed.items():
        committed = [r for r in measured_rows(task) if r["evaluation"] in CHEAP]
        assert committed == [{k: str(v) for k, v in r.items()} for r in rows], task
    assert sum(map(len, computed.values())) == 14


def test_published_rows_name_a_known_adapter_a_number_and_a_source():
    rows = read_published(RESULTS / "published")
    assert len(rows) >= 60
    for row in rows:
        assert row["model"].split(":", 1)[0] in MODELS, row
        assert row["source"].startswith("https://"), row
        assert row["samples"] > 0 and row["dataset"], row


def _records(task: str, adapter: str) -> list[dict]:
    """The measured table as records, as compare() reads them."""
    runs: dict[str, dict] = {}
    for row in measured_rows(task):
        record = runs.setdefault(row["model"], {"task": task, "metrics": {}, "dataset": {}, "suite": {},
                                                "model": {"adapter": adapter, "name": row["model"],
                                                          "options": {"label": row["model"]}}})
        record["metrics"][row["metric"]] = float(row["value"])
    return list(runs.values())


def test_measured_numbers_agree_with_the_published_ones():
    """COCO: cocoapi printed 3 decimals; WMT17: sacrebleu asserts |sacreBLEU − mteval-v13a| ≤ 0.01."""
    published = read_published(RESULTS / "published")
    coco = compare(_records("coco", "predictions"), published)
    assert len(coco) == 24 and all(abs(r["difference"]) <= 0.0005 for r in coco)
    bleu = compare(_records("translation", "predictions"), published)
    assert len(bleu) == 17 and all(abs(r["difference"]) <= 0.01 for r in bleu)


def test_run_compare_published_prints_the_published_number_next_to_the_measured_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # the default tables: results/published/
    assert main(["run", str(REPO / "suites" / "coco_val2014_fake.yaml"), "--model", "cocoapi-fake-bbox", "--no-progress",
                 "--output-dir", str(tmp_path), "--compare-published"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("== published numbers =="):]
    assert "coco-bbox.AP " in table and "0.5046" in table and "0.5050" in table and "val2014_fake_eval_res.txt" in table


def test_compare_published_without_tables_is_an_error_before_anything_runs(tmp_path, capsys):
    assert main(["run", str(REPO / "suites" / "coco_val2014_fake.yaml"), "--output-dir", str(tmp_path / "runs"),
                 "--compare-published", str(tmp_path / "none")]) == 2
    assert "no published tables" in capsys.readouterr().err and not (tmp_path / "runs").exists()
    (tmp_path / "bad.csv").write_text("task,model\nimagenet,timm:x\n")
    with pytest.raises(InputError, match=r"bad\.csv.*missing column"):
        read_published(tmp_path)
