"""Random LVIS ground truth + results that exercise lvis-api's federated rules, and lvis-api itself as the oracle.

Per image: positive categories (its GT), ``neg_category_ids``, ``not_exhaustive_category_ids``, and results
of categories in neither (dropped); more than 300 results in an image (with ties across the cut), GT and
results of area 0 (dropped by ``get_ann_ids``), GT ``ignore`` flags, GT ids of 0, empty frequency groups,
box-area (first result has a bbox) and mask-area results.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from tests.metrics._coco_cases import _rect_mask, _rle


def make_lvis_case(seed: int, iou_type: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A (ground truth, results) pair lvis-api can evaluate (at least one result)."""
    rng = np.random.default_rng(seed)
    n_cats = int(rng.integers(2, 7))
    cat_ids = sorted(rng.choice(np.arange(1, 40), n_cats, replace=False).tolist())
    freqs = rng.choice(["r", "c", "f"], n_cats, p=[0.2, 0.3, 0.5])
    images = []
    for i in rng.choice(np.arange(1, 1000), int(rng.integers(1, 5)), replace=False):
        images.append({"id": int(i), "height": int(rng.integers(20, 400)), "width": int(rng.integers(20, 400))})
    anns: list[dict[str, Any]] = []
    ids = rng.permutation(400) + (0 if rng.random() < 0.2 else 1)
    for im in images:
        h, w = im["height"], im["width"]
        present = set()
        for _ in range(int(rng.integers(0, 7))):
            bw, bh = rng.uniform(1, w), rng.uniform(1, h)
            x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            cat = int(rng.choice(cat_ids))
            present.add(cat)
            jit = rng.uniform(-0.3, 0.3, 8) * min(bw, bh)
            poly = [x + jit[0], y + jit[1], x + bw + jit[2], y + jit[3], x + bw + jit[4], y + bh + jit[5],
                    x + jit[6], y + bh + jit[7]]
            area = float(bw * bh) if rng.random() < 0.85 else float(rng.choice([0.0, 1024.0, 9216.0]))
            ann = {"id": int(ids[len(anns)]), "image_id": im["id"], "category_id": cat, "area": area,
                   "bbox": [float(x), float(y), float(bw), float(bh)],
                   "segmentation": [[float(np.clip(v, 0, w if k % 2 == 0 else h)) for k, v in enumerate(poly)]]}
            if rng.random() < 0.05:
                ann["ignore"] = 1
            anns.append(ann)
        absent = [c for c in cat_ids if c not in present]
        im["neg_category_ids"] = [c for c in absent if rng.random() < 0.5]
        im["not_exhaustive_category_ids"] = [c for c in present if rng.random() < 0.3]
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"c{c}", "frequency": str(f)} for c, f in zip(cat_ids, freqs)]}
    results: list[dict[str, Any]] = []
    boxes = iou_type == "bbox" or rng.random() < 0.3
    for im in images:
        h, w = im["height"], im["width"]
        mine = [a for a in anns if a["image_id"] == im["id"]]
        n = int(rng.integers(0, 12)) if rng.random() < 0.85 else int(rng.integers(295, 320))
        for _ in range(n):
            if mine and rng.random() < 0.6:
                a = mine[int(rng.integers(len(mine)))]
                x, y, bw, bh = (np.asarray(a["bbox"]) + rng.normal(0, 0.1, 4) * np.r_[a["bbox"][2:], a["bbox"][2:]]).tolist()
                cat = a["category_id"] if rng.random() < 0.85 else int(rng.choice(cat_ids))
            else:
                bw, bh = rng.uniform(0, w / 2), rng.uniform(0, h / 2)
                x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
                cat = int(rng.choice(cat_ids))
            bw, bh = max(bw, 0.0), max(bh, 0.0)
            if rng.random() < 0.03:
                bw = 0.0  # zero area: lvis-api never evaluates it
            score = float(rng.choice([0.3, 0.6])) if rng.random() < 0.3 else float(rng.random())
            r: dict[str, Any] = {"image_id": im["id"], "category_id": cat, "score": score}
            if boxes:
                r["bbox"] = [float(x), float(y), float(bw), float(bh)]
            if iou_type == "segm":
                r["segmentation"] = _rle(_rect_mask(h, w, [x, y, bw, bh]))
            results.append(r)
    if not results:
        r = {"image_id": images[0]["id"], "category_id": cat_ids[0], "score": 0.5, "bbox": [1.0, 1.0, 5.0, 5.0]}
        if iou_type == "segm":
            r["segmentation"] = _rle(_rect_mask(images[0]["height"], images[0]["width"], r["bbox"]))
        results.append(r)
    rng.shuffle(results)
    return gt, results


def lvis_results(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str) -> dict[str, float]:
    """``LVISEval(...).run()``'s results: unmodified lvis-api on copies, with numpy's removed ``np.float``
    alias (lvis-api 0.5.3's accumulate still uses it) put back while it runs."""
    from lvis import LVIS, LVISEval, LVISResults

    logging.getLogger("lvis").setLevel(logging.ERROR)
    added = "float" not in np.__dict__
    if added:
        np.float = float  # type: ignore[attr-defined]
    try:
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
            path = Path(tmp) / "gt.json"
            path.write_text(json.dumps(gt))
            lvis_gt = LVIS(str(path))
            ev = LVISEval(lvis_gt, LVISResults(lvis_gt, copy.deepcopy(results)), iou_type)
            ev.run()
    finally:
        if added:
            del np.float  # type: ignore[attr-defined]
    return {k: float(v) for k, v in ev.results.items()}
