"""torchmetrics-compatible metric classes: evalkit's numbers inside a training loop.

Each class is a ``torchmetrics.Metric`` (``update`` per batch, ``compute``, ``reset``, usable in a
``MetricCollection``) whose states are the per-sample sufficient statistics of one evalkit metric, kept
as tensors and declared with ``add_state(..., dist_reduce_fx="cat")``: under DDP torchmetrics' own
all-gather merges them, and ``compute`` rebuilds the evalkit metric from them, so its numbers are
evalkit's (and so the reference tools'). Needs the ``torchmetrics`` extra; evalkit itself never imports this.
"""
from evalkit.torchmetrics.coco import CocoAP
from evalkit.torchmetrics.columns import BLEU, CiderD, TopKError, VQAAccuracy

__all__ = ["BLEU", "CiderD", "CocoAP", "TopKError", "VQAAccuracy"]
