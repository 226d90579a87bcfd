"""``evalkit score NAME``: one module per metric family, registered in ``SCORERS``."""
from evalkit.scoring.base import Scorer

__all__ = ["Scorer"]
