"""Frame → leaderboards → paired comparisons → the report folder, on generated records."""
from __future__ import annotations

import argparse
import re
import warnings

import pytest
from tests.reports.recordgen import RecordFactory, topk_metric

from evalkit.reports.compare import paired_comparisons
from evalkit.reports.frames import load_records
from evalkit.reports.leaderboard import RANDOM_FLAG, display_table, leaderboards

N = 300


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_records(path)


@pytest.fixture()
def factory(tmp_path):
    f = RecordFactory(tmp_path / "results")
    f.imagenet_run("good", 0.85, n=N, seed=1, year=2019, throughput=300.0)
    f.imagenet_run("twin", 0.85, n=N, seed=1, year=2019, throughput=310.0)  # same predictions as "good"
    f.imagenet_run("weak", 0.40, n=N, seed=2, year=2012, throughput=4000.0)
    f.imagenet_run("close", 0.84, n=N, seed=7, year=2020, throughput=200.0)  # near "good": not significant
    f.imagenet_run("noise", 0.0, n=N, seed=3, throughput=900.0, random_weights=True)
    f.imagenet_run("old", 0.60, n=N, seed=4, drop=("state_file", "ci", "main_metric", "higher_is_better"))
    return f


def test_board_is_sorted_by_the_main_metric_and_flags_random_weights(factory):
    frame = _load(factory.root)
    (board,) = leaderboards(frame)
    assert board.main_metric == "top1_error" and board.higher_is_better is False
    main = frame[frame["is_main"]].set_index("model")["value"]
    assert board.runs["system"].tolist() == main.sort_values(kind="stable").index.tolist()
    shown = display_table(board)
    flagged = shown[shown["model"].str.contains(RANDOM_FLAG)]["model"].tolist()
    assert flagged == [f"noise {RANDOM_FLAG}"]
    assert {"95% CI", "throughput (samples/s)", "peak memory"} <= set(shown.columns)
    assert shown.loc[shown["model"] == "old", "95% CI"].item() == "–"


def test_runs_on_other_samples_get_their_own_board_and_newer_runs_supersede(factory):
    factory.imagenet_run("good", 0.5, n=50, seed=9, fingerprint="fp-subset")
    factory.imagenet_run("weak", 0.45, n=N, seed=5, started_at="2026-12-01T00:00:00+00:00")
    boards = {b.dataset_key: b for b in leaderboards(_load(factory.root))}
    assert set(boards) == {"fp-imagenet-val", "fp-subset"}
    full = boards["fp-imagenet-val"]
    assert full.superseded == 1 and full.runs["system"].tolist().count("weak") == 1
    newest = full.runs.set_index("system").loc["weak", "started_at"]
    assert newest.month == 12


def test_paired_comparisons_match_the_metrics_own_paired_test(factory):
    (board,) = leaderboards(_load(factory.root))
    pairs = paired_comparisons(board, n_resamples=200, seed=7).set_index(["system_a", "system_b"])
    good, weak = topk_metric(0.85, N, 1), topk_metric(0.40, N, 2)
    expected = good.paired_test(weak, key="top1_error", n_resamples=200, seed=7)
    row = pairs.loc[("good", "weak")]
    assert row["difference"] == pytest.approx(expected["difference"])
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(expected["ci"])
    assert row["p_value"] == pytest.approx(expected["p_value"]) and bool(row["significant"])
    same = pairs.loc[("good", "twin")] if ("good", "twin") in pairs.index else pairs.loc[("twin", "good")]
    assert same["difference"] == 0 and not bool(same["significant"])
    excluded = "\n".join(pairs.attrs["excluded"])
    assert "noise: random weights" in excluded and "old: its record has no state_file" in excluded
    tested = set(pairs.index.get_level_values(0)) | set(pairs.index.get_level_values(1))
    assert tested == {"good", "twin", "weak", "close"}


def test_report_writes_tables_plots_and_a_self_contained_index(factory, tmp_path):
    from evalkit.reports.cli import add_report_parser

    parser = argparse.ArgumentParser(prog="evalkit")
    add_report_parser(parser.add_subparsers())
    out = tmp_path / "reports"
    args = parser.parse_args(["report", str(factory.root), "--out", str(out), "--resamples", "100"])
    assert args.func(args) == 0
    for name in ("index.html", "records.parquet", "imagenet/leaderboard.md", "imagenet/leaderboard.html",
                 "imagenet/speed_accuracy.png", "imagenet/speed_accuracy.svg", "imagenet/comparisons.csv",
                 "imagenet/over_years.png"):
        assert (out / name).stat().st_size > 0, name
    index = (out / "index.html").read_text()
    sources = re.findall(r'<img src="([^"]+)"', index)
    assert len(sources) == 3 and all(s.startswith("data:image/png;base64,") for s in sources)  # + the over-years overview
    assert not re.search(r'(src|href)="https?://', index)
    markdown = (out / "imagenet" / "leaderboard.md").read_text()
    assert "| rank | model | top1_error (↓) | 95% CI |" in markdown and f"noise {RANDOM_FLAG}" in markdown
    assert "✔ good better" in markdown and "no difference" in markdown
    assert re.search(r"\| (good|close) \| (good|close) \|.*\| not significant \|", markdown)


def test_columns_show_counts_whole_and_small_values_with_four_decimals():
    import pandas as pd

    from evalkit.reports.leaderboard import column_digits, fmt_column

    assert fmt_column(pd.Series([3.0, 19446.0, float("nan")])).tolist() == ["3", "19,446", "–"]
    assert fmt_column(pd.Series([44.0, 12.0])).tolist() == ["44.00", "12.00"]  # whole percentages stay percentages
    assert fmt_column(pd.Series([0.0307, 0.0005])).tolist() == ["0.0307", "0.0005"]
    assert fmt_column(pd.Series([76.125, 0.5])).tolist() == ["76.12", "0.50"]
    assert column_digits(pd.Series([100.0, 50.0]), counts=False) == 2 and column_digits(pd.Series([0.0, 0.0])) == 4
