"""Image sets: a folder (recursive) or a zip of images, listed in a stable sorted order.

Any file PIL can read counts; the listing keeps the extensions the reference tools read (pytorch-fid's,
clean-fid's and torch-fidelity's, in any case), so a flat folder lists the files pytorch-fid lists,
in its order.
"""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

from evalkit.errors import InputError, MissingResourceError

EXTENSIONS = {"bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp", "gif"}


class ImageSet:
    """The images under ``path`` (a folder, searched recursively, or a ``.zip``)."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise MissingResourceError(f"image set not found: {self.path.resolve()}")
        self.is_zip = self.path.is_file() and zipfile.is_zipfile(self.path)
        if self.path.is_file() and not self.is_zip:
            raise InputError("expected a folder of images, a .zip of images or a .npz of statistics", file=self.path)
        self._zip: zipfile.ZipFile | None = None
        self.names = self._list()
        if not self.names:
            raise InputError(f"no images ({', '.join(sorted(EXTENSIONS))}) found", file=self.path)

    def _list(self) -> list[str]:
        if self.is_zip:
            with zipfile.ZipFile(self.path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
        else:
            names = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()]
        return sorted(n for n in set(names) if n.rsplit(".", 1)[-1].lower() in EXTENSIONS and "." in n)

    def __len__(self) -> int:
        return len(self.names)

    def open(self, index: int) -> Any:
        """A path or a file object for PIL."""
        name = self.names[index]
        if not self.is_zip:
            return self.path / name
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.path)
        return self._zip.read(name)

    def where(self, index: int) -> str:
        return f"{self.path}!{self.names[index]}" if self.is_zip else str(self.path / self.names[index])

    def fingerprint(self) -> str:
        """sha256 of the file list (names and sizes): the key of cached reference features."""
        digest = hashlib.sha256()
        if self.is_zip:
            with zipfile.ZipFile(self.path) as archive:
                sizes = {i.filename: i.file_size for i in archive.infolist()}
        else:
            sizes = {n: (self.path / n).stat().st_size for n in self.names}
        for name in self.names:
            digest.update(f"{name}\t{sizes[name]}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_zip"] = None
        return state
