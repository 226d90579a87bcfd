"""Metrics: one module per metric; importing this package registers them all.

Modules here import only numpy and the standard library at import time; heavy
references (pycocotools, gensim, torch) are imported inside functions.
"""
from evalkit._autoload import import_submodules
from evalkit.metrics.base import Metric, SampleMeanMetric

import_submodules(__name__, __path__)

__all__ = ["Metric", "SampleMeanMetric"]
