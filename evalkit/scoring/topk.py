"""``evalkit score topk``: top-1/top-5 error of saved logits, as timm's validate.py reports them."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import InputError, MissingResourceError
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

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        logits = read_logits(args.logits)
        labels = read_labels(args.labels, logits.shape[1])
        if len(labels) != len(logits):
            raise InputError(f"{len(labels)} labels for {len(logits)} rows of logits in {args.logits}",
                             file=args.labels)
        metric = TopKError()
        metric.update(logits, labels)
        result = metric.compute(ci=args.ci, n_resamples=args.n_resamples, seed=args.seed)
        out = {key: result[key] for key in ("top1_error", "top5_error", *(("ci",) if args.ci else ()))}
        if "note" in result:
            out["note"] = result["note"]
        return {**out, "metric_signature": str(metric.signature())}
