"""Registries: decorators, close-match errors, and third-party entry points."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from evalkit.errors import UnknownNameError
from evalkit.registry import METRICS, MODELS, Registry


def test_unknown_name_lists_close_matches():
    with pytest.raises(UnknownNameError, match=r"did you mean 'timm'"):
        MODELS.get("timn")
    with pytest.raises(UnknownNameError, match="known:"):
        METRICS.get("zzzz")


def test_decorator_registers_and_refuses_duplicates():
    registry: Registry = Registry("thing", "evalkit.test-things")
    registry.register("a")(int)
    assert registry.get("a") is int and registry.names() == ["a"]
    with pytest.raises(ValueError, match="twice"):
        registry.register("a")(float)


def test_third_party_package_registers_through_entry_points(tmp_path):
    """A tiny installed distribution (dist-info on sys.path) adds a model adapter, dataset and metric."""
    site = tmp_path / "site"
    pkg = site / "evalkit_plugin_demo"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from evalkit.metrics.base import SampleMeanMetric
        from evalkit.models.base import ModelAdapter

        class Constant(ModelAdapter):
            name = "constant"
            def predict(self, batch):
                return [0] * len(batch)

        class Always(SampleMeanMetric):
            name = "always"
            main_key = "always"
            mean_columns = {"x": ("always", 1.0)}
            def update(self, predictions, targets, ids=None):
                self._append(list(ids), x=[1.0] * len(ids))
    '''))
    dist = site / "evalkit_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evalkit-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[evalkit.models]\nconstant = evalkit_plugin_demo:Constant\n\n"
        "[evalkit.metrics]\nalways = evalkit_plugin_demo:Always\n")
    code = ("from evalkit.registry import MODELS, METRICS; "
            "print(MODELS.get('constant').__name__, METRICS.get('always').__name__, 'timm' in MODELS.names())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Constant", "Always", "True"]
    listing = subprocess.run([sys.executable, "-m", "evalkit", "list"], capture_output=True, text=True,
                             env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert "constant" in listing.stdout and "always" in listing.stdout
