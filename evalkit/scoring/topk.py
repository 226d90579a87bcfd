"""``evalkit score topk``: top-1/top-5 error of saved logits, as timm's validate.py reports them."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.imagenet import SUBSET_FILES, class_subset, real_file_name
from evalkit.metrics.real_topk import RealTopK, val_position
from evalkit.metrics.topk import TopKError
from evalkit.registry import SCORERS
from evalkit.scoring.base import Scorer


def read_logits(path: Path) -> np.ndarray:
    """A 2-D ``.npy`` array (samples × classes), read without pickle."""
    if not path.is_file():
        raise MissingResourceError(f"logits file not found: {path.resolve()}")
    try:
        logits = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:  # EOFError: an empty or truncated file
        raise InputError(f"not a numeric .npy array: {err}", file=path) from None
    if logits.ndim != 2 or not (np.issubdtype(logits.dtype, np.integer) or np.issubdtype(logits.dtype, np.floating)):
        raise InputError(f"expected a 2-D array of real numbers (samples × classes), got {logits.dtype} {logits.shape}",
                         file=path)
    if not logits.size:
        raise InputError(f"no logits to score (shape {logits.shape})", file=path)
    bad = np.argwhere(np.isnan(logits)) if np.issubdtype(logits.dtype, np.floating) else []
    if len(bad):
        raise InputError("NaN logit", file=path, record=f"row {bad[0][0]}", field=f"column {bad[0][1]}")
    return logits


def read_labels(path: Path, classes: int) -> np.ndarray:
    """One integer class index per line."""
    if not path.is_file():
        raise MissingResourceError(f"labels file not found: {path.resolve()}")
    labels = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (byte {err.start}): expected one class index per line", file=path) from None
    for line_no, line in enumerate(text.splitlines(), start=1):
        try:
            label = int(line.strip())
        except ValueError:  # the line itself is not quoted: the file may be anything the user pointed at
            raise InputError("expected an integer class index", file=path, record=f"line {line_no}") from None
        if not 0 <= label < classes:
            raise InputError(f"class {label} is outside 0..{classes - 1}", file=path, record=f"line {line_no}")
        labels.append(label)
    return np.asarray(labels, dtype=np.int64)


@SCORERS.register("topk")
class TopKScorer(Scorer):
    help = "ImageNet top-1/top-5 error (percent) of saved logits, as timm's validate.py computes them"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--logits", type=Path, required=True, help=".npy array, samples × classes")
        parser.add_argument("--labels", type=Path, required=True, help="text file, one class index per line")
        parser.add_argument("--class-subset", choices=sorted(SUBSET_FILES),
                            help="rank only this subset's logits of 1000-class logits, as timm's validate.py "
                                 "--valid-labels does for ImageNet-A/-R (labels stay 1000-class indices)")

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        logits = read_logits(args.logits)
        labels = read_labels(args.labels, logits.shape[1])
        if len(labels) != len(logits):
            raise InputError(f"{len(labels)} labels for {len(logits)} rows of logits in {args.logits}",
                             file=args.labels)
        subset = getattr(args, "class_subset", None)
        if subset is not None:
            check_subset(subset, logits, labels, args.logits, args.labels)
        metric = TopKError(class_subset=subset)
        metric.update(logits, labels)
        return _result(metric, args, ("top1_error", "top5_error"))


def check_subset(subset: str, logits: np.ndarray, labels: np.ndarray, logits_path: Path, labels_path: Path) -> None:
    """1000-class logits, and every label one of the subset's classes (else the line that is not)."""
    if logits.shape[1] != 1000:
        raise InputError(f"--class-subset {subset} needs 1000-class logits, got {logits.shape[1]} columns",
                         file=logits_path)
    outside = np.flatnonzero(~np.isin(labels, class_subset(subset)))
    if len(outside):
        raise InputError(f"class {labels[outside[0]]} is not one of the {subset} classes", file=labels_path,
                         record=f"line {outside[0] + 1}")


def read_file_names(path: Path, rows: int) -> list[str]:
    """One ILSVRC2012 val file name per line, one line per row of logits, no name twice."""
    if not path.is_file():
        raise MissingResourceError(f"file names list not found: {path.resolve()}")
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (byte {err.start}): expected one image file name per line", file=path) from None
    if len(names) != rows:
        raise InputError(f"{len(names)} file names for {rows} rows of logits", file=path)
    first: dict[str, int] = {}
    for line_no, name in enumerate(names, start=1):
        if val_position(name) < 0:
            raise InputError("not an ILSVRC2012 val file name (ILSVRC2012_val_<8 digits>.JPEG), which ReaL labels are "
                             "keyed by", file=path, record=f"line {line_no}")
        if name in first:
            raise InputError(f"the same file name as line {first[name]}", file=path, record=f"line {line_no}")
        first[name] = line_no
    return names


@SCORERS.register("real-topk")
class RealTopKScorer(Scorer):
    help = "ImageNet ReaL top-1/top-5 (percent) of saved logits, as timm's validate.py --real-labels computes them"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--logits", type=Path, required=True, help=".npy array, ILSVRC2012 val images × 1000 classes")
        parser.add_argument("--files", type=Path, help="text file, each row's val image file name "
                            "(default: row i is ILSVRC2012_val_<i+1>.JPEG, the official order)")
        parser.add_argument("--real-labels", type=Path, help="real.json (default: the copy shipped with evalkit)")

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        logits = read_logits(args.logits)
        names = (read_file_names(args.files, len(logits)) if args.files
                 else [real_file_name(i) for i in range(len(logits))])
        metric = RealTopK(real_labels=str(args.real_labels) if args.real_labels else None)
        metric.update(logits, [0] * len(logits), names)
        return {**_result(metric, args, ("top1_error", "top5_error", "top1_accuracy", "top5_accuracy")),
                **metric.extras()}


def _result(metric: TopKError | RealTopK, args: argparse.Namespace, keys: tuple[str, ...]) -> dict[str, Any]:
    result = metric.compute(ci=args.ci, n_resamples=args.n_resamples, seed=args.seed)
    out = {key: result[key] for key in (*keys, *(("ci",) if args.ci else ()))}
    if "note" in result:
        out["note"] = result["note"]
    return {**out, "metric_signature": str(metric.signature())}
