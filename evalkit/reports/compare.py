"""Pairwise comparisons of the systems of one board with the metrics' paired bootstrap test.

The per-sample metric states saved beside each record (``state_file``) are reloaded,
so the test needs neither the models nor the data.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import EvalkitError, InputError
from evalkit.records import read_state_file
from evalkit.metrics.base import Metric
from evalkit.metrics.state import STATE_FORMAT
from evalkit.registry import METRICS
from evalkit.reports.leaderboard import Board, column_digits

ALPHA = 0.05
COLUMNS = ["system_a", "system_b", "metric", "value_a", "value_b", "difference", "ci_low", "ci_high",
           "p_value", "significant", "note"]


def paired_comparisons(board: Board, n_resamples: int = 1000, seed: int = 12345, alpha: float = ALPHA) -> pd.DataFrame:
    """Every pair (A ranked above B) of the board: B − A on the main metric, its 95% CI and p-value.

    ``significant`` is p < alpha for that single pair (no multiple-comparison correction).
    Runs with random weights, and runs whose metric state cannot be reloaded, are left out
    and named with the reason in ``attrs["excluded"]``; a pair that fails keeps its reason in ``note``.
    """
    loaded: dict[str, Metric] = {}
    excluded: list[str] = []
    for run in board.runs.to_dict("records"):  # each state file is read once, however many pairs it is in
        if run["random_weights"]:
            excluded.append(f"{run['system']}: random weights, its accuracy is chance")
            continue
        try:
            loaded[run["system"]] = _metric_for(run, board.main_metric)
        except EvalkitError as exc:
            excluded.append(f"{run['system']}: {exc}")
    values = dict(zip(board.runs["system"], board.runs["value"]))
    rows = []
    for a, b in itertools.combinations(loaded, 2):
        row: dict[str, Any] = {"system_a": a, "system_b": b, "metric": board.main_metric,
                               "value_a": values[a], "value_b": values[b], "note": ""}
        try:
            test = loaded[a].paired_test(loaded[b], key=board.main_metric, n_resamples=n_resamples, seed=seed)
        except (TypeError, ValueError) as exc:
            rows.append({**row, "note": str(exc)})
            continue
        rows.append({**row, "difference": test["difference"], "ci_low": test["ci"][0], "ci_high": test["ci"][1],
                     "p_value": test["p_value"], "significant": test["p_value"] < alpha})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["significant"] = frame["significant"].astype("boolean")
    frame.attrs["excluded"] = excluded
    return frame


class NotComparable(EvalkitError):
    """Why a run cannot enter a paired test; reported in the comparison table, not raised to the user."""


def _metric_for(run: dict[str, Any], key: str) -> Metric:
    """The run's metric whose record keys include ``key``, rebuilt from its saved state with its own options."""
    if not isinstance(run.get("state_file"), str):  # missing values are NaN in a frame
        raise NotComparable("its record has no state_file (older evalkit); re-run it to enable paired tests")
    states = _load_states(run["state_file"], run.get("state_sha256"))
    listed = run.get("metric_names")
    names = [n for n in (listed if isinstance(listed, str) else "").split(",") if n] or list(states)
    for name in names:
        if name not in states or name not in METRICS:
            continue
        cls = METRICS.get(name)
        prefix = cls.key_prefix
        if not (key.startswith(prefix) and key[len(prefix):] in cls.keys):
            continue
        if not isinstance(states[name], dict) or states[name].get("format") != STATE_FORMAT:
            raise NotComparable(f"its metric state predates {STATE_FORMAT}; re-run it to enable paired tests")
        try:
            return cls.from_state_dict(states[name])
        except (KeyError, TypeError, ValueError, EvalkitError) as exc:
            raise InputError(f"state of metric {name!r} does not load: {exc}", file=run["state_file"],
                             record=run["run_id"], field=name) from None
    raise NotComparable(f"no metric state in {run['state_file']} produces {key!r}")


def _load_states(path: str, sha256: Any = None) -> dict[str, Any]:
    if not Path(path).is_file():
        raise NotComparable(f"state file {path} is missing")
    states = read_state_file(Path(path), sha256 if isinstance(sha256, str) else None)
    if not isinstance(states, dict):
        raise InputError("must hold an object {metric name: state}", file=path)
    return states


def display_comparisons(frame: pd.DataFrame, higher_is_better: bool) -> pd.DataFrame:
    """The comparisons as a reader sees them: which system is better, and whether that is significant."""
    def verdict(row: Any) -> str:
        if row.note:
            return f"not tested: {row.note}"
        better = row.system_b if (row.difference > 0) == higher_is_better else row.system_a
        if row.difference == 0:
            return "no difference"
        return f"✔ {better} better (p < {ALPHA:g})" if row.significant else "not significant"

    d = column_digits(pd.concat([frame["value_a"], frame["value_b"]]), counts=False)  # fractions: four decimals
    return pd.DataFrame({
        "A": frame["system_a"],
        "B": frame["system_b"],
        "metric": frame["metric"],
        "A value": frame["value_a"].map(lambda v: f"{v:.{d}f}"),
        "B value": frame["value_b"].map(lambda v: f"{v:.{d}f}"),
        "B − A": frame["difference"].map(lambda v: "–" if pd.isna(v) else f"{v:+.{d}f}"),
        "95% CI of B − A": [
            "–" if pd.isna(lo) else f"[{lo:+.{d}f}, {hi:+.{d}f}]" for lo, hi in zip(frame["ci_low"], frame["ci_high"])
        ],
        "p-value": frame["p_value"].map(lambda v: "–" if pd.isna(v) else f"{v:.3f}"),
        "verdict": [verdict(row) for row in frame.itertuples(index=False)],
    })
