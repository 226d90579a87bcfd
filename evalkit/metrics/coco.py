"""COCO detection AP (``coco-segm`` masks, ``coco-bbox`` boxes): the 12 ``COCOeval.stats`` of pycocotools.

Samples are images. ``aggregate(indices)`` scores a multiset of images: an image drawn
k times counts as k distinct copies (as if re-labelled with new, adjacent ids), which is
what the bootstrap needs; ``aggregate(None)`` equals pycocotools on the updated images.

Engines: ``fast`` (default; numba kernels, bit-identical, tested against pycocotools) and
``reference`` (pycocotools' ``COCOeval.evaluate`` does the matching).
"""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics._coco import summary as acc
from evalkit.metrics._coco.summary import STAT_KEYS
from evalkit.metrics.base import Metric
from evalkit.metrics.state import Column, Rows, Shared
from evalkit.registry import METRICS

if TYPE_CHECKING:
    from concurrent.futures import Future

    from evalkit.formats.coco_scan import ScannedResults
    from evalkit.metrics._coco.detections import Detections
    from evalkit.metrics._coco.evaluate import BatchResult, Rules
    from evalkit.metrics._coco.groundtruth import GroundTruth
    from evalkit.metrics._coco.state import CocoTables

ENGINES = ("fast", "reference")
#: per-detection fields kept in the state (besides the index of the image sample they belong to)
DETECTION_FIELDS = {"category": "int64", "score": "float64", "rank": "int16", "match": "uint16", "ignore": "uint16"}


class CocoAP(Metric):
    """COCO AP/AR for one ``iou_type``; ground truth from ``gt=`` (path or dict) or the dataset's ``coco_gt``.

    Options: ``area`` — ``auto`` (pycocotools' loadRes rule) or ``mask`` (segm object sizes from the
    masks, as detectron2 and torchvision evaluate); ``engine`` — ``fast`` or ``reference``
    (pycocotools' matching), which give the same numbers and so stay out of the signature.
    """

    iou_type: ClassVar[str]
    #: whether :meth:`add_results_file` may take the numba scanner's columns (keypoints and LVIS read dicts)
    scans_results: ClassVar[bool] = False
    state = {"image_id": Column("int64"), "npig": Column("int32"), "detections": Rows(DETECTION_FIELDS),
             "category_ids": Shared(), "category_names": Shared(), "box_mode": Shared()}
    keys = STAT_KEYS
    main_key = "AP"
    defaults = {"area": "auto"}
    neutral_options = {"engine": "fast"}
    requires_meta = ("coco_gt",)
    reference = "pycocotools"
    #: area ranges and detection limits (keypoints and LVIS have their own)
    params: ClassVar[acc.Params] = acc.DETECTION

    def __init__(self, gt: "str | Path | dict[str, Any] | GroundTruth | None" = None, **options: Any):
        self.gt: GroundTruth | None = None
        self._gt_coco: Any = None
        if options.get("engine") == "pycocotools":
            options["engine"] = "reference"
        super().__init__(**options)
        if self.options.get("area", "auto") not in ("auto", "mask"):
            raise InputError(f"area must be 'auto' (pycocotools' loadRes rule) or 'mask', not {self.options['area']!r}",
                             field="area")
        if self.options["engine"] not in ENGINES:
            raise InputError(f"unknown COCO engine {self.options['engine']!r} (known: {', '.join(ENGINES)})",
                             field="engine")
        self.area, self.engine = self.options.get("area", "auto"), self.options["engine"]
        self._set_gt(gt)

    @classmethod
    def read_gt(cls, source: Any) -> "GroundTruth":
        """The ground truth of a path or parsed dict, read as this metric's reference reads it."""
        from evalkit.metrics._coco.groundtruth import GroundTruth

        return source if isinstance(source, GroundTruth) else GroundTruth(source)

    def _set_gt(self, gt: Any) -> None:
        if gt is None:
            return  # before the import: the ground-truth engine brings numba, a bare metric does not
        self.gt = self.read_gt(gt)
        self._gt_coco = None
        self.reset()

    def bind(self, dataset_meta: Any) -> None:
        if self.gt is None:
            super().bind(dataset_meta)
            self._set_gt(self.dataset_meta["coco_gt"])

    def reset(self) -> None:
        super().reset()
        gt = getattr(self, "gt", None)
        if gt is not None:
            self._state.set_shared("category_ids", gt.category_ids.tolist())
            self._state.set_shared("category_names", [gt.category_names[c] for c in gt.category_ids.tolist()])

    def reset_caches(self) -> None:
        self._tables: tuple[int, Any] | None = None
        self._arrays: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None

    def _require_gt(self) -> GroundTruth:
        if self.gt is None:
            raise InputError(f"{self.name} has no ground truth: pass gt=<annotation file> or bind a COCO dataset")
        return self.gt

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        """``predictions[i]``: the result dicts of image ``targets[i]`` (an image id)."""
        gt = self._require_gt()
        image_ids = [_image_id(t) for t in targets]
        if len(predictions) != len(image_ids):
            raise InputError(f"{len(predictions)} prediction lists for {len(image_ids)} images")
        ids = [str(i) for i in ids] if ids is not None else [str(i) for i in image_ids]
        flat: list[dict[str, Any]] = []
        owner: list[int] = []
        for s, (img, preds) in enumerate(zip(image_ids, predictions)):
            if img not in gt.image_index:
                raise InputError(f"image id {img!r} is not in the ground truth", record=ids[s], field="image_id")
            for j, r in enumerate(preds):
                if not isinstance(r, dict):
                    raise InputError("a result must be a dict", record=f"{ids[s]}[{j}]")
                if "image_id" not in r:
                    r = {**r, "image_id": img}
                elif r["image_id"] != img:
                    raise InputError(f"result for image {r['image_id']!r} listed under image {img!r}",
                                     record=f"{ids[s]}[{j}]", field="image_id")
                flat.append(r)
                owner.append(s)
        self._add(flat, np.asarray(owner, np.int64), image_ids, ids)

    def add_results(self, results: list[dict[str, Any]], file: Any = None) -> None:
        """Add every image of the ground truth with its results, as pycocotools evaluates a results file."""
        if not isinstance(results, list):
            raise InputError(f"results must be a JSON list of objects, not a {type(results).__name__}", file=file)
        gt = self._require_gt()
        image_ids = gt.image_ids.tolist()
        self._add(results, None, image_ids, [str(i) for i in image_ids], file=file)

    def add_results_file(self, path: str | Path, scan: "Future[ScannedResults | None] | None" = None) -> None:
        """:meth:`add_results` of a results file. The fast engine of boxes and masks takes a big plain file's
        columns from the numba scanner (``scan``: one already started on it), with no Python object per
        detection; a file it does not take, or whose detections fail a check there, is parsed by orjson and
        added as a list, which names the error."""
        if self.engine == "fast" and self.scans_results:
            from evalkit.formats.coco import scan_results

            if self._add_scanned(path, scan.result() if scan is not None else scan_results(path)):
                return
        from evalkit.metrics._coco.groundtruth import load_json

        self.add_results(load_json(path), file=path)

    def _add_scanned(self, path: str | Path, results: "ScannedResults | None") -> bool:
        """Add the scanned detections of every image of the ground truth; False when the scan is no help."""
        from evalkit.formats.coco_scan import BOX
        from evalkit.metrics._coco.detections import parse_scanned

        gt = self._require_gt()
        if results is None:
            return False
        if self.area == "mask" and self.iou_type == "segm":  # as _add drops the boxes
            results = replace(results, fields=results.fields & np.uint8(~BOX & 0xFF))
        box_mode = self._state.shared["box_mode"]
        if box_mode is None:
            box_mode = bool(results.fields[0] & BOX)  # results_use_box_area: every scanned box has 4 numbers
        dets = parse_scanned(results, gt, self.iou_type, box_mode, file=path)
        if dets is None:
            return False
        self._state.set_shared("box_mode", box_mode)
        image_ids = gt.image_ids.tolist()
        self._store(self._evaluate(dets, None, None, image_ids), image_ids, [str(i) for i in image_ids])
        return True

    def _box_mode(self, results: list[dict[str, Any]]) -> bool:
        """Whether result areas are box areas: the reference's rule, read from the first results seen."""
        from evalkit.metrics._coco.detections import results_use_box_area

        return results_use_box_area(results)

    def _detections(self, results: list[dict[str, Any]], file: Any) -> tuple["Detections", Any]:
        """The parsed results, and what :meth:`_rules` needs besides them."""
        from evalkit.metrics._coco.detections import parse_results

        return parse_results(results, self._require_gt(), self.iou_type, box_mode=self._state.shared["box_mode"],
                             file=file), None

    def _rules(self, dets: "Detections", extra: Any, det_sample: np.ndarray) -> "Rules":
        """How this metric's detections are matched (COCO boxes and masks: the defaults)."""
        from evalkit.metrics._coco.evaluate import DETECTION_RULES

        return DETECTION_RULES

    def _add(self, results: list[dict[str, Any]], owner: np.ndarray | None, image_ids: list[int],
             sample_ids: list[str], file: Any = None) -> None:
        if self.area == "mask" and self.iou_type == "segm":
            results = [{k: v for k, v in r.items() if k != "bbox"} for r in results]
        if self._state.shared["box_mode"] is None and results:
            self._state.set_shared("box_mode", self._box_mode(results))
        dets, extra = self._detections(results, file)
        if self.engine == "reference" and results:
            if len(set(image_ids)) != len(image_ids):
                raise InputError("the reference engine needs distinct images within one update")
            batch = self._reference_batch(results, image_ids)
        else:  # (without results there is nothing to match: both engines count the GT alike)
            batch = self._evaluate(dets, extra, owner, image_ids)
        self._store(batch, image_ids, sample_ids)

    def _evaluate(self, dets: "Detections", extra: Any, owner: np.ndarray | None, image_ids: list[int]) -> "BatchResult":
        """The fast engine's matching of ``dets`` on images ``image_ids`` (``owner``: whose each is; None: by id)."""
        from evalkit.metrics._coco.evaluate import evaluate_batch

        gt = self._require_gt()
        images = np.array([gt.image_index[i] for i in image_ids], np.int64)
        det_sample = dets.image if owner is None else owner
        return evaluate_batch(gt, dets, det_sample, images, self.iou_type, self._rules(dets, extra, det_sample))

    def _store(self, batch: "BatchResult", image_ids: list[int], sample_ids: list[str]) -> None:
        detections = {"sample": batch.sample, **{f: getattr(batch, f) for f in DETECTION_FIELDS}}
        self._state.append(sample_ids, {"image_id": image_ids, "npig": batch.npig}, {"detections": detections})

    def tables(self) -> "CocoTables":
        """The state as the accumulation reads it (rebuilt when the state changed)."""
        from evalkit.metrics._coco.state import CocoTables

        if self._tables is None or self._tables[0] != self._state.version:
            categories = np.asarray(self._state.shared["category_ids"] or [], np.int64)
            self._tables = (self._state.version, CocoTables(categories, self.column("image_id"), self.column("npig"),
                                                            self._state.rows("detections"), self.params))
        return self._tables[1]

    def arrays(self, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """pycocotools' ``eval['precision']`` (T,R,K,A,M) and ``eval['recall']`` (T,K,A,M)."""
        if indices is not None:
            return self.tables().arrays(indices)
        if self._arrays is None or self._arrays[0] != self._state.version:
            self._arrays = (self._state.version, self.tables().arrays(None))
        return self._arrays[1]

    def score(self) -> dict[str, float]:
        return self.aggregate(None)

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        return self.summarize(*self.arrays(indices))

    def summarize(self, precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
        """The reference's stats from the accumulated arrays."""
        return acc.summarize(precision, recall)

    def _reference_params(self) -> dict[str, Any]:
        """Extra ``COCOeval.params`` of the reference engine."""
        return {}

    def _reference_batch(self, results: list[dict[str, Any]], image_ids: list[int]) -> "BatchResult":
        """The batch as the reference tool itself matches it."""
        from evalkit.metrics._coco.reference import coco_gt, reference_batch

        if self._gt_coco is None:
            self._gt_coco = coco_gt(self._require_gt().as_dict())
        return reference_batch(self._gt_coco, results, image_ids, self.iou_type, **self._reference_params())

    def extras(self) -> dict[str, Any]:
        precision, recall = self.arrays()
        per_cat = acc.per_category_ap(precision)
        mean_curve = _mean_over_categories(precision[:, :, :, 0, -1])
        names = self._state.shared["category_names"] or []
        return {
            "per_category_AP": {name: _none_if_nan(v) for name, v in zip(names, per_cat)},
            "pr_curve": {
                "iou_thresholds": acc.IOU_THRESHOLDS.tolist(),
                "recall_thresholds": acc.RECALL_THRESHOLDS.tolist(),
                "precision": mean_curve,
                "recall": _mean_over_categories(recall[:, :, 0, -1]),
            },
        }

    def per_sample(self) -> dict[str, Any]:
        tables = self.tables()
        n = len(tables)
        det = tables.detections
        sample, match, ignore = det["sample"], det["match"], det["ignore"]
        tp50 = ((match[:, 0] & 1) != 0) & ((ignore[:, 0] & 1) == 0)
        return {
            "sample_id": self.sample_ids(),
            "image_id": tables.image_ids,
            "num_gt": tables.npig[:, :, 0].sum(axis=1).astype(np.int64) if n else np.zeros(0, np.int64),
            "num_detections": np.bincount(sample, minlength=n),
            "true_positives_iou50": np.bincount(sample, weights=tp50, minlength=n).astype(np.int64),
        }


def _image_id(target: Any) -> Any:
    if isinstance(target, dict):
        return target.get("image_id", target.get("id"))
    if isinstance(target, str) and target.lstrip("-").isdigit():
        return int(target)
    return int(target) if isinstance(target, (np.integer,)) else target


def _mean_over_categories(values: np.ndarray) -> list[Any]:
    """Mean over the last (category) axis of the entries > -1, None where there are none (for plots)."""
    valid = values > -1
    n = valid.sum(axis=-1)
    mean = np.where(n > 0, np.where(valid, values, 0.0).sum(axis=-1) / np.maximum(n, 1), np.nan)
    return np.vectorize(_none_if_nan, otypes=[object])(mean).tolist()


def _none_if_nan(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


@METRICS.register("coco-segm")
class CocoSegm(CocoAP):
    name = "coco-segm"
    iou_type = "segm"
    scans_results = True


@METRICS.register("coco-bbox")
class CocoBbox(CocoAP):
    name = "coco-bbox"
    defaults = {}  # object sizes are box areas: ``area`` has no meaning here
    key_prefix = "coco-bbox."
    iou_type = "bbox"
    scans_results = True


def coco_evaluate(gt: str | Path | dict[str, Any], results: list[dict[str, Any]] | str | Path,
                  iou_type: str = "segm", engine: str = "fast") -> dict[str, Any]:
    """Functional form: the 12 stats (+ per-category AP) of a results list against a GT file or dict.

    ``engine="reference"`` runs pycocotools end to end instead.
    """
    if iou_type not in ("segm", "bbox"):
        raise InputError(f"iou_type must be 'segm' or 'bbox', not {iou_type!r}", field="iou_type")
    from evalkit.metrics._coco.groundtruth import GroundTruth

    ground_truth = gt if isinstance(gt, GroundTruth) else GroundTruth(gt)
    if iou_type == "segm" and engine == "fast":
        ground_truth.prefetch_masks()
    metric = (CocoSegm if iou_type == "segm" else CocoBbox)(gt=ground_truth, engine=engine)
    if isinstance(results, (str, Path)):
        metric.add_results_file(results)
    else:
        metric.add_results(results)
    return metric.compute()
