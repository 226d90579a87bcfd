"""COCO ground truth as flat arrays, read the way ``pycocotools.COCO`` + ``COCOeval._prepare`` read it."""
from __future__ import annotations

import gc
import math
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics._coco import rle
from evalkit.metrics._coco.polygon import polygons_to_strings


def load_json(source: str | Path | bytes) -> Any:
    """orjson when present, else the standard library; the cyclic GC is paused meanwhile.

    A results file is millions of fresh dicts and lists: with the GC on, its repeated
    full collections make parsing 3-4x slower, and nothing parsed can be a cycle.
    """
    data = Path(source).read_bytes() if not isinstance(source, bytes) else source
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            import orjson

            return orjson.loads(data)
        except ImportError:
            import json

            return json.loads(data)
    except ValueError as exc:
        raise InputError(f"not valid JSON: {exc}", file=source if not isinstance(source, bytes) else None) from None
    finally:
        if enabled:
            gc.enable()


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

    def _field(self, section: str, index: int, record: dict[str, Any], name: str) -> Any:
        if not isinstance(record, dict) or name not in record:
            raise InputError(f"{section} entry has no {name!r}", file=self.file, record=f"{section}[{index}]", field=name)
        return record[name]

    def _read_images(self, data: dict[str, Any]) -> None:
        images = data.get("images")
        if not isinstance(images, list):
            raise InputError("missing 'images' list", file=self.file, field="images")
        self.image_ids = np.array([self._field("images", i, im, "id") for i, im in enumerate(images)], np.int64)
        self.heights = np.array([self._field("images", i, im, "height") for i, im in enumerate(images)], np.int64)
        self.widths = np.array([self._field("images", i, im, "width") for i, im in enumerate(images)], np.int64)
        self.image_index: dict[int, int] = {}
        for i, image_id in enumerate(self.image_ids.tolist()):
            if image_id in self.image_index:
                raise InputError(f"image id {image_id} appears twice", file=self.file, record=f"images[{i}]", field="id")
            self.image_index[image_id] = i

    def _read_categories(self, data: dict[str, Any]) -> None:
        cats = data.get("categories")
        if not isinstance(cats, list):
            raise InputError("missing 'categories' list", file=self.file, field="categories")
        ids = [self._field("categories", i, c, "id") for i, c in enumerate(cats)]
        if len(set(ids)) != len(ids):
            raise InputError("a category id appears twice", file=self.file, field="categories")
        self.category_ids = np.array(sorted(ids), np.int64)
        self.category_index = {c: k for k, c in enumerate(self.category_ids.tolist())}
        self.category_names = {c["id"]: str(c.get("name", c["id"])) for c in cats}

    def _read_annotations(self, data: dict[str, Any]) -> None:
        anns = data.get("annotations", [])
        if not isinstance(anns, list):
            raise InputError("'annotations' must be a list", file=self.file, field="annotations")
        keep, img, cat = [], [], []
        seen: set[Any] = set()
        for i, a in enumerate(anns):
            ann_id = self._field("annotations", i, a, "id")
            if ann_id in seen:
                raise InputError(f"annotation id {ann_id} appears twice", file=self.file, record=f"annotations[{i}]", field="id")
            seen.add(ann_id)
            im = self.image_index.get(self._field("annotations", i, a, "image_id"))
            k = self.category_index.get(self._field("annotations", i, a, "category_id"))
            if im is not None and k is not None:
                keep.append(i)
                img.append(im)
                cat.append(k)
        self._ann_positions = keep
        kept = [anns[i] for i in keep]
        self.ann_image = np.array(img, np.int64)
        self.ann_category = np.array(cat, np.int64)
        self.area = np.array([self._number(i, a, "area") for i, a in zip(keep, kept)], np.float64)
        crowd = [self._field("annotations", i, a, "iscrowd") for i, a in zip(keep, kept)]
        self.iscrowd = np.array([int(c) != 0 for c in crowd], np.bool_)
        self.id_nonzero = np.array([a["id"] != 0 for a in kept], np.bool_)
        self._kept = kept
        self._boxes: np.ndarray | None = None
        # per image, annotations ordered by (category, file order), as _gts[img, cat] holds them
        order = np.lexsort((np.arange(len(kept)), self.ann_category, self.ann_image))
        self.sorted_anns = order
        self.image_start = np.searchsorted(self.ann_image[order], np.arange(len(self.image_ids) + 1))

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
                if not isinstance(box, (list, tuple)) or len(box) != 4:
                    raise InputError("'bbox' must be [x, y, w, h]", file=self.file, record=f"annotations[{i}]", field="bbox")
                rows.append(box)
            self._boxes = np.array(rows, np.float64).reshape(-1, 4)
        return self._boxes

    @property
    def masks(self) -> rle.MaskBuffer:
        """Compressed RLE of every annotation (polygons rasterised pixel-exactly), with area and box."""
        if self._masks is None:
            self._masks = self._build_masks()
        return self._masks

    def _build_masks(self) -> rle.MaskBuffer:
        pieces: list[bytes] = [b""] * len(self._kept)
        polys: list[int] = []
        for j, (i, a) in enumerate(zip(self._ann_positions, self._kept)):
            segm = self._field("annotations", i, a, "segmentation")
            im = self.ann_image[j]
            h, w = int(self.heights[im]), int(self.widths[im])
            if isinstance(segm, list):
                if not segm:
                    raise InputError("empty polygon list", file=self.file, record=f"annotations[{i}]", field="segmentation")
                polys.append(j)
            elif isinstance(segm, dict) and "counts" in segm:
                counts = segm["counts"]
                if isinstance(counts, list):
                    pieces[j] = rle.uncompressed_to_rle(segm, h, w)
                else:
                    pieces[j] = counts.encode() if isinstance(counts, str) else bytes(counts)
                    if list(segm.get("size", [])) != [h, w]:
                        raise InputError(f"mask size {segm.get('size')} differs from the image's [{h}, {w}]",
                                         file=self.file, record=f"annotations[{i}]", field="segmentation.size")
            else:
                raise InputError("segmentation must be polygons or an RLE", file=self.file, record=f"annotations[{i}]", field="segmentation")
        rasters = self._rasterise([self._kept[j]["segmentation"] for j in polys], [int(self.ann_image[j]) for j in polys])
        for j, counts in zip(polys, rasters):
            pieces[j] = counts
        masks = rle.MaskBuffer(pieces)
        im = self.ann_image
        masks.area, masks.box, status = rle.scan(masks.buf, masks.starts, masks.ends, self.heights[im], self.widths[im], work=len(im))
        bad = np.flatnonzero(status)
        if len(bad):
            j = int(bad[0])
            raise InputError(rle.STATUS_MESSAGES[int(status[j])], file=self.file,
                             record=f"annotations[{self._ann_positions[j]}]", field="segmentation")
        return masks

    def _rasterise(self, segms: list[list[Any]], images: list[int]) -> list[bytes]:
        """Polygon annotations → RLE strings: numba for ordinary polygons, pycocotools for odd first parts."""
        fast = [i for i, p in enumerate(segms) if isinstance(p[0], list) and len(p[0]) > 4]
        out: list[bytes] = [b""] * len(segms)
        if fast:
            parts = [part for i in fast for part in segms[i]]
            try:
                coords = np.fromiter(chain.from_iterable(parts), np.float64)
            except (TypeError, ValueError):
                raise InputError("polygon coordinates must be numbers", file=self.file, field="segmentation") from None
            poly_offsets = np.r_[0, np.cumsum([len(p) for p in parts])].astype(np.int64)
            ann_offsets = np.r_[0, np.cumsum([len(segms[i]) for i in fast])].astype(np.int64)
            im = np.asarray([images[i] for i in fast], np.int64)
            buf, starts, ends = polygons_to_strings(coords, poly_offsets, ann_offsets, self.heights[im], self.widths[im])
            raw = buf.tobytes()
            for i, a, b in zip(fast, starts.tolist(), ends.tolist()):
                out[i] = raw[a:b]
        for i in set(range(len(segms))) - set(fast):
            im = images[i]
            out[i] = rle.polygons_to_rle(segms[i], int(self.heights[im]), int(self.widths[im]))
        return out

    def as_dict(self) -> dict[str, Any]:
        """The parsed JSON (for the pycocotools engine)."""
        return self._data
