"""Metrics: one module per metric; the registry imports them all on first lookup.

Modules here import only numpy and the standard library at import time; heavy
references (pycocotools, gensim, torch, numba) are imported inside functions.
"""
from evalkit.metrics.base import Metric, SampleMeanMetric, Signature
from evalkit.metrics.state import Column, Rows, Shared, Sum

__all__ = ["Metric", "SampleMeanMetric", "Signature", "Column", "Rows", "Shared", "Sum"]
