"""FID (Heusel et al. 2017), identical to pytorch-fid 0.3.0, clean-fid (``mode: clean``) or torch-fidelity (``mode: tf``)."""
from __future__ import annotations

from typing import Any

from evalkit.metrics._generation import FeatureMetric, reference_name
from evalkit.registry import METRICS


@METRICS.register("fid")
class FrechetInceptionDistance(FeatureMetric):
    """Fréchet distance between Gaussians fitted to FID-Inception features of generated and reference images.

    ``dims`` picks pytorch-fid's ``--dims`` block; ``mode`` the preprocessing (pytorch-fid's bilinear
    resize, clean-fid's PIL bicubic, torch-fidelity's TF bilinear). ``sqrt`` (no effect beyond float
    rounding): ``sqrtm`` is pytorch-fid's own computation, ``eigh`` the fast symmetric one, ``auto``
    the fast one when both sets have more samples than dimensions.
    """

    name = "fid"
    keys = ("FID",)
    higher_is_better = False
    defaults = {"dims": 2048, "mode": "pytorch-fid"}
    neutral_options = {"sqrt": "auto"}
    reference = "pytorch-fid"

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.reference = reference_name(self.options["mode"])

    def reset_caches(self) -> None:
        self._details: dict[str, Any] = {}

    def score(self) -> dict[str, float]:
        from evalkit.features.frechet import frechet_distance, statistics

        features = self.features()
        if len(features) < 2:
            return {"FID": float("nan")}
        ref = self.reference_arrays("stats")
        mean_dtype = "float32" if self.options["mode"] == "tf" else "float64"
        mu, sigma = statistics(features, mean_dtype)
        value, info = frechet_distance(mu, sigma, ref["mu"], ref["sigma"], self.options["sqrt"], n1=len(features),
                                       n2=ref.get("num_samples"),
                                       fallback="eigvals" if self.options["mode"] == "tf" else "sqrtm")
        self._details = info
        return {"FID": value}

    def extras(self) -> dict[str, Any]:
        warnings = self.sample_warnings(self.num_samples(), int(self.options["dims"]))
        pointer = self.pointer() or {}
        n_ref = pointer.get("num_samples")
        if n_ref is not None and 0 < n_ref <= int(self.options["dims"]):
            warnings.append(f"{n_ref} reference samples for {self.options['dims']} feature dimensions: the reference "
                            "covariance is singular")
        return {"fid_warnings": warnings} if warnings else {}
