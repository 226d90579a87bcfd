"""COCO results files: the official list of detections, each record checked.

A NaN score or a polygon where pycocotools wants an RLE is reported with its record and field
instead of failing inside COCOeval.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputError
from evalkit.formats.checks import RecordChecker, is_bbox, is_int, is_number, read_json
from evalkit.jsonio import map_file

if TYPE_CHECKING:
    from concurrent.futures import Future

    from evalkit.formats.coco_scan import ScannedResults

#: results files from this size are read by the numba scanner (:mod:`evalkit.formats.coco_scan`), smaller ones
#: by orjson, for which loading the scanner's kernels costs more than the dicts of a few thousand detections
MIN_SCAN_BYTES = 4 << 20


def _is_rle(value: Any) -> bool:
    if not isinstance(value, dict) or "counts" not in value or "size" not in value:
        return False
    size, counts = value["size"], value["counts"]
    if not (isinstance(size, list) and len(size) == 2 and all(is_int(v) and v >= 0 for v in size)):
        return False
    return isinstance(counts, str) or (isinstance(counts, list) and all(is_int(c) for c in counts))


def _compress(rle: dict[str, Any]) -> dict[str, Any]:
    """An uncompressed RLE (``counts`` a list) as the compressed string pycocotools' loadRes expects."""
    if isinstance(rle["counts"], str):
        return rle
    from pycocotools import mask as mask_utils

    height, width = rle["size"]
    encoded = mask_utils.frPyObjects(rle, height, width)
    return {"size": [height, width], "counts": encoded["counts"].decode("ascii")}


def check_result(result: Any, checker: RecordChecker, record: str) -> dict[str, Any]:
    """One detection, validated; uncompressed RLE counts are compressed."""
    checker.get(result, "image_id", record, is_int, "an integer image id")
    checker.get(result, "category_id", record, is_int, "an integer category id")
    checker.get(result, "score", record, is_number, "a finite number")
    if "segmentation" not in result and "bbox" not in result:
        checker.fail("a detection needs 'segmentation' (RLE) or 'bbox' ([x, y, width, height])", record)
    if "bbox" in result:
        checker.get(result, "bbox", record, is_bbox, "[x, y, width, height] of 4 finite numbers")
    if "segmentation" in result:
        checker.get(result, "segmentation", record, _is_rle,
                    "an RLE object {'size': [height, width], 'counts': string or list of ints} (not polygons)")
        result = {**result, "segmentation": _compress(result["segmentation"])}
    return result


def group_results(results: Any, file: Path) -> dict[str, list[dict[str, Any]]]:
    """A COCO results list → {str(image_id): [detections]} in file order."""
    checker = RecordChecker(file)
    if not isinstance(results, list):
        raise InputError(f"a COCO results file is a JSON list of detections, got {type(results).__name__}",
                         file=file)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for i, result in enumerate(results):
        image_id = result.get("image_id") if isinstance(result, dict) else None
        record = f"[{i}] (image_id {image_id})" if image_id is not None else f"[{i}]"
        result = check_result(result, checker, record)
        grouped.setdefault(str(result["image_id"]), []).append(result)
    return grouped


def read_coco_results(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Read a COCO results JSON (.gz/.xz/.bz2 too), grouped by image id (as a string)."""
    return group_results(read_json(path, "COCO results file"), path)


def scan_in_background(path: str | Path) -> "Future[ScannedResults | None]":
    """:func:`scan_results` on a thread, started at once: the kernel releases the GIL, so the caller reads the
    ground truth meanwhile; ``.result()`` gives the scan or re-raises its error."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(scan_results, path)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


def scan_results(path: str | Path) -> "ScannedResults | None":
    """:func:`evalkit.formats.coco_scan.scan` of a big plain ``.json`` results file, or None: then the caller
    reads it with orjson, which gives every error."""
    data = map_file(Path(path).expanduser(), MIN_SCAN_BYTES)
    if data is None:
        return None
    from evalkit.formats.coco_scan import scan

    try:
        return scan(data)
    except MemoryError:  # its columns are reserved for the worst case (untouched pages): left to orjson
        return None
