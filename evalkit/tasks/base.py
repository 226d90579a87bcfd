"""What a suite's ``task:`` means: which loader and metrics to use when the suite does not say."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str
    #: dataset loader used when the suite gives only ``dataset: {root: ...}``
    default_loader: str
    default_metrics: tuple[str, ...]
    #: the metric key that ranks models in tables and reports
    main_metric: str
    higher_is_better: bool
    description: str = ""
