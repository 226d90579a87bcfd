"""What a suite would run and read, found without running it: ``evalkit check`` and ``run --no-code``.

Suites are code wherever they name a factory (and where they allow pickles or a model's own remote
code), and researchers share suites. The audit lists every such key, every registered component the
suite uses with the package it comes from, and every file it names.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from evalkit.errors import SuiteError
from evalkit.suite import PATH_KEY, Component, Suite

#: option keys whose value makes evalkit import or execute code the suite names
CODE_KEYS = {
    "factory": "imports and calls this function",
    "trust_remote_code": "runs the Python code shipped with the model folder",
    "allow_pickle": "unpickles the file, which can run any code",
}


def _code_keys(component: Component, keypath: str) -> list[dict[str, Any]]:
    found = []
    for key, value in component.options.items():
        if key in CODE_KEYS and value not in (None, False, ""):
            entry = {"field": f"{keypath}.{key}", "value": value, "effect": CODE_KEYS[key]}
            if key == "factory" and isinstance(value, str):
                top = value.partition(":")[0].split(".")[0]
                spec = importlib.util.find_spec(top) if top.isidentifier() else None  # finds, imports nothing
                entry["module_file"] = spec.origin if spec is not None else None
            found.append(entry)
    return found


def _files(component: Component, keypath: str) -> list[dict[str, Any]]:
    out = []
    for key, value in component.options.items():
        if PATH_KEY.search(key):
            for path in value if isinstance(value, list) else [value]:
                if isinstance(path, str) and path:
                    out.append({"field": f"{keypath}.{key}", "path": path, "exists": Path(path).exists()})
    return out


def _origin(registry: Any, name: str) -> str:
    """Where a registered component comes from: evalkit itself or a third-party package."""
    cls = registry.get(name)
    module = getattr(cls, "__module__", None) or type(cls).__module__
    return f"evalkit ({module})" if module.split(".")[0] == "evalkit" else f"third-party package ({module})"


def audit(suite: Suite) -> dict[str, Any]:
    """Every code key, component and file of a validated suite, with its key path."""
    from evalkit.registry import DATASETS, METRICS, MODELS

    code, files, components = [], [], []
    multi = len(suite.evaluations) > 1
    for e_index, evaluation in enumerate(suite.evaluations):
        base = f"evaluations[{e_index}]." if multi else ""
        parts = [(DATASETS, evaluation.dataset, f"{base}dataset", "loader")]
        parts += [(MODELS, m, f"{base}models[{i}]", "adapter") for i, m in enumerate(evaluation.models)]
        parts += [(METRICS, m, f"{base}metrics[{i}]", "metric") for i, m in enumerate(evaluation.metrics)]
        for registry, component, keypath, kind in parts:
            components.append({"field": keypath, "kind": kind, "name": component.name,
                               "from": _origin(registry, component.name)})
            code += _code_keys(component, keypath)
            files += _files(component, keypath)
    return {"suite": str(suite.path) if suite.path else suite.name, "sha256": suite.sha256, "code": code,
            "components": components, "files": files}


def refuse_code(suite: Suite) -> None:
    """``--no-code``: a suite key that would import or execute code is an error naming it."""
    code = audit(suite)["code"]
    if code:
        first = code[0]
        raise SuiteError(f"refused by --no-code: this key {first['effect']} ({first['value']!r}); "
                         f"run 'evalkit check' to see every such key", file=suite.path or suite.name,
                         field=first["field"])
