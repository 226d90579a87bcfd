"""Issue 6's COCO workload at val2017 scale, cached on disk.

5,000 images of 640x480, ~7 instances each (polygons of 1-2 parts, ~1% crowd regions as
uncompressed RLE, as in instances_val2017.json), 80 categories, object sizes log-uniform
so small/medium/large all occur, and 100 detections per image: a few jittered copies of
each object (right category mostly) plus random low-score boxes, masks as compressed RLE
with a ``bbox``, like detectron2's Mask R-CNN output.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

H, W = 480, 640


def cache_dir() -> Path:
    root = Path(os.environ.get("EVALKIT_BENCH_CACHE", Path(tempfile.gettempdir()) / "evalkit-bench"))
    path = root / "coco"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _octagon(rng: np.random.Generator, box: np.ndarray) -> list[float]:
    """A jagged convex-ish polygon filling the box (x, y, w, h), clipped to the image."""
    x, y, w, h = box
    t = np.sort(rng.uniform(0, 2 * np.pi, 8))
    r = rng.uniform(0.75, 1.0, 8)
    px = np.clip(x + w / 2 + np.cos(t) * r * w / 2, 0, W)
    py = np.clip(y + h / 2 + np.sin(t) * r * h / 2, 0, H)
    return np.round(np.stack([px, py], 1).ravel(), 2).tolist()


def _boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    w = np.exp(rng.uniform(np.log(6), np.log(500), n))
    h = np.clip(w * np.exp(rng.normal(0, 0.4, n)), 4, H)
    w = np.clip(w, 4, W)
    return np.stack([rng.uniform(0, W - w), rng.uniform(0, H - h), w, h], 1)


def _write(path: Path, data) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def make_coco(n_images: int = 5000, dets_per_image: int = 100, seed: int = 2017) -> tuple[Path, Path, Path]:
    """Paths of (ground truth, segm results, bbox results) JSON files, generated once per size and seed."""
    from pycocotools import mask as mask_utils

    base = cache_dir() / f"n{n_images}_d{dets_per_image}_s{seed}"
    paths = (base.with_name(base.name + "_gt.json"), base.with_name(base.name + "_segm.json"),
             base.with_name(base.name + "_bbox.json"))
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.default_rng(seed)
    images, anns, segm, bbox = [], [], [], []
    for image_id in range(1, n_images + 1):
        images.append({"id": image_id, "height": H, "width": W, "file_name": f"{image_id:012d}.jpg"})
        n_obj = int(rng.poisson(7))
        boxes, cats = _boxes(rng, n_obj), rng.integers(1, 81, n_obj)
        for box, cat in zip(boxes, cats):
            crowd = rng.random() < 0.01
            parts = [_octagon(rng, box)] + ([_octagon(rng, box * [1, 1, 0.5, 0.5])] if rng.random() < 0.3 else [])
            rle = mask_utils.merge(mask_utils.frPyObjects(parts, H, W))
            if crowd:
                m = mask_utils.decode(rle).ravel(order="F")
                change = np.flatnonzero(np.diff(np.r_[0, m, 1 - m[-1]]))
                segmentation = {"counts": np.diff(np.r_[0, change]).tolist(), "size": [H, W]}
            else:
                segmentation = parts
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": int(cat), "iscrowd": int(crowd),
                         "area": float(mask_utils.area(rle)), "bbox": mask_utils.toBbox(rle).tolist(),
                         "segmentation": segmentation})
        near = np.repeat(boxes, 5, axis=0)[:dets_per_image] if n_obj else np.zeros((0, 4))
        near_cats = np.repeat(cats, 5)[: len(near)]
        near = near + rng.normal(0, 0.08, near.shape) * np.repeat(near[:, 2:], 2, axis=1)
        swap = rng.random(len(near)) < 0.15
        near_cats = np.where(swap, rng.integers(1, 81, len(near)), near_cats)
        rest = dets_per_image - len(near)
        det_boxes = np.concatenate([near, _boxes(rng, rest)])
        det_cats = np.concatenate([near_cats, rng.integers(1, 81, rest)])
        scores = np.concatenate([rng.uniform(0.3, 1.0, len(near)), rng.uniform(0.0, 0.5, rest)])
        polys = [_octagon(rng, b) for b in det_boxes]
        rles = mask_utils.frPyObjects(polys, H, W)
        det_bbox = mask_utils.toBbox(rles)
        for rle, b, cat, s in zip(rles, det_bbox, det_cats, scores):
            common = {"image_id": image_id, "category_id": int(cat), "bbox": np.round(b, 2).tolist(),
                      "score": round(float(s), 5)}
            segm.append({**common, "segmentation": {"size": [H, W], "counts": rle["counts"].decode()}})
            bbox.append(common)
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"category{c}", "supercategory": "thing"} for c in range(1, 81)]}
    for path, data in zip(paths, (gt, segm, bbox)):
        _write(path, data)
    return paths
