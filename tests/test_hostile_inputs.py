"""A catalogue of hostile and careless inputs, one row each: the command, the input, the exit code, the words
the one-line message must contain, and that nothing was written to the output or cache folders.

Every row runs ``evalkit`` in-process (as ``main(argv)``) in a fresh folder: ``{tmp}`` in the command is
that folder, ``FILES`` are written there first. The README's guarantees hold for each: bad input exits 2
with a message naming the file (and record and field), no traceback appears, and no record, part or cache
file is left behind.
"""
from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import yaml

from evalkit.cli import main

REPO = Path(__file__).resolve().parents[1]
QUICK = REPO / "data" / "quickstart"


@dataclass
class Case:
    name: str
    argv: list[str]
    exit: int
    words: tuple[str, ...]
    files: dict[str, Any] = field(default_factory=dict)
    #: prepare the folder beyond FILES (symlinks, permissions)
    setup: Callable[[Path], None] | None = None
    #: words that must NOT appear in the message (leaks)
    absent: tuple[str, ...] = ()


def suite(**top: Any) -> str:
    base = {"name": "h", "task": "translation",
            "dataset": {"loader": "translation", "reference_file": str(QUICK / "wmt17_en_de/newstest2017-ende-ref.de.xz")},
            "models": [{"adapter": "predictions", "label": "uedin",
                        "path": str(QUICK / "wmt17_en_de/newstest2017.uedin-nmt.4722.en-de.xz")}],
            "runtime": {"limit": 5, "progress": False, "device": "cpu"}}
    for key, value in top.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return yaml.safe_dump(base)


def run(*extra: str) -> list[str]:
    return ["run", "{tmp}/s.yaml", "--output-dir", "{tmp}/out", *extra]


# --- suites --------------------------------------------------------------------------------------------------
CASES: list[Case] = [
    Case("suite missing", run(), 2, ("s.yaml", "not found")),
    Case("suite empty", run(), 2, ("s.yaml", "mapping")), 
    Case("suite random bytes", run(), 2, ("s.yaml", "UTF-8")),
    Case("suite not yaml", run(), 2, ("s.yaml", "YAML")),
    Case("suite is a list", run(), 2, ("s.yaml", "mapping")),
    Case("suite unknown key", run(), 2, ("s.yaml", "modles", "unknown key")),
    Case("suite bad name", run(), 2, ("s.yaml", "name")),
    Case("suite no models", run(), 2, ("s.yaml", "models")),
    Case("suite models not list", run(), 2, ("s.yaml", "models")),
    Case("suite models empty", run(), 2, ("s.yaml", "models")),
    Case("suite unknown adapter", run(), 2, ("s.yaml", "models[0].adapter", "did you mean")),
    Case("suite unknown loader", run(), 2, ("s.yaml", "dataset.loader", "did you mean")),
    Case("suite unknown metric", run(), 2, ("s.yaml", "metrics[0]", "did you mean")),
    Case("suite unknown metric option", run(), 2, ("s.yaml", "metrics[0].sigam", "did you mean 'sigma'")),
    Case("suite adapter of another task", run(), 2, ("s.yaml", "models[0].adapter", "serves task")),
    Case("suite loader of another task", run(), 2, ("s.yaml", "dataset.loader", "serves task")),
    Case("suite duplicate labels", run(), 2, ("s.yaml", "distinct")),
    Case("suite duplicate evaluations", run(), 2, ("s.yaml", "duplicate evaluation")),
    Case("suite evaluations empty", run(), 2, ("s.yaml", "evaluations")),
    Case("suite evaluations not list", run(), 2, ("s.yaml", "evaluations")),
    Case("suite unknown task", run(), 2, ("s.yaml", "task", "did you mean")),
    Case("suite no task", run(), 2, ("s.yaml", "task")),
    Case("suite metrics empty", run(), 2, ("s.yaml", "metrics")),
    Case("suite metric keys clash", run(), 2, ("s.yaml", "metrics[1]", "list each metric once")),
    Case("suite runtime batch_size string", run(), 2, ("s.yaml", "runtime.batch_size", "int")),
    Case("suite runtime batch_size zero", run(), 2, ("s.yaml", "runtime.batch_size", "out of range")),
    Case("suite runtime workers negative", run(), 2, ("s.yaml", "runtime.workers", "out of range")),
    Case("suite runtime precision fp8", run(), 2, ("s.yaml", "runtime.precision", "fp32")),
    Case("suite runtime limit zero", run(), 2, ("s.yaml", "runtime.limit", "positive")),
    Case("suite runtime prefetch zero", run(), 2, ("s.yaml", "runtime.prefetch_factor", "positive")),
    Case("suite runtime device int", run(), 2, ("s.yaml", "runtime.device", "str")),
    Case("suite runtime ci string", run(), 2, ("s.yaml", "runtime.ci", "bool")),
    Case("suite runtime unknown key", run(), 2, ("s.yaml", "runtime.batchsize", "unknown key")),
    Case("suite alias bomb", run(), 2, ("s.yaml", "aliases")),
    Case("suite self-referencing alias", run(), 2, ("s.yaml", "alias")),
    Case("suite over 1 MiB", run(), 2, ("s.yaml", "bytes")),
    Case("suite factory os.system", run(), 2, ("factory", "standard library")),
    Case("suite factory builtins.eval", run(), 2, ("factory", "standard library")),
    Case("suite factory subprocess", run(), 2, ("factory", "standard library")),
    Case("suite factory no colon", run(), 2, ("factory", "package.module:factory")),
    Case("suite factory missing module", run(), 2, ("factory", "cannot import")),
    Case("no-code refuses factory", run("--no-code"), 2, ("s.yaml", "models[0].factory", "--no-code")),
    Case("no-code refuses trust_remote_code", run("--no-code"), 2, ("s.yaml", "trust_remote_code", "--no-code")),
    Case("no-code refuses allow_pickle", run("--no-code"), 2, ("s.yaml", "allow_pickle", "--no-code")),
    Case("data file missing", run(), 2, ("nope.de",)),
    Case("predictions file missing", run(), 2, ("nope.hyp",)),
    Case("--model not in suite", run("--model", "nobody"), 2, ("s.yaml", "nobody", "models")),
    Case("--limit zero", run("--limit", "0"), 2, ("--limit",)),
    Case("--batch-size negative", run("--batch-size", "-3"), 2, ("--batch-size",)),
    Case("--cache-chunk zero", run("--cache-chunk", "0"), 2, ("--cache-chunk",)),
    Case("--resume with --no-cache", run("--resume", "--no-cache"), 2, ("--resume", "--no-cache")),
    Case("--shard 1/0", run("--shard", "1/0"), 2, ("--shard",)),
    Case("--shard a/b", run("--shard", "a/b"), 2, ("--shard",)),
    Case("--shard 3/3", run("--shard", "3/3"), 2, ("--shard",)),
    Case("--output-dir is a file", ["run", "{tmp}/s.yaml", "--output-dir", "{tmp}/s.yaml"], 2,
         ("s.yaml", "is a file", "output-dir")),
    Case("check: invalid suite", ["check", "{tmp}/s.yaml"], 2, ("s.yaml", "models[0].adapter")),
    Case("check: missing suite", ["check", "{tmp}/s.yaml"], 2, ("s.yaml", "not found")),
]
SUITES: dict[str, Any] = {
    "suite missing": None,
    "suite empty": "",
    "suite random bytes": bytes(range(256)) * 4,
    "suite not yaml": "name: [unclosed\n  - : :",
    "suite is a list": "- a\n- b\n",
    "suite unknown key": suite(modles=[]),
    "suite bad name": suite(name="../x"),
    "suite no models": suite(models=None),
    "suite models not list": suite(models={"adapter": "predictions"}),
    "suite models empty": suite(models=[]),
    "suite unknown adapter": suite(models=[{"adapter": "predictons"}]),
    "suite unknown loader": suite(dataset={"loader": "transation"}),
    "suite unknown metric": suite(metrics=["bleuu"]),
    "suite unknown metric option": suite(task="captions", dataset={"loader": "coco-captions",
                                                                     "annotation_file": "x.json"},
                                         models=[{"adapter": "predictions", "path": "p.json"}],
                                         metrics=[{"name": "cider", "sigam": 3}]),
    "suite adapter of another task": suite(models=[{"adapter": "timm", "name": "resnet18"}]),
    "suite loader of another task": suite(dataset={"loader": "imagenet", "root": "."}),
    "suite duplicate labels": suite(models=[{"adapter": "predictions", "label": "a", "path": "x"},
                                            {"adapter": "predictions", "label": "a", "path": "y"}]),
    "suite duplicate evaluations": yaml.safe_dump({"name": "h", "evaluations": [
        yaml.safe_load(suite(name="e")), yaml.safe_load(suite(name="e"))]}),
    "suite evaluations empty": yaml.safe_dump({"name": "h", "evaluations": []}),
    "suite evaluations not list": yaml.safe_dump({"name": "h", "evaluations": {"a": 1}}),
    "suite unknown task": suite(task="translatoin"),
    "suite no task": suite(task=None),
    "suite metrics empty": suite(metrics=[]),
    "suite metric keys clash": suite(metrics=["bleu", {"name": "bleu", "tokenize": "char"}]),
    "suite runtime batch_size string": suite(runtime={"batch_size": "x"}),
    "suite runtime batch_size zero": suite(runtime={"batch_size": 0}),
    "suite runtime workers negative": suite(runtime={"workers": -1}),
    "suite runtime precision fp8": suite(runtime={"precision": "fp8"}),
    "suite runtime limit zero": suite(runtime={"limit": 0}),
    "suite runtime prefetch zero": suite(runtime={"prefetch_factor": 0}),
    "suite runtime device int": suite(runtime={"device": 0}),
    "suite runtime ci string": suite(runtime={"ci": "yes"}),
    "suite runtime unknown key": suite(runtime={"batchsize": 2}),
    "suite alias bomb": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
    "suite self-referencing alias": "name: h\nmodels: &m [*m]\n",
    "suite over 1 MiB": "name: h\n" + "# " + "x" * (1 << 20) + "\n",
    "suite factory os.system": suite(task="imagenet", dataset={"loader": "imagenet", "root": "{tmp}"},
                                     models=[{"adapter": "torch", "factory": "os:system", "kwargs": {"command": "true"}}]),
    "suite factory builtins.eval": suite(task="imagenet", dataset={"loader": "imagenet", "root": "{tmp}"},
                                         models=[{"adapter": "torch", "factory": "builtins:eval"}]),
    "suite factory subprocess": suite(task="imagenet", dataset={"loader": "imagenet", "root": "{tmp}"},
                                      models=[{"adapter": "torch", "factory": "subprocess:run"}]),
    "suite factory no colon": suite(task="imagenet", dataset={"loader": "imagenet", "root": "{tmp}"},
                                    models=[{"adapter": "torch", "factory": "mymodels.resnet"}]),
    "suite factory missing module": suite(task="imagenet", dataset={"loader": "imagenet", "root": "{tmp}"},
                                          models=[{"adapter": "torch", "factory": "no_such_module_xyz:make"}]),
    "no-code refuses factory": suite(task="imagenet", dataset={"loader": "imagenet", "root": "{tmp}"},
                                     models=[{"adapter": "torch", "factory": "mymodels:make"}]),
    "no-code refuses trust_remote_code": suite(models=[{"adapter": "hf-seq2seq", "path": "{tmp}",
                                                        "trust_remote_code": True}]),
    "no-code refuses allow_pickle": suite(task="analogy", dataset={"loader": "analogy"},
                                          models=[{"adapter": "keyedvectors", "path": "{tmp}/v.kv",
                                                   "allow_pickle": True}]),
    "data file missing": suite(dataset={"loader": "translation", "reference_file": "{tmp}/nope.de"}),
    "predictions file missing": suite(models=[{"adapter": "predictions", "label": "p", "path": "{tmp}/nope.hyp"}]),
    "check: invalid suite": suite(models=[{"adapter": "nothing"}]),
    "check: missing suite": None,
}


# --- evalkit score -------------------------------------------------------------------------------------------
def npy(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=array.dtype == object)
    return buffer.getvalue()


LOGITS = npy(np.random.default_rng(0).normal(size=(4, 10)).astype(np.float32))
TOPK = ["score", "topk", "--logits", "{tmp}/l.npy", "--labels", "{tmp}/y.txt"]
CASES += [
    Case("topk logits missing", TOPK, 2, ("l.npy", "not found"), {"y.txt": "1\n2\n3\n4\n"}),
    Case("topk logits not npy", TOPK, 2, ("l.npy", ".npy"), {"l.npy": b"hello", "y.txt": "1\n2\n3\n4\n"}),
    Case("topk logits pickled objects", TOPK, 2, ("l.npy",),
         {"l.npy": npy(np.array([{"a": 1}] * 4, dtype=object)), "y.txt": "1\n2\n3\n4\n"}),
    Case("topk logits 3-D", TOPK, 2, ("l.npy", "2-D"), {"l.npy": npy(np.zeros((2, 2, 2))), "y.txt": "1\n"}),
    Case("topk logits NaN", TOPK, 2, ("l.npy", "NaN", "row 1"),
         {"l.npy": npy(np.array([[0.0, 1.0], [np.nan, 0.0]])), "y.txt": "0\n1\n"}),
    Case("topk labels missing", TOPK, 2, ("y.txt", "not found"), {"l.npy": LOGITS}),
    Case("topk labels not integers", TOPK, 2, ("y.txt", "line 2", "integer"), {"l.npy": LOGITS, "y.txt": "1\nx\n3\n4\n"}),
    Case("topk labels out of range", TOPK, 2, ("y.txt", "line 3", "outside"), {"l.npy": LOGITS, "y.txt": "1\n2\n10\n4\n"}),
    Case("topk labels count mismatch", TOPK, 2, ("y.txt", "3 labels for 4 rows"), {"l.npy": LOGITS, "y.txt": "1\n2\n3\n"}),
    Case("topk labels binary", TOPK, 2, ("y.txt", "UTF-8"), {"l.npy": LOGITS, "y.txt": b"\xff\xfe\x00\x01"}),
    Case("topk labels symlink to a system file", TOPK, 2, ("y.txt", "line 1"), {"l.npy": LOGITS},
         setup=lambda tmp: (tmp / "y.txt").symlink_to("/etc/passwd"), absent=("root:x", "/bin/")),
    Case("topk class subset label outside it", [*TOPK, "--class-subset", "imagenet-a"], 2, ("y.txt", "line 1"),
         {"l.npy": npy(np.zeros((1, 1000), np.float32)), "y.txt": "0\n"}),
]
REAL = ["score", "real-topk", "--logits", "{tmp}/l.npy", "--files", "{tmp}/f.txt"]
REAL_LOGITS = npy(np.zeros((2, 1000), np.float32))
CASES += [
    Case("real-topk file list shorter", REAL, 2, ("f.txt", "1 file names for 2 rows"),
         {"l.npy": REAL_LOGITS, "f.txt": "ILSVRC2012_val_00000001.JPEG\n"}),
    Case("real-topk file list names another file", REAL, 2, ("f.txt", "line 2"),
         {"l.npy": REAL_LOGITS, "f.txt": "ILSVRC2012_val_00000001.JPEG\n\x1b[31mred.jpg\n"}, absent=("\x1b[31m",)),
    Case("real-topk labels file missing", [*REAL[:4], "--real-labels", "{tmp}/none.json"], 2, ("none.json", "not found"),
         {"l.npy": REAL_LOGITS}),
]

REF = "{tmp}/ref.txt"
BLEU = ["score", "bleu", "--ref", REF, "--hyp", "{tmp}/hyp.txt"]
CASES += [
    Case("bleu ref missing", BLEU, 2, ("ref.txt",), {"hyp.txt": "a b\n"}),
    Case("bleu hyp missing", BLEU, 2, ("hyp.txt",), {"ref.txt": "a b\n"}),
    Case("bleu line counts differ", BLEU, 2, ("hyp.txt", "lines"), {"ref.txt": "a\nb\nc\n", "hyp.txt": "a\nb\n"}),
    Case("bleu hyp not UTF-8", BLEU, 2, ("hyp.txt", "UTF-8"), {"ref.txt": "a b\n", "hyp.txt": b"\xff\xfe a\n"}),
    Case("bleu ref not UTF-8", BLEU, 2, ("ref.txt", "UTF-8"), {"ref.txt": b"a\x80b\n", "hyp.txt": "a b\n"}),
    Case("bleu bad tokenizer", [*BLEU, "--tokenize", "nonsense"], 2, ("nonsense",),
         {"ref.txt": "a b\n", "hyp.txt": "a b\n"}),
]

ANN = [{"question_id": 1, "image_id": 1, "question_type": "what", "answer_type": "other",
        "multiple_choice_answer": "a", "answers": [{"answer": "a", "answer_id": k + 1} for k in range(10)]}]
QUESTIONS = {"questions": [{"question_id": 1, "image_id": 1, "question": "what?"}]}
VQA = ["score", "vqa", "--annotations", "{tmp}/a.json", "--questions", "{tmp}/q.json", "--pred", "{tmp}/p.json"]
GOOD_VQA = {"a.json": json.dumps({"annotations": ANN}), "q.json": json.dumps(QUESTIONS)}
CASES += [
    Case("vqa annotations missing", VQA, 2, ("a.json",), {"q.json": GOOD_VQA["q.json"], "p.json": "[]"}),
    Case("vqa annotations not JSON", VQA, 2, ("a.json", "JSON"), {**GOOD_VQA, "a.json": "{", "p.json": "[]"}),
    Case("vqa annotations a list", VQA, 2, ("a.json",), {**GOOD_VQA, "a.json": "[]", "p.json": "[]"}),
    Case("vqa answers missing", VQA, 2, ("a.json", "answers"),
         {**GOOD_VQA, "a.json": json.dumps({"annotations": [{**ANN[0], "answers": None}]}), "p.json": "[]"}),
    Case("vqa results an object", VQA, 2, ("p.json",), {**GOOD_VQA, "p.json": json.dumps({"question_id": 1})}),
    Case("vqa result without question_id", VQA, 2, ("p.json", "question_id"),
         {**GOOD_VQA, "p.json": json.dumps([{"answer": "a"}])}),
    Case("vqa answer not a string", VQA, 2, ("p.json", "answer"),
         {**GOOD_VQA, "p.json": json.dumps([{"question_id": 1, "answer": 3}])}),
    Case("vqa unknown question", VQA, 2, ("p.json", "question_id"),
         {**GOOD_VQA, "p.json": json.dumps([{"question_id": 1, "answer": "a"}, {"question_id": 9, "answer": "a"}])}),
    Case("vqa missing result", VQA, 2, ("question_id 1",), {**GOOD_VQA, "p.json": "[]"}),
    Case("vqa duplicate result", VQA, 2, ("p.json", "question_id"),
         {**GOOD_VQA, "p.json": json.dumps([{"question_id": 1, "answer": "a"}] * 2)}),
    Case("vqa results not UTF-8", VQA, 2, ("p.json",), {**GOOD_VQA, "p.json": b"[\xff]"}),
]

CIDER = ["score", "cider", "--refs", "{tmp}/r.json", "--pred", "{tmp}/p.json"]
REFS = json.dumps({"1": ["a dog runs", "a dog is running"], "2": ["a cat sits"]})
CASES += [
    Case("cider refs missing", CIDER, 2, ("r.json",), {"p.json": "[]"}),
    Case("cider refs not JSON", CIDER, 2, ("r.json",), {"r.json": "{", "p.json": "[]"}),
    Case("cider results an object", CIDER, 2, ("p.json",), {"r.json": REFS, "p.json": "{}"}),
    Case("cider caption not a string", CIDER, 2, ("p.json", "caption"),
         {"r.json": REFS, "p.json": json.dumps([{"image_id": 1, "caption": 5}, {"image_id": 2, "caption": "a"}])}),
    Case("cider unknown image", CIDER, 2, ("p.json",),
         {"r.json": REFS, "p.json": json.dumps([{"image_id": 1, "caption": "a"}, {"image_id": 2, "caption": "b"},
                                               {"image_id": 7, "caption": "c"}])}),
    Case("cider references empty", CIDER, 2, ("r.json",),
         {"r.json": json.dumps({"1": []}), "p.json": json.dumps([{"image_id": 1, "caption": "a"}])}),
]

GT = {"images": [{"id": 1, "height": 20, "width": 30}], "categories": [{"id": 1, "name": "thing"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 10, 10], "area": 100, "iscrowd": 0,
                       "segmentation": [[2, 2, 12, 2, 12, 12, 2, 12]]}]}


def box(**change: Any) -> str:
    return json.dumps([{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [2, 2, 10, 10], **change}])


BBOX = ["score", "coco-bbox", "--gt", "{tmp}/gt.json", "--pred", "{tmp}/p.json"]
SEGM = ["score", "coco-segm", "--gt", "{tmp}/gt.json", "--pred", "{tmp}/p.json"]
GOOD_GT = {"gt.json": json.dumps(GT)}
CASES += [
    Case("coco gt missing", BBOX, 2, ("gt.json",), {"p.json": box()}),
    Case("coco gt not JSON", BBOX, 2, ("gt.json",), {"gt.json": "{", "p.json": box()}),
    Case("coco gt without images", BBOX, 2, ("gt.json", "images"),
         {"gt.json": json.dumps({**GT, "images": None}), "p.json": box()}),
    Case("coco results an object", BBOX, 2, ("p.json", "list"), {**GOOD_GT, "p.json": json.dumps({"image_id": 1})}),
    Case("coco result without image_id", BBOX, 2, ("p.json", "image_id"),
         {**GOOD_GT, "p.json": json.dumps([{"category_id": 1, "score": 1.0, "bbox": [0, 0, 1, 1]}])}),
    Case("coco unknown image", BBOX, 2, ("p.json", "image_id"), {**GOOD_GT, "p.json": box(image_id=5)}),
    Case("coco unknown category", BBOX, 2, ("p.json", "category_id"), {**GOOD_GT, "p.json": box(category_id=5)}),
    Case("coco NaN score", BBOX, 2, ("p.json", "score"), {**GOOD_GT, "p.json": box(score=float("nan"))}),
    Case("coco score a string", BBOX, 2, ("p.json", "score"), {**GOOD_GT, "p.json": box(score="high")}),
    Case("coco negative box width", BBOX, 2, ("p.json", "bbox", ">= 0"), {**GOOD_GT, "p.json": box(bbox=[2, 2, -5, 10])}),
    Case("coco negative box height", BBOX, 2, ("p.json", "bbox", ">= 0"), {**GOOD_GT, "p.json": box(bbox=[2, 2, 5, -1])}),
    Case("coco box area overflows", BBOX, 2, ("p.json", "bbox", "finite area"),
         {**GOOD_GT, "p.json": box(bbox=[0, 0, 1e308, 1e308])}),
    Case("coco box of 3 numbers", BBOX, 2, ("p.json", "bbox"), {**GOOD_GT, "p.json": box(bbox=[1, 2, 3])}),
    Case("coco box of strings", BBOX, 2, ("p.json", "bbox"), {**GOOD_GT, "p.json": box(bbox=["a", 1, 2, 3])}),
    Case("coco box infinite", BBOX, 2, ("p.json", "bbox"), {**GOOD_GT, "p.json": box(bbox=[0, 0, float("inf"), 1])}),
    Case("coco polygon odd coordinates", SEGM, 2, ("p.json", "segmentation", "pairs"),
         {**GOOD_GT, "p.json": json.dumps([{"image_id": 1, "category_id": 1, "score": 0.9,
                                           "segmentation": [[2, 2, 12, 2, 12, 12, 2]]}])}),
    Case("coco RLE of another size", SEGM, 2, ("p.json", "segmentation"),
         {**GOOD_GT, "p.json": json.dumps([{"image_id": 1, "category_id": 1, "score": 0.9,
                                           "segmentation": {"size": [5, 5], "counts": "abc"}}])}),
    Case("coco RLE counts garbage", SEGM, 2, ("p.json", "segmentation"),
         {**GOOD_GT, "p.json": json.dumps([{"image_id": 1, "category_id": 1, "score": 0.9,
                                           "segmentation": {"size": [20, 30], "counts": "~~~~~~"}}])}),
    Case("coco segm without segmentation", SEGM, 2, ("p.json", "segmentation"),
         {**GOOD_GT, "p.json": json.dumps([{"image_id": 1, "category_id": 1, "score": 0.9}])}),
    Case("coco bad engine", [*BBOX, "--engine", "magic"], 2, ("magic",), {**GOOD_GT, "p.json": box()}),
]

VEC = ["score", "analogy", "--vectors", "{tmp}/v.txt", "--format", "word2vec", "--questions", "{tmp}/q.txt"]
VECB = ["score", "analogy", "--vectors", "{tmp}/v.bin", "--format", "word2vec-binary", "--questions", "{tmp}/q.txt"]
QWORDS = ": capital\nparis france rome italy\n"
CASES += [
    Case("vectors missing", VEC, 2, ("v.txt",), {"q.txt": QWORDS}),
    Case("vectors zero bytes", VECB, 2, ("v.bin", "header"), {"q.txt": QWORDS, "v.bin": b""}),
    Case("vectors zero-filled", VECB, 2, ("v.bin", "header"), {"q.txt": QWORDS, "v.bin": bytes(4096)}),
    Case("vectors header promises 10^11 rows", VECB, 2, ("v.bin", "header", "promises"),
         {"q.txt": QWORDS, "v.bin": b"100000000000 300\n" + b"w " + bytes(1200)}),
    Case("vectors text header promises 10^11 rows", VEC, 2, ("v.txt", "header", "promises"),
         {"q.txt": QWORDS, "v.txt": "100000000000 3\nparis 1 2 3\n"}),
    Case("vectors header not numbers", VEC, 2, ("v.txt", "header"), {"q.txt": QWORDS, "v.txt": "three 3\n"}),
    Case("vectors NaN row", VEC, 2, ("v.txt", "france", "NaN"),
         {"q.txt": QWORDS, "v.txt": "2 2\nparis 1 2\nfrance nan 1\n"}),
    Case("vectors infinite row", VEC, 2, ("v.txt", "france", "infinite"),
         {"q.txt": QWORDS, "v.txt": "2 2\nparis 1 2\nfrance inf 1\n"}),
    Case("vectors all-zero row", VEC, 2, ("v.txt", "paris", "zeros"),
         {"q.txt": QWORDS, "v.txt": "2 2\nparis 0 0\nfrance 1 1\n"}),
    Case("vectors short row", VEC, 2, ("v.txt", "vector"), {"q.txt": QWORDS, "v.txt": "2 3\nparis 1 2 3\nrome 1\n"}),
    Case("vectors word not UTF-8", VEC, 2, ("v.txt", "UTF-8"), {"q.txt": QWORDS, "v.txt": b"1 2\n\xff\xfe 1 2\n"}),
    Case("vectors a pickle refused", ["score", "analogy", "--vectors", "{tmp}/v.kv", "--questions", "{tmp}/q.txt"], 2,
         ("v.kv", "allow_pickle"), {"q.txt": QWORDS, "v.kv": b"\x80\x04K\x01."}),
    Case("questions missing", VEC, 2, ("q.txt",), {"v.txt": "1 2\nparis 1 2\n"}),
    Case("questions all malformed", VEC, 2, ("q.txt", "no analogy questions", "line 2"),
         {"v.txt": "1 2\nparis 1 2\n", "q.txt": ": s\na b c\n"}),
    Case("unknown vectors format", [*VEC[:5], "nonsense", *VEC[6:]], 2, ("nonsense",),
         {"q.txt": QWORDS, "v.txt": "1 2\nparis 1 2\n"}),
]

# --- merge and rescore ---------------------------------------------------------------------------------------
CASES += [
    Case("merge garbage", ["merge", "{tmp}/x.part.json.gz", "--output-dir", "{tmp}/out"], 2, ("x.part.json.gz",),
         {"x.part.json.gz": b"\x1f\x8b broken"}),
    Case("merge plain JSON", ["merge", "{tmp}/x.part.json.gz", "--output-dir", "{tmp}/out"], 2, ("x.part.json.gz",),
         {"x.part.json.gz": gzip.compress(b"[1, 2]")}),
    Case("merge wrong schema", ["merge", "{tmp}/x.part.json.gz", "--output-dir", "{tmp}/out"], 2,
         ("x.part.json.gz", "schema"), {"x.part.json.gz": gzip.compress(b'{"schema": "other/1"}')}),
    Case("merge missing file", ["merge", "{tmp}/none.part.json.gz", "--output-dir", "{tmp}/out"], 2, ("none.part.json.gz",)),
    Case("merge without checksum", ["merge", "{tmp}/x.part.json.gz", "--output-dir", "{tmp}/out"], 2,
         ("x.part.json.gz", "sha256"),
         {"x.part.json.gz": gzip.compress(json.dumps({"schema": "evalkit.part/2", "shard": [0, 1], "run": {},
                                                      "states": [], "timing": {}, "skipped": []}).encode())}),
    Case("rescore not a cache", ["rescore", "{tmp}", "--output-dir", "{tmp}/out"], 2, ("run.json",)),
    Case("rescore run.json garbage", ["rescore", "{tmp}/c", "--output-dir", "{tmp}/out"], 2, ("run.json",),
         {"c/run.json": "{"}),
    Case("rescore wrong schema", ["rescore", "{tmp}/c", "--output-dir", "{tmp}/out"], 2, ("run.json", "schema"),
         {"c/run.json": json.dumps({"schema": "x"})}),
    Case("rescore unfinished run", ["rescore", "{tmp}/c", "--output-dir", "{tmp}/out"], 2, ("run.json", "complete"),
         {"c/run.json": json.dumps({"schema": "evalkit.cache/1", "complete": False})}),
    Case("rescore bad metric json", ["rescore", "{tmp}/c", "--metric", "bleu:{x", "--output-dir", "{tmp}/out"], 2,
         ("--metric",), {"c/run.json": "{}"}),
]

# --- more suites, history tables and empty inputs ------------------------------------------------------------
HISTORY = ["leaderboard", "vqa", "--over-years", "--results", "{tmp}/none", "--out", "{tmp}/out",
           "--history", "{tmp}/h.csv"]
HEADER = "year,label,metric,value,kind,status\n"
CASES += [
    Case("suite dataset not a mapping", run(), 2, ("s.yaml", "dataset", "mapping")),
    Case("suite metrics a string", run(), 2, ("s.yaml", "metrics")),
    Case("suite runtime a list", run(), 2, ("s.yaml", "runtime", "mapping")),
    Case("suite evaluation a string", run(), 2, ("s.yaml", "evaluations[0]", "mapping")),
    Case("suite model a number", run(), 2, ("s.yaml", "models[0]", "mapping")),
    Case("history unknown column", HISTORY, 2, ("h.csv", "colour"), {"h.csv": "year,label,metric,value,colour\n"}),
    Case("history value not a number", HISTORY, 2, ("h.csv", "line 2", "value"),
         {"h.csv": HEADER + "2017,x,overall,high,published,confirmed\n"}),
    Case("history year 1900", HISTORY, 2, ("h.csv", "line 2", "year"),
         {"h.csv": HEADER + "1900,x,overall,60,published,confirmed\n"}),
    Case("history unknown status", HISTORY, 2, ("h.csv", "line 2", "status"),
         {"h.csv": HEADER + "2017,x,overall,60,published,rumoured\n"}),
    Case("history missing", HISTORY, 2, ("h.csv",)),
    Case("topk no rows", TOPK, 2, ("l.npy",), {"l.npy": npy(np.zeros((0, 10), np.float32)), "y.txt": ""}),
    Case("bleu empty hypothesis file", BLEU, 2, ("hyp.txt",), {"ref.txt": "a b\n", "hyp.txt": ""}),
    Case("cider no results", CIDER, 2, ("p.json", "no captions"), {"r.json": REFS, "p.json": "[]"}),
    Case("coco gt categories missing", BBOX, 2, ("gt.json", "categories"),
         {"gt.json": json.dumps({**GT, "categories": None}), "p.json": box()}),
    Case("coco results a 1 GiB file of zero bytes", BBOX, 2, ("p.json", "not JSON"), dict(GOOD_GT),
         setup=lambda tmp: os.truncate(_touch(tmp / "p.json"), 1 << 30)),
    Case("coco gt image without size", BBOX, 2, ("gt.json",),
         {"gt.json": json.dumps({**GT, "images": [{"id": 1}]}), "p.json": box()}),
]
SUITES.update({
    "suite dataset not a mapping": suite(dataset=5),
    "suite metrics a string": suite(metrics="bleu"),
    "suite runtime a list": suite(runtime=[1, 2]),
    "suite evaluation a string": yaml.safe_dump({"name": "h", "evaluations": ["wmt"]}),
    "suite model a number": suite(models=[7]),
})


# --- terminal injection: exit 0, but every hostile label reaches the terminal escaped ------------------------
HOSTILE_LABELS = {"NUL": "a\x00b", "colour": "\x1b[31mred\x1b[0m", "rtl override": "abc\u202edef",
                  "newline row": "fake\nuedin  99.0", "bell": "x\x07y", "c1 csi": "x\x9b31my"}


def _touch(path: Path) -> Path:
    path.touch()
    return path


def _image_folder(tmp: Path) -> None:
    from PIL import Image

    folder = tmp / "n01440764"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.JPEG")


def _write(tmp: Path, name: str, content: Any) -> None:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(str(content).replace("{tmp}", str(tmp)), encoding="utf-8")


def _outputs(tmp: Path) -> list[str]:
    out = tmp / "out"
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")) if out.exists() else []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, tmp_path, capsys):
    files = dict(case.files)
    if case.name in SUITES:
        if SUITES[case.name] is not None:
            files["s.yaml"] = SUITES[case.name]
    elif "{tmp}/s.yaml" in case.argv:
        files["s.yaml"] = suite()  # a valid suite: the command line is what is wrong
    if case.name == "suite factory missing module":
        _image_folder(tmp_path)
    for name, content in files.items():
        _write(tmp_path, name, content)
    if case.setup:
        case.setup(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in case.argv]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors (an invalid choice) exit 2 as well
        code = exit_.code
    captured = capsys.readouterr()
    message = captured.err
    assert code == case.exit, f"exit {code}, expected {case.exit}: {message[-800:]}"
    assert "Traceback" not in message and "Traceback" not in captured.out
    lines = [line for line in message.splitlines() if "error:" in line]
    assert len(lines) == 1, f"expected one error line: {message!r}"
    for word in case.words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    for word in case.absent:
        assert word not in message, f"{word!r} leaked into {message!r}"
    assert _outputs(tmp_path) == [], "a failed command wrote into the output folder"


def test_catalogue_is_large_enough():
    assert len(CASES) + len(HOSTILE_LABELS) >= 150


@pytest.mark.parametrize("kind", list(HOSTILE_LABELS))
def test_hostile_labels_reach_the_terminal_escaped(kind, tmp_path, capsys):
    label = HOSTILE_LABELS[kind]
    (tmp_path / "s.yaml").write_text(suite(models=[{"adapter": "predictions", "label": label, "path": str(
        QUICK / "wmt17_en_de/newstest2017.uedin-nmt.4722.en-de.xz")}]))
    assert main(["run", str(tmp_path / "s.yaml"), "--output-dir", str(tmp_path / "out"), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert label not in out
    assert not any(ch in out for ch in "\x00\x1b\u202e\x07\x9b")
    table = out.split("== h ==", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.strip().splitlines() if not line.startswith("signature:")]
    assert len(rows) == 3, "a label must not fake an extra table row"
    written = list((tmp_path / "out").glob("*.json"))
    assert len(written) == 1 and all(".." not in p.name and "/" not in p.name for p in written)


def test_unwritable_output_folder_is_refused_before_running(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root can write into a read-only folder")
    (tmp_path / "s.yaml").write_text(suite())
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["run", str(tmp_path / "s.yaml"), "--output-dir", str(locked / "out")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_internal_errors_are_one_line_and_a_traceback_only_with_debug(tmp_path, capsys, monkeypatch):
    from evalkit import cli

    (tmp_path / "s.yaml").write_text(suite())

    def boom(*args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr("evalkit.runner.run_suite", boom)
    assert cli.main(["run", str(tmp_path / "s.yaml"), "--output-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: something broke" in err and "Traceback" not in err
    assert cli.main(["--debug", "run", str(tmp_path / "s.yaml"), "--output-dir", str(tmp_path / "out")]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_a_full_disk_is_one_line_exit_1_and_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    import errno

    from evalkit import records

    (tmp_path / "s.yaml").write_text(suite())
    real = records.os.replace

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[1]))

    monkeypatch.setattr(records.os, "replace", full)
    assert main(["run", str(tmp_path / "s.yaml"), "--output-dir", str(tmp_path / "out"), "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    monkeypatch.setattr(records.os, "replace", real)
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []  # temp files removed, nothing half-written


def test_check_lists_code_components_and_files(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(suite(task="imagenet", dataset={"loader": "imagenet", "root": str(tmp_path)},
                                           models=[{"adapter": "torch", "factory": "mymodels.nets:make",
                                                    "checkpoint": "w.pth"}]))
    assert main(["check", str(tmp_path / "s.yaml"), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["code"] == [{"field": "models[0].factory", "value": "mymodels.nets:make",
                                "effect": "imports and calls this function", "module_file": None}]
    assert {c["field"]: c["from"].split(" ")[0] for c in listing["components"]} == {
        "dataset": "evalkit", "models[0]": "evalkit", "metrics[0]": "evalkit"}
    assert {f["field"] for f in listing["files"]} == {"dataset.root", "models[0].checkpoint"}
    assert main(["check", str(tmp_path / "s.yaml")]) == 0
    text = capsys.readouterr().out
    assert "valid" in text and "mymodels.nets:make" in text and not (tmp_path / "results").exists()


def test_offline_a_missing_pretrained_weight_says_where_it_looked(tmp_path, capsys, monkeypatch):
    """The README's offline guarantee: nothing is downloaded; a missing weight is exit 2 naming the cache."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    _image_folder(tmp_path)
    (tmp_path / "s.yaml").write_text(suite(task="imagenet", dataset={"loader": "imagenet", "root": str(tmp_path)},
                                           models=[{"adapter": "timm", "name": "resnet18", "pretrained": True}]))
    assert main(["run", str(tmp_path / "s.yaml"), "--output-dir", str(tmp_path / "out"), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "Hugging Face cache" in err and "Traceback" not in err and _outputs(tmp_path) == []
