"""Shared fixtures: the real data in ../shared/data (skipped when absent), offline hub."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EVALKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
PLUGIN = REPO / "tests" / "plugin_package"


def install_plugin(site: Path) -> None:
    """Install tests/plugin_package as pip would for entry points: its module folder and a ``.dist-info``
    on the path of this process and of every subprocess (``--shard``, torchrun ranks)."""
    import sys
    import tomllib

    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    info = site / f"evalkit_plugin_demo-{project['version']}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = [f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
              for group, entries in project["entry-points"].items()]
    (info / "entry_points.txt").write_text("\n".join(groups))
    paths = [str(site), str(PLUGIN), str(REPO)]
    sys.path[:0] = [p for p in paths if p not in sys.path]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


def _plugin_site() -> Path:
    import atexit
    import shutil
    import tempfile

    site = Path(tempfile.mkdtemp(prefix="evalkit-plugin-site-"))
    atexit.register(shutil.rmtree, site, True)
    return site


install_plugin(_plugin_site())


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip cleanly on a user's fresh clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not present at {SHARED_DATA}")
    return SHARED_DATA


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    return path
