"""Internals of the COCO AP metric: ground truth and result parsing, RLE kernels, matching, accumulation.

The public entry points live in :mod:`evalkit.metrics.coco`.
"""
