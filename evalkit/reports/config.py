"""The configuration of ``evalkit report``: reports/default.yaml when no ``--config`` is given, else built-in values.

Paths in a configuration file are relative to the file's folder, as a suite's are; options on the command line
override the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.records import RUNS_DIR

DEFAULT_CONFIG = Path("reports") / "default.yaml"
DEFAULTS: dict[str, Any] = {"results": RUNS_DIR, "out": Path("reports") / "generated", "resamples": 1000,
                            "seed": 12345}
PATHS = ("results", "out")


def report_config(path: str | Path | None = None) -> dict[str, Any]:
    """The settings of a report: ``path`` (or reports/default.yaml when it exists) over the built-in defaults."""
    import yaml

    config = dict(DEFAULTS)
    file = Path(path) if path is not None else DEFAULT_CONFIG
    if path is None and not file.is_file():
        return config
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the report configuration: {exc}", file=file) from None
    if not isinstance(data, dict):
        raise InputError("a report configuration is a mapping of settings", file=file)
    for key, value in data.items():
        if key not in DEFAULTS:
            raise InputError(f"unknown setting; the settings are {', '.join(DEFAULTS)}", file=file, field=str(key))
        expected = str if key in PATHS else int
        if not isinstance(value, expected) or isinstance(value, bool):
            raise InputError(f"expected {'a path' if key in PATHS else 'an integer'}, got {value!r}", file=file,
                             field=key)
        config[key] = file.parent / value if key in PATHS else value
    return config
