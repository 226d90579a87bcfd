"""Seeded inputs in torchmetrics' conventions, and the same inputs as the reference tools take them.

Detections exercise COCO's quirks: empty images, crowd targets, given areas, tied scores, more than
100 detections of one category in an image, categories with no ground truth, masks beside boxes.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

WORDS = "a the cat dog sat on mat red blue big small runs under over tree house".split()


def detection_batch(seed: int, n_images: int = 10, size: int = 64) -> tuple[list[dict], list[dict]]:
    """``preds``, ``target`` with xywh float64 boxes and (N, H, W) bool masks; targets carry ``image_id``."""
    rng = np.random.default_rng(seed)
    preds, target = [], []
    image_ids = rng.choice(np.arange(1, 10_000), n_images, replace=False)
    for image_id in image_ids.tolist():
        h, w = int(rng.integers(16, size)), int(rng.integers(16, size))
        n_gt = int(rng.integers(0, 6))
        gt_boxes, gt_masks = _boxes_and_masks(rng, n_gt, h, w)
        labels = rng.integers(0, 4, n_gt)
        area = np.where(rng.random(n_gt) < 0.3, rng.choice([100.0, 1024.0, 5000.0], n_gt), 0.0)
        target.append({"boxes": torch.from_numpy(gt_boxes), "masks": torch.from_numpy(gt_masks),
                       "labels": torch.from_numpy(labels), "iscrowd": torch.from_numpy(rng.random(n_gt) < 0.15),
                       "area": torch.from_numpy(area), "image_id": image_id})
        n_det = int(rng.integers(0, 8)) if rng.random() < 0.9 else 130
        det_boxes, det_masks = _boxes_and_masks(rng, n_det, h, w)
        near = min(n_gt, n_det)
        det_boxes[:near] = gt_boxes[:near] + rng.uniform(-2, 2, (near, 4)) * [1, 1, 0, 0]
        det_masks[:near] = np.roll(gt_masks[:near], int(rng.integers(-2, 3)), axis=2)
        det_labels = np.concatenate([labels[:near], rng.integers(0, 5, n_det - near)])
        scores = rng.choice([0.25, 0.5, 0.75], n_det) if rng.random() < 0.3 else rng.random(n_det)
        preds.append({"boxes": torch.from_numpy(det_boxes), "masks": torch.from_numpy(det_masks),
                      "labels": torch.from_numpy(det_labels), "scores": torch.from_numpy(scores)})
    return preds, target


def _boxes_and_masks(rng: np.random.Generator, n: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.zeros((n, 4))
    masks = np.zeros((n, h, w), bool)
    for i in range(n):
        bw, bh = int(rng.integers(1, w)), int(rng.integers(1, h))
        x, y = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
        boxes[i] = [x + rng.uniform(0, 0.5), y + rng.uniform(0, 0.5), bw * rng.uniform(0.9, 1.5), bh * rng.uniform(0.9, 1.5)]
        masks[i, y:y + bh, x:x + bw] = rng.random((bh, bw)) < 0.9
    return boxes, masks


def coco_reference_inputs(preds: list[dict], target: list[dict], iou_type: str) -> tuple[dict, list[dict]]:
    """The documented meaning of the inputs as a COCO GT dict and results list (what pycocotools reads)."""
    from pycocotools import mask as mask_utils

    def rle(mask: torch.Tensor) -> dict[str, Any]:
        encoded = mask_utils.encode(np.asfortranarray(mask.numpy().astype(np.uint8)))
        return {"size": list(mask.shape), "counts": encoded["counts"].decode()}

    images, anns, results, labels = [], [], [], set()
    for pred, gt in zip(preds, target):
        image = gt["image_id"]
        h, w = gt["masks"].shape[1:] if iou_type == "segm" else (1, 1)
        images.append({"id": image, "height": int(h), "width": int(w)})
        for k, label in enumerate(gt["labels"].tolist()):
            ann = {"id": len(anns) + 1, "image_id": image, "category_id": label, "iscrowd": int(gt["iscrowd"][k])}
            given = float(gt["area"][k])
            if iou_type == "segm":
                ann.update(segmentation=rle(gt["masks"][k]), area=given or float(gt["masks"][k].sum()))
            else:
                box = gt["boxes"][k].tolist()
                ann.update(bbox=box, area=given or box[2] * box[3])
            anns.append(ann)
        for k, label in enumerate(pred["labels"].tolist()):
            shape = {"segmentation": rle(pred["masks"][k])} if iou_type == "segm" else {"bbox": pred["boxes"][k].tolist()}
            results.append({"image_id": image, "category_id": label, "score": float(pred["scores"][k]), **shape})
        labels.update(gt["labels"].tolist(), pred["labels"].tolist())
    return {"images": images, "annotations": anns, "categories": [{"id": c} for c in sorted(labels)]}, results


def pycocotools_stats(gt: dict, results: list[dict], iou_type: str, thresholds: Any = None) -> list[float]:
    """``COCOeval.stats``; ``thresholds``: (IoU, recall) thresholds in place of pycocotools' own."""
    import contextlib
    import copy
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(copy.deepcopy(results)), iou_type)
        if thresholds is not None:
            ev.params.iouThrs, ev.params.recThrs = (np.asarray(t, np.float64) for t in thresholds)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats.tolist()


def sentence(rng: np.random.Generator) -> str:
    return " ".join(rng.choice(WORDS, int(rng.integers(1, 12))).tolist())


def caption_data(seed: int, n: int = 24) -> tuple[list[str], list[list[str]]]:
    """Hypotheses (some copies of a reference, some repeated) and 1-5 references each."""
    rng = np.random.default_rng(seed)
    refs = [[sentence(rng) for _ in range(int(rng.integers(1, 6)))] for _ in range(n)]
    hyps = [r[0] if rng.random() < 0.2 else sentence(rng) + ("." if rng.random() < 0.3 else "") for r in refs]
    return hyps, refs


def vqa_data(seed: int, n: int = 40) -> tuple[list[str], list[list[str]]]:
    """Answers and ten human answers each, with the normalisations the official rules apply."""
    rng = np.random.default_rng(seed)
    pool = ["yes", "no", "2", "two", "red", "a dog", "dog", "the cat", "Cat.", "don't know", "dont know", "3"]
    humans = [rng.choice(pool, 10).tolist() for _ in range(n)]
    return rng.choice(pool, n).tolist(), humans
