"""Machine-translation test sets: plain text files (one segment a line) or a sacrebleu test set.

Lines are read exactly as sacrebleu's command line reads them: UTF-8 (a BOM is kept),
split on ``\\n`` only, each line ``rstrip()``-ed. Sample ids are line indices ("0", "1", ...).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Sequence

from evalkit.datasets.base import DatasetLoader
from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.text import read_lines
from evalkit.registry import DATASETS

#: WMT's reference file names (newstest2017-ende-ref.de): the year's last two digits, source and target language
NEWSTEST_REFERENCE = re.compile(r"newstest20(\d\d)-([a-z]{2})([a-z]{2})-ref\.[a-z]{2}\b")


def sacrebleu_dir() -> Path:
    """sacrebleu's cache folder: ``$SACREBLEU`` or ``~/.sacrebleu`` (read at call time)."""
    return Path(os.environ.get("SACREBLEU", Path("~/.sacrebleu").expanduser())).expanduser()


def sacrebleu_testset_files(testset: str, langpair: str) -> tuple[Path, list[Path]]:
    """(source file, reference files) of a sacrebleu test set in the local cache; never downloads."""
    from sacrebleu.dataset import DATASETS as SB_DATASETS

    if testset not in SB_DATASETS:
        raise InputError(f"unknown sacrebleu test set {testset!r}", field="testset")
    dataset = SB_DATASETS[testset]
    if langpair not in dataset.langpairs:
        raise InputError(f"test set {testset!r} has no language pair {langpair!r} "
                         f"(known: {', '.join(sorted(dataset.langpairs))})", field="langpair")
    how = (f"run `sacrebleu -t {testset} -l {langpair} --echo src > /dev/null` on a machine with network "
           f"and copy its {testset} folder into {sacrebleu_dir()} (or point $SACREBLEU at a copy)")
    try:
        fields = dataset.fieldnames(langpair)
    except OSError as err:  # some formats read their raw files to list the fields
        raise MissingResourceError(f"sacrebleu test set {testset}/{langpair} is not cached ({err}); {how}") from None
    name = testset.replace("/", "_")
    folder = sacrebleu_dir() / testset
    paths = {field: folder / f"{name}.{langpair}.{field.replace(':', '-')}" for field in fields
             if field == "src" or field.startswith("ref")}
    for path in paths.values():
        if not path.is_file():
            raise MissingResourceError(f"sacrebleu test set {testset}/{langpair} is not cached: {path} is missing; {how}")
    refs = [path for field, path in paths.items() if field.startswith("ref")]
    return paths["src"], refs


@DATASETS.register("translation")
class TranslationDataset(DatasetLoader):
    """Source segments and their references, one segment per line.

    Either ``reference_file`` / ``reference_files`` (and optionally ``source_file``; it may be
    omitted when only prediction files are scored), relative to ``root`` when given, or a
    cached sacrebleu test set with ``testset`` and ``langpair``. Inputs are source strings
    (None without a source), targets are lists of references.
    """

    name = "translation"
    task = "translation"

    def __init__(self, root: str | Path | None = None, source_file: str | None = None,
                 reference_file: str | None = None, reference_files: Sequence[str] | None = None,
                 testset: str | None = None, langpair: str | None = None, **options: Any):
        super().__init__(root, source_file=source_file, reference_file=reference_file,
                         reference_files=list(reference_files) if reference_files else None,
                         testset=testset, langpair=langpair, **options)
        if testset is not None:
            if reference_file or reference_files or source_file:
                raise InputError("give either testset/langpair or source/reference files, not both", field="testset")
            if not langpair:
                raise InputError(f"testset {testset!r} needs a langpair such as 'en-de'", field="langpair")
            self.source_path, self.reference_paths = sacrebleu_testset_files(testset, langpair)
        else:
            names = ([reference_file] if reference_file else []) + list(reference_files or [])
            if not names:
                raise InputError("a translation dataset needs reference_file, reference_files or testset",
                                 field="reference_file")
            self.reference_paths = [self._resolve(n) for n in names]
            self.source_path = self._resolve(source_file) if source_file else None
        self.testset, self.langpair = testset, langpair
        self.references = [read_lines(p) for p in self.reference_paths]
        self.sources = read_lines(self.source_path) if self.source_path else None
        self._check_lengths()
        self._ids = [str(i) for i in range(len(self.references[0]))]

    def _resolve(self, name: str | Path) -> Path:
        path = Path(name).expanduser()
        if not path.is_absolute() and self.root is not None:
            path = self.root / path
        if not path.is_file():
            raise MissingResourceError(f"translation file not found: {path.resolve()}")
        return path

    def _check_lengths(self) -> None:
        files = list(self.reference_paths) + ([self.source_path] if self.source_path else [])
        streams = list(self.references) + ([self.sources] if self.sources is not None else [])
        counts = [len(s) for s in streams]
        if counts[0] == 0:
            raise InputError("no lines: a reference file needs one segment per line", file=files[0])
        if len(set(counts)) > 1:
            detail = ", ".join(f"{p} has {c}" for p, c in zip(files, counts))
            raise InputError(f"line counts differ: {detail}", file=files[counts.index(min(counts))])

    def sample_ids(self) -> list[str]:
        return self._ids

    def item(self, index: int, transform: Callable | None) -> tuple[Any, list[str]]:
        source = self.sources[index] if self.sources is not None else None
        return (transform(source) if transform and source is not None else source), [r[index] for r in self.references]

    @property
    def benchmark(self) -> str | None:  # type: ignore[override]
        """``wmt14-en-de`` for sacrebleu's ``wmt14`` (or ``wmt14/full``) en-de, or for WMT's own reference file
        ``newstest2014-ende-ref.de`` (compressed or not); other sacrebleu sets as ``TESTSET-LANGPAIR``."""
        if self.testset is not None:
            return f"{self.testset.removesuffix('/full')}-{self.langpair}"
        named = NEWSTEST_REFERENCE.match(self.reference_paths[0].name)
        return f"wmt{named[1]}-{named[2]}-{named[3]}" if named else None

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["source_file"] = str(self.source_path.resolve()) if self.source_path else None
        info["reference_files"] = [str(p.resolve()) for p in self.reference_paths]
        return info

