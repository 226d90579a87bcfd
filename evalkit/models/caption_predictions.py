"""Prediction files of the ``captions`` task: COCO results ``[{"image_id", "caption"}]`` or ``{image_id: caption}``."""
from __future__ import annotations

from evalkit.formats.captions import read_results
from evalkit.formats.predictions import prediction_format

prediction_format("captions")(read_results)
