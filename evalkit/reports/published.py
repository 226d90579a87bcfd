"""Published numbers (results/published/*.csv) beside measured ones, so a user can check a setup against them.

A published row names its model as ``adapter:identifier`` (``timm:resnet50.a1_in1k``,
``torchvision:resnet50/IMAGENET1K_V2``, ``predictions:uedin-nmt`` by label), the record key of its metric in
evalkit's units, the data set and sample count it was measured on, its protocol and its source.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable

from evalkit.errors import InputError

PUBLISHED_DIR = Path("results") / "published"
FIELDS = ("task", "dataset", "samples", "model", "metric", "value", "protocol", "source", "note")


def read_published(folder: str | Path = PUBLISHED_DIR) -> list[dict[str, Any]]:
    """Every row of the ``*.csv`` tables in ``folder``; a missing column or a non-numeric value names the line."""
    folder = Path(folder)
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        raise InputError("no published tables (*.csv) here; run from the evalkit repository or give "
                         "--compare-published DIR", file=folder)
    rows = []
    for file in files:
        with file.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [f for f in FIELDS if f not in (reader.fieldnames or ())]
            if missing:
                raise InputError(f"missing column(s) {', '.join(missing)}", file=file, record="line 1")
            for line, row in enumerate(reader, start=2):
                try:
                    row["value"], row["samples"] = float(row["value"]), int(row["samples"])
                except (TypeError, ValueError):
                    raise InputError("value must be a number and samples an integer", file=file,
                                     record=f"line {line}", field="value") from None
                rows.append(row)
    return rows


def model_keys(model: dict[str, Any]) -> set[str]:
    """The ``adapter:identifier`` names a record's model answers to in a published table."""
    adapter, options = model.get("adapter"), model.get("options") or {}
    ident = options.get("name") or options.get("arch")
    keys = {f"{adapter}:{label}" for label in (options.get("label"), model.get("label")) if label}
    if ident:
        keys.add(f"{adapter}:{ident}")
        if options.get("weights"):
            keys.add(f"{adapter}:{ident}/{options['weights']}")
    return keys


def compare(records: Iterable[dict[str, Any]], published: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (run, published number of its model and metric): measured, published, difference, source.

    Runs with random weights get none: no published number applies to them.
    """
    rows = []
    for record in records:
        model = record["model"]
        if model.get("random_weights"):
            continue
        keys = model_keys(model)
        for row in published:
            if row["task"] != record["task"] or row["model"] not in keys or row["metric"] not in record["metrics"]:
                continue
            measured = record["metrics"][row["metric"]]
            samples = (record.get("dataset") or {}).get("num_evaluated")
            rows.append({"evaluation": (record.get("suite") or {}).get("evaluation"), "model": model.get("name"),
                         "metric": row["metric"], "measured": measured, "published": row["value"],
                         "difference": measured - row["value"] if measured is not None else None,
                         "samples": f"{samples} / {row['samples']}", "published on": row["dataset"],
                         "source": row["source"]})
    return rows
