"""``evalkit score fid|kid|isc|precision-recall|fd-dinov2 --real DIR|ZIP|stats.npz --fake DIR|ZIP``: no model, two image sets."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, ClassVar

from evalkit.errors import InputError
from evalkit.registry import METRICS, SCORERS
from evalkit.scoring.base import Scorer


class GenerationScorer(Scorer):
    metric: ClassVar[str]
    needs_real: ClassVar[bool] = True
    #: FID-Inception's opt-in fast network (BatchNorm folded, NHWC on the CPU): ``--fast``
    has_fast_path: ClassVar[bool] = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--real", type=Path, required=cls.needs_real,
                            help="reference set: an image folder (recursive), a .zip of images, or a pytorch-fid .npz")
        parser.add_argument("--fake", type=Path, required=True, help="generated images: a folder or a .zip")
        if "mode" in METRICS.get(cls.metric).defaults or cls.metric == "fid":
            parser.add_argument("--mode", choices=("pytorch-fid", "clean", "tf"), default=None,
                                help="preprocessing: pytorch-fid (bilinear), clean (clean-fid's PIL bicubic), "
                                     "tf (torch-fidelity's TF bilinear); default: the metric's")
        if "dims" in METRICS.get(cls.metric).defaults:
            parser.add_argument("--dims", type=int, choices=(64, 192, 768, 2048), default=2048,
                                help="FID-Inception block, as pytorch-fid's --dims")
        if "arch" in METRICS.get(cls.metric).defaults:
            parser.add_argument("--arch", choices=("vits14", "vitb14", "vitl14"), default=None,
                                help="DINOv2 architecture (dgm-eval's --arch; default vitl14)")
        parser.add_argument("--weights-file", help="feature-extractor weights (default: the torch hub cache); a file "
                            "whose SHA-256 is not the official one is used, and flagged, only when given here")
        if cls.has_fast_path:
            parser.add_argument("--fast", action="store_true",
                                help="BatchNorm folded into the convolutions (NHWC on the CPU): about 2x faster on a "
                                     "CPU; features round differently (~1e-4, as pytorch-fid's own do with another "
                                     "thread count) and the signature says bn_folded")
        parser.add_argument("--save-stats", type=Path, help="also write the reference set's statistics (pytorch-fid "
                            ".npz: mu, sigma, plus the extractor signature)")
        parser.add_argument("--batch-size", type=int, default=50)
        parser.add_argument("--workers", type=int, default=0, help="decode and resize in this many processes")
        parser.add_argument("--device", default="auto")
        parser.add_argument("--cache-dir", help="where reference features are cached (default ~/.cache/evalkit)")
        parser.add_argument("--skip-corrupt", action="store_true", help="skip undecodable images and count them")
        if "sqrt" in METRICS.get(cls.metric).neutral_options:
            parser.add_argument("--sqrt", choices=("auto", "sqrtm", "eigh", "eigvals"), default="auto",
                                help="matrix square root: sqrtm is pytorch-fid's; eigh is faster and equal to "
                                     "float rounding when well conditioned")
        parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                            help="other metric options (e.g. subset_size=100 for kid), JSON values")

    def options(self, args: argparse.Namespace) -> dict[str, Any]:
        import json

        options: dict[str, Any] = {}
        if getattr(args, "mode", None):
            options["mode"] = args.mode
        if getattr(args, "arch", None):
            options["arch"] = args.arch
        if getattr(args, "dims", None) is not None:
            options["dims"] = args.dims
        if getattr(args, "sqrt", None):
            options["sqrt"] = args.sqrt
        for item in args.option:
            key, sep, value = item.partition("=")
            if not sep:
                raise InputError(f"--option needs KEY=VALUE, got {item!r}")
            try:
                options[key] = json.loads(value)
            except ValueError:
                options[key] = value
        return options

    @staticmethod
    def make_extractor(metric: Any, weights_file: str | None, device: str, fast: bool = False) -> Any:
        from evalkit.features.extract import Extractor

        return Extractor([metric.options.get("mode", "pytorch-fid")], [metric.layer()], weights_file, device,
                         exact=not fast)

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        from evalkit.features.extract import extract_image_set
        from evalkit.features.frechet import statistics
        from evalkit.features.images import ImageSet
        from evalkit.features.reference import is_stats_file, prepare_reference, reference_of, save_stats
        from evalkit.models.base import resolve_device

        metric = METRICS.get(self.metric)(**self.options(args))
        key = metric.feature_key()
        mode = key.split("/", 1)[1].split(":", 1)[0]
        extractor = self.make_extractor(metric, args.weights_file, resolve_device(args.device),
                                        fast=bool(getattr(args, "fast", False)))
        warnings = []
        if not extractor.weights.official:
            warnings.append(f"unofficial weights: {extractor.weights.path} has SHA-256 {extractor.weights.sha256[:16]}…, "
                            "not the official file's; these numbers are not comparable to published ones")
        meta: dict[str, Any] = {}
        if args.real is not None and (metric.requires_meta or args.save_stats):
            pointers = prepare_reference(args.real, extractor, [key], args.cache_dir, args.batch_size, args.workers,
                                         args.skip_corrupt, progress=sys.stderr.isatty())
            meta["reference"] = pointers
            if args.save_stats:
                if is_stats_file(args.real):
                    ref = reference_of(pointers[key], "stats")
                    mu, sigma = ref["mu"], ref["sigma"]
                else:
                    mu, sigma = statistics(reference_of(pointers[key], "features")["features"])
                save_stats(args.save_stats, mu, sigma, extractor.signature(mode))
        metric.bind(meta)
        extracted = extract_image_set(ImageSet(args.fake), extractor, args.batch_size, args.workers, args.skip_corrupt,
                                      progress=sys.stderr.isatty())
        metric.update(extracted.features, None, extracted.ids)
        result = metric.compute(ci=args.ci, n_resamples=args.n_resamples, seed=args.seed)
        extras = {k: v for k, v in result.items() if k not in metric.keys and k != "ci"}
        warnings.extend(extras.pop("fid_warnings", []))
        for warning in warnings:
            print(f"evalkit: warning: {warning}", file=sys.stderr)
        pointer = metric.pointer() or {}
        out: dict[str, Any] = {k: result[k] for k in metric.keys if k in result}
        if args.ci:
            out["ci"] = result["ci"]
        out.update(num_generated=metric.num_samples(), num_reference=pointer.get("num_samples"),
                   skipped_corrupt=len(extracted.skipped), weights=extractor.weights.describe(),
                   random_or_unofficial_weights=not extractor.weights.official, warnings=warnings,
                   metric_signature=str(metric.signature()))
        return out


#: scorer name (also the metric it scores with) → (its help line, whether it needs a reference set)
INCEPTION_SCORERS = {
    "fid": ("FID of generated images against a reference set or statistics (pytorch-fid's numbers; "
            "--mode clean/tf)", True),
    "kid": ("KID (torch-fidelity's numbers): polynomial-kernel unbiased MMD², 100 subsets of 1,000", True),
    "isc": ("Inception Score of generated images (torch-fidelity's numbers, 10 splits)", False),
    "precision-recall": ("improved precision and recall, k = 3 (torch-fidelity's prc numbers)", True),
}
for _name, (_help, _needs_real) in INCEPTION_SCORERS.items():
    SCORERS.register(_name)(type(f"Scorer_{_name}", (GenerationScorer,),
                                 {"name": _name, "metric": _name, "help": _help, "needs_real": _needs_real,
                                  "__doc__": _help, "__module__": __name__}))


@SCORERS.register("fd-dinov2")
class FDDinoV2Scorer(GenerationScorer):
    name = metric = "fd-dinov2"
    help = "FD-DINOv2 (dgm-eval's numbers): Fréchet distance of DINOv2 ViT-L/14 features"
    has_fast_path = False

    @staticmethod
    def make_extractor(metric: Any, weights_file: str | None, device: str, fast: bool = False) -> Any:
        from evalkit.features.dinov2 import DinoV2Extractor

        return DinoV2Extractor(metric.options["arch"], weights_file, device)
