"""Leaderboards: the tidy frame → one ranked table per (task, set of evaluated samples, main metric and signature).

Runs are ranked only against runs on the same samples (same dataset fingerprint);
ranking a 1k-image subset against full ImageNet would be meaningless. Likewise numbers
with different metric signatures (another tokenizer, mask vs box AP) are never ranked
together: they get boards of their own, and each board says why it was split.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

#: a system is one model in one configuration; its latest run represents it
SYSTEM_KEY = ["model", "adapter", "device", "precision"]
RANDOM_FLAG = "⚠ random weights"


@dataclass
class Board:
    """One ranked table: the runs of ``task`` on the samples ``dataset_key``."""

    task: str
    dataset: str
    dataset_key: str
    main_metric: str
    higher_is_better: bool
    #: one row per system, best first: system, model, value, ci_low, ci_high, throughput, ... and metric columns
    runs: pd.DataFrame
    #: every metric key reported by a run of this board, main first
    metrics: list[str] = field(default_factory=list)
    #: runs left out because a newer run of the same system exists
    superseded: int = 0
    #: the signature of the main metric shared by every run of the board (None: records before format 2)
    signature: str | None = None
    #: why runs of the same samples were ranked on separate boards ("" when they were not)
    split_note: str = ""

    @property
    def title(self) -> str:
        n = self.runs["num_samples"].dropna()
        size = f", {int(n.iloc[0]):,} samples" if len(n) else ""
        return f"{self.task} — {self.dataset}{size}"


def leaderboards(frame: pd.DataFrame) -> list[Board]:
    """Every board of the frame, grouped by task then by evaluated samples."""
    boards = []
    for (task, key), rows in frame.groupby(["task", "dataset_key"], sort=True, dropna=False):
        ranking = _ranking_groups(rows)
        for (main, signature), run_ids in ranking.items():
            note = ""
            if len(ranking) > 1:
                others = [f"{m} [{s or 'no signature'}]" for (m, s) in ranking if (m, s) != (main, signature)]
                note = ("ranked apart from other runs on the same samples, whose main metric or its signature "
                        f"differs: {'; '.join(others)}")
            board = _board(str(task), str(key), rows[rows["run_id"].isin(run_ids)], main)
            board.signature, board.split_note = signature, note
            boards.append(board)
    return boards


def _ranking_groups(rows: pd.DataFrame) -> dict[tuple[str, str | None], list[str]]:
    """Run ids grouped by (main metric, its signature): only runs of one group may be ranked together."""
    main_rows = rows[rows["is_main"].astype(bool)].drop_duplicates("run_id")
    groups: dict[tuple[str, str | None], list[str]] = {}
    for run_id in rows["run_id"].drop_duplicates():
        mine = main_rows[main_rows["run_id"] == run_id]
        main = str(mine["main_metric"].iloc[0]) if len(mine) else str(
            rows.loc[rows["run_id"] == run_id, "main_metric"].iloc[0])
        signature = mine["signature"].iloc[0] if len(mine) else None
        groups.setdefault((main, None if pd.isna(signature) else str(signature)), []).append(run_id)
    return groups


def _board(task: str, key: str, rows: pd.DataFrame, main: str) -> Board:
    higher = bool(rows.loc[rows["main_metric"] == main, "higher_is_better"].mode().iloc[0])
    runs = rows.drop_duplicates("run_id").copy()
    runs["_order"] = runs["started_at"].fillna(pd.Timestamp.min.tz_localize("UTC"))
    latest = runs.sort_values("_order").drop_duplicates(SYSTEM_KEY, keep="last")
    superseded = len(runs) - len(latest)
    wide = rows[rows["run_id"].isin(latest["run_id"])].pivot_table(
        index="run_id", columns="metric", values="value", aggfunc="first")
    ci = rows[(rows["metric"] == main) & rows["run_id"].isin(latest["run_id"])].set_index("run_id")
    table = latest.set_index("run_id").drop(columns=["metric", "value", "ci_low", "ci_high", "is_main", "_order"])
    table["value"] = wide[main] if main in wide.columns else float("nan")
    table["ci_low"], table["ci_high"] = ci["ci_low"], ci["ci_high"]
    suffix = main.rsplit("_", 1)[-1]  # top1_error first shows top5_error, then the other keys
    metrics = [main] + sorted((c for c in wide.columns if c != main), key=lambda c: (not c.endswith(suffix), c))
    for metric in metrics[1:]:
        table[f"metric:{metric}"] = wide[metric]
    table["system"] = _system_labels(table)
    table = table.sort_values("value", ascending=not higher, na_position="last", kind="stable").reset_index()
    table.insert(0, "rank", range(1, len(table) + 1))
    return Board(task, str(rows["dataset"].iloc[0]), key, main, higher, table, metrics, superseded)


def _system_labels(table: pd.DataFrame) -> pd.Series:
    """The model name, plus device/precision when one model appears in several configurations."""
    repeated = table["model"].duplicated(keep=False)
    detail = table["device"].fillna("?").astype(str) + " " + table["precision"].fillna("?").astype(str)
    return table["model"].where(~repeated, table["model"] + " [" + detail + "]")


def display_table(board: Board) -> pd.DataFrame:
    """The board as the strings a reader sees: formatted numbers, CI, units, flags."""
    main_digits = column_digits(board.runs["value"], counts=False)
    out = pd.DataFrame({
        "rank": board.runs["rank"].astype(str),
        "model": [f"{s} {RANDOM_FLAG}" if flag else s for s, flag in zip(board.runs["system"], board.runs["random_weights"])],
        f"{board.main_metric} ({'↑' if board.higher_is_better else '↓'})": board.runs["value"].map(
            lambda v: fmt_number(v, main_digits)),
        "95% CI": [fmt_ci(lo, hi, max(main_digits, 2)) for lo, hi in zip(board.runs["ci_low"], board.runs["ci_high"])],
    })
    for metric in board.metrics[1:]:
        out[metric] = fmt_column(board.runs[f"metric:{metric}"])
    out["throughput (samples/s)"] = board.runs["throughput"].map(lambda v: fmt_number(v, 1))
    out["peak memory"] = board.runs["peak_memory_bytes"].map(fmt_bytes)
    out["device"] = board.runs["device"].fillna("–").astype(str) + " " + board.runs["precision"].fillna("").astype(str)
    out["date"] = board.runs["started_at"].map(lambda t: t.strftime("%Y-%m-%d") if pd.notna(t) else "–")
    return out


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of string cells (no extra dependency)."""
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def fmt_number(value: object, digits: int = 2) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):,.{digits}f}"


def column_digits(values: pd.Series, counts: bool = True) -> int:
    """Decimals that let a column's values be told apart: none for counts (``counts``: whole numbers, one over
    100, so never a percentage), four for values under 1 (fractions, KID, LPIPS: 0.0307, not 0.03), else two."""
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    numbers = numbers[numbers.map(math.isfinite)]
    if numbers.empty:
        return 2
    if counts and (numbers == numbers.round()).all() and (numbers.abs() > 100).any():
        return 0
    return 4 if (numbers.abs() < 1).all() else 2


def fmt_column(values: pd.Series) -> pd.Series:
    digits = column_digits(values)
    return values.map(lambda v: fmt_number(v, digits))


def fmt_ci(low: object, high: object, digits: int = 2) -> str:
    return "–" if pd.isna(low) or pd.isna(high) else f"[{float(low):.{digits}f}, {float(high):.{digits}f}]"


def fmt_bytes(value: object) -> str:
    if value is None or pd.isna(value):
        return "–"
    size, units = float(value), ["B", "KiB", "MiB", "GiB", "TiB"]
    power = 0
    while size >= 1024 and power < len(units) - 1:
        size, power = size / 1024, power + 1
    return f"{size:,.0f} B" if power == 0 else f"{size:,.1f} {units[power]}"
