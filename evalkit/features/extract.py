"""Feature extraction: decode and resize in DataLoader workers, batched forward passes on the device."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.features import feature_key
from evalkit.features.images import ImageSet
from evalkit.features.preprocess import Preprocess, decode_rgb
from evalkit.features.weights import ResolvedWeights, random_weights, resolve_weights


class Extractor:
    """FID-Inception on a device, for one or more preprocessing modes and layers."""

    name = "inception"

    def __init__(self, modes: Sequence[str] = ("pytorch-fid",), layers: Sequence[str] = ("2048",),
                 weights_file: str | None = None, device: str = "cpu", random_seed: int | None = None,
                 exact: bool = True):
        self.modes = tuple(dict.fromkeys(modes))
        self.layers = tuple(dict.fromkeys(layers))
        self.weights: ResolvedWeights = (random_weights(random_seed) if random_seed is not None
                                         else resolve_weights("fid-inception", weights_file))
        self.device = device
        self.exact = exact
        self._network: Any = None

    @property
    def random_or_unofficial(self) -> bool:
        return not self.weights.official

    def signature(self, mode: str) -> str:
        """What determines the features of ``mode``: the network, its weights and the preprocessing."""
        flag = "" if self.weights.official else "(unofficial)"
        fast = "" if self.exact else "|bn_folded"
        return f"fid-inception|weights:{self.weights.tag}{flag}|preprocess:{mode}{fast}"

    def keys(self) -> list[str]:
        return [feature_key(self.name, mode, layer) for mode in self.modes for layer in self.layers]

    def feature_dims(self, key: str) -> int | None:
        """The size of feature ``key``, or None for a layer that statistics files do not hold (logits)."""
        from evalkit.features import DIMS

        layer = key.rsplit(":", 1)[1]
        return int(layer) if layer.isdigit() and int(layer) in DIMS else None

    @property
    def channels_last(self) -> bool:
        """The fast path runs NHWC on the CPU, where oneDNN's convolutions and pools need no layout reorders."""
        import torch

        return not self.exact and torch.device(self.device).type == "cpu"

    def network(self) -> Any:
        """The network on the device; unless ``exact``, BatchNorm folded into the convolutions and NHWC on the CPU.

        ``exact`` runs pytorch-fid's own kernels (its features bit for bit on the same machine and threads).
        The fast path is about twice as fast on the CPU; its features differ by float rounding, amplified by
        the network as much as pytorch-fid's own change between 1 and 2 threads."""
        if self._network is None:
            import torch

            from evalkit.features.inception import build_fid_inception, fold_batchnorm
            from evalkit.features.weights import load_state_dict

            if self.weights.random_seed is not None:
                with torch.random.fork_rng(devices=[]):  # He-initialised convolutions keep activations at scale
                    torch.manual_seed(self.weights.random_seed)
                    network = build_fid_inception()
                    for module in network.modules():
                        if isinstance(module, torch.nn.Conv2d):
                            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            else:
                network = build_fid_inception(load_state_dict(self.weights))
            if not self.exact:
                fold_batchnorm(network)
            if self.channels_last:
                network = network.to(memory_format=torch.channels_last)
            self._network = network.to(self.device)
        return self._network

    def preprocess(self) -> Preprocess:
        return Preprocess(self.modes)

    def features(self, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
        """``{mode: N×3×299×299 tensor}`` → ``{feature key: N×D float32 array}``."""
        import torch

        network = self.network()
        out = {}
        with torch.inference_mode():
            for mode in self.modes:
                x = inputs[mode].to(self.device, non_blocking=True)
                if self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                for layer, values in network(x, self.layers).items():
                    out[feature_key(self.name, mode, layer)] = values.float().cpu().numpy()
        return out

    def features_of_uint8(self, images: Any) -> dict[str, np.ndarray]:
        """Features of an NCHW uint8 tensor (generator output), preprocessed on its device."""
        from evalkit.features.preprocess import normalise_uint8_batch

        return self.features({mode: normalise_uint8_batch(images, mode) for mode in self.modes})

    def describe(self) -> dict[str, Any]:
        return {"extractor": "fid-inception", "modes": list(self.modes), "layers": list(self.layers),
                "bn_folded": not self.exact, "channels_last": self.channels_last, **self.weights.describe(),
                "signatures": {mode: self.signature(mode) for mode in self.modes}}


@dataclass
class Extracted:
    """Features of an image set in listing order, with the skipped (corrupt) images."""

    ids: list[str]
    features: dict[str, np.ndarray]
    skipped: list[str] = field(default_factory=list)


class _Decoded:
    """A picklable dataset: index → (index, preprocessed tensors) or (index, None) for a skipped image."""

    def __init__(self, images: ImageSet, preprocess: Preprocess, skip_corrupt: bool, indices: Sequence[int]):
        self.images, self.preprocess, self.skip_corrupt, self.indices = images, preprocess, skip_corrupt, list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[int, Any]:
        index = self.indices[i]
        try:
            rgb = decode_rgb(self.images.open(index))
        except Exception as err:  # PIL raises many types for broken files
            if self.skip_corrupt:
                return index, None
            raise InputError(f"cannot decode image: {type(err).__name__}: {err}", file=self.images.where(index)) \
                from None
        return index, self.preprocess(rgb)


def _collate(items: list[tuple[int, Any]]) -> tuple[list[int], list[int], dict[str, Any]]:
    import torch

    kept = [(i, x) for i, x in items if x is not None]
    skipped = [i for i, x in items if x is None]
    stacked = {mode: torch.stack([x[mode] for _, x in kept]) for mode in kept[0][1]} if kept else {}
    return [i for i, _ in kept], skipped, stacked


def decoded_batches(images: ImageSet, preprocess: Preprocess, indices: Sequence[int], batch_size: int = 50,
                    workers: int = 0, skip_corrupt: bool = False) -> Iterable[tuple[list[int], list[int], dict]]:
    """Batches of (kept indices, skipped indices, {mode: tensor}) in order, decoded in ``workers`` processes."""
    import torch.utils.data

    dataset = _Decoded(images, preprocess, skip_corrupt, indices)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers,
                                         collate_fn=_collate)
    yield from loader


def extract_image_set(images: ImageSet, extractor: Extractor, batch_size: int = 50, workers: int = 0,
                      skip_corrupt: bool = False, indices: Sequence[int] | None = None,
                      progress: bool = False) -> Extracted:
    """Features of ``images`` (or of ``indices`` of it) for every key of ``extractor``."""
    from tqdm import tqdm

    indices = range(len(images)) if indices is None else indices
    chunks: dict[str, list[np.ndarray]] = {key: [] for key in extractor.keys()}
    ids: list[str] = []
    skipped: list[str] = []
    with tqdm(total=len(indices), disable=not progress, file=sys.stderr, unit="image", leave=False) as bar:
        for kept, dropped, batch in decoded_batches(images, extractor.preprocess(), indices, batch_size, workers,
                                                    skip_corrupt):
            if kept:
                for key, values in extractor.features(batch).items():
                    chunks[key].append(values)
            ids.extend(images.names[i] for i in kept)
            skipped.extend(images.names[i] for i in dropped)
            bar.update(len(kept) + len(dropped))
    features = {key: np.concatenate(parts) if parts else np.zeros((0, 0), np.float32) for key, parts in chunks.items()}
    return Extracted(ids, features, skipped)


def join_extracted(parts: Sequence[Extracted]) -> Extracted:
    """The parts of contiguous shards joined in shard order: what one pass over every image gives."""
    keys = {key for part in parts for key, values in part.features.items() if len(values)}
    features = {key: np.concatenate([p.features[key] for p in parts if len(p.features.get(key, ()))]) for key in keys}
    return Extracted([i for p in parts for i in p.ids], features, [s for p in parts for s in p.skipped])
