"""Prediction files of the ``translation`` task: one hypothesis per line, read as sacrebleu reads ``-i``."""
from __future__ import annotations

from pathlib import Path

from evalkit.formats.text import read_lines
from evalkit.models.predictions import prediction_format


@prediction_format("translation")
def read_translation_predictions(path: Path) -> dict[str, str]:
    """Line ``i`` is the hypothesis of sample ``"i"``."""
    return {str(i): line for i, line in enumerate(read_lines(path))}
