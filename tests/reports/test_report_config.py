"""``evalkit report`` settings: reports/default.yaml when no --config is given; the command line overrides it."""
from __future__ import annotations

import pytest

from evalkit.cli import main
from evalkit.errors import InputError
from evalkit.reports.config import report_config
from tests.conftest import REPO


def test_the_committed_default_reads_the_runs_and_writes_the_gitignored_folder(monkeypatch):
    monkeypatch.chdir(REPO)
    config = report_config()
    assert config["results"].resolve() == REPO / "results" / "runs"
    assert config["out"].resolve() == REPO / "reports" / "generated"
    assert (config["resamples"], config["seed"]) == (1000, 12345)
    assert "/reports/generated/" in (REPO / ".gitignore").read_text().splitlines()


def test_without_a_default_file_the_built_in_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert report_config() == report_config(REPO / "reports" / "default.yaml") | {
        "results": report_config()["results"], "out": report_config()["out"]}
    assert str(report_config()["results"]) == "results/runs"


@pytest.mark.parametrize(("text", "field"), [("resamples: many\n", "resamples"), ("outt: x\n", "outt"),
                                             ("results: 3\n", "results"), ("- a\n", None)])
def test_a_bad_setting_is_an_error_naming_the_file_and_field(tmp_path, text, field):
    bad = tmp_path / "r.yaml"
    bad.write_text(text)
    with pytest.raises(InputError, match=str(bad)) as caught:
        report_config(bad)
    if field:
        assert f"field {field!r}" in str(caught.value)


def test_the_command_line_overrides_the_configuration(tmp_path, monkeypatch):
    """(The report itself is written in test_report_leaderboard; here only the settings it gets.)"""
    import evalkit.reports.report as report

    calls = []
    monkeypatch.setattr(report, "write_report", lambda results, out, n_resamples, seed: calls.append(
        (str(results), str(out), n_resamples, seed)) or tmp_path / "index.html")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "default.yaml").write_text("results: ../results/runs\nout: generated\nresamples: 20\n")
    (tmp_path / "other.yaml").write_text("seed: 7\nout: third\n")
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 0
    assert main(["report", "--out", "elsewhere", "--seed", "3"]) == 0
    assert main(["report", "runs", "--config", "other.yaml"]) == 0
    assert calls == [("reports/../results/runs", "reports/generated", 20, 12345),
                     ("reports/../results/runs", "elsewhere", 20, 3), ("runs", "third", 1000, 7)]
    assert main(["report", "--config", "missing.yaml"]) == 2
