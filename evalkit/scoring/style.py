"""``evalkit score style``: stylised images against their content and style images, no model.

``--content DIR --style DIR --stylized DIR``: every content with every style (or the pairs of ``--pairs CSV``);
the stylised image of a pair is ``<content stem>__<style stem>.<ext>`` (or the CSV's ``stylized``). A pair
without one is an error naming it, unless ``--subset`` scores the pairs that have one.
"""
from __future__ import annotations

import argparse
from typing import Any

from evalkit.datasets.style_pairs import StylePairs
from evalkit.errors import InputError
from evalkit.formats.style_images import find_stylized, missing_pairs_error, read_rgb
from evalkit.registry import METRICS, SCORERS
from evalkit.scoring.base import Scorer

KNOWN = ("ssim", "lpips", "content-loss", "style-loss", "artfid")
DEFAULT = "ssim,lpips,content-loss,style-loss"


@SCORERS.register("style")
class StyleScorer(Scorer):
    help = ("style transfer: SSIM (scikit-image), LPIPS (lpips), Gatys' content/style losses and ArtFID (art-fid) "
            "of stylised images named <content stem>__<style stem>.<ext>")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--content", required=True, help="folder of content images")
        parser.add_argument("--style", required=True, help="folder of style images")
        parser.add_argument("--stylized", required=True, help="folder of stylised images")
        parser.add_argument("--pairs", help="CSV with columns content,style[,id,stylized] (default: every content "
                                            "with every style)")
        parser.add_argument("--metrics", default=DEFAULT, help=f"comma-separated: {','.join(KNOWN)} (default {DEFAULT})")
        parser.add_argument("--subset", action="store_true", help="score only the pairs that have a stylised image")
        parser.add_argument("--net", default="alex", choices=("alex", "vgg"), help="LPIPS backbone (default alex)")
        parser.add_argument("--variant", default="gatys", choices=("gatys", "tutorial"),
                            help="content/style loss definition (default gatys)")
        parser.add_argument("--resize", default="bicubic", choices=("bicubic", "bilinear", "none"),
                            help="content images of another size than their stylised image are resized to it "
                                 "(default bicubic; none: an error)")
        parser.add_argument("--vgg-weights", help="VGG-19 weights file (default: torchvision's cache file)")
        parser.add_argument("--lpips-weights", help="LPIPS backbone weights file (default: torchvision's cache file; "
                                                    "artfid's LPIPS, always AlexNet, uses it with --net alex)")
        parser.add_argument("--artfid-weights", help="art-Inception weights file (default: art-fid's cache file, "
                                                     "<tempdir>/art_fid/art_inception.pth)")
        parser.add_argument("--style-set", default="distinct", choices=("distinct", "per_pair"),
                            help="artfid's style images: each distinct one once (art-fid given the style folder, "
                                 "default) or each pair's (a folder with one style image per stylised image)")
        parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")

    def score(self, args: argparse.Namespace) -> dict[str, Any]:
        names = [n.strip().lower() for n in str(args.metrics).split(",") if n.strip()]
        unknown = [n for n in names if n not in KNOWN]
        if unknown or not names:
            raise InputError(f"--metrics takes a comma-separated list of {', '.join(KNOWN)}", field="metrics")
        pairs = StylePairs(None, content_dir=args.content, style_dir=args.style, pairs_csv=args.pairs)
        ids = pairs.sample_ids()
        files, missing = find_stylized(args.stylized, ids, pairs.stylized_names())
        if missing and not args.subset:
            raise missing_pairs_error(args.stylized, missing, len(ids))
        if not files:
            raise InputError("no pair has a stylised image", file=args.stylized)
        metrics = [METRICS.get(n)(**_options(n, args)) for n in names]
        index = {sample: i for i, sample in enumerate(ids)}
        kept = [s for s in ids if s in files]
        for start in range(0, len(kept), 16):
            chunk = kept[start:start + 16]
            stylised = [read_rgb(files[s]) for s in chunk]
            targets = [pairs.item(index[s], None)[1] for s in chunk]
            for metric in metrics:
                metric.update(stylised, targets, chunk)
        result: dict[str, Any] = {"pairs": len(kept), "missing": len(missing)}
        cis: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        for metric in metrics:
            scores = metric.compute(ci=args.ci, n_resamples=args.n_resamples, seed=args.seed)
            for key in metric.keys:
                if key in scores:
                    result[key] = scores[key]
            cis.update(scores.get("ci", {}))
            if scores.get("weights"):
                extras[metric.name] = scores["weights"]
        if args.ci:
            result["ci"] = cis
        if extras:
            result["weights"] = extras
        result["metric_signature"] = (str(metrics[0].signature()) if len(metrics) == 1
                                      else {m.name: str(m.signature()) for m in metrics})
        return result


def _options(name: str, args: argparse.Namespace) -> dict[str, Any]:
    if name == "ssim":
        return {"resize": args.resize}
    if name == "lpips":
        return {"net": args.net, "resize": args.resize, "weights_file": args.lpips_weights, "device": args.device}
    if name == "artfid":
        return {"style_set": args.style_set, "resize": args.resize, "weights_file": args.artfid_weights,
                "lpips_weights_file": args.lpips_weights if args.net == "alex" else None, "device": args.device}
    return {"variant": args.variant, "resize": args.resize, "weights_file": args.vgg_weights, "device": args.device}
