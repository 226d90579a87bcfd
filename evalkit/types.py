"""Types shared by datasets, model adapters and metrics, kept below all three so none imports another."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Batch:
    """What flows from a loader to a model adapter and a metric."""

    ids: list[str]
    inputs: Any
    targets: Any
    #: ids of samples the loader skipped (corrupt files with ``skip_corrupt``)
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class ImagesWithSizes:
    """A batch of detection inputs: images differ in size, so they stay a list.

    ``sizes`` are the (height, width) of the annotation file: predictions are mapped back
    to them, because pycocotools compares masks at exactly that size.
    """

    images: list[Any]
    sizes: list[tuple[int, int]]

    def pin_memory(self) -> "ImagesWithSizes":
        pinned = [im.pin_memory() if hasattr(im, "pin_memory") else im for im in self.images]
        return ImagesWithSizes(pinned, self.sizes)


@dataclass
class EncodedImages:
    """A batch of undecoded image files in one uint8 buffer (one shared-memory handle per batch
    when DataLoader workers send it, instead of one per image), with each file's length and path."""

    buffer: Any
    lengths: list[int]
    paths: list[Path]
    #: who decodes them on the device: ``gpu`` (nvjpeg through torchvision) or ``dali``
    backend: str = "gpu"

    @classmethod
    def from_files(cls, files: list[Any], paths: list[Path], backend: str = "gpu") -> "EncodedImages":
        import torch

        return cls(torch.cat(files), [len(f) for f in files], paths, backend)

    @property
    def data(self) -> list[Any]:
        import torch

        return list(torch.split(self.buffer, self.lengths))

    def pin_memory(self) -> "EncodedImages":
        return EncodedImages(self.buffer.pin_memory(), self.lengths, self.paths, self.backend)


@dataclass(frozen=True)
class AnalogyAnswer:
    """What the search answered to one question, in the form the ``analogy`` metric counts."""

    #: the chosen vocabulary word (None: the question was skipped, or nothing was left to choose)
    word: str | None
    #: a question word or the expected answer is outside the restricted vocabulary (gensim skips it)
    skipped: bool
    #: compare upper-cased, as gensim's default ``case_insensitive=True`` does
    case_insensitive: bool = True

    def is_correct(self, expected: str) -> bool:
        if self.skipped or self.word is None:
            return False
        if self.case_insensitive:
            return self.word.upper() == expected.upper()
        return self.word == expected


def is_syntactic(section: str) -> bool:
    """The word2vec convention for the Google set: ``gram*`` sections are syntactic, the rest semantic."""
    return section.startswith("gram")
