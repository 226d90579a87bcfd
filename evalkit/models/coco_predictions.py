"""Prediction files of task ``coco``: the official COCO results JSON (a list of detections).

The reader and its record checks live in :mod:`evalkit.formats.coco`.
"""
from __future__ import annotations

from evalkit.formats.coco import check_result, group_results, read_coco_results
from evalkit.formats.predictions import prediction_format

#: an image without detections gets an empty list
prediction_format("coco", missing=list)(read_coco_results)

__all__ = ["check_result", "group_results", "read_coco_results"]
