"""How each task's prediction files are read (the ``predictions`` model adapter's formats).

Each task registers its reader with ``@prediction_format(task)``; the reader returns
``{sample id: prediction}``, sample ids being the dataset loader's ids. Built-in formats are
registered in ``evalkit.models.*_predictions``; :mod:`evalkit.models.predictions` re-exports these names.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class PredictionFormat:
    #: path → {sample id: prediction}
    read: Callable[[Path], dict[str, Any]]
    #: prediction for a sample the file does not mention (None: that is an error)
    missing: Callable[[], Any] | None = None
    #: whether ids in the file that the dataset lacks are an error
    strict_ids: bool = True


PREDICTION_FORMATS: dict[str, PredictionFormat] = {}


def prediction_format(task: str, missing: Callable[[], Any] | None = None, strict_ids: bool = True):
    """Register the reader of ``task``'s prediction files."""

    def decorator(read: Callable[[Path], dict[str, Any]]) -> Callable[[Path], dict[str, Any]]:
        PREDICTION_FORMATS[task] = PredictionFormat(read, missing, strict_ids)
        return read

    return decorator
