"""evalkit: evaluate models on the classic benchmarks with the official tools' numbers."""
from __future__ import annotations

import os

# Never hang on a hub download: offline unless the user set HF_HUB_OFFLINE themselves.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

__version__ = "0.1.0"


def evaluate(*args, **kwargs):
    """Evaluate a live model on a live dataset; see :func:`evalkit.api.evaluate`."""
    from evalkit.api import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


__all__ = ["evaluate", "__version__"]
