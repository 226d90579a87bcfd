"""A scorer reads prediction files for one metric, with no model, and returns JSON-able results."""
from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from typing import Any, ClassVar


class Scorer(ABC):
    """Subcommand ``evalkit score <name>``, ``<name>`` being the name it is registered under in ``SCORERS``.

    The CLI adds ``--json``, ``--ci``, ``--n-resamples`` and ``--seed`` to every scorer
    and prints the result as a table or as JSON. Bad files raise ``InputError`` (exit 2).
    """

    help: ClassVar[str]

    @classmethod
    @abstractmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Declare this scorer's own options."""

    @abstractmethod
    def score(self, args: argparse.Namespace) -> dict[str, Any] | list[dict[str, Any]]:
        """One result object, or a list of rows (one per system) for several hypotheses."""
