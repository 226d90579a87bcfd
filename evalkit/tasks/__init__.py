"""Tasks bind a default loader, default metrics and the main metric; one module per task."""
from evalkit.tasks.base import Task

__all__ = ["Task"]
