"""Shared fixtures: the real data in ../shared/data, else its bundled copy in data/testdata; offline hub."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

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


BUNDLE_MANIFEST = REPO / "data" / "testdata" / "MANIFEST.tsv"  # written by scripts/bundle_testdata.py


@functools.cache
def _bundle_manifest() -> list[dict[str, str]]:
    import csv

    with BUNDLE_MANIFEST.open(encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows, delimiter="\t"))


@functools.cache
def _unpacked_root() -> Path:
    """The session's folder of unpacked bundle files (made on first use, removed at exit)."""
    import atexit
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="evalkit-testdata-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def _unpack(row: dict[str, str]) -> None:
    """Write one bundled file, decompressed, under the session's folder; its SHA-256 must be the manifest's."""
    import hashlib
    import lzma

    target = _unpacked_root() / row["path"]
    if target.exists():
        return
    stored = REPO / row["stored"]
    data = lzma.decompress(stored.read_bytes()) if stored.suffix == ".xz" else stored.read_bytes()
    assert hashlib.sha256(data).hexdigest() == row["sha256"], f"{stored} is not the bundled {row['path']}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def bundled_file(*parts: str) -> Path:
    """``parts`` (a file or a folder) from data/testdata; skips, naming why, what may not be redistributed."""
    rel = "/".join(parts)
    rows = [r for r in _bundle_manifest() if r["path"] == rel or r["path"].startswith(rel.rstrip("/") + "/")
            or rel.startswith(r["path"]) and r["path"].endswith("/")]
    withheld = [r["note"].split(": ", 1)[-1] for r in rows if r["stored"] == "-"]
    if withheld:
        pytest.skip(f"real data not redistributable, so not bundled: {withheld[0]}")
    if not rows:
        pytest.skip(f"real data not present at {SHARED_DATA} nor bundled: {rel}")
    for row in rows:
        _unpack(row)
    return _unpacked_root() / rel


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``, or on a fresh clone the bundled part of it (data/testdata) unpacked once."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    for row in _bundle_manifest():
        if row["stored"] != "-":
            _unpack(row)
    return _unpacked_root()


def shared_file(*parts: str) -> Path:
    """A real-data file or folder: from ../shared/data when present, else from the bundle."""
    path = SHARED_DATA.joinpath(*parts)
    return path if path.exists() else bundled_file(*parts)


def pytest_terminal_summary(terminalreporter) -> None:
    """How many tests skipped and why, grouped by reason, so a run says what it did not check."""
    from collections import Counter

    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons = Counter(str(r.longrepr[2] if isinstance(r.longrepr, tuple) else r.longrepr).removeprefix("Skipped: ")
                      for r in skipped)
    terminalreporter.section(f"{len(skipped)} skipped, by reason")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:5d}  {reason}")


SCHEMAS = REPO / "docs" / "schema"


def schema_validators() -> dict[str, Any]:
    """A validator per documented format (docs/schema), keyed by the format name files carry."""
    import json

    import jsonschema
    from referencing import Registry, Resource

    documents = [json.loads(p.read_text()) for p in sorted(SCHEMAS.glob("*.schema.json"))]
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in documents)
    formats = {"urn:evalkit:run:2": "evalkit.run/2", "urn:evalkit:part:2": "evalkit.part/2",
               "urn:evalkit:metric-state:2": "evalkit.metric-state/2"}
    return {formats[d["$id"]]: jsonschema.Draft202012Validator(d, registry=registry) for d in documents}


def validate_written_files(root: Path) -> list[str]:
    """Every run record, state file and part file under ``root`` checked against docs/schema; the failures."""
    import gzip
    import json

    validators = schema_validators()
    failures = []
    # only files named as evalkit names what it writes (<suite>__<evaluation>__<model>__<run id>.json and its
    # companions, <...>__shard-I-of-N.part.json.gz): hand-made hostile inputs are not evalkit's output
    written = [p for p in root.rglob("*__*__*__*.json*") if p.name.endswith((".json", ".state.json.gz"))]
    for path in sorted(written) + sorted(root.rglob("*__shard-*-of-*.part.json.gz")):
        try:
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            data = json.loads(raw)
        except (OSError, ValueError, EOFError):
            continue  # hostile-input tests write broken files on purpose
        if path.name.endswith(".state.json.gz") and isinstance(data, dict):
            documents = [("evalkit.metric-state/2", s) for s in data.values()
                         if isinstance(s, dict) and s.get("format") == "evalkit.metric-state/2"]
        elif isinstance(data, dict) and data.get("schema") in ("evalkit.run/2", "evalkit.part/2"):
            documents = [(data["schema"], data)]
        else:
            continue
        for schema, document in documents:
            errors = list(validators[schema].iter_errors(document))
            if errors:
                failures.append(f"{path}: {errors[0].json_path}: {errors[0].message[:200]}")
    return failures


@pytest.fixture(scope="session", autouse=True)
def every_written_record_fits_the_documented_schema(tmp_path_factory):
    """After the session: each record, metric state and part file the tests wrote validates (docs/schema)."""
    yield
    pytest.importorskip("jsonschema")
    failures = validate_written_files(tmp_path_factory.getbasetemp())
    assert not failures, "files that do not fit docs/schema:\n" + "\n".join(failures[:20])
