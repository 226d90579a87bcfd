"""``--set KEY.PATH=VALUE`` changes the suite before validation, with the suite's own errors; ``--bootstrap``."""
from __future__ import annotations

import json

import pytest
import yaml

from evalkit.cli import main
from evalkit.errors import SuiteError
from evalkit.suite import load_suite
from tests._dist_suite import QUICK

SUITE = {"name": "o", "task": "translation",
         "dataset": {"loader": "translation", "reference_file": str(QUICK / "wmt17_en_de/newstest2017-ende-ref.de.xz")},
         "models": [{"adapter": "predictions", "label": "uedin",
                     "path": str(QUICK / "wmt17_en_de/newstest2017.uedin-nmt.4722.en-de.xz")}],
         "runtime": {"limit": 10, "batch_size": 4, "device": "cpu", "progress": False}}


@pytest.fixture()
def suite_file(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text(yaml.safe_dump(SUITE))
    return path


def test_overrides_apply_before_validation_and_change_the_hash(suite_file):
    plain = load_suite(suite_file)
    changed = load_suite(suite_file, overrides=["runtime.batch_size=32", "runtime.limit=7",
                                                "metrics=[bleu, {name: chrf, word_order: 2}]"])
    evaluation = changed.evaluations[0]
    assert evaluation.runtime.batch_size == 32 and evaluation.runtime.limit == 7
    assert [(m.name, m.options) for m in evaluation.metrics] == [("bleu", {}), ("chrf", {"word_order": 2})]
    assert changed.sha256 != plain.sha256 and changed.overrides == ("runtime.batch_size=32", "runtime.limit=7",
                                                                    "metrics=[bleu, {name: chrf, word_order: 2}]")
    assert load_suite(suite_file, overrides=list(changed.overrides)).sha256 == changed.sha256


@pytest.mark.parametrize("override, field, words", [
    ("runtime.batch_size=zero", "runtime.batch_size", "expected int"),
    ("runtime.batchsize=3", "runtime.batchsize", "unknown key"),
    ("models[4].label=x", "models", "no item [4]"),
    ("models[0].adapter=timmm", "models[0].adapter", "did you mean"),
    ("metrics[0]=blue", "metrics", "no item [0]"),
    ("runtime.batch_size", "runtime.batch_size", "KEY.PATH=VALUE"),
    ("runtime.limit.x=1", "runtime.limit", "not a mapping"),
])
def test_bad_overrides_get_the_suite_errors(suite_file, override, field, words):
    with pytest.raises(SuiteError) as err:
        load_suite(suite_file, overrides=[override])
    assert err.value.field == field and words in str(err.value) and str(suite_file) in str(err.value)


def test_the_record_stores_the_suite_as_run(suite_file, tmp_path, capsys):
    assert main(["run", str(suite_file), "--set", "runtime.limit=6", "--set", "models[0].label=renamed",
                 "--bootstrap", "--output-dir", str(tmp_path / "out"), "--json", "--no-cache"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["dataset"]["num_evaluated"] == 6 and record["model"]["name"] == "renamed"
    assert record["suite"]["overrides"] == ["runtime.limit=6", "models[0].label=renamed"]
    assert record["suite"]["spec"]["runtime"]["limit"] == 6 and "BLEU" in record["ci"]
    assert record["suite"]["sha256"] == load_suite(suite_file, overrides=record["suite"]["overrides"]).sha256
    assert main(["run", str(suite_file), "--set", "runtime.limit=-1", "--output-dir", str(tmp_path / "x")]) == 2
    assert "runtime.limit" in capsys.readouterr().err and not (tmp_path / "x").exists()
    assert main(["run", str(suite_file), "--ci", "--output-dir", str(tmp_path / "y"), "--json", "--no-cache"]) == 0
    assert "BLEU" in json.loads(capsys.readouterr().out)["ci"]  # --ci stays an alias of --bootstrap
