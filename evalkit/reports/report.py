"""``evalkit report``: records under results/ → per-task tables, plots, comparisons and one index.html."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from evalkit.errors import InputError
from evalkit.reports import compare, family, html, leaderboard, plots
from evalkit.records import write_text_atomic
from evalkit.reports.frames import load_records, to_parquet
from evalkit.reports import years
from evalkit.reports.overyears import over_years_table, write_over_years


@dataclass
class TaskReport:
    """What was written for one task, and the HTML body shared by its page and the index."""

    task: str
    files: list[Path] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    markdown: list[str] = field(default_factory=list)


def write_report(results: str | Path, out: str | Path, n_resamples: int = 1000, seed: int = 12345) -> Path:
    """Write the whole report folder and return the path of its ``index.html``."""
    out = Path(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the skipped files are reported in the page instead
        frame = load_records(results)
    if frame.empty:
        raise InputError("no run records found (run `evalkit run` first)", file=results)
    to_parquet(frame, out / "records.parquet")
    reports = [
        _task_report(task, boards, out, frame, n_resamples, seed)
        for task, boards in _by_task(leaderboard.leaderboards(frame)).items()
    ]
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"{frame['run_id'].nunique()} runs from {Path(results).resolve()} · generated {generated}"
    overview, overview_files = _overview_section(frame, out)
    sections = [overview] + [html.section(r.task, r.task, _task_body(r, f"{r.task}/")) for r in reports]
    skipped = frame.attrs.get("skipped", [])
    if skipped:
        sections.append(html.section("ignored", "Files that are not run records",
                                     "".join(html.paragraph(s) for s in skipped)))
    nav = [("over the years", "#over-years")] + [(r.task, f"#{r.task}") for r in reports] + ([("ignored files", "#ignored")] if skipped else [])
    for r in reports:
        task_page = html.page(f"evalkit — {r.task}", subtitle, [("← all tasks", "../index.html")],
                              [html.section(r.task, r.task, _task_body(r, ""))])
        write_text_atomic(out / r.task / "leaderboard.html", task_page)
        write_text_atomic(out / r.task / "leaderboard.md", f"# {r.task}\n\n" + "\n".join(r.markdown))
    index = out / "index.html"
    write_text_atomic(index, html.page("evalkit report", subtitle, nav, sections))
    return index


def _by_task(boards: list[leaderboard.Board]) -> dict[str, list[leaderboard.Board]]:
    grouped: dict[str, list[leaderboard.Board]] = {}
    for board in boards:
        grouped.setdefault(board.task, []).append(board)
    return grouped


def _task_report(task: str, boards: list[leaderboard.Board], out: Path, frame: pd.DataFrame,
                 n_resamples: int, seed: int) -> TaskReport:
    report = TaskReport(task)
    folder = out / task
    for board in boards:
        slug = _slug(board.dataset) if len(boards) > 1 else ""
        _board_section(report, board, folder, slug, n_resamples, seed)
    if task == "imagenet":
        _imagenet_family_section(report, frame)
        _imagenet_years_section(report, frame, folder)
    return report


def _task_body(report: TaskReport, prefix: str) -> str:
    """The task's HTML with links to its files, relative to the page (``prefix`` is the task folder or "")."""
    return "".join(report.body) + html.links([(p.name, f"{prefix}{p.name}") for p in report.files])


def _board_section(report: TaskReport, board: leaderboard.Board, folder: Path, slug: str,
                   n_resamples: int, seed: int) -> None:
    suffix = f"_{slug}" if slug else ""
    table = leaderboard.display_table(board)
    flagged = ["flag" if f else "" for f in board.runs["random_weights"]]
    direction = "higher" if board.higher_is_better else "lower"
    notes = [f"Sorted by {board.main_metric} ({direction} is better); CI = 95% bootstrap interval of the run."]
    if board.signature:
        notes.append(f"Signature: {board.signature}")
    if board.split_note:
        notes.append(f"Split: {board.split_note}.")
    if any(flagged):
        notes.append(f"{leaderboard.RANDOM_FLAG}: the model ran with random weights; its accuracy is chance and "
                     "only its timing means anything.")
    if board.superseded:
        notes.append(f"{board.superseded} older run(s) of the same systems are not shown.")
    report.body += [html.heading(3, board.title), html.table(table, flagged),
                    *(html.paragraph(n) for n in notes)]
    report.markdown += [f"## {board.title}\n", leaderboard.to_markdown(table), *(f"{n}\n" for n in notes)]

    if len(plots.plottable_speed(board.runs)):
        fig = plots.speed_accuracy_figure(board.runs, board.main_metric, board.higher_is_better, board.title)
        saved = plots.save_figure(fig, folder / f"speed_accuracy{suffix}")
        report.files += saved
        report.body.append(html.figure(saved[0].read_bytes(), f"speed/accuracy: {board.title}",
                                       f"Throughput against {board.main_metric}; bars are 95% CIs; runs with random "
                                       "weights are not plotted."))
    else:
        report.body.append(html.paragraph("No speed/accuracy plot: no run with trained weights recorded a throughput."))

    if len(board.runs) >= 2:
        pairs = compare.paired_comparisons(board, n_resamples=n_resamples, seed=seed)
        excluded = [f"Not tested — {reason}" for reason in pairs.attrs["excluded"]]
        csv = folder / f"comparisons{suffix}.csv"
        report.files.append(write_text_atomic(csv, pairs.to_csv(index=False)))
        shown = compare.display_comparisons(pairs, board.higher_is_better)
        marks = ["sig" if s is True else "" for s in pairs["significant"].fillna(False)]
        text = (f"Paired bootstrap on the same samples ({n_resamples} resamples, seed {seed}); "
                f"✔ marks a significant difference (p < {compare.ALPHA:g} for that pair alone, "
                f"no multiple-test correction).")
        report.body += [html.heading(4, "Pairwise comparisons"), html.table(shown, marks), html.paragraph(text),
                        *(html.paragraph(e) for e in excluded)]
        report.markdown += ["### Pairwise comparisons\n", leaderboard.to_markdown(shown), f"{text}\n",
                            *(f"{e}\n" for e in excluded)]


def _imagenet_family_section(report: TaskReport, frame: pd.DataFrame) -> None:
    """Top-1 and top-5 accuracy of each model on every ImageNet test set it ran on, one column per set."""
    for key, title in (("top1_accuracy", "top-1"), ("top5_accuracy", "top-5")):
        table = family.family_table(frame, key)
        if table.empty:
            return
        shown = family.display_family(table)
        heading = f"ImageNet family: {title} accuracy (%)"
        note = ("One column per test set (suites/imagenet_family.yaml), as timm's results tables; ReaL and the "
                "200-class A and R sets follow timm's validate.py (--real-labels, --valid-labels).")
        report.body += [html.heading(3, heading), html.table(shown), html.paragraph(note)]
        report.markdown += [f"## {heading}\n", leaderboard.to_markdown(shown), f"{note}\n"]


def _imagenet_years_section(report: TaskReport, frame: pd.DataFrame, folder: Path) -> None:
    result = write_over_years("imagenet", frame, folder)
    report.files += result.files
    report.body += [html.heading(3, "ImageNet error over the years"),
                    html.figure(result.png, "ImageNet error over the years", result.caption)]
    report.markdown += ["## ImageNet error over the years\n", f"![over the years](over_years.png)\n\n{result.caption}\n"]


def _overview_section(frame: pd.DataFrame, out: Path) -> tuple[str, list[Path]]:
    """Small multiples of every shipped over-years curve, with the user's dated runs on them."""
    panels = []
    for name in ["imagenet", *years.HISTORIES]:
        table = over_years_table(name, frame)
        title = table.attrs["title"]
        panels += [(title, table, metric) for metric in table.attrs["metrics"]]
    fig = plots.overview_figure(panels)
    files = plots.save_figure(fig, out / "over_years" / "overview")
    placed = sorted({label for _, t, _ in panels for label in t.loc[t["kind"] == years.RUN, "label"]})
    # dated, trained runs left off because their data is another benchmark's (or not known), by that benchmark
    elsewhere: dict[str, set[str]] = {}
    for _, table, _ in panels:
        for model, data in table.attrs.get("elsewhere", []):
            elsewhere.setdefault(f"ran on {data}" if data else "its data names no benchmark; a suite evaluation's "
                                 "`benchmark:` can", set()).add(model)
    not_placed = "; ".join(f"{', '.join(sorted(models))} ({why})" for why, models in sorted(elsewhere.items()))
    caption = ("One panel per benchmark metric: filled markers are values read in a primary source, hollow ones "
               "were found only in secondary sources; each line joins the best value of each year measured with "
               "one protocol (ImageNet: the ILSVRC winners); stars are your runs, each on its own benchmark's panel, at "
               "their model's publication year" + (f" ({', '.join(placed)})" if placed else " (none placed)")
               + (f"; not placed: {not_placed}" if not_placed else "")
               + ". Sources: evalkit/data/history/SOURCES.md; `evalkit leaderboard BENCHMARK --over-years` draws "
               "one benchmark large. Benchmarks: " + ", ".join(["imagenet", *years.HISTORIES]) + ".")
    body = html.figure(files[0].read_bytes(), "progress over the years: all benchmarks", caption) + html.links(
        [(p.name, f"over_years/{p.name}") for p in files])
    return html.section("over-years", "Progress over the years", body), files


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "dataset"
