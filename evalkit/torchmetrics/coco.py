"""COCO box/mask AP as a ``torchmetrics.Metric``, with ``MeanAveragePrecision``'s inputs and pycocotools' numbers.

``update`` matches each batch at once with evalkit's engine (COCO matches every image on its own),
so the state is the per-image sufficient statistics, not boxes and masks: each kept detection's
category, score, rank and match/ignore bits per IoU threshold, and each image's count of non-ignored
ground truth per category and area range. ``compute`` rebuilds evalkit's ``coco-bbox``/``coco-segm``
state from them and accumulates, which gives the 12 ``COCOeval.stats`` of the whole evaluated set.

Unlike torchmetrics' ``MeanAveragePrecision`` with ``iou_type="segm"``, images whose targets have no
mask stay in the evaluated set (their detections are false positives, as pycocotools counts them).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torchmetrics import Metric as TorchMetric

from evalkit.errors import InputError
from evalkit.metrics._coco.summary import AREA_RANGES
from evalkit.metrics.coco import CocoAP as EvalkitCocoAP, CocoBbox, CocoSegm
from evalkit.metrics.state import MetricState
from evalkit.torchmetrics import _codec

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
#: per-image and per-row states, all gathered by concatenation
STATES = ("image_id", "num_gt_rows", "num_detections", "categories", "gt_category", "gt_npig",
          "det_category", "det_score", "det_rank", "det_match", "det_ignore")


def xywh_boxes(boxes: torch.Tensor, box_format: str) -> list[list[float]]:
    """COCO ``[x, y, w, h]`` boxes, converted in the tensor's dtype as torchvision's ``box_convert`` does."""
    boxes = boxes.detach().reshape(-1, 4)
    if box_format == "cxcywh":
        cx, cy, w, h = boxes.unbind(-1)
        boxes = torch.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)
    if box_format != "xywh":
        x1, y1, x2, y2 = boxes.unbind(-1)
        boxes = torch.stack((x1, y1, x2 - x1, y2 - y1), dim=-1)
    return boxes.cpu().tolist()


def mask_rles(masks: torch.Tensor) -> tuple[list[dict[str, Any]], list[int]]:
    """Compressed COCO RLEs of (N, H, W) masks, nonzero = object (pycocotools' encoder, as
    ``MeanAveragePrecision``), and their pixel counts. numpy, not torch: on a busy machine a torch op's
    thread pool costs more than the work."""
    from pycocotools import mask as mask_utils

    array = masks.detach().cpu().numpy() != 0
    if array.ndim != 3:
        raise InputError(f"masks must be (N, H, W), got shape {tuple(array.shape)}", field="masks")
    if not len(array):
        return [], []
    size = [int(array.shape[1]), int(array.shape[2])]
    encoded = mask_utils.encode(np.asfortranarray(array.transpose(1, 2, 0), dtype=np.uint8))
    return [{"size": size, "counts": e["counts"].decode("ascii")} for e in encoded], \
        np.count_nonzero(array, axis=(1, 2)).tolist()


class CocoAP(TorchMetric):
    """The 12 COCO stats (``AP``, ``AP50`` ... ``ARl``, evalkit's keys) of boxes or masks.

    ``update(preds, target)`` takes torchmetrics ``MeanAveragePrecision``'s lists of dicts, one per image:
    ``preds[i]``: ``boxes`` (N, 4) in ``box_format`` (bbox), ``masks`` (N, H, W) bool (segm), ``scores`` (N,),
    ``labels`` (N,); ``target[i]``: ``boxes`` or ``masks``, ``labels``, optional ``iscrowd`` and ``area``
    (used where > 0; else the box's w*h or the mask's pixel count), and optional ``image_id``.
    Categories are the labels seen. With ``image_id`` on every target, images are ordered by it (as
    pycocotools orders them, which decides ties of scores across images); without, images are numbered
    in the order ``compute`` sees them (after a DDP sync: rank 0's, then rank 1's...).
    ``area`` (segm only): ``auto`` or ``mask``, as evalkit's ``coco-segm``. Every rank must ``update`` at
    least once before a synchronised ``compute``.
    """

    is_differentiable = False
    full_state_update = False
    higher_is_better = True

    def __init__(self, iou_type: str = "bbox", box_format: str = "xyxy", area: str = "auto", **kwargs: Any):
        super().__init__(**kwargs)
        if iou_type not in ("bbox", "segm"):
            raise ValueError(f"iou_type must be 'bbox' or 'segm', not {iou_type!r}")
        if box_format not in BOX_FORMATS:
            raise ValueError(f"box_format must be one of {BOX_FORMATS}, not {box_format!r}")
        self.iou_type, self.box_format = iou_type, box_format
        self.evalkit_options = {"area": area} if iou_type == "segm" else {}
        self.new_metric()  # a bad option fails here
        # states named per IoU type: MetricCollection's compute groups share the states of metrics whose
        # states are equal after the first batch, which a box and a mask metric must never do
        for name in STATES:
            self.add_state(self._state_name(name), default=[], dist_reduce_fx="cat")

    def _state_name(self, name: str) -> str:
        return f"{self.iou_type}_{name}"

    def new_metric(self, gt: Any = None) -> EvalkitCocoAP:
        return (CocoSegm if self.iou_type == "segm" else CocoBbox)(gt=gt, **self.evalkit_options)

    def update(self, preds: Sequence[dict[str, torch.Tensor]], target: Sequence[dict[str, torch.Tensor]]) -> None:
        if len(preds) != len(target):
            raise ValueError(f"{len(preds)} predictions for {len(target)} targets")
        gt, results = self._batch_as_coco(preds, target)
        metric = self.new_metric(gt)
        metric.add_results(results)
        tables = metric.tables()
        categories = tables.category_ids
        npig = tables.npig.astype(np.int64)  # (images, categories, area ranges)
        det = tables.detections
        order = np.argsort(det["sample"], kind="stable")
        has_gt = npig.any(axis=2)
        image_ids = [t.get("image_id", -1) for t in target]
        self._append(
            image_id=np.array([int(i) for i in image_ids], np.int64),
            num_gt_rows=has_gt.sum(axis=1), num_detections=np.bincount(det["sample"], minlength=len(target)),
            categories=categories, gt_category=np.broadcast_to(categories, has_gt.shape)[has_gt],
            gt_npig=npig[has_gt], det_category=categories[det["category"][order]], det_score=det["score"][order],
            det_rank=det["rank"][order], det_match=det["match"][order], det_ignore=det["ignore"][order],
        )

    def _append(self, **values: np.ndarray) -> None:
        for name, array in values.items():
            getattr(self, self._state_name(name)).append(_codec.number_tensor(array).to(self.device))

    def _batch_as_coco(self, preds: Sequence[dict[str, torch.Tensor]], target: Sequence[dict[str, torch.Tensor]]
                       ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The batch as a COCO ground truth (images numbered 0..B-1) and results list."""
        segm = self.iou_type == "segm"
        images, annotations, results, labels = [], [], [], set()
        for b, (pred, gt) in enumerate(zip(preds, target)):
            for where, item in (("preds", pred), ("target", gt)):
                for key in ("masks" if segm else "boxes", "labels") + (("scores",) if where == "preds" else ()):
                    if key not in item:
                        raise InputError(f"{where}[{b}] has no {key!r}", record=b, field=key)
            height, width = (int(gt["masks"].shape[-2]), int(gt["masks"].shape[-1])) if segm else (1, 1)
            images.append({"id": b, "height": height, "width": width})
            gt_labels = gt["labels"].reshape(-1).tolist()
            shapes, pixels = mask_rles(gt["masks"]) if segm else (xywh_boxes(gt["boxes"], self.box_format), None)
            crowd = gt.get("iscrowd", torch.zeros(len(gt_labels))).reshape(-1).tolist()
            area = gt.get("area", torch.zeros(len(gt_labels))).reshape(-1).tolist()
            for k, label in enumerate(gt_labels):
                ann = {"id": len(annotations) + 1, "image_id": b, "category_id": int(label), "iscrowd": int(crowd[k])}
                if segm:
                    ann["segmentation"] = shapes[k]
                    ann["area"] = area[k] if area[k] > 0 else float(pixels[k])
                else:
                    ann["bbox"] = shapes[k]
                    ann["area"] = area[k] if area[k] > 0 else shapes[k][2] * shapes[k][3]
                annotations.append(ann)
            pred_labels = pred["labels"].reshape(-1).tolist()
            shapes = mask_rles(pred["masks"])[0] if segm else xywh_boxes(pred["boxes"], self.box_format)
            for label, score, shape in zip(pred_labels, pred["scores"].reshape(-1).tolist(), shapes):
                results.append({"image_id": b, "category_id": int(label), "score": score,
                                ("segmentation" if segm else "bbox"): shape})
            labels.update(gt_labels, pred_labels)
        categories = [{"id": int(c), "name": str(int(c))} for c in sorted(labels)]
        return {"images": images, "annotations": annotations, "categories": categories}, results

    def evalkit_metric(self) -> EvalkitCocoAP:
        """evalkit's ``coco-bbox``/``coco-segm`` holding every image seen (after the sync, every rank's)."""
        metric = self.new_metric()
        get = {name: _codec.joined(getattr(self, self._state_name(name)), np.float64 if name == "det_score" else np.int64)
               for name in STATES}
        n, A = len(get["image_id"]), len(AREA_RANGES)
        categories = np.unique(get["categories"])
        image_ids = get["image_id"]
        if (image_ids < 0).all():
            image_ids = np.arange(n, dtype=np.int64)
        elif (image_ids < 0).any() or len(np.unique(image_ids)) != n:
            raise InputError("give every target a distinct image_id, or none")
        npig = np.zeros((n, len(categories), A), np.int32)
        gt_image = np.repeat(np.arange(n), get["num_gt_rows"])
        npig[gt_image, np.searchsorted(categories, get["gt_category"])] = get["gt_npig"].reshape(-1, A)
        state = MetricState(metric.state)
        detections = {
            "sample": np.repeat(np.arange(n), get["num_detections"]),
            "category": np.searchsorted(categories, get["det_category"]), "score": get["det_score"],
            "rank": get["det_rank"], "match": get["det_match"].reshape(-1, A), "ignore": get["det_ignore"].reshape(-1, A),
        }
        state.append([str(i) for i in image_ids.tolist()], {"image_id": image_ids, "npig": npig},
                     {"detections": {k: v.astype(metric.state["detections"].fields.get(k, "int64"), copy=False)
                                     for k, v in detections.items()}})
        state.set_shared("category_ids", categories.tolist())
        state.set_shared("category_names", [str(c) for c in categories.tolist()])
        metric.load_state_dict({**metric.state_dict(), "state": state.to_json()})
        return metric

    def compute(self) -> dict[str, torch.Tensor]:
        """The 12 stats as float64 tensors (-1 where pycocotools gives -1)."""
        return {k: torch.tensor(v, dtype=torch.float64) for k, v in self.evalkit_metric().aggregate().items()}
