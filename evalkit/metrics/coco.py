"""COCO detection AP (``coco-segm`` masks, ``coco-bbox`` boxes): the 12 ``COCOeval.stats`` of pycocotools.

Samples are images. ``aggregate(indices)`` scores a multiset of images: an image drawn
k times counts as k distinct copies (as if re-labelled with new, adjacent ids), which is
what the bootstrap needs; ``aggregate(None)`` equals pycocotools on the updated images.

Engines: ``fast`` (default; numba kernels, bit-identical, tested against pycocotools) and
``reference`` (pycocotools' ``COCOeval.evaluate`` does the matching).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics._coco import summary as acc
from evalkit.metrics.base import Metric
from evalkit.registry import METRICS

if TYPE_CHECKING:
    from evalkit.metrics._coco.groundtruth import GroundTruth

ENGINES = ("fast", "reference")


class CocoAP(Metric):
    """COCO AP/AR for one ``iou_type``; ground truth from ``gt=`` (path or dict) or ``bind(dataset)``."""

    iou_type: ClassVar[str]
    main_key = "AP"

    def __init__(self, gt: "str | Path | dict[str, Any] | GroundTruth | None" = None, engine: str = "fast",
                 area: str = "auto", **options: Any):
        if area not in ("auto", "mask"):
            raise InputError(f"area must be 'auto' (pycocotools' loadRes rule) or 'mask', not {area!r}", field="area")
        #: "mask": drop results' boxes in segm evaluation so object sizes come from the masks, as
        #: detectron2's and torchvision's reference evaluators do; "auto": loadRes decides from the first result
        self.area = area
        if engine == "pycocotools":
            engine = "reference"
        if engine not in ENGINES:
            raise InputError(f"unknown COCO engine {engine!r} (known: {', '.join(ENGINES)})", field="engine")
        self.engine = engine
        self.gt: GroundTruth | None = None
        self._gt_coco: Any = None
        self._set_gt(gt)
        super().__init__(**options)

    def _set_gt(self, gt: Any) -> None:
        from evalkit.metrics._coco.groundtruth import GroundTruth

        if gt is None:
            return
        self.gt = gt if isinstance(gt, GroundTruth) else GroundTruth(gt)
        self._gt_coco = None

    def bind(self, dataset: Any) -> None:
        if self.gt is None:
            source = getattr(dataset, "coco_gt", None) or getattr(dataset, "annotation_file", None)
            if source is None:
                raise InputError("the COCO metric needs ground truth: a dataset with 'coco_gt' or gt=<file>")
            self._set_gt(source)
            self.reset()

    def reset(self) -> None:
        from evalkit.metrics._coco.state import CocoState

        if self.gt is not None:
            gt = self.gt
            self.state = CocoState(gt.category_ids, [gt.category_names[c] for c in gt.category_ids.tolist()])
        else:
            self.state = CocoState(np.zeros(0, np.int64))
        self.box_mode: bool | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

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
        gt = self._require_gt()
        image_ids = gt.image_ids.tolist()
        self._add(results, None, image_ids, [str(i) for i in image_ids], file=file)

    def _add(self, results: list[dict[str, Any]], owner: np.ndarray | None, image_ids: list[int],
             sample_ids: list[str], file: Any = None) -> None:
        from evalkit.metrics._coco.detections import parse_results, results_use_box_area
        from evalkit.metrics._coco.evaluate import evaluate_batch

        gt = self._require_gt()
        if self.area == "mask" and self.iou_type == "segm":
            results = [{k: v for k, v in r.items() if k != "bbox"} for r in results]
        if self.box_mode is None and results:
            self.box_mode = results_use_box_area(results)
        dets = parse_results(results, gt, self.iou_type, box_mode=self.box_mode, file=file)
        if self.engine == "reference":
            from evalkit.metrics._coco.reference import coco_gt, reference_batch

            if len(set(image_ids)) != len(image_ids):
                raise InputError("the reference engine needs distinct images within one update")
            if self._gt_coco is None:
                self._gt_coco = coco_gt(gt.as_dict())
            batch = reference_batch(self._gt_coco, results, image_ids, self.iou_type)
        else:
            images = np.array([gt.image_index[i] for i in image_ids], np.int64)
            det_sample = dets.image if owner is None else owner
            batch = evaluate_batch(gt, dets, det_sample, images, self.iou_type)
        self.state.append(sample_ids, image_ids, batch)
        self._cache = None

    def merge(self, other: Metric) -> None:
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        assert isinstance(other, CocoAP)
        if self.box_mode is None:
            self.box_mode = other.box_mode
        self.state.merge(other.state)
        self._cache = None

    def num_samples(self) -> int:
        return len(self.state)

    def sample_ids(self) -> list[Any]:
        return list(self.state.sample_ids)

    def arrays(self, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """pycocotools' ``eval['precision']`` (T,R,K,A,M) and ``eval['recall']`` (T,K,A,M)."""
        if indices is not None:
            return self.state.arrays(indices)
        if self._cache is None:
            self._cache = self.state.arrays(None)
        return self._cache

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        return acc.summarize(*self.arrays(indices))

    def extras(self) -> dict[str, Any]:
        precision, recall = self.arrays()
        per_cat = acc.per_category_ap(precision)
        mean_curve = _mean_over_categories(precision[:, :, :, 0, -1])
        return {
            "per_category_AP": {
                name: _none_if_nan(v) for name, v in zip(self.state.category_names, per_cat)
            },
            "pr_curve": {
                "iou_thresholds": acc.IOU_THRESHOLDS.tolist(),
                "recall_thresholds": acc.RECALL_THRESHOLDS.tolist(),
                "precision": mean_curve,
                "recall": _mean_over_categories(recall[:, :, 0, -1]),
            },
        }

    def per_sample(self) -> dict[str, Any]:
        n = len(self.state)
        sample, match, ignore = self.state.column("sample"), self.state.column("match"), self.state.column("ignore")
        tp50 = ((match[:, 0] & 1) != 0) & ((ignore[:, 0] & 1) == 0)
        return {
            "sample_id": list(self.state.sample_ids),
            "image_id": np.asarray(self.state.image_ids, np.int64),
            "num_gt": self.state.npig[:, :, 0].sum(axis=1).astype(np.int64) if n else np.zeros(0, np.int64),
            "num_detections": np.bincount(sample, minlength=n),
            "true_positives_iou50": np.bincount(sample, weights=tp50, minlength=n).astype(np.int64),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"iou_type": self.iou_type, "box_mode": self.box_mode, "state": self.state.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        from evalkit.metrics._coco.state import CocoState

        if state.get("iou_type") != self.iou_type:
            raise InputError(f"state is for iou_type {state.get('iou_type')!r}, not {self.iou_type!r}")
        self.state = CocoState.from_state_dict(state["state"])
        self.box_mode = state.get("box_mode")
        self._cache = None


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


@METRICS.register("coco-bbox")
class CocoBbox(CocoAP):
    name = "coco-bbox"
    iou_type = "bbox"


def coco_evaluate(gt: str | Path | dict[str, Any], results: list[dict[str, Any]] | str | Path,
                  iou_type: str = "segm", engine: str = "fast") -> dict[str, Any]:
    """Functional form: the 12 stats (+ per-category AP) of a results list against a GT file or dict.

    ``engine="reference"`` runs pycocotools end to end instead.
    """
    if iou_type not in ("segm", "bbox"):
        raise InputError(f"iou_type must be 'segm' or 'bbox', not {iou_type!r}", field="iou_type")
    from evalkit.metrics._coco.groundtruth import GroundTruth, load_json

    ground_truth = gt if isinstance(gt, GroundTruth) else GroundTruth(gt)
    if iou_type == "segm" and engine == "fast":
        ground_truth.prefetch_masks()
    file = None
    if isinstance(results, (str, Path)):
        file, results = results, load_json(results)
    metric = (CocoSegm if iou_type == "segm" else CocoBbox)(gt=ground_truth, engine=engine)
    metric.add_results(results, file=file)
    return metric.compute()
