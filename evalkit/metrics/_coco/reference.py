"""The reference engine: pycocotools' own COCO/COCOeval, quiet, on copies of the inputs."""
from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import numpy as np

from evalkit.metrics._coco import summary as acc
from evalkit.metrics._coco.evaluate import BatchResult


def coco_gt(gt: dict[str, Any]) -> Any:
    """A ``pycocotools.coco.COCO`` built from a parsed dict, without touching the caller's dict."""
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
    return coco


def coco_dt(gt_coco: Any, results: list[dict[str, Any]]) -> Any:
    """``loadRes`` on a deep copy (it writes into the dicts); an empty list gives an empty result set."""
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        if results:
            return gt_coco.loadRes(copy.deepcopy(results))
        coco = COCO()
        coco.dataset = {"images": list(gt_coco.dataset["images"]), "annotations": [],
                        "categories": copy.deepcopy(gt_coco.dataset["categories"])}
        coco.createIndex()
        return coco


def run_cocoeval(gt: dict[str, Any] | Any, results: list[dict[str, Any]], iou_type: str,
                 img_ids: list[int] | None = None, summarize: bool = True, sigmas: Any = None) -> Any:
    """A finished ``COCOeval`` (evaluate, accumulate, summarize) exactly as the cocoapi demo runs it."""
    from pycocotools.cocoeval import COCOeval

    gt_coco = gt if not isinstance(gt, dict) else coco_gt(gt)
    dt_coco = coco_dt(gt_coco, results)
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt_coco, dt_coco, iou_type)
        if img_ids is not None:
            ev.params.imgIds = sorted(img_ids)
        if sigmas is not None:
            ev.params.kpt_oks_sigmas = np.asarray(sigmas, np.float64)
        ev.evaluate()
        if summarize:
            ev.accumulate()
            ev.summarize()
    return ev


def reference_stats(gt: dict[str, Any] | Any, results: list[dict[str, Any]], iou_type: str) -> dict[str, float]:
    """The 12 stats straight from pycocotools."""
    ev = run_cocoeval(gt, results, iou_type)
    return {k: float(v) for k, v in zip(acc.STAT_KEYS, ev.stats)}


def reference_batch(gt_coco: Any, results: list[dict[str, Any]], image_ids: list[int], iou_type: str,
                    sigmas: Any = None) -> BatchResult:
    """A batch's sufficient statistics read from ``COCOeval.evalImgs`` (pycocotools does the matching)."""
    ev = run_cocoeval(gt_coco, results, iou_type, img_ids=image_ids, summarize=False, sigmas=sigmas)
    return batch_from_eval_imgs(ev.evalImgs, len(ev.params.catIds), len(ev.params.areaRng), ev.params.imgIds,
                                image_ids, len(ev.params.iouThrs), COCOEVAL_FIELDS)


#: ``evalImgs`` entry keys: detection ids, matches, ignore flags, GT ignore flags, scores
COCOEVAL_FIELDS = ("dtIds", "dtMatches", "dtIgnore", "gtIgnore", "dtScores")
LVISEVAL_FIELDS = ("dt_ids", "dt_matches", "dt_ignore", "gt_ignore", "dt_scores")


def batch_from_eval_imgs(eval_imgs: list[Any], K: int, A: int, img_ids: list[int], image_ids: list[int], T: int,
                         fields: tuple[str, ...]) -> BatchResult:
    """The sufficient statistics of per-image results laid out [category][area range][image], as both
    pycocotools' ``evalImgs`` and lvis-api's ``eval_imgs`` are."""
    ids, matches, ignores, gt_ignore, scores = fields
    sample_of = {i: s for s, i in enumerate(image_ids)}
    I = len(img_ids)
    npig = np.zeros((len(image_ids), K, A), np.int32)
    cols: dict[str, list[Any]] = {f: [] for f in ("sample", "category", "score", "rank", "match", "ignore")}
    bits = (1 << np.arange(T)).astype(np.uint16)
    for k in range(K):
        for i, img in enumerate(img_ids):
            entries = [eval_imgs[k * A * I + a * I + i] for a in range(A)]
            if entries[0] is None:
                continue
            s = sample_of[img]
            for a, e in enumerate(entries):
                npig[s, k, a] = int(np.count_nonzero(np.asarray(e[gt_ignore]) == 0))
            n = len(entries[0][ids])
            if n == 0:
                continue
            cols["sample"].append(np.full(n, s, np.int64))
            cols["category"].append(np.full(n, k, np.int64))
            cols["score"].append(np.asarray(entries[0][scores], np.float64))
            cols["rank"].append(np.arange(n, dtype=np.int16))
            cols["match"].append(np.stack([(np.asarray(e[matches]) != 0).T @ bits for e in entries], axis=1)
                                 .astype(np.uint16))
            cols["ignore"].append(np.stack([(np.asarray(e[ignores]) != 0).T @ bits for e in entries], axis=1)
                                  .astype(np.uint16))
    empty = {"sample": np.zeros(0, np.int64), "category": np.zeros(0, np.int64), "score": np.zeros(0),
             "rank": np.zeros(0, np.int16), "match": np.zeros((0, A), np.uint16), "ignore": np.zeros((0, A), np.uint16)}
    arrays = {f: np.concatenate(v) if v else empty[f] for f, v in cols.items()}
    return BatchResult(npig=npig, **arrays)


def lvis_gt(gt: dict[str, Any]) -> Any:
    """An ``lvis.LVIS`` of a parsed dict (it reads only paths: through a temporary file)."""
    import json
    import tempfile
    from pathlib import Path

    from lvis import LVIS

    with tempfile.TemporaryDirectory() as tmp, _quiet_lvis():
        path = Path(tmp) / "lvis_gt.json"
        path.write_text(json.dumps(gt))
        return LVIS(str(path))


def lvis_reference_batch(gt_lvis: Any, results: list[dict[str, Any]], image_ids: list[int],
                         iou_type: str) -> BatchResult:
    """A batch's sufficient statistics read from ``LVISEval.eval_imgs`` (lvis-api's ``LVISResults`` keeps the
    300 best per image and ``evaluate`` matches; its ``accumulate`` is not needed)."""
    from lvis import LVISEval, LVISResults

    with _quiet_lvis():
        ev = LVISEval(gt_lvis, LVISResults(gt_lvis, copy.deepcopy(results)), iou_type)
        ev.params.img_ids = sorted(image_ids)
        ev.evaluate()
    return batch_from_eval_imgs(ev.eval_imgs, len(ev.params.cat_ids), len(ev.params.area_rng), ev.params.img_ids,
                                image_ids, len(ev.params.iou_thrs), LVISEVAL_FIELDS)


@contextlib.contextmanager
def _quiet_lvis() -> Any:
    """lvis-api logs progress and warns about in-memory results: silenced while it runs, as pycocotools' prints are."""
    import logging

    logger = logging.getLogger("lvis")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
