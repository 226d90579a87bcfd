"""A COCO results list as flat arrays, with ``COCO.loadRes`` semantics.

loadRes decides from the *first* result whether results are boxes (then every
``area`` is the box's w*h, also for segm) or masks (``area`` is the mask's pixel
count and a missing ``bbox`` is the mask's ``toBbox``). Unknown image or category
ids, NaN scores and masks of the wrong size are errors that name the record.
"""
from __future__ import annotations

import math
import operator
from itertools import chain, repeat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics._coco import rle
from evalkit.metrics._coco.groundtruth import MAX_COORDINATE, GroundTruth, polygon_coordinates_ok

if TYPE_CHECKING:
    from evalkit.formats.coco_scan import ScannedResults


@dataclass
class Detections:
    image: np.ndarray  # index into GroundTruth images
    category: np.ndarray  # index into GroundTruth.category_ids
    score: np.ndarray
    area: np.ndarray
    box: np.ndarray | None  # (n, 4) boxes for bbox IoU
    masks: rle.MaskBuffer | None  # for segm IoU
    file: Any = None
    scanned: bool = True  # masks.area/.box filled for all; else the matching measures the masks it decodes

    def __len__(self) -> int:
        return len(self.score)


def results_use_box_area(results: list[Any]) -> bool:
    """loadRes's branch: boxes when the first result has a non-empty ``bbox``."""
    first = results[0] if results else {}
    return isinstance(first, dict) and "bbox" in first and first["bbox"] != []


class _Checker:
    """Finds and reports the first bad record; only runs once a fast path has failed."""

    def __init__(self, results: list[Any], gt: GroundTruth, file: Any, regions: bool = True):
        self.results, self.gt, self.file, self.regions = results, gt, file, regions

    def fail(self, iou_type: str, box_mode: bool) -> None:
        for i, r in enumerate(self.results):
            if not isinstance(r, dict):
                self.error(i, None, "each result must be a JSON object")
            image = self.require(i, r, "image_id")
            if not _known(image, self.gt.image_index):
                self.error(i, "image_id", f"image id {image!r} is not in the ground truth")
            cat = self.require(i, r, "category_id")
            if not _known(cat, self.gt.category_index):
                self.error(i, "category_id", f"category id {cat!r} is not in the ground truth categories")
            score = self.require(i, r, "score")
            if not _is_number(score) or math.isnan(score):
                self.error(i, "score", f"score must be a finite number, got {score!r}")
            if box_mode or (iou_type == "bbox" and "bbox" in r):
                box = self.require(i, r, "bbox")
                if not isinstance(box, list) or len(box) != 4 or not all(_is_number(v) and math.isfinite(v) for v in box):
                    self.error(i, "bbox", f"bbox must be 4 numbers [x, y, w, h], got {box!r}")
                if box[2] < 0 or box[3] < 0 or not math.isfinite(box[2] * box[3]):
                    self.error(i, "bbox", f"bbox width and height must be >= 0 with a finite area, got {box!r} "
                                          "(pycocotools would give it a negative or infinite area and silently "
                                          "leave it out of every area range)")
            if self.regions and ("segmentation" in r or not box_mode):
                self.check_segmentation(i, r)
        raise InputError("malformed results", file=self.file)

    def check_segmentation(self, i: int, r: dict[str, Any]) -> None:
        segm = self.require(i, r, "segmentation")
        if isinstance(segm, list):
            if not segm or not all(isinstance(p, list) and all(_is_number(v) for v in p) for p in segm):
                self.error(i, "segmentation", "polygons must be a non-empty list of coordinate lists")
            for k, polygon in enumerate(segm):
                if not polygon_coordinates_ok(polygon):
                    self.error(i, f"segmentation[{k}]", f"polygon coordinates must be finite and within "
                                                        f"{MAX_COORDINATE:.0f} pixels")
                if len(polygon) % 2:
                    self.error(i, f"segmentation[{k}]", f"a polygon is x, y pairs; got {len(polygon)} numbers "
                                                        "(pycocotools would silently drop the last one)")
            return
        if not isinstance(segm, dict) or "counts" not in segm or "size" not in segm:
            self.error(i, "segmentation", "segmentation must be polygons or an RLE with 'counts' and 'size'")
        im = self.gt.image_index[_as_int(r["image_id"])]
        h, w = int(self.gt.heights[im]), int(self.gt.widths[im])
        if list(segm["size"]) != [h, w]:
            self.error(i, "segmentation.size", f"mask size {segm['size']} differs from the image's [{h}, {w}]")
        if not isinstance(segm["counts"], (str, bytes, list)):
            self.error(i, "segmentation.counts", "counts must be a string or a list of run lengths")

    def require(self, i: int, r: dict[str, Any], name: str) -> Any:
        if name not in r:
            self.error(i, name, f"missing {name!r}")
        return r[name]

    def error(self, i: int, field: str | None, message: str) -> None:
        raise InputError(message, file=self.file, record=i, field=field)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_int(v: Any) -> Any:
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _known(value: Any, index: dict[int, int]) -> bool:
    """Whether an id is one of ``index``'s (False for lists and other values that cannot be ids)."""
    return _is_number(value) and _as_int(value) in index


def _ids_to_index(values: list[Any], known: np.ndarray) -> np.ndarray | None:
    """Indices of ``values`` in the sorted id array ``known``; None when any is unknown or not integral."""
    arr = np.asarray(values)
    if arr.shape != (len(values),):  # an id that is a list or an object
        return None
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            return None
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        return None
    order = np.argsort(known, kind="stable")
    pos = np.searchsorted(known[order], arr)
    pos = np.minimum(pos, len(known) - 1)
    if len(known) == 0 or not np.array_equal(known[order][pos], arr):
        return None
    return order[pos]


def parse_results(
    results: Any, gt: GroundTruth, iou_type: str, box_mode: bool | None = None, file: Any = None,
    regions: bool = True,
) -> Detections:
    """Arrays for ``results`` (a list of result dicts); ``box_mode`` defaults to loadRes's choice.

    ``regions=False``: results with neither boxes nor masks (keypoints); area is left 0 for the caller.
    """
    if not isinstance(results, list):
        raise InputError("results must be a JSON list of objects", file=file)
    if box_mode is None:
        box_mode = results_use_box_area(results)
    checker = _Checker(results, gt, file, regions)
    n = len(results)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Detections(empty, empty, np.zeros(0), np.zeros(0), np.zeros((0, 4)), rle.MaskBuffer([]), file)
    try:
        image = _ids_to_index([r["image_id"] for r in results], gt.image_ids)
        category = _ids_to_index([r["category_id"] for r in results], gt.category_ids)
        score = np.array([r["score"] for r in results], np.float64)
        given_box = None
        if box_mode or iou_type == "bbox":
            has_box = box_mode or all(map(operator.contains, results, repeat("bbox")))  # loops in C
            rows = [r["bbox"] for r in results] if has_box else [r.get("bbox", [0, 0, 0, 0]) for r in results]
            if any(len(b) != 4 for b in rows):
                raise ValueError
            given_box = np.fromiter(chain.from_iterable(rows), np.float64, 4 * n).reshape(n, 4)
            if not _boxes_ok(given_box):
                raise ValueError
        else:
            has_box = False
    except (KeyError, TypeError, ValueError):
        checker.fail(iou_type, box_mode)
        raise  # unreachable: fail() raises
    if image is None or category is None or not np.all(np.isfinite(score)):
        checker.fail(iou_type, box_mode)
    masks = None
    if regions and (iou_type == "segm" or not box_mode):
        # with box areas, a mask is only decoded if it meets a ground truth of its image and category
        masks = _masks(results, gt, image, given_box if box_mode else None, checker, iou_type, box_mode)
    provided = None
    if iou_type == "bbox" and not has_box:
        provided = np.array(["bbox" in r for r in results])
    return _assemble(image, category, score, given_box, provided, masks, gt, box_mode, iou_type, file)


def parse_scanned(results: ScannedResults, gt: GroundTruth, iou_type: str, box_mode: bool,
                  file: Any = None) -> Detections | None:
    """:func:`parse_results` of a scanned results file (boxes and RLE masks; ``box_mode`` as the metric
    decided it), or None wherever a check fails or a detection needs the dict reader (a box polygon, a
    missing field): the caller then reads the file with orjson and :func:`parse_results` names the error."""
    from evalkit.formats.coco_scan import BOX, MASK

    has_box = (results.fields & BOX) != 0
    image = _ids_to_index(results.image_id, gt.image_ids)
    category = _ids_to_index(results.category_id, gt.category_ids)
    if image is None or category is None:
        return None
    given_box, provided = None, None
    if box_mode or iou_type == "bbox":
        if box_mode and not np.all(has_box):
            return None
        given_box = np.where(has_box[:, None], results.bbox, 0.0)
        provided = None if np.all(has_box) or iou_type != "bbox" else has_box
        if not _boxes_ok(given_box):
            return None
    masks = None
    if iou_type == "segm" or not box_mode:  # as in parse_results
        heights, widths = gt.heights[image], gt.widths[image]
        if not (np.all(results.fields & MASK) and np.array_equal(results.size[:, 0], heights)
                and np.array_equal(results.size[:, 1], widths)):
            return None
        masks = rle.MaskBuffer.from_spans(results.rle, results.spans)
        if not box_mode:
            _scan_masks(masks, heights, widths, file)
    return _assemble(image, category, results.score, given_box, provided, masks, gt, box_mode, iou_type, file)


def _boxes_ok(boxes: np.ndarray) -> bool:
    """Finite boxes of width and height >= 0 and a finite area."""
    with np.errstate(over="ignore"):
        area_ok = np.isfinite(boxes[:, 2] * boxes[:, 3])
    return bool(np.all(np.isfinite(boxes)) and np.all(boxes[:, 2:] >= 0) and np.all(area_ok))


def _assemble(image: np.ndarray, category: np.ndarray, score: np.ndarray, given_box: np.ndarray | None,
              provided: np.ndarray | None, masks: rle.MaskBuffer | None, gt: GroundTruth, box_mode: bool,
              iou_type: str, file: Any) -> Detections:
    """Areas and boxes by loadRes's rule. ``provided``: which detections gave the ``bbox`` of a bbox
    evaluation in mask mode (None: all)."""
    n = len(score)
    if box_mode:
        area = given_box[:, 2] * given_box[:, 3]
        box = given_box
    elif masks is None:
        area, box = np.zeros(n), None
    else:
        area = masks.area.astype(np.float64)
        box = masks.box.copy()
        if provided is not None:
            box[provided] = given_box[provided]
        elif given_box is not None:
            box = given_box
    return Detections(image, category, score, area, box, masks if iou_type == "segm" else None, file, not box_mode)


def _masks(results: list[Any], gt: GroundTruth, image: np.ndarray, box: np.ndarray | None,
           checker: _Checker, iou_type: str, box_mode: bool) -> rle.MaskBuffer:
    """The masks of all results, with the sizes checked against their images."""
    heights, widths = gt.heights[image], gt.widths[image]
    segs = [r.get("segmentation") for r in results]
    masks = None
    if set(map(type, segs)) <= {dict}:  # every one a dict (the loops in C)
        try:
            counts = list(map(operator.itemgetter("counts"), segs))
            sizes = np.array(list(map(operator.itemgetter("size"), segs)), np.int64)
        except (KeyError, TypeError, ValueError):
            checker.fail(iou_type, box_mode)
        if sizes.shape != (len(segs), 2) or not (np.array_equal(sizes[:, 0], heights) and np.array_equal(sizes[:, 1], widths)):
            checker.fail(iou_type, box_mode)
        if set(map(type, counts)) <= {str}:
            try:
                masks = rle.MaskBuffer.from_strings(counts)
            except UnicodeError:
                masks = None
    if masks is None:
        masks = rle.MaskBuffer(_pieces(segs, heights, widths, box, checker, iou_type, box_mode))
    if not box_mode:
        _scan_masks(masks, heights, widths, checker.file)
    return masks


def _scan_masks(masks: rle.MaskBuffer, heights: np.ndarray, widths: np.ndarray, file: Any) -> None:
    """Pixel area and box of every mask, the first bad string reported with its record."""
    masks.area, masks.box, status = rle.scan(masks.buf, masks.starts, masks.ends, heights, widths, work=len(heights))
    bad = np.flatnonzero(status)
    if len(bad):
        i = int(bad[0])
        raise InputError(rle.STATUS_MESSAGES[int(status[i])], file=file, record=i, field="segmentation.counts")


def _pieces(segs: list[Any], heights: np.ndarray, widths: np.ndarray, box: np.ndarray | None,
            checker: _Checker, iou_type: str, box_mode: bool) -> list[bytes]:
    """Compressed strings for mixed inputs: polygons, box polygons, uncompressed and byte RLEs."""
    pieces: list[bytes] = []
    for i, segm in enumerate(segs):
        h, w = int(heights[i]), int(widths[i])
        if segm is None and box is not None:
            x, y, bw, bh = box[i].tolist()
            segm = [[x, y, x, y + bh, x + bw, y + bh, x + bw, y]]
        try:
            if isinstance(segm, list):
                if any(not isinstance(p, list) or len(p) % 2 or not polygon_coordinates_ok(p) for p in segm):
                    raise ValueError
                pieces.append(rle.polygons_to_rle(segm, h, w))
            elif isinstance(segm, dict) and isinstance(segm.get("counts"), list):
                if list(segm.get("size", [])) != [h, w]:
                    raise ValueError
                pieces.append(rle.uncompressed_to_rle(segm, h, w))
            elif isinstance(segm, dict) and isinstance(segm.get("counts"), (str, bytes)):
                if list(segm.get("size", [])) != [h, w]:
                    raise ValueError
                c = segm["counts"]
                pieces.append(c.encode("utf-8", "surrogatepass") if isinstance(c, str) else c)
            else:
                raise ValueError
        except (ValueError, TypeError, IndexError, KeyError):
            checker.check_segmentation(i, checker.results[i])
            raise InputError("segmentation could not be read", file=checker.file, record=i, field="segmentation")
    return pieces
