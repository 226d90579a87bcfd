"""GPU check (issue 7): CUDA vs CPU parity and resnet50 images/s, in a few minutes on one H100/H200.

    python benchmarks/gpu_check.py            # on a CUDA machine
    python benchmarks/gpu_check.py --smoke    # tiny sizes, runs on the CPU (checks the script itself)

1. Parity: the same random-init resnet50 (seeded, batch-norm statistics re-estimated on the images) on the same JPEGs through ``evalkit``'s runner on the
   CPU and on CUDA in fp32 (TF32 off): top-1/top-5 error and the share of identical top-1 / top-5
   predictions.
2. Speed: images/s of the full harness (JPEG decode + preprocessing + model + metric) on synthetic
   JPEGs, for fp32, bf16, bf16+channels_last and bf16+channels_last+torch.compile, with CPU decoding
   (DataLoader workers) and with nvjpeg decoding on the GPU, against the same model's bare forward
   throughput on pre-loaded tensors.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# last, not first: asv imports this module with the others, and evalkit must come from the commit asv installed
sys.path.append(str(Path(__file__).resolve().parents[1]))


def make_jpegs(root: Path, count: int) -> Path:
    """ImageNet-like JPEGs (about 400×350, textured) in 10 wnid folders."""
    from PIL import Image, ImageDraw, ImageFilter

    from evalkit.datasets.imagenet import imagenet_classes

    rng = np.random.default_rng(0)
    wnids = [w for w, _, _ in imagenet_classes()][:10]
    for i in range(count):
        h, w = int(rng.integers(300, 420)), int(rng.integers(320, 500))
        base = rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((w, h), Image.BILINEAR).filter(ImageFilter.DETAIL)
        draw = ImageDraw.Draw(image)
        for _ in range(6):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            draw.ellipse([x, y, x + int(rng.integers(10, 120)), y + int(rng.integers(10, 120))],
                         fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
        folder = root / wnids[i % 10]
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"img_{i:05d}.JPEG", quality=90)
    return root


def calibrated_checkpoint(root: Path, path: Path) -> Path:
    """resnet50 with random weights whose batch-norm statistics are re-estimated on the images.

    With untouched random weights every image gets the same class, which would make a parity
    check trivially true; recalibrated statistics and centred logits make predictions depend on the input.
    """
    import timm
    import torch

    from evalkit.datasets.imagenet import ImageNetVal
    from evalkit.models.preprocess import DEFAULT_CONFIG, build_transform

    torch.manual_seed(12345)
    model = timm.create_model("resnet50")
    data = ImageNetVal(root)
    batches = [b.inputs for b in data.batches(data.select(limit=64), 16, build_transform(DEFAULT_CONFIG))]
    model.train()
    with torch.no_grad():
        for inputs in batches:
            model(inputs)
        model.eval()
        # centre the logits on the mean feature, so the class depends on the image, not on a shared offset
        features = torch.cat([model.forward_head(model.forward_features(x), pre_logits=True) for x in batches])
        model.fc.bias.copy_(-model.fc.weight @ features.mean(0))
    torch.save(model.state_dict(), path)
    return path


CHECKPOINT: Path | None = None


def run(root: Path, device: str, limit: int, batch: int, workers: int, decode: str = "cpu",
        precision: str = "fp32", channels_last: bool = False, compile: bool = False):
    from evalkit.datasets.imagenet import ImageNetVal
    from evalkit.models.timm_models import TimmAdapter
    from evalkit.runner import evaluate_adapter
    from evalkit.suite import Runtime

    runtime = Runtime(device=device, precision=precision, batch_size=batch, workers=workers, limit=limit,
                      channels_last=channels_last, compile=compile, warmup_batches=2 if compile else 1,
                      progress=False)
    record, metrics = evaluate_adapter(task_name="imagenet", dataset=ImageNetVal(root, decode=decode),
                                       adapter=TimmAdapter(name="resnet50", checkpoint=CHECKPOINT), metric_specs=[("topk", {})],
                                       runtime=runtime, cache=None)
    return record, metrics[0]


def bare_forward(device: str, batch: int, precision: str, channels_last: bool, compile: bool,
                 iters: int) -> float:
    """Images/s of model(x) alone on a tensor already on the device."""
    import timm
    import torch

    torch.manual_seed(12345)
    model = timm.create_model("resnet50").eval().to(device)
    x = torch.randn(batch, 3, 224, 224, device=device)
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    if compile:
        model = torch.compile(model)
    dtype = {"fp32": None, "bf16": torch.bfloat16}[precision]
    with torch.inference_mode(), torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
        for _ in range(3):
            model(x)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(iters):
            model(x)
        torch.cuda.synchronize()
    return batch * iters / (time.perf_counter() - start)


def parity(root: Path, limit: int, batch: int, workers: int, gpu: str) -> dict:
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    cpu_record, cpu_metric = run(root, "cpu", limit, batch, workers)
    gpu_record, gpu_metric = run(root, gpu, limit, batch, workers)
    cpu_top5, gpu_top5 = cpu_metric.column("top5"), gpu_metric.column("top5")
    return {
        "samples": int(len(cpu_top5)),
        "cpu_top1_error": cpu_record["metrics"]["top1_error"], "cuda_top1_error": gpu_record["metrics"]["top1_error"],
        "cpu_top5_error": cpu_record["metrics"]["top5_error"], "cuda_top5_error": gpu_record["metrics"]["top5_error"],
        "distinct_top1_classes": int(len(np.unique(cpu_top5[:, 0]))),
        "same_top1": float(np.mean(cpu_top5[:, 0] == gpu_top5[:, 0])),
        "same_top5_set": float(np.mean([set(a) == set(b) for a, b in zip(cpu_top5, gpu_top5)])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU, to test the script")
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--parity-images", type=int, default=512)
    parser.add_argument("--workers", type=int, default=min(12, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    import torch

    gpu = "cuda" if torch.cuda.is_available() else None
    if gpu is None and not args.smoke:
        print("no CUDA device: run with --smoke to check the script on the CPU")
        return 2
    images, parity_images, batch = (16, 8, 4) if args.smoke else (args.images, args.parity_images, 256)
    results: dict = {"gpu": torch.cuda.get_device_name() if gpu else None, "torch": torch.__version__}
    global CHECKPOINT
    with tempfile.TemporaryDirectory() as tmp:
        root = make_jpegs(Path(tmp) / "val", images)
        CHECKPOINT = calibrated_checkpoint(root, Path(tmp) / "resnet50-bn-calibrated.pth")
        results["parity"] = parity(root, parity_images, min(batch, 128), args.workers, gpu or "cpu")
        print(json.dumps(results["parity"], indent=1), flush=True)
        speed = []
        configs = [("fp32", False, False), ("bf16", False, False), ("bf16", True, False), ("bf16", True, True)]
        for precision, channels_last, compile in configs if gpu else configs[:1]:
            for decode in ("cpu", "gpu"):
                if compile and decode == "gpu" and not args.smoke:
                    continue  # one compiled run is enough to show compile's effect; keeps the check short
                record, _ = run(root, gpu or "cpu", images, batch, args.workers, decode, precision,
                                channels_last, compile)
                t = record["timing"]
                row = {"precision": precision, "channels_last": channels_last, "compile": compile,
                       "decode": decode, "images_per_s": t["throughput"], "data_wait_fraction": t["data_wait_fraction"],
                       "peak_gpu_mem_gib": (t["peak_gpu_memory_bytes"] or 0) / 2**30}
                if gpu:
                    row["bare_forward_images_per_s"] = bare_forward(gpu, batch, precision, channels_last, compile, 20)
                    row["harness_over_bare"] = row["images_per_s"] / row["bare_forward_images_per_s"]
                speed.append(row)
                print(json.dumps(row), flush=True)
        results["speed"] = speed
    header = f"{'precision':9} {'ch_last':7} {'compile':7} {'decode':6} {'img/s':>8} {'bare img/s':>10} {'ratio':>6} {'wait':>5}"
    print(header)
    for r in results["speed"]:
        print(f"{r['precision']:9} {str(r['channels_last']):7} {str(r['compile']):7} {r['decode']:6} "
              f"{r['images_per_s']:8.0f} {r.get('bare_forward_images_per_s', float('nan')):10.0f} "
              f"{r.get('harness_over_bare', float('nan')):6.2f} {r['data_wait_fraction']:5.2f}")
    p = results["parity"]
    ok = p["same_top1"] >= 0.999 and abs(p["cpu_top1_error"] - p["cuda_top1_error"]) < 1e-9 + 100 * (1 - p["same_top1"])
    print(f"parity: same top-1 {p['same_top1']:.4f}, same top-5 set {p['same_top5_set']:.4f} -> {'PASS' if ok else 'FAIL'}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
