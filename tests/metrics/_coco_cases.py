"""Random COCO ground truth + results that exercise pycocotools' quirks, built from a seed.

Crowd regions (compressed and uncompressed RLE), GT ids of 0, empty images, categories
with no GT or no detections, tied scores, more than 100 detections in one image and
category, tiny and huge boxes, box-area (first result has a bbox) and mask-area modes.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


def _rect_mask(h: int, w: int, box: list[float]) -> np.ndarray:
    m = np.zeros((h, w), np.uint8, order="F")
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    x1, y1 = min(int(np.ceil(box[0] + box[2])), w), min(int(np.ceil(box[1] + box[3])), h)
    m[y0:y1, x0:x1] = 1
    return m


def _rle(m: np.ndarray, compressed: bool = True) -> dict[str, Any]:
    enc = mask_utils.encode(np.asfortranarray(m))
    if compressed:
        return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": enc["counts"].decode()}
    flat = m.flatten(order="F")
    runs, value, n = [], 0, 0
    for px in flat:
        if px != value:
            runs.append(n)
            value, n = px, 0
        n += 1
    runs.append(n)
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": [int(r) for r in runs]}


def make_case(seed: int, iou_type: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A (ground truth, results) pair pycocotools can evaluate (at least one result)."""
    rng = np.random.default_rng(seed)
    n_images = int(rng.integers(1, 5))
    n_cats = int(rng.integers(1, 5))
    cat_ids = sorted(rng.choice(np.arange(1, 30), n_cats, replace=False).tolist())
    images = [{"id": int(i), "height": int(rng.integers(8, 120)), "width": int(rng.integers(8, 120))}
              for i in rng.choice(np.arange(1, 1000), n_images, replace=False)]
    anns: list[dict[str, Any]] = []
    ids = rng.permutation(200) + (0 if rng.random() < 0.3 else 1)
    for im in images:
        h, w = im["height"], im["width"]
        for _ in range(int(rng.integers(0, 7))):
            bw, bh = rng.uniform(0.5, w), rng.uniform(0.5, h)
            x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            crowd = rng.random() < 0.15
            area_kind = rng.random()
            area = float(bw * bh) if area_kind < 0.6 else float(rng.choice([1024.0, 9216.0, 0.0, 20000.0, rng.uniform(0, 15000)]))
            if crowd:
                segm = _rle(_rect_mask(h, w, [x, y, bw, bh]), compressed=rng.random() < 0.5)
            else:
                jit = rng.uniform(-0.3, 0.3, 8) * min(bw, bh)
                pts = [x, y, x + bw, y, x + bw, y + bh, x, y + bh]
                segm = [[float(min(max(p + j, 0), (w if k % 2 == 0 else h))) for k, (p, j) in enumerate(zip(pts, jit))]]
            anns.append({"id": int(ids[len(anns)]), "image_id": im["id"], "category_id": int(rng.choice(cat_ids)),
                         "bbox": [float(x), float(y), float(bw), float(bh)], "area": area,
                         "iscrowd": int(crowd), "segmentation": segm})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"c{c}"} for c in cat_ids]}
    results = _results(rng, gt, iou_type)
    return gt, results


def _results(rng: np.random.Generator, gt: dict[str, Any], iou_type: str) -> list[dict[str, Any]]:
    cat_ids = [c["id"] for c in gt["categories"]]
    det_cats = cat_ids[: max(1, len(cat_ids) - int(rng.integers(0, 2)))]  # sometimes a category gets none
    tie_scores = rng.random() < 0.5
    with_bbox = rng.random() < 0.5 if iou_type == "segm" else True
    out: list[dict[str, Any]] = []
    for im in gt["images"]:
        h, w = im["height"], im["width"]
        own = [a for a in gt["annotations"] if a["image_id"] == im["id"]]
        n = int(rng.integers(0, 12)) if rng.random() > 0.1 else int(rng.integers(95, 130))
        for _ in range(n):
            if own and rng.random() < 0.6:
                g = own[int(rng.integers(len(own)))]
                box = [float(v + rng.normal(0, 0.1 * max(g["bbox"][2], g["bbox"][3]))) for v in g["bbox"]]
                box[2], box[3] = max(box[2], 0.5), max(box[3], 0.5)
                cat = g["category_id"] if rng.random() < 0.9 else int(rng.choice(det_cats))
            else:
                bw, bh = float(rng.uniform(0.5, w * 1.2)), float(rng.uniform(0.5, h * 1.2))
                box = [float(rng.uniform(-2, w - 1)), float(rng.uniform(-2, h - 1)), bw, bh]
                cat = int(rng.choice(det_cats))
            if cat not in det_cats:
                cat = int(det_cats[0])
            score = float(rng.choice([0.1, 0.5, 0.9])) if tie_scores else float(rng.random())
            r: dict[str, Any] = {"image_id": im["id"], "category_id": cat, "score": score}
            if iou_type == "segm":
                r["segmentation"] = _rle(_rect_mask(h, w, box))
            if with_bbox or (iou_type == "segm" and rng.random() < 0.3):
                r["bbox"] = box
            out.append(r)
    if not out:
        im = gt["images"][0]
        r = {"image_id": im["id"], "category_id": cat_ids[0], "score": 0.5, "bbox": [0.0, 0.0, 3.0, 3.0]}
        if iou_type == "segm":
            r["segmentation"] = _rle(_rect_mask(im["height"], im["width"], r["bbox"]))
        out.append(r)
    out = [out[i] for i in rng.permutation(len(out))]
    if not with_bbox and "bbox" in out[0]:  # loadRes would take boxes from every result
        del out[0]["bbox"]
    return out


def relabel_copies(gt: dict[str, Any], results: list[dict[str, Any]], indices: np.ndarray) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The multiset ``indices`` of images (index into sorted image ids) as distinct images with adjacent new ids."""
    images = sorted(gt["images"], key=lambda im: im["id"])
    new_images, anns, res = [], [], []
    next_ann = 1
    for new_id, i in enumerate(sorted(int(i) for i in indices), start=1):
        old = images[i]
        new_images.append({**old, "id": new_id})
        for a in gt["annotations"]:
            if a["image_id"] == old["id"]:
                anns.append({**copy.deepcopy(a), "image_id": new_id, "id": next_ann if a["id"] != 0 else 0})
                next_ann += 1
        res.extend({**copy.deepcopy(r), "image_id": new_id} for r in results if r["image_id"] == old["id"])
    if res and results and "bbox" not in results[0] and "bbox" in res[0]:
        del res[0]["bbox"]  # keep loadRes's mask-area mode (only segm results ever lack a bbox)
    return {"images": new_images, "annotations": anns, "categories": gt["categories"]}, res
