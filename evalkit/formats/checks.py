"""Field checks for JSON records that raise an InputError naming the file, the record and the field."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

from evalkit import jsonio
from evalkit.errors import InputError


def read_json(path: Path, what: str) -> Any:
    """Parse a (possibly .gz/.xz/.bz2) JSON file; NaN/Infinity are accepted so that checks can name them."""
    return jsonio.read_json(path, what)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_bbox(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 4 and all(is_number(v) for v in value)


class RecordChecker:
    """Field checks that raise an InputError naming the file, the record and the field."""

    def __init__(self, file: Path):
        self.file = file

    def fail(self, message: str, record: str, field: str | None = None) -> None:
        raise InputError(message, file=self.file, record=record, field=field)

    def get(self, obj: Any, key: str, record: str, check: Callable[[Any], bool], expected: str) -> Any:
        if not isinstance(obj, dict):
            self.fail(f"expected a JSON object, got {type(obj).__name__}", record)
        if key not in obj:
            self.fail(f"missing field (expected {expected})", record, key)
        value = obj[key]
        if not check(value):
            self.fail(f"expected {expected}, got {type(value).__name__} {value!r:.60}", record, key)
        return value

    def list_of(self, data: dict, key: str) -> list:
        return self.get(data, key, "(top level)", lambda v: isinstance(v, list), "a list")
