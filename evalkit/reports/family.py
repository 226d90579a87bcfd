"""The ImageNet family table: one row per model, one column per test set, as timm's results tables read side by side.

A column is an evaluation of ``suites/imagenet_family.yaml`` found by its name (``imagenet``,
``imagenet-v2-matched-frequency``, ``imagenet-sketch``, ``imagenet-a``, ``imagenet-r``...); ReaL is the
``real.*`` keys of the ``imagenet`` evaluation. Each cell is the model's latest run there.
"""
from __future__ import annotations

import pandas as pd

from evalkit.reports.leaderboard import RANDOM_FLAG, fmt_number

#: (evaluation name, key prefix, column title), in display order
FAMILY = (
    ("imagenet", "", "ImageNet"),
    ("imagenet", "real.", "ReaL"),
    ("imagenet-v2-matched-frequency", "", "V2-matched-frequency"),
    ("imagenet-v2-threshold-0.7", "", "V2-threshold-0.7"),
    ("imagenet-v2-top-images", "", "V2-top-images"),
    ("imagenet-sketch", "", "Sketch"),
    ("imagenet-a", "", "A"),
    ("imagenet-r", "", "R"),
)


def family_table(frame: pd.DataFrame, key: str = "top1_accuracy") -> pd.DataFrame:
    """Models × family test sets of ``key`` (percent); empty when fewer than two test sets have runs."""
    runs = frame[frame["task"] == "imagenet"].copy()
    runs["_order"] = runs["started_at"].fillna(pd.Timestamp.min.tz_localize("UTC"))
    runs = runs.sort_values("_order", kind="stable")
    columns: dict[str, pd.Series] = {}
    for evaluation, prefix, title in FAMILY:
        cells = runs[(runs["dataset"] == evaluation) & (runs["metric"] == prefix + key)]
        if len(cells):
            columns[title] = cells.drop_duplicates("model", keep="last").set_index("model")["value"]
    if len(columns) < 2:
        return pd.DataFrame()
    table = pd.DataFrame(columns)
    flagged = set(runs.loc[runs["random_weights"].astype(bool), "model"])
    table.index = [f"{m} {RANDOM_FLAG}" if m in flagged else m for m in table.index]
    return table.rename_axis("model").reset_index()


def display_family(table: pd.DataFrame) -> pd.DataFrame:
    """The table as strings, two decimals as timm's tables print them, – where a model has no run."""
    return table.assign(**{c: table[c].map(fmt_number) for c in table.columns if c != "model"})
