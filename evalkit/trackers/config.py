"""The suite's ``logging:`` block and ``--log-to``: which trackers, with which options, checked before a run.

Everything here is plain validation (no tracker package is imported), so ``evalkit check`` and a suite's
validation stay cheap. A folder a user names is relative to the output folder and stays inside it.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Callable, Iterable

from evalkit.errors import InputError

#: tracker → its options (all text):
#: mlflow: experiment (default: the suite's name), tracking_uri (a server, http(s)://...; default:
#: MLFLOW_TRACKING_URI, else a file store), dir (the file store's folder; default: mlruns);
#: tensorboard: dir (the event folders' parent; default: tensorboard);
#: wandb: project (default: the suite's name), dir (where the wandb/ folder of offline runs goes; default: the output
#: folder itself). Each ``dir`` is a folder inside the output folder.
OPTIONS: dict[str, tuple[str, ...]] = {
    "mlflow": ("experiment", "tracking_uri", "dir"),
    "tensorboard": ("dir",),
    "wandb": ("project", "dir"),
}
TRACKER_NAMES = tuple(OPTIONS)
SERVER_URI = re.compile(r"^https?://[^\s]+$")


@dataclass(frozen=True)
class LoggingConfig:
    """Trackers to log each record to, in order, and the options of each (its own block in ``logging:``)."""

    to: tuple[str, ...] = ()
    options: dict[str, dict[str, str]] = field(default_factory=dict)

    def with_targets(self, names: Iterable[str]) -> LoggingConfig:
        return LoggingConfig(tuple(names), self.options)

    def of(self, tracker: str) -> dict[str, str]:
        return dict(self.options.get(tracker, {}))


Fail = Callable[[str, str], Exception]


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def tracker_names(raw: Any, fail: Fail, keypath: str) -> tuple[str, ...]:
    """``mlflow,wandb`` or ``[mlflow, wandb]`` as a tuple of known tracker names, each once."""
    items = [p.strip() for p in raw.split(",")] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise fail(keypath, f"expected tracker names (some of: {', '.join(TRACKER_NAMES)}), got {raw!r}")
    for name in items:
        if name not in OPTIONS:
            raise fail(keypath, f"unknown tracker {name!r}{_hint(name, TRACKER_NAMES)} "
                                f"(known: {', '.join(TRACKER_NAMES)})")
    return tuple(dict.fromkeys(items))


def parse_logging(raw: Any, fail: Fail, keypath: str = "logging") -> LoggingConfig:
    """The ``logging:`` block: ``{to: [mlflow, tensorboard], mlflow: {experiment: ..., tracking_uri: ...}}``."""
    if not isinstance(raw, dict):
        raise fail(keypath, f"expected a mapping ({{to: [{', '.join(TRACKER_NAMES)}], <tracker>: {{options}}}}), "
                            f"got {type(raw).__name__}")
    allowed = ("to",) + TRACKER_NAMES
    for key in raw:
        if key not in allowed:
            raise fail(f"{keypath}.{key}", f"unknown key{_hint(str(key), allowed)} (expected one of: "
                                           f"{', '.join(allowed)})")
    to = tracker_names(raw["to"], fail, f"{keypath}.to") if "to" in raw else ()
    options: dict[str, dict[str, str]] = {}
    for tracker in TRACKER_NAMES:
        block = raw.get(tracker)
        if block is None:
            continue
        where = f"{keypath}.{tracker}"
        if not isinstance(block, dict):
            raise fail(where, f"expected a mapping of options ({', '.join(OPTIONS[tracker])})")
        for key, value in block.items():
            if key not in OPTIONS[tracker]:
                raise fail(f"{where}.{key}", f"unknown option{_hint(str(key), OPTIONS[tracker])} (expected one of: "
                                             f"{', '.join(OPTIONS[tracker])})")
            if not isinstance(value, str) or not value.strip():
                raise fail(f"{where}.{key}", f"expected text, got {value!r}")
        if "dir" in block and _outside(block["dir"]):
            raise fail(f"{where}.dir", _outside(block["dir"]))
        if "tracking_uri" in block:
            if not SERVER_URI.match(block["tracking_uri"]):
                raise fail(f"{where}.tracking_uri", "expected an MLflow server (http:// or https://); a local store "
                                                    "is a folder inside the output folder: use 'dir'")
            if "dir" in block:
                raise fail(f"{where}.dir", "give either 'dir' (a local store) or 'tracking_uri' (a server), not both")
        options[tracker] = dict(block)
    return LoggingConfig(to, options)


def _outside(text: str) -> str | None:
    """Why a folder named by a user is not inside the output folder (absolute, or climbing out with '..'), or None."""
    for pure in (PurePosixPath(text), PureWindowsPath(text)):
        if pure.is_absolute() or pure.drive or pure.root or ".." in pure.parts:
            return f"expected a folder inside the output folder (relative, without '..'), got {text!r}"
    return None


def inside(output_dir: Path, text: str | None, default: str) -> Path:
    """``output_dir / text``, checked again (the Python API may build a config without a suite's validation)."""
    relative = text if text is not None else default
    reason = _outside(relative)
    if reason:
        raise InputError(reason, field="logging.dir")
    return Path(output_dir) / relative
