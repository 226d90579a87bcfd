"""``evalkit leaderboard TASK --over-years``: history + dated runs → table (CSV, Markdown) and figure (PNG, SVG)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from evalkit.errors import InputError
from evalkit.reports import plots, years
from evalkit.records import write_text_atomic
from evalkit.reports.leaderboard import to_markdown


@dataclass
class OverYears:
    table: pd.DataFrame
    files: list[Path]
    png: bytes
    caption: str


def over_years_table(task: str, records: pd.DataFrame | None = None,
                     history_csvs: Iterable[str | Path] = ()) -> pd.DataFrame:
    """The history of ``task`` (shipped for ImageNet and the benchmarks of ``years.HISTORIES``, plus any
    ``history_csvs``) and its dated runs.

    ``task`` is an evalkit task or a benchmark name (``wmt14-en-de``, ``wikitext-103``, …). For every
    benchmark but ImageNet the line joins each year's best published value per protocol.
    """
    shipped = years.history_task(task)
    run_task = shipped.task if shipped else task
    parts = [years.imagenet_history()] if task == "imagenet" else []
    parts += [years.shipped_history(shipped)] if shipped else []
    parts += [years.read_history_csv(p) for p in history_csvs]
    history = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=years.COLUMNS)
    directions = {**(shipped.higher_is_better if shipped else {}), **_directions(records, run_task)}
    if task == "imagenet":
        metrics: list[str] | dict = list(years.IMAGENET_METRICS)
    elif shipped:
        extra = [m for m in dict.fromkeys(history["metric"]) if m not in shipped.metrics]
        metrics = {**shipped.runs, **{m: (years.RunMetric(m),) for m in extra}}
    else:
        metrics = list(dict.fromkeys([*history["metric"], *directions]))
    placed_on = "imagenet" if task == "imagenet" else shipped.name if shipped else None
    runs = years.runs_history(records, run_task, metrics, placed_on) if records is not None else None
    if history.empty and (runs is None or runs.empty):
        why = years.NO_HISTORY.get(task, "no shipped history")
        raise InputError(f"nothing to draw for task {task!r}: {why}, no --history CSV and no run with a model year "
                         "(record field model.year)")
    table = years.over_years_table(history.astype({"year": "int64"}), runs, directions,
                                   by_protocol=task != "imagenet")
    table.attrs["metrics"] = [m for m in metrics if m in set(table["metric"])]
    table.attrs["directions"] = directions
    table.attrs["title"] = shipped.title if shipped else ("ImageNet" if task == "imagenet" else task)
    table.attrs["titles"] = dict(shipped.titles) if shipped else {}
    table.attrs["human"] = ({"top5_error": (years.HUMAN_TOP5_ERROR, "Russakovsky et al.")} if task == "imagenet"
                            else dict(shipped.human) if shipped else {})
    table.attrs["by_protocol"] = task != "imagenet"
    return table


def write_over_years(task: str, records: pd.DataFrame | None, out: str | Path,
                     history_csvs: Iterable[str | Path] = ()) -> OverYears:
    """Write ``over_years.{png,svg,csv,md}`` under ``out``."""
    out = Path(out)
    table = over_years_table(task, records, history_csvs)
    title = table.attrs["title"]
    fig = plots.over_years_figure(table, title, table.attrs["metrics"],
                                  human_top5=years.HUMAN_TOP5_ERROR if task == "imagenet" else None,
                                  higher_is_better=table.attrs["directions"])
    files = plots.save_figure(fig, out / "over_years")
    png = files[0].read_bytes()
    files.append(write_text_atomic(out / "over_years.csv", table.to_csv(index=False)))
    caption = _caption(task, table)
    shown = table.assign(value=table["value"].map(lambda v: f"{v:g}")).fillna("")
    files.append(write_text_atomic(out / "over_years.md", f"# {title} over the years\n\n{caption}\n\n"
                                   + to_markdown(shown)))
    return OverYears(table, files, png, caption)


def _directions(records: pd.DataFrame | None, task: str) -> dict[str, bool]:
    if records is None or records.empty:
        return {}
    rows = records[(records["task"] == task) & records["is_main"]]
    return {str(m): bool(h) for m, h in zip(rows["main_metric"], rows["higher_is_better"])}


def _caption(task: str, table: pd.DataFrame) -> str:
    parts = ["Each point is one entry; the black line joins each year's best competition entry "
             "(confirmed values preferred); hollow markers are values not confirmed by a primary source; "
             "squares are published single-model results; stars are your runs on ImageNet's validation images, at their "
             "model's publication year."]
    if table.attrs.get("by_protocol"):
        parts[0] = ("Each point is one published result; each line joins the best value of each year measured "
                    "with one protocol (named in the legend), so results of different protocols are never joined; "
                    "hollow markers are values not confirmed by a primary source; stars are your runs on this "
                    "benchmark's data, at their model's publication year (their split is the table's protocol column).")
        if years.history_task(task):
            parts.append("Sources: evalkit/data/history/SOURCES.md.")
    if task == "imagenet":
        parts.append(f"Dashed: the {years.HUMAN_TOP5_ERROR:g}% human top-5 error estimate of Russakovsky et al. "
                     "(IJCV 2015). Sources: evalkit/data/history/SOURCES.md.")
    left_out = table.attrs.get("left_out", [])
    if left_out:
        parts.append(f"Runs not placed: {', '.join(left_out)}; a run is placed at record field model.year.")
    return " ".join(parts)
