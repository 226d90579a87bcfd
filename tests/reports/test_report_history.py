"""Shipped over-years histories of every benchmark: sourced rows, protocol-separated lines, runs, bad CSVs."""
from __future__ import annotations

import html
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from tests.reports.recordgen import RecordFactory

from evalkit.errors import InputError
from evalkit.reports import plots, years
from evalkit.reports.frames import load_records
from evalkit.reports.overyears import over_years_table, write_over_years
from evalkit.reports.report import write_report


def _raw(file: str) -> pd.DataFrame:
    with resources.as_file(resources.files("evalkit") / "data" / "history" / file) as path:
        return pd.read_csv(path)


@pytest.mark.parametrize("name", sorted(years.HISTORIES))
def test_shipped_tables_follow_the_rules(name):
    history = years.HISTORIES[name]
    raw = _raw(history.file)
    assert list(raw.columns) == list(years.HISTORY_COLUMNS)
    assert set(raw["status"]) <= set(years.STATUSES)
    assert raw["source"].str.startswith("http").all()  # every number names where it was read
    assert raw.loc[raw["status"] == "unverified", "note"].notna().all()  # and why it is not confirmed
    assert raw["year"].between(1950, 2100).all() and raw["protocol"].notna().all()
    assert set(raw["metric"]) <= set(history.metrics)
    shipped = years.shipped_history(history)  # the shipped files pass the user-CSV validation
    assert len(shipped) == len(raw)


def test_sources_md_covers_every_table_and_style_transfer():
    text = (resources.files("evalkit") / "data" / "history" / "SOURCES.md").read_text()
    for history in years.HISTORIES.values():
        assert history.file in text
    assert "style transfer" in text.lower()


def test_each_protocol_gets_its_own_line():
    table = over_years_table("coco")
    fig = plots.over_years_figure(table, "COCO", list(table.attrs["metrics"]))
    ax = fig.axes[0]
    drawn = {line.get_gid(): line for line in ax.lines if str(line.get_gid()).startswith("winners|")}
    assert set(drawn) == {f"winners|{p}" for p in years.lines(table, "mask_AP")}
    assert {"winners|test-dev", "winners|val2017"} <= set(drawn)
    for protocol, line in drawn.items():
        rows = table[(table["metric"] == "mask_AP") & (table["protocol"] == protocol.split("|", 1)[1])]
        assert set(np.rint(line.get_xdata()).astype(int)) <= set(rows["year"])  # never crosses protocols
    assert len({(line.get_color(), str(line.get_linestyle())) for line in drawn.values()}) == len(drawn)
    hollow = [c for c in ax.collections if c.get_gid() == f"{years.MODEL}|unverified"]
    assert hollow and len(hollow[0].get_offsets()) == 3  # FCIS, two Mask R-CNN test-dev rows


def test_runs_are_placed_in_the_papers_unit(tmp_path):
    factory = RecordFactory(tmp_path / "results")
    record = factory.record("maskrcnn", "coco", {"AP": 0.346, "coco-bbox.AP": 0.379}, {}, main=("AP", True),
                            year=2017, suite_benchmark="coco")
    record["metric_names"] = ["coco-segm", "coco-bbox"]
    factory.write(record)
    factory.write(factory.record("bert-analogy", "analogy", {"accuracy": 0.5}, {}, main=("accuracy", True),
                                 year=2019, started_at="2026-11-26T06:00:00+00:00", suite_benchmark="google-analogy"))
    records = load_records(factory.root)
    coco = over_years_table("coco", records)
    runs = coco[coco["kind"] == years.RUN].set_index("metric")["value"]
    assert runs.to_dict() == pytest.approx({"mask_AP": 34.6, "box_AP": 37.9})
    analogy = write_over_years("google-analogy", records, tmp_path / "out")
    assert analogy.table.query("kind == @years.RUN")[["year", "value"]].values.tolist() == [[2019, 50.0]]
    assert (tmp_path / "out" / "over_years.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _translation_run(factory: RecordFactory, model: str, bleu: float, **where) -> None:
    factory.write(factory.record(model, "translation", {"BLEU": bleu}, {}, main=("BLEU", True), year=2017,
                                 started_at=f"2026-11-26T06:{len(list(factory.root.iterdir())):02d}:00+00:00", **where))


def test_runs_sit_only_on_their_own_benchmarks_history(tmp_path):
    """WMT17 systems are not drawn on WMT14's axes: a run is placed where its data (the files' benchmark, else
    the suite's ``benchmark:``) is the history's benchmark, and the others are named with the reason."""
    factory = RecordFactory(tmp_path / "results")
    _translation_run(factory, "on-wmt14", 27.3, benchmark="wmt14-en-de")
    _translation_run(factory, "said-wmt14", 26.0, suite_benchmark="wmt14")  # an alias, declared by the suite
    _translation_run(factory, "on-wmt17", 28.3, benchmark="wmt17-en-de")
    _translation_run(factory, "files-win", 25.0, benchmark="wmt17-en-de", suite_benchmark="wmt14-en-de")
    _translation_run(factory, "unknown", 24.0)
    table = over_years_table("wmt14-en-de", load_records(factory.root))
    runs = table[table["kind"] == years.RUN]
    assert sorted(runs["label"]) == ["on-wmt14", "said-wmt14"]
    assert table.attrs["elsewhere"] == [("files-win", "wmt17-en-de"), ("on-wmt17", "wmt17-en-de"), ("unknown", "")]
    assert table.attrs["left_out"] == [
        "files-win (ran on wmt17-en-de)", "on-wmt17 (ran on wmt17-en-de)",
        "unknown (its data is not known to be wmt14-en-de; if it is, say `benchmark: wmt14-en-de` in its suite "
        "evaluation)"]
    # a user's own history for a task places every dated run of the task, as before
    history = tmp_path / "mine.csv"
    history.write_text("year,label,metric,value\n2016,edinburgh,BLEU,34.2\n")
    mine = over_years_table("translation", load_records(factory.root), [history])
    assert len(mine[mine["kind"] == years.RUN]) == 5


def test_report_overview_names_the_runs_it_left_off_and_why(tmp_path):
    factory = RecordFactory(tmp_path / "results")
    factory.imagenet_run("resnet50", 0.76, n=100, seed=1, year=2015)
    _translation_run(factory, "uedin-nmt", 28.3, benchmark="wmt17-en-de")
    _translation_run(factory, "online-B", 26.1, benchmark="wmt17-en-de")
    _translation_run(factory, "mystery", 24.0)
    index = html.unescape((write_report(factory.root, tmp_path / "out", n_resamples=50)).read_text())
    assert ("at their model's publication year (resnet50); not placed: mystery (its data names no benchmark; a suite "
            "evaluation's `benchmark:` can); online-B, uedin-nmt (ran on wmt17-en-de).") in index


def test_imagenet_runs_on_companion_sets_are_not_drawn_on_imagenet(tmp_path):
    factory = RecordFactory(tmp_path / "results")
    factory.imagenet_run("resnet50", 0.76, n=100, seed=1, year=2015)
    factory.imagenet_run("resnet50-v2", 0.64, n=100, seed=2, year=2015, benchmark="ImageNet-V2 matched-frequency",
                         started_at="2026-11-26T06:00:00+00:00")
    table = over_years_table("imagenet", load_records(factory.root))
    assert set(table.loc[table["kind"] == years.RUN, "label"]) == {"resnet50"}
    assert table.attrs["elsewhere"] == [("resnet50-v2", "ImageNet-V2 matched-frequency")]


@pytest.mark.parametrize("name", ["coco", "wmt14-en-de", "vqa", "captions", "analogy", "ffhq-1024", "wikitext-103"])
def test_every_benchmark_draws(name, tmp_path):
    result = write_over_years(name, None, tmp_path)
    assert len(result.table) and "Sources: evalkit/data/history/SOURCES.md" in result.caption
    assert (tmp_path / "over_years.svg").stat().st_size > 1000


def test_style_transfer_says_why_there_is_no_history(tmp_path):
    with pytest.raises(InputError, match="style-transfer.*SOURCES.md"):
        write_over_years("style-transfer", None, tmp_path)


@pytest.mark.parametrize("body, line, column, message", [
    ("year,label,metric,value,colour\n2016,a,BLEU,3,red\n", 1, "colour", "unknown column"),
    ("year,label,metric,value\n2016,a,BLEU,3\n2017,b,BLEU,n/a\n", 3, "value", "not a number"),
    ("year,label,metric,value\n20x6,a,BLEU,3\n", 2, "year", "not a number"),
    ("year,label,metric,value\n1949,a,BLEU,3\n", 2, "year", "1950–2100"),
    ("year,label,metric,value\n2101,a,BLEU,3\n", 2, "year", "1950–2100"),
    ("year,label,metric,value,status\n2016,a,BLEU,3,confirmed\n2016,b,BLEU,4,maybe\n", 3, "status",
     "unknown status 'maybe'"),
    ("year,label,metric,value,kind\n2016,a,BLEU,3,rumour\n", 2, "kind", "unknown kind"),
])
def test_bad_history_csv_names_file_line_and_column(tmp_path, body, line, column, message):
    path = tmp_path / "hist.csv"
    path.write_text(body)
    with pytest.raises(InputError, match=rf"hist\.csv.*line {line}, column '{column}': .*{message}") as caught:
        years.read_history_csv(path)
    assert caught.value.exit_code == 2 and caught.value.field == column
