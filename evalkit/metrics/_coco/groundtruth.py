"""COCO ground truth as flat arrays, read the way ``pycocotools.COCO`` + ``COCOeval._prepare`` read it."""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import InputError
from evalkit.jsonio import parse_json, read_json
from evalkit.metrics._coco import rle
from evalkit.metrics._coco.polygon import polygons_to_strings


def load_json(source: str | Path | bytes) -> Any:
    """A GT or results file (path, possibly compressed) or its bytes."""
    if isinstance(source, bytes):
        return parse_json(source)
    return read_json(source, "COCO JSON file")


#: polygon coordinates beyond this many pixels are refused: rasterising an edge allocates memory in proportion
#: to its length (pycocotools runs out of memory on a coordinate of 1e9), and no image is this large
MAX_COORDINATE = 2.0**20


def polygon_coordinates_ok(values: Any) -> bool:
    """Whether polygon coordinates are finite numbers within ``MAX_COORDINATE`` of the origin."""
    coords = np.asarray(values, np.float64)
    return bool(np.all(np.abs(coords) <= MAX_COORDINATE))  # False for NaN


class GroundTruth:
    """Images, categories and annotations of a COCO instances file.

    Annotations whose image or category is not listed are left out, as pycocotools
    leaves them out; duplicated ids and missing fields are errors.
    """

    def __init__(self, source: str | Path | dict[str, Any]):
        self.file = None if isinstance(source, dict) else str(source)
        data = source if isinstance(source, dict) else load_json(source)
        if not isinstance(data, dict):
            raise InputError("ground truth must be a JSON object with 'images', 'annotations', 'categories'", file=self.file)
        self._data = data
        self._read_images(data)
        self._read_categories(data)
        self._read_annotations(data)
        self._masks: rle.MaskBuffer | None = None
        self._pending: tuple[threading.Thread | None, _MaskJob] | None = None

    def _field(self, section: str, index: int, record: dict[str, Any], name: str) -> Any:
        if not isinstance(record, dict) or name not in record:
            raise InputError(f"{section} entry has no {name!r}", file=self.file, record=f"{section}[{index}]", field=name)
        return record[name]

    def _integer(self, section: str, index: int, record: dict[str, Any], name: str) -> int:
        """An id or size: an integer (or an integral float) that fits in 64 bits."""
        value = self._field(section, index, record, name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not -2**63 <= value < 2**63:
            raise InputError(f"{name!r} must be an integer, got {value!r}", file=self.file,
                             record=f"{section}[{index}]", field=name)
        return value

    def _read_images(self, data: dict[str, Any]) -> None:
        images = data.get("images")
        if not isinstance(images, list):
            raise InputError("missing 'images' list", file=self.file, field="images")
        self.image_ids = np.array([self._integer("images", i, im, "id") for i, im in enumerate(images)], np.int64)
        self.heights = np.array([self._integer("images", i, im, "height") for i, im in enumerate(images)], np.int64)
        self.widths = np.array([self._integer("images", i, im, "width") for i, im in enumerate(images)], np.int64)
        for name, sizes in (("height", self.heights), ("width", self.widths)):
            if len(sizes) and sizes.min() < 1:
                i = int(np.argmin(sizes))
                raise InputError(f"image {name} must be at least 1 pixel, got {sizes[i]}", file=self.file,
                                 record=f"images[{i}]", field=name)
        if len(self.heights) and (self.heights.astype(np.float64) * self.widths).max() >= 2**32:
            i = int(np.argmax(self.heights.astype(np.float64) * self.widths))
            raise InputError(f"image of {self.heights[i]} x {self.widths[i]} pixels: COCO masks (RLE) hold at "
                             "most 2^32 pixels", file=self.file, record=f"images[{i}]", field="height")
        self.image_index: dict[int, int] = {}
        for i, image_id in enumerate(self.image_ids.tolist()):
            if image_id in self.image_index:
                raise InputError(f"image id {image_id} appears twice", file=self.file, record=f"images[{i}]", field="id")
            self.image_index[image_id] = i

    def _read_categories(self, data: dict[str, Any]) -> None:
        cats = data.get("categories")
        if not isinstance(cats, list):
            raise InputError("missing 'categories' list", file=self.file, field="categories")
        ids = [self._integer("categories", i, c, "id") for i, c in enumerate(cats)]
        if len(set(ids)) != len(ids):
            raise InputError("a category id appears twice", file=self.file, field="categories")
        self.category_ids = np.array(sorted(ids), np.int64)
        self.category_index = {c: k for k, c in enumerate(self.category_ids.tolist())}
        self.category_names = {c["id"]: str(c.get("name", c["id"])) for c in cats}

    def _read_annotations(self, data: dict[str, Any]) -> None:
        anns = data.get("annotations", [])
        if not isinstance(anns, list):
            raise InputError("'annotations' must be a list", file=self.file, field="annotations")
        columns = self._plain_annotations(anns)
        keep, img, cat = columns if columns is not None else self._check_annotations(anns)
        self._ann_positions = keep
        kept = [anns[i] for i in keep]
        self.ann_image = np.array(img, np.int64)
        self.ann_category = np.array(cat, np.int64)
        area = _plain_column(kept, "area", (int, float))
        if area is None or np.isnan(area).any():
            area = np.array([self._number(i, a, "area") for i, a in zip(keep, kept)], np.float64)
        self.area = area
        crowd = _plain_column(kept, "iscrowd", (int,))
        if crowd is None:
            crowd = np.array([int(self._flag(i, a, "iscrowd")) for i, a in zip(keep, kept)], np.float64)
        self.iscrowd = crowd != 0
        self.id_nonzero = np.array([a["id"] != 0 for a in kept], np.bool_)
        self._kept = kept
        self._boxes: np.ndarray | None = None
        # per image, annotations ordered by (category, file order), as _gts[img, cat] holds them
        order = np.lexsort((np.arange(len(kept)), self.ann_category, self.ann_image))
        self.sorted_anns = order
        self.image_start = np.searchsorted(self.ann_image[order], np.arange(len(self.image_ids) + 1))

    def _plain_annotations(self, anns: list[Any]) -> tuple[list[int], np.ndarray, np.ndarray] | None:
        """Positions, image and category indices of the annotations of listed images and categories, in bulk
        where every id is a plain integer and no annotation id repeats; None: :meth:`_check_annotations`."""
        ids, images, cats = (_plain_column(anns, name, (int,), np.int64) for name in ("id", "image_id", "category_id"))
        if ids is None or images is None or cats is None or len(np.unique(ids)) != len(ids):
            return None
        im, k = _positions(images, self.image_ids), _positions(cats, self.category_ids)
        keep = np.flatnonzero((im >= 0) & (k >= 0))
        return keep.tolist(), im[keep], k[keep]

    def _check_annotations(self, anns: list[Any]) -> tuple[list[int], list[int], list[int]]:
        """:meth:`_plain_annotations` record by record, naming the first bad one."""
        keep, img, cat = [], [], []
        seen: set[Any] = set()
        for i, a in enumerate(anns):
            ann_id = self._field("annotations", i, a, "id")
            for name in ("id", "image_id", "category_id"):
                value = self._field("annotations", i, a, name)
                if not isinstance(value, (int, float, str)):
                    raise InputError(f"{name!r} must be an integer, got {value!r}", file=self.file,
                                     record=f"annotations[{i}]", field=name)
            if ann_id in seen:
                raise InputError(f"annotation id {ann_id} appears twice", file=self.file, record=f"annotations[{i}]", field="id")
            seen.add(ann_id)
            im = self.image_index.get(self._field("annotations", i, a, "image_id"))
            k = self.category_index.get(self._field("annotations", i, a, "category_id"))
            if im is not None and k is not None:
                keep.append(i)
                img.append(im)
                cat.append(k)
        return keep, img, cat

    def _flag(self, index: int, record: dict[str, Any], name: str) -> Any:
        value = self._field("annotations", index, record, name)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(f"{name!r} must be 0 or 1, got {value!r}", file=self.file, record=f"annotations[{index}]",
                             field=name)
        return value

    def _number(self, index: int, record: dict[str, Any], name: str) -> float:
        value = self._field("annotations", index, record, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
            raise InputError(f"{name!r} must be a number, got {value!r}", file=self.file, record=f"annotations[{index}]", field=name)
        return float(value)

    @property
    def boxes(self) -> np.ndarray:
        """``bbox`` fields ``(n, 4)``, read on first use (the segm metric never needs them)."""
        if self._boxes is None:
            rows = []
            for i, a in zip(self._ann_positions, self._kept):
                box = self._field("annotations", i, a, "bbox")
                if not isinstance(box, (list, tuple)) or len(box) != 4 or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
                    raise InputError("'bbox' must be [x, y, w, h]", file=self.file, record=f"annotations[{i}]", field="bbox")
                rows.append(box)
            self._boxes = np.array(rows, np.float64).reshape(-1, 4)
        return self._boxes

    @property
    def masks(self) -> rle.MaskBuffer:
        """Compressed RLE of every annotation (polygons rasterised pixel-exactly), with area and box."""
        if self._masks is None:
            if self._pending is None:
                self.prefetch_masks(background=False)
            thread, job = self._pending
            if thread is not None:
                thread.join()
            self._pending = None
            self._masks = job.result(self)
        return self._masks

    def prefetch_masks(self, background: bool = True) -> None:
        """Rasterise the masks, in a thread by default: the kernels release the GIL, so a
        results file can be parsed meanwhile. Bad annotations raise here or on ``masks``."""
        if self._masks is not None or self._pending is not None:
            return
        job = self._mask_job()
        thread = threading.Thread(target=job.run, daemon=True) if background else None
        if thread is None:
            job.run()
        else:
            thread.start()
        self._pending = (thread, job)

    def _mask_job(self) -> "_MaskJob":
        """Check every segmentation and prepare the kernel inputs (Python work, under the GIL)."""
        pieces: dict[int, bytes] = {}
        polys: list[int] = []
        for j, (i, a) in enumerate(zip(self._ann_positions, self._kept)):
            segm = self._field("annotations", i, a, "segmentation")
            im = self.ann_image[j]
            h, w = int(self.heights[im]), int(self.widths[im])
            try:
                if isinstance(segm, list) and segm and isinstance(segm[0], list) and len(segm[0]) > 4:
                    if not all(isinstance(part, list) for part in segm):
                        raise TypeError("a polygon is a list of coordinates")
                    polys.append(j)
                elif isinstance(segm, list) and segm:  # frPyObjects reads a first part of 4 numbers as a box
                    if not polygon_coordinates_ok(list(chain.from_iterable(segm))):
                        raise ValueError(f"polygon coordinates must be finite and within {MAX_COORDINATE:.0f} pixels")
                    pieces[j] = rle.polygons_to_rle(segm, h, w)
                elif isinstance(segm, dict) and "counts" in segm and isinstance(segm["counts"], (list, str)):
                    counts = segm["counts"]
                    if isinstance(counts, list):
                        pieces[j] = rle.uncompressed_to_rle(segm, h, w)
                    else:
                        pieces[j] = counts.encode("utf-8", "surrogatepass")
                        if not isinstance(segm.get("size"), list) or segm["size"] != [h, w]:
                            raise InputError(f"mask size {segm.get('size')} differs from the image's [{h}, {w}]",
                                             file=self.file, record=f"annotations[{i}]", field="segmentation.size")
                else:
                    raise InputError("segmentation must be non-empty polygons or an RLE", file=self.file,
                                     record=f"annotations[{i}]", field="segmentation")
            except InputError:
                raise
            except Exception as err:  # pycocotools' frPyObjects raises a bare Exception
                raise InputError(f"segmentation could not be read: {err}", file=self.file,
                                 record=f"annotations[{i}]", field="segmentation") from None
        parts = [part for j in polys for part in self._kept[j]["segmentation"]]
        try:
            coords = np.fromiter(chain.from_iterable(parts), np.float64)
        except (TypeError, ValueError):
            raise InputError("polygon coordinates must be numbers", file=self.file, field="segmentation") from None
        if not polygon_coordinates_ok(coords):
            j = next(j for j in polys if not polygon_coordinates_ok(list(chain.from_iterable(self._kept[j]["segmentation"]))))
            raise InputError(f"polygon coordinates must be finite and within {MAX_COORDINATE:.0f} pixels",
                             file=self.file, record=f"annotations[{self._ann_positions[j]}]", field="segmentation")
        return _MaskJob(
            n=len(self._kept), poly_index=np.asarray(polys, np.int64), coords=coords,
            poly_offsets=np.r_[0, np.cumsum([len(p) for p in parts])].astype(np.int64),
            ann_offsets=np.r_[0, np.cumsum([len(self._kept[j]["segmentation"]) for j in polys])].astype(np.int64),
            pieces=pieces, heights=self.heights[self.ann_image], widths=self.widths[self.ann_image],
        )

    def as_dict(self) -> dict[str, Any]:
        """The parsed JSON (for the pycocotools engine)."""
        return self._data


def _plain_column(records: list[Any], name: str, types: tuple[type, ...], dtype: Any = np.float64) -> np.ndarray | None:
    """``record[name]`` of every record as an array, where each is a value of exactly one of ``types`` (so no
    bool) that fits ``dtype``; None otherwise (a missing field, a string, ...)."""
    try:
        values = [r[name] for r in records]
        if not set(map(type, values)) <= set(types):
            return None
        return np.array(values, dtype)
    except (KeyError, TypeError, IndexError, OverflowError):
        return None


def _positions(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Index in ``ids`` (distinct) of each value, -1 where it is none of them."""
    if len(ids) == 0:
        return np.full(len(values), -1, np.int64)
    order = np.argsort(ids, kind="stable")
    pos = np.minimum(np.searchsorted(ids[order], values), len(ids) - 1)
    return np.where(ids[order][pos] == values, order[pos], -1)


@dataclass
class _MaskJob:
    """Rasterise polygons and scan every mask; runs without the GIL except for small glue."""

    n: int
    poly_index: np.ndarray
    coords: np.ndarray
    poly_offsets: np.ndarray
    ann_offsets: np.ndarray
    pieces: dict[int, bytes]
    heights: np.ndarray
    widths: np.ndarray
    masks: rle.MaskBuffer | None = None
    status: np.ndarray | None = None
    error: BaseException | None = field(default=None, repr=False)

    def run(self) -> None:
        try:
            buf_p, starts_p, ends_p = polygons_to_strings(
                self.coords, self.poly_offsets, self.ann_offsets, self.heights[self.poly_index], self.widths[self.poly_index])
            other = np.fromiter(self.pieces, np.int64, len(self.pieces))
            lengths = np.fromiter((len(p) for p in self.pieces.values()), np.int64, len(self.pieces))
            masks = rle.MaskBuffer([])
            masks.buf = np.concatenate([buf_p, np.frombuffer(b"".join(self.pieces.values()), np.uint8)])
            masks.starts, masks.ends = np.zeros(self.n, np.int64), np.zeros(self.n, np.int64)
            masks.starts[self.poly_index], masks.ends[self.poly_index] = starts_p, ends_p
            other_ends = len(buf_p) + np.cumsum(lengths)
            masks.starts[other], masks.ends[other] = other_ends - lengths, other_ends
            masks.area, masks.box, self.status = rle.scan.serial(masks.buf, masks.starts, masks.ends, self.heights, self.widths)
            self.masks = masks
        except BaseException as exc:  # re-raised in the thread that asks for the masks
            self.error = exc

    def result(self, gt: GroundTruth) -> rle.MaskBuffer:
        if self.error is not None:
            raise self.error
        assert self.masks is not None and self.status is not None
        bad = np.flatnonzero(self.status)
        if len(bad):
            j = int(bad[0])
            raise InputError(rle.STATUS_MESSAGES[int(self.status[j])], file=gt.file,
                             record=f"annotations[{gt._ann_positions[j]}]", field="segmentation")
        return self.masks
