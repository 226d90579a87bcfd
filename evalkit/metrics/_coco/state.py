"""Per-image sufficient statistics of COCO AP, read from a metric's declared state, aggregated over image multisets."""
from __future__ import annotations

import numpy as np

from evalkit.metrics._coco import summary as acc
from evalkit.metrics._coco.accumulate import accumulate


class CocoTables:
    """Samples are images; each holds its top detections per category (100; keypoints 20) with match bits,
    and GT counts."""

    def __init__(self, category_ids: np.ndarray, image_ids: np.ndarray, npig: np.ndarray,
                 detections: dict[str, np.ndarray], params: acc.Params = acc.DETECTION):
        K, A = len(category_ids), len(params.area_ranges)
        self.params = params
        self.category_ids = np.asarray(category_ids, np.int64)
        self.image_ids = np.asarray(image_ids, np.int64)
        self.npig = npig.reshape(len(self.image_ids), K, A)
        self.detections = {k: v.reshape(-1, A) if k in ("match", "ignore") else v for k, v in detections.items()}
        self._sorted: tuple[np.ndarray, ...] | None = None

    def __len__(self) -> int:
        return len(self.image_ids)

    def _order(self) -> tuple[np.ndarray, ...]:
        """Detections sorted as accumulate needs them, computed once."""
        if self._sorted is None:
            n = len(self)
            image_pos = np.empty(n, np.int64)
            image_pos[np.lexsort((np.arange(n), self.image_ids))] = np.arange(n)
            sample, cat, score, rank = (self.detections[f] for f in ("sample", "category", "score", "rank"))
            order = np.lexsort((rank, image_pos[sample], -score, cat))
            offsets = np.searchsorted(cat[order], np.arange(len(self.category_ids) + 1))
            self._sorted = (
                offsets.astype(np.int64), sample[order], score[order], rank[order].astype(np.int64),
                self.detections["match"][order], self.detections["ignore"][order],
            )
        return self._sorted

    def arrays(self, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``precision`` (T,R,K,A,M) and ``recall`` (T,K,A,M) over the image multiset ``indices``."""
        n = len(self)
        copies = np.ones(n, np.int64) if indices is None else np.bincount(np.asarray(indices, np.int64), minlength=n)
        npig = np.tensordot(copies, self.npig.astype(np.int64), axes=(0, 0)) if n else np.zeros(
            (len(self.category_ids), len(self.params.area_ranges)), np.int64)
        offsets, sample, score, rank, match, ignore = self._order()
        return accumulate(offsets, sample, score, rank, match, ignore, copies, np.ascontiguousarray(npig, np.int64),
                          acc.IOU_THRESHOLDS, acc.RECALL_THRESHOLDS, self.params.max_dets, work=len(sample))
