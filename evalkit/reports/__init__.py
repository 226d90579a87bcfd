"""Reports: run records → pandas → leaderboards, paired comparisons, plots and a self-contained HTML page."""
from __future__ import annotations

from typing import Any

__all__ = ["load_records", "to_parquet", "leaderboards", "paired_comparisons", "write_report", "write_over_years",
           "over_years_table"]

_HOMES = {
    "load_records": "evalkit.reports.frames",
    "to_parquet": "evalkit.reports.frames",
    "leaderboards": "evalkit.reports.leaderboard",
    "paired_comparisons": "evalkit.reports.compare",
    "write_report": "evalkit.reports.report",
    "write_over_years": "evalkit.reports.overyears",
    "over_years_table": "evalkit.reports.overyears",
}


def __getattr__(name: str) -> Any:
    """Import lazily: ``import evalkit.reports`` must not pull in matplotlib for the CLI's other commands."""
    if name not in _HOMES:
        raise AttributeError(f"module 'evalkit.reports' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
