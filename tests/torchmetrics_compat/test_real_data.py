"""Real data fed batch by batch as a training loop feeds it: the cocoapi demo (100 COCO val2014 images, its
fake detections) as tensors, WMT17 en-de, ABSTRACT-50S captions. The published numbers (SOURCES.md of each
data folder), and evalkit's own numbers on the same files, exactly."""
from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchmetrics")
mask_utils = pytest.importorskip("pycocotools.mask")

from evalkit.metrics._coco.summary import STAT_KEYS  # noqa: E402
from evalkit.metrics.coco import coco_evaluate  # noqa: E402
from evalkit.metrics.bleu import bleu  # noqa: E402
from evalkit.metrics.cider import cider_d  # noqa: E402
from evalkit.torchmetrics import BLEU, CiderD, CocoAP  # noqa: E402
from tests.conftest import shared_file  # noqa: E402
from tests.models._cocoeval_stats import PUBLISHED  # noqa: E402

RESULTS = {"segm": "cocoapi_instances_val2014_fakesegm100_results.json",
           "bbox": "cocoapi_instances_val2014_fakebbox100_results.json"}


def demo_files(iou_type: str) -> tuple[dict, list]:
    gt_path, res_path = shared_file("coco_mask", "instances_val2014_100.json"), shared_file("coco_mask", RESULTS[iou_type])
    if not (gt_path.exists() and res_path.exists()):
        pytest.skip("the cocoapi demo files are not in shared/data")
    return json.loads(gt_path.read_text()), json.loads(res_path.read_text())


def as_tensors(gt: dict, results: list, iou_type: str):
    """Per image: ``preds`` and ``target`` dicts (xywh float64 boxes, or bool masks), in image id order."""
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = gt
    coco.createIndex()
    by_image = defaultdict(list)
    for r in results:
        by_image[r["image_id"]].append(r)
    for image_id in sorted(coco.getImgIds()):
        anns = coco.imgToAnns[image_id]
        dets = by_image[image_id]
        image = coco.imgs[image_id]
        target = {"labels": torch.tensor([a["category_id"] for a in anns], dtype=torch.int64),
                  "iscrowd": torch.tensor([a["iscrowd"] for a in anns]),
                  "area": torch.tensor([a["area"] for a in anns], dtype=torch.float64), "image_id": image_id}
        pred = {"labels": torch.tensor([d["category_id"] for d in dets], dtype=torch.int64),
                "scores": torch.tensor([d["score"] for d in dets], dtype=torch.float64)}
        if iou_type == "bbox":
            target["boxes"] = torch.tensor([a["bbox"] for a in anns], dtype=torch.float64).reshape(-1, 4)
            pred["boxes"] = torch.tensor([d["bbox"] for d in dets], dtype=torch.float64).reshape(-1, 4)
        else:
            size = (image["height"], image["width"])
            target["masks"] = torch.from_numpy(np.array([coco.annToMask(a) for a in anns], bool).reshape(-1, *size))
            pred["masks"] = torch.from_numpy(np.array([mask_utils.decode(d["segmentation"]) for d in dets], bool)
                                             .reshape(-1, *size))
        yield pred, target


@pytest.mark.parametrize("iou_type", ["bbox", pytest.param("segm", marks=pytest.mark.slow)])  # segm: ~25 s of masks
def test_cocoapi_demo_through_tensors(iou_type):
    gt, results = demo_files(iou_type)
    metric = CocoAP(iou_type=iou_type, box_format="xywh")
    batch: list = []
    for pair in as_tensors(gt, results, iou_type):
        batch.append(pair)
        if len(batch) == 8:
            metric.update([p for p, _ in batch], [t for _, t in batch])
            batch = []
    metric.update([p for p, _ in batch], [t for _, t in batch])
    out = {k: float(v) for k, v in metric.compute().items()}
    expected = coco_evaluate(gt, results, iou_type)
    assert out == {k: expected[k] for k in STAT_KEYS}
    assert list(out.values()) == pytest.approx(PUBLISHED[iou_type], rel=1e-15, abs=0)


def in_batches(metric, preds: list, target: list, size: int, **named: list) -> dict[str, float]:
    for s in range(0, len(preds), size):
        metric.update(preds[s:s + size], target[s:s + size], **{k: v[s:s + size] for k, v in named.items()})
    return {k: float(v) for k, v in metric.compute().items()}


def test_wmt17_uedin_nmt_bleu(shared_data):
    from evalkit.datasets.translation import read_lines

    ref = read_lines(shared_file("wmt17_en_de", "newstest2017-ende-ref.de"))
    hyp = read_lines(shared_file("wmt17_en_de", "newstest2017.uedin-nmt.4722.en-de"))
    out = in_batches(BLEU(), hyp, [[r] for r in ref], 64)
    assert out["BLEU"] == bleu(hyp, [ref])["BLEU"] == 28.301225088283296  # SOURCES.md: sacrebleu 2.6.0


def test_abstract50s_cider_d(shared_data):
    refs = json.loads(shared_file("captions", "derived_abstract48S_refs_for_candsB_images.json").read_text())
    rows = json.loads(shared_file("captions", "derived_abstract_candsB_member0_results.json").read_text())
    cands = {r["image_id"]: r["caption"] for r in rows}
    keys = list(refs)
    out = in_batches(CiderD(), [cands[k] for k in keys], [refs[k] for k in keys], 32, ids=list(range(len(keys))))
    assert out == cider_d({str(i): refs[k] for i, k in enumerate(keys)}, {str(i): cands[k] for i, k in enumerate(keys)})
    expected = json.loads(shared_file("captions", "computed_pycocoevalcap_scores_abstract.json").read_text())
    assert out["CIDEr"] == pytest.approx(expected["candsB_member0"]["CIDEr-D(pycocoevalcap Cider)"], rel=1e-12)
    assert [out[f"BLEU-{k}"] for k in range(1, 5)] == pytest.approx(expected["candsB_member0"]["Bleu_1..4"], rel=1e-12)
