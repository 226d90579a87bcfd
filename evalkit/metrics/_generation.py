"""What the generation metrics share: per-sample features of the generated set, a reference pointer.

State: ``features`` (one float32 vector per generated sample: bootstrap resamples generated samples)
and ``reference`` (a :class:`Shared` pointer to the reference statistics or features, from the data
set's ``dataset_meta()["reference"]``; see :mod:`evalkit.features.reference`). numpy only at import.
"""
from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.metrics.base import Metric, Signature
from evalkit.metrics.state import Column, Shared

#: the tool whose preprocessing each mode reproduces
MODE_REFERENCE = {"pytorch-fid": "pytorch-fid", "clean": "clean-fid", "tf": "torch-fidelity"}


class FeatureMetric(Metric):
    state = {"features": Column("float32"), "reference": Shared()}
    requires_meta: ClassVar[tuple[str, ...]] = ("reference",)
    extractor: ClassVar[str] = "inception"

    def __init__(self, **options: Any):
        super().__init__(**options)
        from evalkit.features import check_mode

        check_mode(self.options.get("mode", "pytorch-fid"))
        if "dims" in self.options:
            from evalkit.features import check_dims

            check_dims(self.options["dims"])

    def layer(self) -> str:
        return str(self.options["dims"])

    def feature_key(self) -> str:
        from evalkit.features import feature_key

        return feature_key(self.extractor, self.options.get("mode", "pytorch-fid"), self.layer())

    def bind(self, dataset_meta: Mapping[str, Any] | Any) -> None:
        super().bind(dataset_meta)
        if "reference" not in self.requires_meta:
            return
        pointers = self.dataset_meta["reference"]
        key = self.feature_key()
        if key not in pointers:
            raise InputError(f"metric {self.name!r} needs the reference features {key!r}, which this run did not "
                             f"compute (it has {', '.join(sorted(pointers)) or 'none'}); add its mode and layer to "
                             "the model's 'modes'/'layers'", field="metrics")
        self._state.set_shared("reference", dict(pointers[key]))

    def update(self, predictions: Any, targets: Any = None, ids: Sequence[Any] | None = None) -> None:
        key = self.feature_key()
        if isinstance(predictions, Mapping):
            if key not in predictions:
                raise InputError(f"metric {self.name!r} needs features {key!r}; the model computed "
                                 f"{', '.join(sorted(predictions))}: add the mode and layer to its 'modes'/'layers'",
                                 field="metrics")
            predictions = predictions[key]
        values = np.asarray(predictions, np.float32)
        if values.ndim != 2:
            raise InputError(f"metric {self.name!r} expects one feature vector per sample, got shape {values.shape}")
        self.add(ids, features=values)

    def pointer(self) -> dict[str, Any] | None:
        return self._state.shared.get("reference")

    def reference_arrays(self, what: str) -> dict[str, Any]:
        from evalkit.features.reference import reference_of

        return reference_of(self.pointer(), what)

    def features(self) -> np.ndarray:
        values = self.column("features")
        return values if np.ndim(values) == 2 else np.zeros((0, 0), np.float32)

    def signature(self) -> Signature:
        """The options, plus the feature extractor (weights hash and preprocessing) when the reference names it."""
        base = super().signature()
        pointer = self.pointer() or {}
        extractor = pointer.get("extractor")
        options = base.options + ((("features", extractor),) if extractor else ())
        return Signature(base.metric, options, base.evalkit, base.reference)

    def sample_warnings(self, n: int, dims: int) -> list[str]:
        if 0 < n <= dims:
            return [f"{n} generated samples for {dims} feature dimensions: the covariance is singular and the "
                    "number is not comparable to published ones (use at least as many samples as the papers)"]
        return []


def reference_name(mode: str) -> str:
    return MODE_REFERENCE.get(mode, "pytorch-fid")
