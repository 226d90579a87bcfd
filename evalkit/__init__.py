"""evalkit: evaluate models on the classic benchmarks with the official tools' numbers."""
from __future__ import annotations

import os

# Never hang on a hub download: offline unless the user set HF_HUB_OFFLINE themselves.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

__version__ = "0.1.0"


#: the Python entry points, imported on first use so that ``import evalkit`` stays cheap (no torch)
_API = ("evaluate", "run_suite", "evaluate_task")


def __getattr__(name: str):
    """``evalkit.evaluate``, ``evalkit.run_suite``, ``evalkit.evaluate_task``: see :mod:`evalkit.api`."""
    if name in _API:
        from evalkit import api

        return getattr(api, name)
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")


__all__ = [*_API, "__version__"]
