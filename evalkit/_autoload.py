"""Import every module of a package, so that their registry decorators run."""
from __future__ import annotations

import importlib
import pkgutil


def import_submodules(package_name: str, path: list[str]) -> None:
    for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package_name}.{info.name}")
