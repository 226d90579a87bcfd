"""Name → factory registries, filled by decorators and by entry points of other packages."""
from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points
from typing import Callable, Generic, Iterator, TypeVar

from evalkit._autoload import import_submodules
from evalkit.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A timm-style registry: ``@MODELS.register("timm")`` and ``MODELS.get("timm")``.

    Built-in entries live in the modules of the packages ``builtin_modules``, all imported
    on first lookup (not at package import, which keeps imports cheap and acyclic). Third-party packages add entries through the
    entry-point group ``group`` without touching evalkit.
    """

    def __init__(self, kind: str, group: str, builtin_modules: tuple[str, ...] = ()):
        self.kind = kind
        self.group = group
        self._builtin_modules = builtin_modules
        self._entries: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str | None = None) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            key = name or getattr(obj, "name", None) or obj.__name__  # type: ignore[attr-defined]
            if key in self._entries and self._entries[key] is not obj:
                raise ValueError(f"{self.kind} {key!r} is registered twice")
            self._entries[key] = obj
            return obj

        return decorator

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for package_name in self._builtin_modules:
            package = importlib.import_module(package_name)
            import_submodules(package.__name__, list(package.__path__))
        for ep in entry_points(group=self.group):
            if ep.name not in self._entries:
                self._entries[ep.name] = ep.load()

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._entries))})"
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


MODELS: Registry = Registry("model adapter", "evalkit.models", ("evalkit.models",))
DATASETS: Registry = Registry("dataset", "evalkit.datasets", ("evalkit.datasets",))
METRICS: Registry = Registry("metric", "evalkit.metrics", ("evalkit.metrics",))
TASKS: Registry = Registry("task", "evalkit.tasks", ("evalkit.tasks",))
SCORERS: Registry = Registry("scorer", "evalkit.scorers", ("evalkit.scoring",))
