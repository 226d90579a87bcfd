"""What a suite's ``task:`` means: which loader and metrics to use when the suite does not say."""
from __future__ import annotations

from dataclasses import dataclass

from evalkit.registry import METRICS


@dataclass(frozen=True)
class Task:
    name: str
    #: dataset loader used when the suite gives only ``dataset: {root: ...}``
    default_loader: str
    #: metrics used when the suite does not list any; the first one's main key ranks models
    default_metrics: tuple[str, ...]
    description: str = ""

    @property
    def main_metric(self) -> str:
        """The record key that ranks runs with the default metrics (declared by the first metric)."""
        return METRICS.get(self.default_metrics[0]).record_key(METRICS.get(self.default_metrics[0]).main_key)

    @property
    def higher_is_better(self) -> bool:
        return bool(METRICS.get(self.default_metrics[0]).higher_is_better)
