"""Per-image sufficient statistics of COCO AP: append, merge, serialise, aggregate over image multisets."""
from __future__ import annotations

import base64
from typing import Any

import numpy as np

from evalkit.metrics._coco import summary as acc
from evalkit.metrics._coco.accumulate import accumulate
from evalkit.metrics._coco.evaluate import BatchResult

_DET_FIELDS = ("sample", "category", "score", "rank", "match", "ignore")


def _encode(a: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(a)
    return {"dtype": a.dtype.str, "shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode("ascii")}


def _decode(d: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(d["data"]), dtype=np.dtype(d["dtype"])).reshape(d["shape"]).copy()


class CocoState:
    """Samples are images; each holds its top-100 detections per category with match bits, and GT counts."""

    def __init__(self, category_ids: np.ndarray, category_names: list[str] | None = None):
        self.category_ids = np.asarray(category_ids, np.int64)
        self.category_names = list(category_names) if category_names is not None else [str(c) for c in self.category_ids.tolist()]
        self.sample_ids: list[str] = []
        self.image_ids: list[int] = []
        self._chunks: list[dict[str, np.ndarray]] = []
        self._npig: list[np.ndarray] = []
        self._sorted: tuple[np.ndarray, ...] | None = None

    def __len__(self) -> int:
        return len(self.sample_ids)

    def append(self, sample_ids: list[str], image_ids: list[int], batch: BatchResult) -> None:
        offset = len(self.sample_ids)
        chunk = {f: getattr(batch, f) for f in _DET_FIELDS}
        chunk["sample"] = chunk["sample"].astype(np.int64) + offset
        self._chunks.append(chunk)
        self._npig.append(batch.npig)
        self.sample_ids.extend(sample_ids)
        self.image_ids.extend(int(i) for i in image_ids)
        self._sorted = None

    def merge(self, other: "CocoState") -> None:
        if not np.array_equal(self.category_ids, other.category_ids):
            raise ValueError("cannot merge COCO states over different category lists")
        other._compact()
        offset = len(self.sample_ids)
        if other._chunks:
            chunk = dict(other._chunks[0])
            chunk["sample"] = chunk["sample"] + offset
            self._chunks.append(chunk)
            self._npig.append(other._npig[0])
        self.sample_ids.extend(other.sample_ids)
        self.image_ids.extend(other.image_ids)
        self._sorted = None

    def _compact(self) -> None:
        if len(self._chunks) > 1:
            self._chunks = [{f: np.concatenate([c[f] for c in self._chunks]) for f in _DET_FIELDS}]
            self._npig = [np.concatenate(self._npig)]

    def column(self, name: str) -> np.ndarray:
        self._compact()
        if self._chunks:
            return self._chunks[0][name]
        A = len(acc.AREA_RANGES)
        empty = {"sample": np.zeros(0, np.int64), "category": np.zeros(0, np.int64), "score": np.zeros(0),
                 "rank": np.zeros(0, np.int16), "match": np.zeros((0, A), np.uint16), "ignore": np.zeros((0, A), np.uint16)}
        return empty[name]

    @property
    def npig(self) -> np.ndarray:
        self._compact()
        if self._npig:
            return self._npig[0]
        return np.zeros((0, len(self.category_ids), len(acc.AREA_RANGES)), np.int32)

    def _order(self) -> tuple[np.ndarray, ...]:
        """Detections sorted as accumulate needs them, computed once per state."""
        if self._sorted is None:
            n = len(self.sample_ids)
            image_pos = np.empty(n, np.int64)
            image_pos[np.lexsort((np.arange(n), np.asarray(self.image_ids, np.int64)))] = np.arange(n)
            sample, cat, score, rank = (self.column(f) for f in ("sample", "category", "score", "rank"))
            order = np.lexsort((rank, image_pos[sample], -score, cat))
            cat_sorted = cat[order]
            offsets = np.searchsorted(cat_sorted, np.arange(len(self.category_ids) + 1))
            self._sorted = (
                offsets.astype(np.int64), sample[order], score[order], rank[order].astype(np.int64),
                self.column("match")[order], self.column("ignore")[order],
            )
        return self._sorted

    def arrays(self, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``precision`` (T,R,K,A,M) and ``recall`` (T,K,A,M) over the image multiset ``indices``."""
        n = len(self.sample_ids)
        copies = np.ones(n, np.int64) if indices is None else np.bincount(np.asarray(indices, np.int64), minlength=n)
        npig = np.tensordot(copies, self.npig.astype(np.int64), axes=(0, 0)) if n else np.zeros(
            (len(self.category_ids), len(acc.AREA_RANGES)), np.int64)
        offsets, sample, score, rank, match, ignore = self._order()
        return accumulate(offsets, sample, score, rank, match, ignore, copies, np.ascontiguousarray(npig, np.int64),
                              acc.IOU_THRESHOLDS, acc.RECALL_THRESHOLDS, acc.MAX_DETS, work=len(sample))

    def state_dict(self) -> dict[str, Any]:
        return {
            "category_ids": self.category_ids.tolist(),
            "category_names": list(self.category_names),
            "sample_ids": list(self.sample_ids),
            "image_ids": list(self.image_ids),
            "npig": _encode(self.npig),
            "detections": {f: _encode(self.column(f)) for f in _DET_FIELDS},
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "CocoState":
        self = cls(np.asarray(state["category_ids"], np.int64), state.get("category_names"))
        self.sample_ids = list(state["sample_ids"])
        self.image_ids = [int(i) for i in state["image_ids"]]
        self._npig = [_decode(state["npig"])]
        self._chunks = [{f: _decode(state["detections"][f]) for f in _DET_FIELDS}]
        return self
