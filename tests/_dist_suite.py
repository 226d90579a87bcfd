"""A suite with every runnable metric on small data, shared by the distributed, shard and resume tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from tests.helpers import make_imagefolder

REPO = Path(__file__).resolve().parents[1]
QUICK = REPO / "data" / "quickstart"
WNIDS = ["n01440764", "n01443537", "n15075141"]
TINY = {"adapter": "timm", "name": "test_resnet", "num_classes": 1000, "label": "tiny",
        "preprocess": {"input_size": [3, 32, 32], "crop_pct": 1.0}}
WORDS = ["king", "queen", "man", "woman", "paris", "france", "rome", "italy", "big", "bigger", "small", "smaller"]


def write_analogy_data(folder: Path) -> tuple[Path, Path]:
    """Random word2vec text vectors and a questions-words file with two sections (one OOV question)."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True, exist_ok=True)
    vectors = folder / "vectors.txt"
    lines = [f"{len(WORDS)} 8"] + [f"{w} " + " ".join(f"{x:.6f}" for x in rng.normal(size=8)) for w in WORDS]
    vectors.write_text("\n".join(lines) + "\n")
    questions = folder / "questions-words.txt"
    questions.write_text(": capital\nparis france rome italy\nrome italy paris france\nking queen man woman\n"
                         ": gram\nbig bigger small smaller\nsmall smaller big bigger\nman woman zzz king\n")
    return vectors, questions


def coco_evaluation(iou_type: str) -> dict:
    """cocoapi's fake results of one IoU type, scored on the first 31 of the 100 bundled val2014 images."""
    return {"name": f"coco-{iou_type}", "task": "coco",
            "dataset": {"loader": "coco", "annotation_file": str(QUICK / "coco/instances_val2014_100.json.xz"),
                        "images_required": False},
            "models": [{"adapter": "predictions", "label": f"fake-{iou_type}",
                        "path": str(QUICK / f"coco/cocoapi_instances_val2014_fake{iou_type}100_results.json.xz")}],
            "metrics": [f"coco-{iou_type}"], "runtime": {"batch_size": 8, "limit": 31}}


def evaluations(tmp: Path) -> list[dict]:
    root = make_imagefolder(tmp / "val", WNIDS)  # 12 images
    vectors, questions = write_analogy_data(tmp / "analogy")
    return [
        {"name": "images", "task": "imagenet", "dataset": {"root": str(root)}, "models": [TINY],
         "metrics": ["topk"], "runtime": {"batch_size": 2}},
        {"name": "wmt17", "task": "translation",
         "dataset": {"loader": "translation", "reference_file": str(QUICK / "wmt17_en_de/newstest2017-ende-ref.de.xz")},
         "models": [{"adapter": "predictions", "label": "uedin",
                     "path": str(QUICK / "wmt17_en_de/newstest2017.uedin-nmt.4722.en-de.xz")}],
         "metrics": ["bleu", "chrf", "ter"], "runtime": {"batch_size": 16, "limit": 101}},
        *(coco_evaluation(iou_type) for iou_type in ("segm", "bbox")),
        {"name": "captions", "task": "captions",
         "dataset": {"loader": "coco-captions", "annotation_file": str(QUICK / "captions/abstract50s_refs.json.gz")},
         "models": [{"adapter": "predictions", "label": "cands",
                     "path": str(QUICK / "captions/abstract50s_candsB_member0_results.json")}],
         "metrics": ["cider"], "runtime": {"batch_size": 8, "limit": 29}},
        {"name": "analogy", "task": "analogy", "dataset": {"loader": "analogy", "root": str(questions)},
         "models": [{"adapter": "word2vec", "label": "vec", "path": str(vectors), "format": "word2vec"}],
         "metrics": ["analogy"], "runtime": {"batch_size": 2}},
    ]


def write_suite(tmp: Path, names: list[str] | None = None) -> Path:
    """The suite file with the evaluations ``names`` (all when None)."""
    chosen = [e for e in evaluations(tmp) if names is None or e["name"] in names]
    path = tmp / "every_metric.yaml"
    path.write_text(yaml.safe_dump({"name": "every-metric", "runtime": {"device": "cpu", "progress": False},
                                    "evaluations": chosen}))
    return path


def single_run(tmp: Path, names: list[str] | None = None) -> dict[str, dict]:
    """Records of one ordinary in-process run, keyed by evaluation (the reference every split run must equal)."""
    from evalkit.runner import run_suite
    from evalkit.suite import load_suite

    results = run_suite(load_suite(write_suite(tmp, names)), output_dir=tmp / "single")
    return {r.record["suite"]["evaluation"]: {**r.record, "_path": str(r.path)} for r in results}


def states_of(record: dict, folder: Path | None = None) -> dict:
    """The per-sample metric states saved beside a record."""
    from evalkit.records import load_state

    path = Path(record["_path"]) if "_path" in record else Path(folder) / f"{record['state_file'][:-len('.state.json.gz')]}.json"
    return load_state(path, record)


def assert_same_run(split: dict, single: dict, folder: Path | None = None) -> None:
    """Every metric, every count and every per-sample state of a split run equal the single run's."""
    assert split["metrics"] == single["metrics"], split["suite"]["evaluation"]
    assert split["details"] == single["details"]
    for key in ("num_evaluated", "num_skipped", "fingerprint"):
        assert split["dataset"][key] == single["dataset"][key]
    assert states_of(split, folder) == states_of(single)
