"""Experiment trackers (``--log-to`` or a suite's ``logging:`` block): MLflow, TensorBoard and W&B, all optional.

Each finished record is logged after it is written: its metrics and their intervals, its timing, the metric
signatures, the record file as an artifact and its per-sample predictions as a table. A tracker's package is
imported only when a run logs to it; a missing one is named before anything runs (exit status 2).
"""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any, Iterable, Sequence

from evalkit.errors import EvalkitError, InputError, MissingResourceError
from evalkit.records import load_record
from evalkit.trackers.base import LoggedRun, Tracker
from evalkit.trackers.config import LoggingConfig, tracker_names

#: tracker → (its class here, the package it needs, the pip requirement that installs it)
TRACKERS: dict[str, tuple[str, str, str]] = {
    "mlflow": ("evalkit.trackers.mlflow_runs:MLflowTracker", "mlflow", "mlflow-skinny"),
    "tensorboard": ("evalkit.trackers.tensorboard_events:TensorBoardTracker", "tensorboard", "tensorboard"),
    "wandb": ("evalkit.trackers.wandb_offline:WandbTracker", "wandb", "wandb"),
}


def check_installed(names: Iterable[str]) -> None:
    """Every named tracker's package can be imported (found, not imported: that is done when logging)."""
    for name in names:
        package, requirement = TRACKERS[name][1:]
        if importlib.util.find_spec(package) is None:
            raise MissingResourceError(f"logging to {name} needs the {package!r} package, which is not installed: "
                                       f"pip install 'evalkit[trackers]' (or {requirement})")


def plan(configured: LoggingConfig | None, log_to: str | Sequence[str] | None) -> LoggingConfig | None:
    """The trackers a run logs to: ``log_to`` (``--log-to mlflow,wandb``) instead of the suite's ``logging.to``,
    with the suite's options; None for none (an empty ``log_to`` turns the suite's off). Checked before the
    run: known names, installed packages."""
    config = configured or LoggingConfig()
    if log_to is not None:
        names = log_to if isinstance(log_to, str) else list(log_to)
        config = config.with_targets(tracker_names(names, lambda field, message: InputError(message, field=field),
                                                   "log-to") if names else ())
    if not config.to:
        return None
    check_installed(config.to)
    return config


def open_tracker(name: str, config: LoggingConfig, output_dir: Path, suite_name: str) -> Tracker:
    module, _, cls = TRACKERS[name][0].partition(":")
    return getattr(importlib.import_module(module), cls)(config.of(name), Path(output_dir), suite_name)


def log_results(results: Iterable[Any], config: LoggingConfig, output_dir: Path, suite_name: str) -> list[str]:
    """Log every written record (results with a ``path``, read back from that file: what is logged is what was
    written) to each of ``config.to``; one line per tracker saying where the runs went. A tracker that fails
    raises after the records are safe on disk (exit status 1)."""
    runs = [LoggedRun(load_record(Path(r.path)), Path(r.path)) for r in results if getattr(r, "path", None)]
    lines = []
    for name in config.to:
        try:
            tracker = open_tracker(name, config, output_dir, suite_name)
            for run in runs:
                tracker.log(run)
            lines.append(tracker.close())
        except EvalkitError:
            raise
        except Exception as err:  # noqa: BLE001 - the tracker's own failure, named; the records are written
            raise EvalkitError(f"logging to {name} failed ({type(err).__name__}: {err}); the records are "
                               f"written in {output_dir}") from err
    return lines
