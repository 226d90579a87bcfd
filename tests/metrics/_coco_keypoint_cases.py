"""Random COCO keypoint ground truth + results that exercise ``computeOks``' and ``evaluateImg``'s quirks.

GT without keypoints (ignored), GT whose keypoints are all unlabelled (OKS against the doubled box), crowds,
GT ids of 0, two categories, more than 20 detections in one image and category, tied scores, integer and
float coordinates, areas across the ranges, and results whose area is their box's (first result has a bbox).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.metrics._coco import summary as acc


def make_keypoint_case(seed: int, k: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]], np.ndarray]:
    """A (ground truth, results, sigmas) triple pycocotools' ``iouType='keypoints'`` can evaluate."""
    rng = np.random.default_rng(seed)
    if k is None:
        k = 17 if rng.random() < 0.6 else int(rng.integers(1, 12))
    sigmas = acc.COCO_KEYPOINT_SIGMAS if k == 17 else rng.uniform(0.02, 0.15, k)
    cat_ids = [1] if rng.random() < 0.6 else [1, 3]
    images = [{"id": int(i), "height": 480, "width": 640} for i in rng.choice(np.arange(1, 500), int(rng.integers(1, 5)),
                                                                           replace=False)]
    ints = rng.random() < 0.3
    ids = rng.permutation(300) + (0 if rng.random() < 0.3 else 1)
    anns: list[dict[str, Any]] = []
    for im in images:
        for _ in range(int(rng.integers(0, 6))):
            w, h = rng.uniform(5, 300), rng.uniform(5, 300)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            xs, ys = rng.uniform(x, x + w, k), rng.uniform(y, y + h, k)
            if ints:
                xs, ys = np.round(xs), np.round(ys)
            v = rng.choice([0, 1, 2], k, p=[0.3, 0.2, 0.5])
            style = rng.random()
            if style < 0.1:
                v[:] = 0
            kp = np.stack([np.where(v > 0, xs, 0), np.where(v > 0, ys, 0), v], 1).ravel()
            num = int(np.count_nonzero(v)) if style < 0.95 else int(rng.integers(1, 5))  # a few inconsistent counts
            area = float(w * h * rng.uniform(0.3, 1.0)) if rng.random() < 0.9 else float(rng.choice([1024.0, 9216.0]))
            anns.append({"id": int(ids[len(anns)]), "image_id": im["id"], "category_id": int(rng.choice(cat_ids)),
                         "bbox": [float(x), float(y), float(w), float(h)], "area": area,
                         "iscrowd": int(rng.random() < 0.08), "num_keypoints": num,
                         "keypoints": [int(t) if ints else float(t) for t in kp]})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"c{c}", "keypoints": [f"k{i}" for i in range(k)]} for c in cat_ids]}
    results: list[dict[str, Any]] = []
    boxes = rng.random() < 0.25
    for im in images:
        mine = [a for a in anns if a["image_id"] == im["id"]]
        n = int(rng.integers(0, 8)) if rng.random() < 0.85 else int(rng.integers(20, 30))
        for _ in range(n):
            if mine and rng.random() < 0.7:
                a = mine[int(rng.integers(len(mine)))]
                base = np.asarray(a["keypoints"], np.float64).reshape(k, 3)
                bx, by, bw, bh = a["bbox"]
                xs = np.where(base[:, 2] > 0, base[:, 0], rng.uniform(bx, bx + bw, k))
                ys = np.where(base[:, 2] > 0, base[:, 1], rng.uniform(by, by + bh, k))
                spread = rng.uniform(0.02, 0.25) * np.sqrt(a["area"])  # OKS across the thresholds
                xs, ys = xs + rng.normal(0, spread, k), ys + rng.normal(0, spread, k)
                cat = a["category_id"] if rng.random() < 0.9 else int(rng.choice(cat_ids))
            else:
                cx, cy = rng.uniform(0, 640), rng.uniform(0, 480)
                xs, ys = cx + rng.normal(0, 30, k), cy + rng.normal(0, 30, k)
                cat = int(rng.choice(cat_ids))
            if ints:
                xs, ys = np.round(xs), np.round(ys)
            kp = np.stack([xs, ys, np.ones(k)], 1).ravel()
            r: dict[str, Any] = {"image_id": im["id"], "category_id": cat,
                                 "keypoints": [int(t) if ints else float(t) for t in kp],
                                 "score": float(rng.choice([0.5, 0.7, 0.9])) if rng.random() < 0.3 else float(rng.random())}
            if boxes:
                r["bbox"] = [float(xs.min()), float(ys.min()), float(np.ptp(xs)), float(np.ptp(ys) * rng.uniform(0.5, 2))]
            results.append(r)
    if not results:
        im = images[0]
        results.append({"image_id": im["id"], "category_id": cat_ids[0], "score": 0.5,
                        "keypoints": [float(t) for t in np.tile([10.0, 20.0, 1.0], k)]})
    return gt, results, sigmas
