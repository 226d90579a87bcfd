"""Prediction files of the ``vqa`` task: the official results format ``[{"question_id", "answer"}]``."""
from __future__ import annotations

from pathlib import Path

from evalkit.formats.vqa import load_results
from evalkit.models.predictions import prediction_format


@prediction_format("vqa")
def read_vqa_results(path: Path) -> dict[str, str]:
    """Answer of each question, keyed by the loader's sample id (the question id as a string)."""
    return {str(qid): answer for qid, answer in load_results(path).items()}
