"""FD-DINOv2 (Stein et al. 2023): the Fréchet distance of DINOv2 ViT-L/14 features, as dgm-eval computes it."""
from __future__ import annotations

from typing import Any

from evalkit.metrics._generation import FeatureMetric
from evalkit.registry import METRICS


@METRICS.register("fd-dinov2")
class FrechetDinoV2Distance(FeatureMetric):
    """Fréchet distance between Gaussians fitted to DINOv2 CLS features of generated and reference images.

    dgm-eval's preprocessing (PIL bicubic to 224, ImageNet normalisation; :mod:`evalkit.features.dinov2`),
    float64 mean and covariance (N−1), and its Fréchet distance (``scipy.linalg.sqrtm``, the 1e-6 retry, the
    imaginary-part check: pytorch-fid's). ``sqrt: auto`` takes the fast symmetric trace when both sets have
    more samples than dimensions (equal to float rounding), else ``sqrtm``.
    """

    name = "fd-dinov2"
    keys = ("FD_DINOv2",)
    higher_is_better = False
    extractor = "dinov2"
    defaults = {"arch": "vitl14"}
    neutral_options = {"sqrt": "auto"}
    reference = "dgm-eval"

    def __init__(self, **options: Any):
        super().__init__(**options)
        from evalkit.features import check_arch

        check_arch(self.options["arch"])

    def layer(self) -> str:
        return str(self.options["arch"])

    def feature_key(self) -> str:
        from evalkit.features import DINOV2_MODE, feature_key

        return feature_key(self.extractor, DINOV2_MODE, self.layer())

    def score(self) -> dict[str, float]:
        from evalkit.features.frechet import frechet_distance, statistics

        features = self.features()
        if len(features) < 2:
            return {"FD_DINOv2": float("nan")}
        ref = self.reference_arrays("stats")
        mu, sigma = statistics(features)
        value, _ = frechet_distance(mu, sigma, ref["mu"], ref["sigma"], self.options["sqrt"], n1=len(features),
                                    n2=ref.get("num_samples"))
        return {"FD_DINOv2": value}

    def extras(self) -> dict[str, Any]:
        from evalkit.features import DINOV2_ARCHS

        warnings = self.sample_warnings(self.num_samples(), DINOV2_ARCHS[self.options["arch"]][1])
        return {"fid_warnings": warnings} if warnings else {}
