"""Layering: who may import whom inside evalkit, checked statically (every import statement, function-level
ones included) and dynamically (what importing and using the metrics package really loads).

Layers, lowest first:
  evalkit.errors, evalkit.types, evalkit.jsonio, evalkit.formats  shared types and file-format readers
  evalkit.datasets | evalkit.models | evalkit.metrics           none imports another
  evalkit.scoring, evalkit.tasks, evalkit.runner, evalkit.api, evalkit.cli ...   bind them together

Rules:
- types/formats/jsonio import none of datasets, models, metrics, vectors, scoring, tasks, runner, suite, api, cli.
- datasets import none of models, metrics, vectors, scoring, tasks, runner, api, cli.
- metrics import none of datasets, models, vectors, scoring, tasks, runner, suite, api, cli.
- models import none of datasets, metrics, scoring, tasks, runner, suite, api, cli; they may use the
  vector engine (evalkit.vectors: the word-vector adapters wrap it). ``DatasetLoader`` appears in models
  only as a type annotation, under ``if TYPE_CHECKING:`` (never executed, so not counted here).
- evalkit.vectors (the analogy search engine) imports none of datasets, models, metrics, scoring, runner, api.
Registry lookups (``DATASETS.names()`` in the predictions adapter) go through evalkit.registry, not an import.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "evalkit"

TOP = ("evalkit.scoring", "evalkit.tasks", "evalkit.runner", "evalkit.suite", "evalkit.api", "evalkit.cli",
       "evalkit.reports")
RULES: dict[str, tuple[str, ...]] = {
    "evalkit.types": ("evalkit.datasets", "evalkit.models", "evalkit.metrics", "evalkit.vectors") + TOP,
    "evalkit.formats": ("evalkit.datasets", "evalkit.models", "evalkit.metrics", "evalkit.vectors") + TOP,
    "evalkit.jsonio": ("evalkit.datasets", "evalkit.models", "evalkit.metrics", "evalkit.vectors") + TOP,
    "evalkit.datasets": ("evalkit.models", "evalkit.metrics", "evalkit.vectors") + TOP,
    "evalkit.metrics": ("evalkit.datasets", "evalkit.models", "evalkit.vectors") + TOP,
    "evalkit.models": ("evalkit.datasets", "evalkit.metrics") + TOP,
    "evalkit.vectors": ("evalkit.datasets", "evalkit.models", "evalkit.metrics") + TOP,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import statement that can run, at any depth; names imported with
    ``from package import name`` count as ``package.name`` too (it may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.append((node.lineno, source))
            found.extend((node.lineno, f"{source}.{alias.name}") for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _layer(module: str) -> str | None:
    for layer in RULES:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def _violations() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        layer = _layer(module)
        if layer is None:
            continue
        for line, imported in imports_of(path):
            for forbidden in RULES[layer]:
                if imported == forbidden or imported.startswith(forbidden + "."):
                    out.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports {imported}")
                    break
    return out


def test_import_statements_respect_the_layers():
    assert _violations() == []


def test_the_scan_sees_function_level_and_relative_imports(tmp_path, monkeypatch):
    """The checker itself: a nested import and a relative one are both found; TYPE_CHECKING ones are not."""
    fake = ROOT / "evalkit" / "metrics" / "_layering_probe.py"
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from evalkit.tasks.base import X\n"
              "def f():\n    from evalkit.datasets import base\n    from ..models import vectors\n")
    tree_path = tmp_path / "probe.py"
    tree_path.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "module_name", lambda path: "evalkit.metrics._layering_probe")
    found = [m for _, m in imports_of(tree_path)]
    assert "evalkit.datasets" in found and "evalkit.models" in found and "evalkit.models.vectors" in found
    assert "evalkit.tasks.base" not in found and "evalkit.tasks.base.X" not in found
    assert not fake.exists()


def test_metrics_load_neither_numba_nor_torch():
    """``import evalkit.metrics``, every registered name, every metric constructed: no numba, no torch,
    nothing of datasets, models or the vector engine (they come only when an engine runs)."""
    code = (
        "import json, sys\n"
        "import evalkit.metrics\n"
        "from evalkit.registry import METRICS\n"
        "names = METRICS.names()\n"
        "for name in names:\n"
        "    METRICS.get(name)()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'torch', 'torchvision', 'scipy')\n"
        "             or m.startswith(('evalkit.datasets', 'evalkit.models', 'evalkit.vectors', 'evalkit.scoring')))\n"
        "print(json.dumps({'names': names, 'loaded': bad}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**_env(), "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert {"vqa", "analogy", "coco-segm", "cider", "bleu", "topk"} <= set(result["names"])
    assert result["loaded"] == []


def test_analogy_functional_form_lives_above_metrics():
    import evalkit.metrics.analogy as analogy_metric
    from evalkit.api import analogy_accuracy

    assert callable(analogy_accuracy)
    assert not hasattr(analogy_metric, "analogy_accuracy")


@pytest.mark.parametrize("moved, new", [
    ("evalkit.metrics.vqa_io:load_annotations", "evalkit.formats.vqa:load_annotations"),
    ("evalkit.datasets.coco:ImagesWithSizes", "evalkit.types:ImagesWithSizes"),
    ("evalkit.datasets.coco:RecordChecker", "evalkit.formats.checks:RecordChecker"),
    ("evalkit.datasets.translation:read_lines", "evalkit.formats.text:read_lines"),
    ("evalkit.datasets.captions:read_results", "evalkit.formats.captions:read_results"),
    ("evalkit.datasets.base:open_text", "evalkit.formats.text:open_text"),
    ("evalkit.datasets.base:Batch", "evalkit.types:Batch"),
    ("evalkit.models.predictions:prediction_format", "evalkit.formats.predictions:prediction_format"),
    ("evalkit.models.coco_predictions:group_results", "evalkit.formats.coco:group_results"),
])
def test_moved_names_stay_importable_from_their_old_homes(moved, new):
    import importlib

    def resolve(spec: str):
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)

    assert resolve(moved) is resolve(new)


def test_every_task_has_its_prediction_format():
    from evalkit.models.predictions import PREDICTION_FORMATS, _load_registered_formats

    _load_registered_formats()
    assert {"captions", "coco", "translation", "vqa"} <= set(PREDICTION_FORMATS)


def _env() -> dict[str, str]:
    """This environment without conftest's test plugin on PYTHONPATH: a third-party package may import what it
    likes, the rule is about evalkit's own metrics."""
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}
