"""COCO person keypoints and LVIS workloads near val size, cached on disk beside gen_coco's.

Keypoints (person_keypoints_val2017-like): 5,000 images, ~2.2 people each (a third without labelled
keypoints, 1% crowds), 17 keypoints; 20 detections per image with keypoints and a box, as Keypoint R-CNN
writes them. LVIS (lvis_v1_val-like): 1,203 categories in r/c/f groups, ~12 objects per image from a
long-tailed category distribution, per-image negative and not-exhaustive lists; 300 detections per image
(jittered objects plus background boxes of listed and unlisted categories), boxes or compressed RLE masks.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from gen_coco import H, W, _boxes, _octagon, _write, cache_dir


def make_keypoints(n_images: int = 5000, dets_per_image: int = 20, seed: int = 2017) -> tuple[Path, Path]:
    """Paths of (ground truth, results) JSON files, generated once per size and seed."""
    base = cache_dir() / f"kp_n{n_images}_d{dets_per_image}_s{seed}"
    paths = (base.with_name(base.name + "_gt.json"), base.with_name(base.name + "_res.json"))
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.default_rng(seed)
    images, anns, results = [], [], []
    for image_id in range(1, n_images + 1):
        images.append({"id": image_id, "height": H, "width": W, "file_name": f"{image_id:012d}.jpg"})
        boxes = _boxes(rng, int(rng.poisson(2.2)))
        people = []
        for box in boxes:
            x, y, w, h = box
            labelled = w * h > 1500 and rng.random() < 0.8
            v = rng.choice([0, 1, 2], 17, p=[0.35, 0.1, 0.55]) if labelled else np.zeros(17, np.int64)
            xs, ys = rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17)
            kp = np.stack([np.where(v > 0, np.round(xs), 0), np.where(v > 0, np.round(ys), 0), v], 1)
            crowd = int(rng.random() < 0.01)
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": 1, "iscrowd": crowd,
                         "area": round(float(w * h * rng.uniform(0.4, 0.8)), 2), "bbox": np.round(box, 2).tolist(),
                         "num_keypoints": 0 if crowd else int(np.count_nonzero(v)),
                         "keypoints": kp.astype(int).ravel().tolist()})
            people.append((xs, ys, np.sqrt(w * h)))
        for d in range(dets_per_image):
            if people and d < 3 * len(people):
                xs, ys, scale = people[d % len(people)]
                xs, ys = xs + rng.normal(0, 0.05 * scale, 17), ys + rng.normal(0, 0.05 * scale, 17)
                score = rng.uniform(0.3, 1.0)
            else:
                (x, y, w, h), = _boxes(rng, 1)
                xs, ys, score = rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17), rng.uniform(0, 0.4)
            kp = np.stack([xs, ys, np.ones(17)], 1).round(2)
            results.append({"image_id": image_id, "category_id": 1, "keypoints": kp.ravel().tolist(),
                            "bbox": np.round([xs.min(), ys.min(), np.ptp(xs), np.ptp(ys)], 2).tolist(),
                            "score": round(float(score), 5)})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": 1, "name": "person", "supercategory": "person",
                          "keypoints": [f"k{i}" for i in range(17)]}]}
    for path, data in zip(paths, (gt, results)):
        _write(path, data)
    return paths


def make_lvis(n_images: int = 5000, dets_per_image: int = 300, seed: int = 1203,
              masks: bool = False) -> tuple[Path, Path]:
    """Paths of (ground truth, results) JSON files (results with RLE masks when ``masks``), cached."""
    from pycocotools import mask as mask_utils

    base = cache_dir() / f"lvis_n{n_images}_d{dets_per_image}_s{seed}_{'segm' if masks else 'bbox'}"
    paths = (base.with_name(base.name + "_gt.json"), base.with_name(base.name + "_res.json"))
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.default_rng(seed)
    n_cats = 1203
    weights = 1.0 / np.arange(1, n_cats + 1) ** 1.1
    weights /= weights.sum()
    frequency = np.where(np.arange(n_cats) < 405, "f", np.where(np.arange(n_cats) < 866, "c", "r"))
    images, anns, results = [], [], []
    for image_id in range(1, n_images + 1):
        n_obj = int(rng.poisson(12))
        boxes, cats = _boxes(rng, n_obj), rng.choice(n_cats, n_obj, p=weights) + 1
        present = sorted(set(cats.tolist()))
        absent = np.setdiff1d(rng.choice(n_cats, 12, replace=False) + 1, present)
        images.append({"id": image_id, "height": H, "width": W, "neg_category_ids": absent.tolist(),
                       "not_exhaustive_category_ids": [c for c in present if rng.random() < 0.1]})
        for box, cat in zip(boxes, cats):
            poly = _octagon(rng, box)
            rle = mask_utils.frPyObjects([poly], H, W)[0]
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": int(cat),
                         "area": float(mask_utils.area(rle)), "bbox": mask_utils.toBbox(rle).tolist(),
                         "segmentation": [poly]})
        near = np.repeat(boxes, 5, axis=0)[:dets_per_image] if n_obj else np.zeros((0, 4))
        near = near + rng.normal(0, 0.08, near.shape) * np.repeat(near[:, 2:], 2, axis=1)
        near_cats = np.where(rng.random(len(near)) < 0.15, rng.choice(n_cats, len(near), p=weights) + 1,
                             np.repeat(cats, 5)[: len(near)])
        rest = dets_per_image - len(near)
        listed = np.r_[present, absent].astype(np.int64) if present or len(absent) else np.array([1])
        rest_cats = np.where(rng.random(rest) < 0.7, rng.choice(listed, rest), rng.integers(1, n_cats + 1, rest))
        det_boxes = np.concatenate([near, _boxes(rng, rest)])
        det_cats = np.concatenate([near_cats, rest_cats])
        scores = np.concatenate([rng.uniform(0.3, 1.0, len(near)), rng.uniform(0.0, 0.5, rest)])
        if masks:
            rles = mask_utils.frPyObjects([_octagon(rng, b) for b in det_boxes], H, W)
            det_boxes = mask_utils.toBbox(rles)
        for i, (b, cat, s) in enumerate(zip(det_boxes, det_cats, scores)):
            r = {"image_id": image_id, "category_id": int(cat), "bbox": np.round(b, 2).tolist(), "score": round(float(s), 5)}
            if masks:
                r["segmentation"] = {"size": [H, W], "counts": rles[i]["counts"].decode()}
            results.append(r)
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c + 1, "name": f"category{c + 1}", "frequency": str(frequency[c])} for c in range(n_cats)]}
    for path, data in zip(paths, (gt, results)):
        _write(path, data)
    return paths
