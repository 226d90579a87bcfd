"""``style-pairs``: content images × style images, for style transfer.

Options: ``content_dir`` and ``style_dir`` (default ``root/content`` and ``root/style``; relative paths are
against ``root``), and optionally ``pairs_csv`` with columns ``content,style`` (file names in those folders)
and optionally ``id`` and ``stylized`` (the stylised file's name, for the ``stylized`` adapter). Without a CSV
every content image meets every style image, content-major in file-name order. A pair's id is
``<content stem>__<style stem>`` (or the CSV's ``id``). Each sample is ``((content, style), (content, style))``
as H×W×3 uint8 arrays (grayscale replicated, alpha dropped, as PIL's ``convert('RGB')``).
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Callable

from evalkit.datasets.base import DatasetLoader
from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.style_images import list_images, pair_id, read_rgb
from evalkit.registry import DATASETS

TASK = "style-transfer"


@DATASETS.register("style-pairs")
class StylePairs(DatasetLoader):
    name = "style-pairs"
    task = TASK

    def __init__(self, root: str | Path | None = None, content_dir: str | Path | None = None,
                 style_dir: str | Path | None = None, pairs_csv: str | Path | None = None, **options: Any):
        super().__init__(root, content_dir=_s(content_dir), style_dir=_s(style_dir), pairs_csv=_s(pairs_csv),
                         **options)
        base = self.root if self.root is not None else Path(".")
        if self.root is not None and not self.root.exists():
            self.require_root("a folder with content/ and style/")
        self.content_dir = base / Path(content_dir).expanduser() if content_dir else base / "content"
        self.style_dir = base / Path(style_dir).expanduser() if style_dir else base / "style"
        self.pairs_csv = base / Path(pairs_csv).expanduser() if pairs_csv else None
        self.pairs = self._read_pairs()

    def _read_pairs(self) -> list[dict[str, Any]]:
        if self.pairs_csv is None:
            contents = list_images(self.content_dir, "content images")
            styles = list_images(self.style_dir, "style images")
            if not contents or not styles:
                empty = self.content_dir if not contents else self.style_dir
                raise MissingResourceError(f"no images in {empty.resolve()}")
            pairs = [{"id": pair_id(c, s), "content": c, "style": s, "stylized": None} for c in contents for s in styles]
        else:
            pairs = self._read_csv(self.pairs_csv)
        seen: dict[str, int] = {}
        for number, pair in enumerate(pairs, 1):
            if pair["id"] in seen:
                raise InputError(f"pair id {pair['id']!r} appears twice (pairs {seen[pair['id']]} and {number}); "
                                 "give an 'id' column", file=self.pairs_csv or self.content_dir)
            seen[pair["id"]] = number
        return pairs

    def _read_csv(self, path: Path) -> list[dict[str, Any]]:
        if not path.is_file():
            raise MissingResourceError(f"pairs CSV not found: {path.resolve()}")
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            if not {"content", "style"} <= set(fields):
                raise InputError(f"expected columns content,style[,id,stylized], got {','.join(fields)}", file=path,
                                 record="line 1")
            pairs = []
            for number, row in enumerate(reader, 2):
                content, style = (row.get("content") or "").strip(), (row.get("style") or "").strip()
                for column, name, folder in (("content", content, self.content_dir), ("style", style, self.style_dir)):
                    if not name:
                        raise InputError("empty file name", file=path, record=f"line {number}", field=column)
                    if not (folder / name).is_file():
                        raise InputError(f"no file {name!r} in {folder.resolve()}", file=path,
                                         record=f"line {number}", field=column)
                pairs.append({"id": (row.get("id") or "").strip() or pair_id(content, style),
                              "content": self.content_dir / content, "style": self.style_dir / style,
                              "stylized": (row.get("stylized") or "").strip() or None})
        if not pairs:
            raise InputError("no pairs", file=path)
        return pairs

    def sample_ids(self) -> list[str]:
        return [p["id"] for p in self.pairs]

    def stylized_names(self) -> dict[str, str]:
        """Stylised file names the pairs CSV gives (pair id → name)."""
        return {p["id"]: p["stylized"] for p in self.pairs if p["stylized"]}

    def item(self, index: int, transform: Callable | None) -> tuple[Any, Any]:
        pair = self.pairs[index]
        images = (read_rgb(pair["content"]), read_rgb(pair["style"]))
        inputs = transform(images) if transform is not None else images
        return inputs, images

    def dataset_meta(self) -> dict[str, Any]:
        return {"stylized_names": self.stylized_names()}

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(content_dir=str(self.content_dir.resolve()), style_dir=str(self.style_dir.resolve()),
                    pairs_csv=str(self.pairs_csv.resolve()) if self.pairs_csv else None)
        return info


def _s(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
