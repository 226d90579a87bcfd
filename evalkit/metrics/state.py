"""Declared metric state: what a metric keeps, and how each piece merges, resamples and serialises.

A metric declares its state once (the idea of torchmetrics' ``add_state(..., dist_reduce_fx=...)``,
applied to per-sample sufficient statistics):

- :class:`Column`: one value per sample (a number, a fixed-shape array, or any JSON value).
  Merging concatenates; a bootstrap resample takes rows.
- :class:`Rows`: any number of rows per sample (COCO's detections), each naming its sample.
  Merging concatenates and renumbers the samples; a resample copies each drawn sample's rows.
- :class:`Sum`: a total over samples (merging adds). It cannot be resampled.
- :class:`Shared`: one value for the whole state (a category list, a section list): shards must
  agree, a shard that has none takes the other's.

:class:`MetricState` holds the values, and gives merge, ``take`` (a resample) and a JSON round trip
without pickle: numeric arrays as base64 of their bytes, exact for every float (NaN included).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from evalkit.errors import InputError

STATE_FORMAT = "evalkit.metric-state/2"


@dataclass(frozen=True)
class Column:
    """One value per sample. ``dtype`` None keeps JSON values (strings, lists) in a Python list."""

    dtype: str | None = None


@dataclass(frozen=True)
class Rows:
    """Rows attached to samples: each field a numeric array with one entry per row."""

    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sum:
    """A numeric total over every sample; shards add up. Not resampleable."""

    dtype: str = "float64"


@dataclass(frozen=True)
class Shared:
    """One JSON value for the whole state; None means "not known yet" and yields to the other shard's."""


StateSpec = Mapping[str, "Column | Rows | Sum | Shared"]


def encode_array(values: np.ndarray) -> dict[str, Any]:
    """A numeric array as JSON: dtype, shape and base64 bytes (exact, NaN and -0.0 kept)."""
    values = np.ascontiguousarray(values)
    return {"dtype": values.dtype.str, "shape": list(values.shape),
            "data": base64.b64encode(values.tobytes()).decode("ascii")}


def decode_array(data: Mapping[str, Any]) -> np.ndarray:
    dtype = np.dtype(data["dtype"])
    if dtype.hasobject:
        raise ValueError("object arrays are not allowed in a state")
    return np.frombuffer(base64.b64decode(data["data"]), dtype=dtype).reshape(data["shape"]).copy()


class _Chunks:
    """Appended pieces of one numeric array or Python list, joined once when read."""

    def __init__(self, dtype: str | None):
        self.dtype = dtype
        self.pieces: list[Any] = []

    def append(self, values: Any) -> None:
        self.pieces.append(list(values) if self.dtype is None else np.asarray(values, dtype=self.dtype))

    def joined(self) -> Any:
        if self.dtype is None:
            if len(self.pieces) != 1:
                self.pieces = [[v for piece in self.pieces for v in piece]]
            return self.pieces[0]
        if len(self.pieces) != 1:
            # an empty piece (an empty shard's state) has no trailing shape to agree with the others
            filled = [p for p in self.pieces if len(p)]
            if filled:
                self.pieces = [np.concatenate(filled)]
            else:
                self.pieces = [max(self.pieces, key=np.ndim) if self.pieces else np.empty(0, self.dtype)]
        return self.pieces[0]


class MetricState:
    """The values of a declared state: sample ids, columns, rows, sums and shared values."""

    def __init__(self, spec: StateSpec):
        self.spec = dict(spec)
        self.ids: list[str] = []
        #: bumped by every change, so metrics can cache what they derive from the state
        self.version = 0
        self._columns = {n: _Chunks(s.dtype) for n, s in self.spec.items() if isinstance(s, Column)}
        self._rows = {n: {"sample": _Chunks("int64"), **{f: _Chunks(d) for f, d in s.fields.items()}}
                      for n, s in self.spec.items() if isinstance(s, Rows)}
        self._sums = {n: None for n, s in self.spec.items() if isinstance(s, Sum)}
        self.shared: dict[str, Any] = {n: None for n, s in self.spec.items() if isinstance(s, Shared)}

    def __len__(self) -> int:
        return len(self.ids)

    # --- writing -------------------------------------------------------------------------------------------
    def append(self, ids: Sequence[Any], columns: Mapping[str, Any] | None = None,
               rows: Mapping[str, Mapping[str, Any]] | None = None, sums: Mapping[str, Any] | None = None) -> None:
        """Add samples: every declared column gets one value per id; ``rows[name]["sample"]`` indexes ``ids``."""
        columns, rows, sums = dict(columns or {}), dict(rows or {}), dict(sums or {})
        n = len(ids)
        if set(columns) != set(self._columns):
            raise ValueError(f"append needs exactly the columns {sorted(self._columns)}, got {sorted(columns)}")
        for name, values in columns.items():
            if len(values) != n:
                raise ValueError(f"column {name!r} has {len(values)} values for {n} samples")
        for name, fields in rows.items():
            if name not in self._rows or set(fields) != set(self._rows[name]):
                raise ValueError(f"rows {name!r} need the fields {sorted(self._rows.get(name, {}))}")
            sample = np.asarray(fields["sample"], np.int64)
            if len(sample) and (sample.min() < 0 or sample.max() >= n):
                raise ValueError(f"rows {name!r} point at samples outside this append")
        offset = len(self.ids)
        for name, values in columns.items():
            self._columns[name].append(values)
        for name, fields in rows.items():
            for key, values in fields.items():
                self._rows[name][key].append(np.asarray(values, np.int64) + offset if key == "sample" else values)
        for name, value in sums.items():
            self._add_sum(name, value)
        self.ids.extend(str(i) for i in ids)
        self.version += 1

    def _add_sum(self, name: str, value: Any) -> None:
        if name not in self._sums:
            raise ValueError(f"{name!r} is not a declared sum")
        value = np.asarray(value, dtype=self.spec[name].dtype)
        self._sums[name] = value if self._sums[name] is None else self._sums[name] + value

    def set_shared(self, name: str, value: Any) -> None:
        """Set a shared value; a different value already set is a conflict."""
        if name not in self.shared:
            raise ValueError(f"{name!r} is not a declared shared value")
        current = self.shared[name]
        if current is not None and value is not None and current != value:
            raise ValueError(f"shared state {name!r} differs: {current!r} vs {value!r}")
        if value is not None:
            self.shared[name] = value
            self.version += 1

    def merge(self, other: "MetricState") -> None:
        """Append every sample of ``other`` after this state's samples, exactly."""
        if other.spec != self.spec:
            raise ValueError("cannot merge states of different declarations")
        for name, value in other.shared.items():
            self.set_shared(name, value)
        self.append(other.ids, {n: other.column(n) for n in self._columns},
                    {n: other.rows(n) for n in self._rows}, {n: v for n, v in other._sums.items() if v is not None})

    # --- reading -------------------------------------------------------------------------------------------
    def column(self, name: str) -> Any:
        """A column in sample order: a numpy array, or a list for JSON columns."""
        return self._columns[name].joined()

    def rows(self, name: str) -> dict[str, np.ndarray]:
        """Every row of ``name`` with its ``sample`` index into this state."""
        return {key: chunks.joined() for key, chunks in self._rows[name].items()}

    def total(self, name: str) -> Any:
        return self._sums[name]

    def take(self, indices: Sequence[int] | np.ndarray) -> "MetricState":
        """The state of the multiset ``indices``: a sample drawn k times appears k times, its rows copied."""
        if any(v is not None for v in self._sums.values()):
            raise ValueError("a state with totals over samples cannot be resampled")
        indices = np.asarray(indices, np.int64)
        out = MetricState(self.spec)
        out.shared = dict(self.shared)
        out.ids = [self.ids[i] for i in indices.tolist()]
        for name, chunks in self._columns.items():
            values = chunks.joined()
            out._columns[name].append([values[i] for i in indices.tolist()] if chunks.dtype is None else values[indices])
        for name in self._rows:
            fields = self.rows(name)
            order = np.argsort(fields["sample"], kind="stable")
            starts = np.searchsorted(fields["sample"][order], np.arange(len(self.ids) + 1))
            counts = np.diff(starts)[indices]
            picked = np.concatenate([order[starts[i]:starts[i + 1]] for i in indices.tolist()]) if len(indices) else \
                np.zeros(0, np.int64)
            for key, values in fields.items():
                out._rows[name][key].append(np.repeat(np.arange(len(indices)), counts) if key == "sample"
                                            else values[picked.astype(np.int64)])
        out.version = 1
        return out

    # --- serialising ---------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        def encode(values: Any) -> Any:
            return list(values) if isinstance(values, list) else encode_array(values)

        return {
            "ids": list(self.ids),
            "columns": {n: encode(self.column(n)) for n in self._columns},
            "rows": {n: {k: encode_array(v) for k, v in self.rows(n).items()} for n in self._rows},
            "sums": {n: None if v is None else encode_array(v) for n, v in self._sums.items()},
            "shared": dict(self.shared),
        }

    @classmethod
    def from_json(cls, spec: StateSpec, data: Mapping[str, Any]) -> "MetricState":
        """Rebuild a state, checking that it has exactly the declared pieces with one value per sample."""
        state = cls(spec)
        try:
            ids = [str(i) for i in data["ids"]]
            columns = {}
            for name, chunks in state._columns.items():
                raw = data["columns"][name]
                columns[name] = list(raw) if chunks.dtype is None else decode_array(raw).astype(chunks.dtype)
            rows = {n: {k: decode_array(data["rows"][n][k]) for k in fields} for n, fields in state._rows.items()}
            for name in state._sums:
                if data["sums"].get(name) is not None:
                    state._add_sum(name, decode_array(data["sums"][name]))
            state.append(ids, columns, rows)
            for name in state.shared:
                state.set_shared(name, data["shared"].get(name))
        except KeyError as err:
            raise InputError(f"metric state lacks {err.args[0]!r}", field=str(err.args[0])) from None
        except (TypeError, ValueError, AttributeError) as err:
            raise InputError(f"metric state does not fit its declaration: {err}", field="state") from None
        return state
