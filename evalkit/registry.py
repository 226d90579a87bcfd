"""Name → factory registries, filled by decorators and by entry points of other packages."""
from __future__ import annotations

import difflib
import importlib
from typing import Callable, Generic, Iterator, Mapping, TypeVar

from evalkit._autoload import import_submodules
from evalkit.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A timm-style registry: ``@MODELS.register("timm")`` and ``MODELS.get("timm")``.

    Built-in entries live in the modules of the packages ``builtin_modules``, all imported
    on the first lookup that needs them (not at package import, which keeps imports cheap and acyclic).
    ``builtin_names`` maps a built-in name to the one module that registers it: ``get(name)`` and
    ``name in registry`` then import only that module (``evalkit score vqa`` imports the VQA scorer,
    not every scorer). A name missing from that table is still found, by importing everything
    (tests/test_startup.py checks the table against what the modules register).
    Third-party packages add entries through the entry-point group ``group`` without touching evalkit;
    built-in names take precedence over theirs.
    """

    def __init__(self, kind: str, group: str, builtin_modules: tuple[str, ...] = (),
                 builtin_names: Mapping[str, str] | None = None):
        self.kind = kind
        self.group = group
        self._builtin_modules = builtin_modules
        self._builtin_names = dict(builtin_names or {})
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
        from importlib.metadata import entry_points

        self._loaded = True
        for package_name in self._builtin_modules:
            package = importlib.import_module(package_name)
            import_submodules(package.__name__, list(package.__path__))
        for ep in entry_points(group=self.group):
            if ep.name not in self._entries:
                self._entries[ep.name] = ep.load()

    def _load_one(self, name: str) -> bool:
        """Import only the built-in module of ``name`` (see ``builtin_names``); whether ``name`` is now known."""
        if self._loaded or name not in self._builtin_names:
            return False  # names outside the table keep the old rule: the first lookup imports everything
        if name not in self._entries:
            importlib.import_module(self._builtin_names[name])
        return name in self._entries

    def builtin_module(self, name: str) -> str | None:
        """The module that registers built-in ``name``, when the static table knows it."""
        return self._builtin_names.get(name)

    def get(self, name: str) -> T:
        if self._load_one(name):
            return self._entries[name]
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
        if self._load_one(name):
            return True
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


#: built-in name → the module that registers it (a lookup imports that module only)
BUILTIN_METRICS = {
    "analogy": "evalkit.metrics.analogy", "bleu": "evalkit.metrics.bleu", "chrf": "evalkit.metrics.bleu",
    "ter": "evalkit.metrics.bleu", "cider": "evalkit.metrics.cider", "coco-bbox": "evalkit.metrics.coco",
    "coco-segm": "evalkit.metrics.coco", "topk": "evalkit.metrics.topk", "vqa": "evalkit.metrics.vqa",
    "coco-keypoints": "evalkit.metrics.coco_keypoints", "lvis-segm": "evalkit.metrics.lvis",
    "lvis-bbox": "evalkit.metrics.lvis",
    "real-topk": "evalkit.metrics.real_topk",
    "fid": "evalkit.metrics.fid", "kid": "evalkit.metrics.kid", "isc": "evalkit.metrics.isc",
    "precision-recall": "evalkit.metrics.prc", "ppl": "evalkit.metrics.ppl", "fd-dinov2": "evalkit.metrics.fd_dinov2",
    "ssim": "evalkit.metrics.ssim", "lpips": "evalkit.metrics.lpips", "artfid": "evalkit.metrics.artfid",
    "content-loss": "evalkit.metrics.style_losses",
    "style-loss": "evalkit.metrics.style_losses",
    "meteor": "evalkit.metrics.meteor", "rouge": "evalkit.metrics.rouge",
    "perplexity": "evalkit.metrics.perplexity", "strided-perplexity": "evalkit.metrics.perplexity",
}
BUILTIN_SCORERS = {
    "analogy": "evalkit.scoring.analogy", "bleu": "evalkit.scoring.bleu", "cider": "evalkit.scoring.cider",
    "coco-bbox": "evalkit.scoring.coco", "coco-segm": "evalkit.scoring.coco", "topk": "evalkit.scoring.topk", "real-topk": "evalkit.scoring.topk",
    "coco-keypoints": "evalkit.scoring.coco", "lvis-segm": "evalkit.scoring.coco", "lvis-bbox": "evalkit.scoring.coco",
    "vqa": "evalkit.scoring.vqa",
    "fid": "evalkit.scoring.generation", "kid": "evalkit.scoring.generation", "isc": "evalkit.scoring.generation",
    "precision-recall": "evalkit.scoring.generation", "fd-dinov2": "evalkit.scoring.generation",
    "style": "evalkit.scoring.style",
}

MODELS: Registry = Registry("model adapter", "evalkit.models", ("evalkit.models",))
DATASETS: Registry = Registry("dataset", "evalkit.datasets", ("evalkit.datasets",))
METRICS: Registry = Registry("metric", "evalkit.metrics", ("evalkit.metrics",), BUILTIN_METRICS)
TASKS: Registry = Registry("task", "evalkit.tasks", ("evalkit.tasks",))
SCORERS: Registry = Registry("scorer", "evalkit.scorers", ("evalkit.scoring",), BUILTIN_SCORERS)
