"""Tasks bind a default loader, default metrics and the main metric; one module per task."""
from evalkit._autoload import import_submodules
from evalkit.tasks.base import Task

import_submodules(__name__, __path__)

__all__ = ["Task"]
