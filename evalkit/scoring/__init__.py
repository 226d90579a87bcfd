"""``evalkit score NAME``: one module per metric family, registered in ``SCORERS``."""
from evalkit._autoload import import_submodules
from evalkit.scoring.base import Scorer

import_submodules(__name__, __path__)

__all__ = ["Scorer"]
