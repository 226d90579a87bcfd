"""Moved to :mod:`evalkit.formats.vqa` (file readers live below datasets, models and metrics); kept importable."""
from __future__ import annotations

from evalkit.formats.vqa import (AnnotationColumns, align_question_ids, align_results, check_annotation,  # noqa: F401
                                 check_annotations, field_values, load_annotations, load_questions, load_results,
                                 parse_results, read_json)
