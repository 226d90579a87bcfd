"""Error (or score) over the years: shipped or user-supplied history plus the user's own dated runs.

The history is one tidy table (year, label, metric, value, kind, status, ...). The
"winners" of a year are the best competition entries (confirmed values preferred),
so the line follows the ILSVRC winners and not ensembles published later.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Iterable

import pandas as pd

from evalkit.errors import InputError

#: columns of every over-years table, in order
COLUMNS = ["year", "metric", "value", "label", "kind", "status", "winner", "extra_data", "protocol", "source"]
COMPETITION, MODEL, RUN = "competition entry", "published model", "your run"
#: Russakovsky et al., IJCV 2015: estimated human top-5 error on ILSVRC (percent)
HUMAN_TOP5_ERROR = 5.1
IMAGENET_METRICS = ("top5_error", "top1_error")


def imagenet_history() -> pd.DataFrame:
    """The shipped ILSVRC entries 2010–2017 and published single-model results, errors in percent."""
    folder = resources.files("evalkit") / "data" / "history"
    with resources.as_file(folder / "ilsvrc_classification.csv") as path:
        entries = pd.read_csv(path, dtype={"extra_data": "str", "note": "str"})
    with resources.as_file(folder / "imagenet_models.csv") as path:
        models = pd.read_csv(path)
    competition = pd.DataFrame({
        "year": entries["year"], "metric": "top5_error", "value": entries["top5_error"] * 100,
        "label": entries["team"], "kind": COMPETITION, "status": entries["status"],
        "extra_data": entries["extra_data"], "protocol": entries["entry"], "source": entries["source_url"],
    })
    published = [
        pd.DataFrame({
            "year": models["year"], "metric": metric, "value": models[metric] * 100, "label": models["model"],
            "kind": MODEL, "status": "confirmed", "extra_data": None, "protocol": models["evaluation"],
            "source": models["source_url"],
        }).dropna(subset=["value"])
        for metric in IMAGENET_METRICS
    ]
    return _tidy(pd.concat([competition, *published], ignore_index=True))


def read_history_csv(path: str | Path) -> pd.DataFrame:
    """A user history file: columns year, label, metric, value; optional kind, status, extra_data, protocol, source.

    ``kind`` defaults to a competition entry (its best value per year joins the winners' line)
    and ``status`` to confirmed.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read history CSV: {exc}", file=path) from None
    missing = [c for c in ("year", "label", "metric", "value") if c not in frame.columns]
    if missing:
        raise InputError(f"history CSV lacks column(s) {', '.join(missing)}", file=path, field=missing[0])
    for column in ("year", "value"):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() & frame[column].notna()
        if bad.any() or frame[column].isna().any():
            row = int((bad | frame[column].isna()).idxmax())
            raise InputError(f"not a number: {frame[column][row]!r}", file=path, record=f"row {row + 2}",
                             field=column)
        frame[column] = numbers
    frame = frame.assign(kind=frame.get("kind", COMPETITION), status=frame.get("status", "confirmed"),
                         source=frame.get("source", str(path)))
    return _tidy(frame)


def runs_history(records: pd.DataFrame, task: str, metrics: Iterable[str]) -> pd.DataFrame:
    """The user's runs of ``task`` as history rows, at the year their model was published.

    Runs without a year cannot be placed, and runs with random weights would only show
    chance; both are left out and named in ``attrs["left_out"]``.
    """
    runs = records[(records["task"] == task) & records["metric"].isin(list(metrics))]
    undated = sorted(set(runs.loc[runs["model_year"].isna(), "model"]))
    random = sorted(set(runs.loc[runs["random_weights"], "model"]))
    runs = runs[runs["model_year"].notna() & ~runs["random_weights"]]
    frame = pd.DataFrame({
        "year": runs["model_year"], "metric": runs["metric"], "value": runs["value"],
        "label": runs["model"], "kind": RUN, "status": "measured",
        "extra_data": None, "protocol": runs["dataset"], "source": runs["file"],
    })
    tidy = _tidy(frame)
    tidy.attrs["left_out"] = [f"{m} (no model year)" for m in undated] + [f"{m} (random weights)" for m in random]
    return tidy


def over_years_table(history: pd.DataFrame, runs: pd.DataFrame | None = None,
                     higher_is_better: dict[str, bool] | None = None) -> pd.DataFrame:
    """History and runs in one table, with the best competition entry of every (metric, year) marked.

    Published models and runs never win: the line is the competition's, as in the ILSVRC charts.
    """
    parts = [history] + ([runs] if runs is not None and len(runs) else [])
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else history.copy()
    table["winner"] = False
    for metric, pool in table[table["kind"] == COMPETITION].groupby("metric"):
        higher = (higher_is_better or {}).get(metric, not str(metric).endswith("error"))
        for _, year_rows in pool.groupby("year"):
            confirmed = year_rows[year_rows["status"] == "confirmed"]
            candidates = confirmed if len(confirmed) else year_rows
            best = candidates["value"].idxmax() if higher else candidates["value"].idxmin()
            table.loc[best, "winner"] = True
    table = _tidy(table)
    table.attrs["left_out"] = runs.attrs.get("left_out", []) if runs is not None else []
    return table


def winners(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The winners' line of one metric: one row per year, in year order."""
    return table[(table["metric"] == metric) & table["winner"]].sort_values("year")


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=COLUMNS).copy()
    frame["year"] = frame["year"].astype("int64")
    frame["value"] = frame["value"].astype("float64").round(6)
    frame["winner"] = frame["winner"].fillna(False).astype(bool)
    for column in ("metric", "label", "kind", "status", "extra_data", "protocol", "source"):
        frame[column] = frame[column].astype("str")  # one missing value (NaN), whatever the source
    order = {COMPETITION: 0, MODEL: 1, RUN: 2}
    frame = frame.sort_values(["metric", "year", "kind", "value", "label"],
                              key=lambda s: s.map(order) if s.name == "kind" else s, kind="stable")
    return frame.reset_index(drop=True)
