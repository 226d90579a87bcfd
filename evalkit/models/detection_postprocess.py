"""torchvision-style detections → COCO result dicts, the way torchvision's reference evaluation does it.

One function for every detection adapter, so that top-k, mask threshold, resizing and RLE
encoding cannot drift between models.
"""
from __future__ import annotations

from typing import Any, Mapping

from evalkit.errors import InputError

MAX_DETECTIONS = 100
MASK_THRESHOLD = 0.5


def parse_label_map(label_map: Any) -> dict[int, int] | None:
    """``None`` (label == COCO category id, torchvision's 91-index convention), a mapping
    label → category id, or a list whose index is the label."""
    if label_map is None:
        return None
    if isinstance(label_map, list):
        label_map = dict(enumerate(label_map))
    if not isinstance(label_map, Mapping):
        raise InputError(f"label_map must be a mapping label → COCO category id or a list, got "
                         f"{type(label_map).__name__}", field="label_map")
    try:
        return {int(label): int(category) for label, category in label_map.items()}
    except (TypeError, ValueError) as err:
        raise InputError(f"label_map entries must be integers: {err}", field="label_map") from None


def detections_to_coco(
    output: Mapping[str, Any],
    image_id: int,
    input_size: tuple[int, int],
    original_size: tuple[int, int],
    label_map: Mapping[int, int] | None = None,
    max_detections: int = MAX_DETECTIONS,
    mask_threshold: float = MASK_THRESHOLD,
) -> list[dict[str, Any]]:
    """COCO results of one image from a dict of ``boxes`` (x1, y1, x2, y2), ``labels``, ``scores``
    and optionally ``masks`` (N×1×H×W probabilities), all in ``input_size`` (height, width)
    coordinates; results are in ``original_size`` coordinates, at most ``max_detections``
    of them, best score first."""
    import numpy as np
    import torch
    from pycocotools import mask as mask_utils

    scores = output["scores"].detach().float().cpu()
    order = torch.argsort(scores, descending=True, stable=True)[:max_detections]
    scores = scores[order]
    labels = output["labels"].detach().cpu()[order]
    boxes = output["boxes"].detach().float().cpu()[order]
    (in_h, in_w), (out_h, out_w) = input_size, original_size
    if (in_h, in_w) != (out_h, out_w):
        boxes = boxes * torch.tensor([out_w / in_w, out_h / in_h, out_w / in_w, out_h / in_h])
    x1, y1, x2, y2 = boxes.unbind(1)
    xywh = torch.stack((x1, y1, x2 - x1, y2 - y1), dim=1).tolist()
    categories = [_category(int(label), label_map) for label in labels.tolist()]
    results = [
        {"image_id": int(image_id), "category_id": category, "bbox": box, "score": score}
        for category, box, score in zip(categories, xywh, scores.tolist())
    ]
    masks = output.get("masks")
    if masks is not None and len(results):
        masks = masks.detach().float().cpu()[order]
        if masks.dim() == 3:
            masks = masks[:, None]
        if tuple(masks.shape[-2:]) != (out_h, out_w):
            masks = torch.nn.functional.interpolate(masks, size=(out_h, out_w), mode="bilinear",
                                                    align_corners=False)
        binary = (masks[:, 0] > mask_threshold).numpy().astype(np.uint8)
        rles = mask_utils.encode(np.asfortranarray(binary.transpose(1, 2, 0)))
        for result, rle in zip(results, rles):
            result["segmentation"] = {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}
    return results


def _category(label: int, label_map: Mapping[int, int] | None) -> int:
    if label_map is None:
        return label
    try:
        return label_map[label]
    except KeyError:
        raise InputError(f"the model predicted label {label}, which label_map does not map "
                         f"(it maps {sorted(label_map)})", field="label_map") from None
