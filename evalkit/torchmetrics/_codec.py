"""Per-sample values as tensors that torchmetrics can all-gather (numbers, and strings as UTF-8 bytes).

torchmetrics gathers list states as tensors, so a string column travels as its bytes (uint8), one
length per string (-1 for None) and, for a list of strings per sample, one count per sample.
Dtypes gloo cannot gather (bool, 16-bit) travel widened; the evalkit state casts them back.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

#: tensors that make up one column of each kind, by suffix
PARTS = {"number": ("values",), "text": ("bytes", "len"), "texts": ("bytes", "len", "count")}
_WIDEN = {np.dtype(np.bool_): np.uint8, np.dtype(np.int8): np.int32, np.dtype(np.int16): np.int32,
          np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64}


def number_tensor(values: Any) -> torch.Tensor:
    """A numeric column flattened to 1-D (the sample count restores the row shape)."""
    array = np.asarray(values)
    array = array.astype(_WIDEN.get(array.dtype, array.dtype), copy=False)
    return torch.from_numpy(np.ascontiguousarray(array).reshape(-1).copy())


def text_tensors(strings: Sequence[str | None]) -> tuple[torch.Tensor, torch.Tensor]:
    """UTF-8 bytes of all strings joined, and each string's byte length (-1: None)."""
    encoded = [None if s is None else s.encode("utf-8", "surrogatepass") for s in strings]
    lengths = np.fromiter((-1 if b is None else len(b) for b in encoded), np.int64, len(encoded))
    joined = b"".join(b for b in encoded if b is not None)
    return torch.frombuffer(bytearray(joined), dtype=torch.uint8) if joined else torch.zeros(0, dtype=torch.uint8), \
        torch.from_numpy(lengths)


def texts_tensors(lists: Sequence[Sequence[str]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`text_tensors` of every sample's strings, and how many strings each sample has."""
    data, lengths = text_tensors([s for strings in lists for s in strings])
    return data, lengths, torch.tensor([len(strings) for strings in lists], dtype=torch.int64)


def joined(state: Any, dtype: Any) -> np.ndarray:
    """A list state as one numpy array: its local pieces, or the one tensor torchmetrics' sync left."""
    pieces = state if isinstance(state, list) else [state]
    pieces = [p.detach().cpu().reshape(-1) for p in pieces]
    if not pieces:
        return np.zeros(0, dtype)
    return torch.cat(pieces).numpy().astype(dtype, copy=False)


def decode_texts(data: np.ndarray, lengths: np.ndarray) -> list[str | None]:
    """The strings of :func:`text_tensors` back."""
    raw = data.astype(np.uint8, copy=False).tobytes()
    ends = np.cumsum(np.maximum(lengths, 0)).tolist()
    starts = [0, *ends[:-1]]
    return [None if n < 0 else raw[a:b].decode("utf-8", "surrogatepass")
            for a, b, n in zip(starts, ends, lengths.tolist())]


def split_lists(values: list[Any], counts: np.ndarray) -> list[list[Any]]:
    """``values`` cut into consecutive lists of ``counts`` items."""
    ends = np.cumsum(counts).tolist()
    return [values[a:b] for a, b in zip([0, *ends[:-1]], ends)]
