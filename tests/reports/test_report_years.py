"""The error-over-years view: shipped ILSVRC history, user runs at their model's year, other tasks' CSVs."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.reports.recordgen import RecordFactory

from evalkit.errors import InputError
from evalkit.reports import plots, years
from evalkit.reports.frames import load_records
from evalkit.reports.overyears import over_years_table, write_over_years

GOLDEN = Path(__file__).parent / "golden" / "imagenet_over_years.csv"


def _shipped(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files("evalkit") / "data" / "history" / name) as path:
        return pd.read_csv(path)


def _panel(fig, metric: str):
    (ax,) = [a for a in fig.axes if plots.METRIC_TITLES[metric] in a.get_title()]
    return ax


def _points(ax, gid: str) -> pd.DataFrame:
    """(year, value) of the scatter ``gid``, undoing the horizontal dodge."""
    (collection,) = [c for c in ax.collections if c.get_gid() == gid]
    xy = collection.get_offsets()
    return pd.DataFrame({"year": np.rint(xy[:, 0]).astype(int), "value": xy[:, 1]})


def test_figure_shows_every_shipped_entry_and_the_winners_line():
    entries = _shipped("ilsvrc_classification.csv")
    table = over_years_table("imagenet")
    fig = plots.over_years_figure(table, "ImageNet", list(years.IMAGENET_METRICS), human_top5=years.HUMAN_TOP5_ERROR)
    ax = _panel(fig, "top5_error")
    for status in ("confirmed", "unverified"):
        drawn = _points(ax, f"{years.COMPETITION}|{status}")
        rows = entries[entries["status"] == status]
        assert drawn.groupby("year").size().to_dict() == rows.groupby("year").size().to_dict()
        assert sorted(drawn["value"]) == pytest.approx(sorted(rows["top5_error"] * 100))
    # a year's winner is its lowest confirmed entry, or its lowest entry when none is confirmed
    best = entries.sort_values(["year", "status", "top5_error"]).groupby("year").first()
    (line,) = [artist for artist in ax.lines if artist.get_gid() == "winners"]
    assert np.rint(line.get_xdata()).astype(int).tolist() == best.index.tolist()
    assert line.get_ydata().tolist() == pytest.approx((best["top5_error"] * 100).tolist())
    (human,) = [artist for artist in ax.lines if artist.get_gid() == "human"]
    assert set(human.get_ydata()) == {years.HUMAN_TOP5_ERROR}
    models = _shipped("imagenet_models.csv")
    drawn = _points(_panel(fig, "top1_error"), f"{years.MODEL}|confirmed")
    assert drawn.groupby("year").size().to_dict() == models.dropna(subset=["top1_error"]).groupby("year").size().to_dict()


def test_history_tells_the_lectures_story():
    top5 = years.winners(over_years_table("imagenet"), "top5_error").set_index("year")
    assert top5.index.tolist() == list(range(2010, 2018))
    assert top5.loc[2012, "label"] == "SuperVision" and top5.loc[2012, "value"] < 25
    runner_up = over_years_table("imagenet").query("year == 2012 and kind == @years.COMPETITION "
                                                   "and label != 'SuperVision'")["value"].min()
    assert runner_up > 25
    assert top5.loc[2017, "value"] == pytest.approx(2.3, abs=0.1)
    assert 25 < top5.loc[2010, "value"] < 30


def test_table_matches_the_golden_file():
    table = over_years_table("imagenet")
    if os.environ.get("EVALKIT_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        table.to_csv(GOLDEN, index=False)
    golden = pd.read_csv(GOLDEN, keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(table.reset_index(drop=True), golden, check_dtype=False)


def test_user_runs_are_placed_at_their_model_year_and_files_written(tmp_path):
    factory = RecordFactory(tmp_path / "results")
    factory.imagenet_run("my_resnet", 0.78, n=200, year=2015)
    factory.imagenet_run("undated_net", 0.7, n=200, seed=2)
    factory.imagenet_run("random_net", 0.0, n=200, seed=3, year=2016, random_weights=True)
    records = load_records(factory.root)
    result = write_over_years("imagenet", records, tmp_path / "out")
    runs = result.table[result.table["kind"] == years.RUN]
    mine = records[records["model"] == "my_resnet"].set_index("metric")["value"]
    assert set(runs["label"]) == {"my_resnet"} and set(runs["year"]) == {2015}
    assert runs.set_index("metric")["value"].to_dict() == pytest.approx(mine.to_dict())
    assert "undated_net (no model year)" in result.caption and "random_net (random weights)" in result.caption
    for suffix in ("png", "svg", "csv", "md"):
        assert (tmp_path / "out" / f"over_years.{suffix}").stat().st_size > 1000
    assert (tmp_path / "out" / "over_years.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = plots.over_years_figure(result.table, "ImageNet", list(years.IMAGENET_METRICS))
    star = _points(_panel(fig, "top5_error"), f"{years.RUN}|measured")
    assert star.values.tolist() == [[2015, pytest.approx(mine["top5_error"])]]
    assert "my_resnet" in [t.get_text() for t in _panel(fig, "top5_error").texts]


def test_other_tasks_use_user_history_and_their_metric_direction(tmp_path):
    history = tmp_path / "wmt.csv"
    history.write_text("year,label,metric,value,status\n2016,edinburgh,BLEU,34.2,confirmed\n"
                       "2016,other,BLEU,30.1,confirmed\n2017,uedin-nmt,BLEU,28.3,unverified\n")
    factory = RecordFactory(tmp_path / "results")
    record = factory.record("transformer", "translation", {"BLEU": 27.3}, {}, main=("BLEU", True), year=2017)
    factory.write(record)
    result = write_over_years("translation", load_records(factory.root), tmp_path / "out", [history])
    best = years.winners(result.table, "BLEU")
    assert best[["year", "label"]].values.tolist() == [[2016, "edinburgh"], [2017, "uedin-nmt"]]
    assert result.table.query("kind == @years.RUN")[["year", "value"]].values.tolist() == [[2017, 27.3]]
    assert (tmp_path / "out" / "over_years.svg").stat().st_size > 0


def test_bad_history_csv_names_file_row_and_field(tmp_path):
    history = tmp_path / "bad.csv"
    history.write_text("year,label,metric,value\n2016,a,BLEU,34.2\n2017,b,BLEU,high\n")
    with pytest.raises(InputError, match=r"bad\.csv, record row 3, field 'value'"):
        years.read_history_csv(history)
    (tmp_path / "short.csv").write_text("year,label\n2016,a\n")
    with pytest.raises(InputError, match="lacks column.*metric"):
        years.read_history_csv(tmp_path / "short.csv")
