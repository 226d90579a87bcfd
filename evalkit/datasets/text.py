"""Language-modelling corpora: WikiText as lm-evaluation-harness reads it, and any plain-text or JSONL corpus.

Each sample is one document (:class:`evalkit.lmtypes.Document`): the text the model scores, the original
text words and bytes are counted on, and the strings it adds to the strided corpus. Nothing is downloaded.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from evalkit.datasets.base import DatasetLoader
from evalkit.errors import InputError, MissingResourceError
from evalkit.lmtypes import (Document, is_article_header, lines_to_strided_units, wikitext_detokenize)
from evalkit.registry import DATASETS

TASK = "language-modeling"


def read_utf8_lines(path: Path) -> list[str]:
    """The file's lines (universal newlines, as Python's text mode reads them); bad UTF-8 names file and line."""
    from evalkit.datasets.base import open_text

    try:
        with open_text(path) as f:
            text = f.read()
    except UnicodeDecodeError:
        raw = _read_bytes(path)
        for number, line in enumerate(raw.split(b"\n"), 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise InputError(f"line {number} is not UTF-8 text (byte {err.start + 1} of the line: "
                                 f"{line[err.start:err.start + 1]!r})", file=path, record=f"line {number}") from None
        raise InputError("the file is not UTF-8 text", file=path) from None
    # open_text keeps "\r\n" (newline="\n"); the dataset scripts read in text mode, which folds it
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _read_bytes(path: Path) -> bytes:
    if path.suffix == ".gz":
        import gzip

        return gzip.decompress(path.read_bytes())
    if path.suffix == ".xz":
        import lzma

        return lzma.decompress(path.read_bytes())
    if path.suffix == ".bz2":
        import bz2

        return bz2.decompress(path.read_bytes())
    return path.read_bytes()


class _DocumentLoader(DatasetLoader):
    """Shared by the language-modelling loaders: a list of :class:`Document` with string ids."""

    task = TASK

    def __init__(self, root: str | None = None, **options: Any):
        super().__init__(root, **options)
        self.documents: list[Document] = []
        self.ids: list[str] = []

    def sample_ids(self) -> list[str]:
        return self.ids

    def item(self, index: int, transform: Callable | None) -> tuple[Any, Any]:
        doc = self.documents[index]
        return doc, doc.original

    def strided_corpus(self) -> list[tuple[str, tuple[str, ...]]]:
        """``(sample id, units)`` of every document, in order: the guide's corpus is ``"\\n\\n".join`` of all units."""
        return [(i, d.strided_units) for i, d in zip(self.ids, self.documents)]

    def empty_documents(self) -> int:
        return sum(1 for d in self.documents if not d.text)

    def dataset_meta(self) -> dict[str, Any]:
        return {"empty_documents": self.empty_documents()}

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["empty_documents"] = self.empty_documents()
        info["characters"] = sum(len(d.original) for d in self.documents)
        return info


@DATASETS.register("wikitext")
class WikiTextLoader(_DocumentLoader):
    """WikiText-2/103 raw, split into articles and detokenised exactly as lm-eval's ``wikitext`` task does.

    ``root``: a folder with ``wiki.{split}.raw`` (the original files, ``.gz/.xz/.bz2`` too), that file itself,
    or a folder of the Hugging Face dataset's parquet/arrow files for the split: ``page`` columns
    (EleutherAI/wikitext_document_level, used as they are) or ``text`` columns (Salesforce/wikitext, one row
    per line; its empty rows stand for the raw files' whitespace lines, restored as ``" "``).
    ``split``: ``test`` (default), ``valid``/``validation`` or ``train``. ``detokenize``: lm-eval's
    detokeniser on the text the model scores (default true; words and bytes are always counted on the page).
    """

    name = "wikitext"

    def __init__(self, root: str | None = None, split: str = "test", detokenize: bool = True, **options: Any):
        super().__init__(root, split=split, detokenize=detokenize, **options)
        split = {"validation": "valid"}.get(split, split)
        if split not in ("test", "valid", "train"):
            raise InputError(f"split must be test, valid or train, got {split!r}", field="split")
        self.split = split
        source = self._find(split)
        self.source = source
        if source.suffix in (".parquet", ".arrow") or source.is_dir():
            pages, units = self._from_table(source, split)
        else:
            pages, units = self._from_raw(read_utf8_lines(source))
        self.documents = [Document(wikitext_detokenize(p) if detokenize else p, p, u) for p, u in zip(pages, units)]
        self.ids = [f"{split}-{i:05d}" for i in range(len(self.documents))]

    @property
    def benchmark(self) -> str | None:  # type: ignore[override]
        """``wikitext`` for the test split: WikiText-2 and WikiText-103 share one test set (Merity et al. 2016)."""
        return "wikitext" if self.split == "test" else None

    def _find(self, split: str) -> Path:
        where = ("a folder with wiki.test.raw / wiki.valid.raw / wiki.train.raw from wikitext-2-raw-v1.zip or "
                 "wikitext-103-raw-v1.zip, that file itself, or a folder of the Hugging Face dataset's "
                 f"{'validation' if split == 'valid' else split}-*.parquet files")
        if self.root is None:
            raise MissingResourceError(f"the wikitext dataset needs a 'root': {where}")
        root = self.root
        if root.is_file():
            return root
        if not root.is_dir():
            raise MissingResourceError(f"WikiText not found: {root.resolve()} does not exist; put there {where} "
                                       "(evalkit never downloads it)")
        for name in (f"wiki.{split}.raw", f"wiki.{split}.raw.gz", f"wiki.{split}.raw.xz", f"wiki.{split}.raw.bz2"):
            if (root / name).is_file():
                return root / name
        hf_split = "validation" if split == "valid" else split
        tables = sorted(p for p in root.rglob(f"{hf_split}-*") if p.suffix in (".parquet", ".arrow"))
        tables += sorted(p for p in root.rglob(f"*{hf_split}*.arrow") if p not in tables)
        if tables:
            return root
        raise MissingResourceError(f"no WikiText {split} split in {root.resolve()}: expected {where}")

    @staticmethod
    def _from_raw(lines: list[str]) -> tuple[list[str], list[tuple[str, ...]]]:
        """Pages as EleutherAI/wikitext_document_level makes them, and the line rows each page adds to the corpus."""
        pages: list[str] = []
        units: list[tuple[str, ...]] = []
        rows = lines_to_strided_units(lines[:-1] if lines and lines[-1] == "" else lines)
        current: list[str] = []
        unit_start = 0
        for number, line in enumerate(lines):
            if is_article_header(line):
                page = "\n".join(current)
                if page.strip():
                    pages.append(page)
                    units.append(tuple(rows[unit_start:number]))
                    unit_start = number
                current = []
            current.append(line)
        pages.append("\n".join(current))
        units.append(tuple(rows[unit_start:]))
        return pages, units

    def _from_table(self, root: Path, split: str) -> tuple[list[str], list[tuple[str, ...]]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        hf_split = "validation" if split == "valid" else split
        files = [root] if root.is_file() else sorted(p for p in root.rglob(f"{hf_split}-*")
                                                     if p.suffix in (".parquet", ".arrow"))
        if not files:
            files = sorted(p for p in root.rglob(f"*{hf_split}*.arrow"))
        columns: dict[str, list[str]] = {}
        for path in files:
            if path.suffix == ".parquet":
                table = pq.read_table(path)
            else:
                with pa.memory_map(str(path)) as source:
                    try:
                        table = pa.ipc.open_stream(source).read_all()
                    except pa.ArrowInvalid:
                        table = pa.ipc.open_file(source).read_all()
            for column in ("page", "text"):
                if column in table.column_names:
                    columns.setdefault(column, []).extend(table.column(column).to_pylist())
        if "page" in columns:
            pages = columns["page"]
            return pages, [(p,) for p in pages]
        if "text" in columns:
            raw = "".join(row if row else " \n" for row in columns["text"])
            return self._from_raw(raw.split("\n"))
        raise InputError("expected a 'page' or 'text' column", file=files[0] if files else root)


@DATASETS.register("text")
class TextCorpusLoader(_DocumentLoader):
    """Any corpus: ``path`` to a ``.jsonl`` file (one JSON object per document, its ``text_field``, default
    ``text``) or a plain-text file (documents separated by blank lines). ``.gz/.xz/.bz2`` are read too.
    Empty documents are kept and counted, as lm-eval keeps them (their log-likelihood is that of no token)."""

    name = "text"

    def __init__(self, path: str | None = None, text_field: str = "text", root: str | None = None,
                 format: str | None = None, **options: Any):
        path = path or root
        super().__init__(path, text_field=text_field, format=format, **options)
        if path is None:
            raise MissingResourceError("the text dataset needs 'path': a .jsonl file (one JSON object per "
                                       "document) or a plain-text file (documents separated by blank lines)")
        file = Path(path).expanduser()
        if not file.is_file():
            raise MissingResourceError(f"text corpus not found: {file.resolve()} does not exist (put a .jsonl file "
                                       f"with a {text_field!r} field per line, or a plain-text file, there)")
        stem = file.name
        for suffix in (".gz", ".xz", ".bz2"):
            stem = stem.removesuffix(suffix)
        kind = format or ("jsonl" if stem.endswith((".jsonl", ".json", ".ndjson")) else "text")
        lines = read_utf8_lines(file)
        texts: list[str] = []
        if kind == "jsonl":
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as err:
                    raise InputError(f"not a JSON object: {err}", file=file, record=f"line {number}") from None
                if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                    raise InputError(f"expected a JSON object with a string {text_field!r}", file=file,
                                     record=f"line {number}", field=text_field)
                texts.append(record[text_field])
        elif kind == "text":
            current: list[str] = []
            for line in lines + [""]:
                if line.strip():
                    current.append(line)
                elif current:
                    texts.append("\n".join(current))
                    current = []
        else:
            raise InputError(f"format must be jsonl or text, got {kind!r}", field="format")
        self.documents = [Document(t, t, (t,)) for t in texts]
        self.ids = [f"doc-{i:06d}" for i in range(len(texts))]
