"""GPU check (issues 7 and 18): one table of harness vs bare-forward throughput, on one H100/H200.

    python benchmarks/gpu_check.py [--real-jpegs DIR]   # on a CUDA machine, about 8 minutes on an H200
    python benchmarks/gpu_check.py --smoke              # tiny sizes on the CPU (checks the script itself)

Printed (one table, with the device name):

1. ImageNet, through evalkit's runner end to end (JPEG decode + preprocessing + model + topk metric) on
   5,120 synthetic ImageNet-like JPEGs, batch 256: timm resnet50 fp32, bf16+channels_last,
   bf16+channels_last+torch.compile (nvjpeg decoding only: one compile is enough to show its effect), and
   ViT-B/16 (``vit_base_patch16_224``) bf16, random weights, for each decode backend available (``cpu``:
   PIL in DataLoader workers; ``gpu``: nvjpeg; ``dali`` when NVIDIA DALI is installed). Against the bare
   forward pass of the same model, input size, batch and precision on a tensor already on the GPU, 30
   batches: their ratio (targets: ≥0.9, ≥0.9, ≥0.8 with compile, ≥0.9 for ViT) and the data-wait fraction.
2. Agreement: each backend's predictions on the GPU (PIL workers too) vs the CPU PIL pipeline (fp32, TF32 off) on 512 JPEGs
   (``--real-jpegs DIR``: the first 512 files under DIR; otherwise synthetic ones) with resnet50 whose random
   weights have batch-norm statistics re-estimated on those images; top-1 and top-5 sets must be identical
   on at least 99.5%, differing files listed.
3. The other tasks, each as its adapter's ``predict`` loop over prepared batches vs the bare model on the
   same inputs already on the GPU: Mask R-CNN (torchvision ``maskrcnn_resnet50_fpn``, random weights,
   ``box_score_thresh=0`` so every image has 100 detections to paste and RLE-encode; 64 images of 480×640
   in batches of 8), seq2seq generation (a random 6+6-layer Marian, 512 sentences, 32 new tokens each
   forced by ``min_new_tokens``; tokens/s vs a bare ``generate`` loop), FID feature extraction
   (``extract_image_set`` on 1,024 JPEGs vs the bare FID-Inception forward, batch 128) and LM perplexity
   (``LMScorer.score_rolling``, a random GPT-2-small-sized model, 64 documents of 4,096 tokens in
   1,024-token windows, vs the bare forward on the same windows).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def link_real_jpegs(source: Path, root: Path, count: int) -> dict[str, str]:
    """The first ``count`` JPEGs under ``source`` linked into an ImageFolder under ``root``; sample id → file."""
    from evalkit.datasets.imagenet import imagenet_classes

    files = sorted(p for p in source.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))[:count]
    if not files:
        raise SystemExit(f"no JPEGs under {source}")
    wnids = [w for w, _, _ in imagenet_classes()][:10]
    names = {}
    for i, file in enumerate(files):
        link = root / wnids[i % 10] / f"{i:05d}_{file.name}"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(file.resolve())
        names[f"{wnids[i % 10]}/{link.name}"] = str(file)
    return names


def decode_backends() -> list[str]:
    """``cpu`` (PIL in workers), ``gpu`` (nvjpeg), and ``dali`` when it is installed."""
    import importlib.util

    return ["cpu", "gpu"] + (["dali"] if importlib.util.find_spec("nvidia.dali") else [])


def run(root: Path, device: str, limit: int, batch: int, workers: int, decode: str = "cpu",
        precision: str = "fp32", channels_last: bool = False, compile: bool = False, model: str = "resnet50",
        checkpoint: Path | None = None):
    """One evaluation through evalkit's runner: (record, topk metric)."""
    from evalkit.datasets.imagenet import ImageNetVal
    from evalkit.models.timm_models import TimmAdapter
    from evalkit.runner import evaluate_adapter
    from evalkit.suite import Runtime

    runtime = Runtime(device=device, precision=precision, batch_size=batch, workers=workers, limit=limit,
                      channels_last=channels_last, compile=compile, warmup_batches=3 if compile else 2,
                      progress=False)
    options = {"checkpoint": str(checkpoint)} if checkpoint else {}
    record, metrics = evaluate_adapter(task_name="imagenet", dataset=ImageNetVal(root, decode=decode),
                                       adapter=TimmAdapter(name=model, **options), metric_specs=[("topk", {})],
                                       runtime=runtime, cache=None)
    return record, metrics[0]


def timed(step, iters: int, device: str) -> float:
    """Seconds for ``iters`` calls of ``step`` after two untimed ones, the device synchronised around them."""
    from evalkit.timing import synchronize

    for _ in range(2):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(iters):
        step()
    synchronize(device)
    return time.perf_counter() - start


def test_input_size(model: str) -> int:
    """The input size timm evaluates ``model`` at (its test size, as the harness uses: resnet50 288 px)."""
    import timm
    from timm.data import resolve_data_config

    return int(resolve_data_config({}, model=timm.create_model(model), use_test_size=True)["input_size"][-1])


def bare_forward(device: str, batch: int, precision: str, channels_last: bool, compile: bool,
                 iters: int, model: str = "resnet50", input_size: int | None = None) -> float:
    """Images/s of model(x) alone on a tensor already on the device (at the harness's input size by default)."""
    import timm
    import torch

    torch.manual_seed(12345)
    net = timm.create_model(model).eval().to(device)
    size = input_size or test_input_size(model)
    x = torch.randn(batch, 3, size, size, device=device)
    if channels_last:
        net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    if compile:
        net = torch.compile(net)
    dtype = {"fp32": None, "bf16": torch.bfloat16}[precision]
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    with torch.inference_mode(), torch.autocast(device_type, dtype=dtype, enabled=dtype is not None):
        return batch * iters / timed(lambda: net(x), iters, device)


def agreement(root: Path, device: str, decode: str, limit: int, batch: int, workers: int, checkpoint: Path,
              reference: Any, names: dict[str, str]) -> dict[str, Any]:
    """Same top-1 / same top-5 set of ``decode`` on ``device`` vs the CPU PIL pipeline's topk metric."""
    _, metric = run(root, device, limit, batch, workers, decode, checkpoint=checkpoint)
    ids = reference.sample_ids()
    assert list(metric.sample_ids()) == list(ids)
    ours, theirs = metric.column("top5"), reference.column("top5")
    same1 = ours[:, 0] == theirs[:, 0]
    same5 = np.array([set(a) == set(b) for a, b in zip(ours, theirs)])
    differing = [names.get(i, i) for i, a, b in zip(ids, same1, same5) if not (a and b)]
    return {"decode": decode, "samples": len(ids), "same_top1": float(same1.mean()),
            "same_top5_set": float(same5.mean()), "distinct_top1": int(len(np.unique(theirs[:, 0]))),
            "differing_files": differing, "pass": bool(same1.mean() >= 0.995 and same5.mean() >= 0.995)}


IMAGENET_CONFIGS = [  # model, precision, channels_last, compile, target ratio
    ("resnet50", "fp32", False, False, 0.9), ("resnet50", "bf16", True, False, 0.9),
    ("resnet50", "bf16", True, True, 0.8), ("vit_base_patch16_224", "bf16", False, False, 0.9)]


def imagenet_rows(root: Path, device: str, images: int, batch: int, workers: int, iters: int,
                  smoke: bool) -> list[dict[str, Any]]:
    rows = []
    for model, precision, channels_last, compile, target in IMAGENET_CONFIGS if not smoke else IMAGENET_CONFIGS[:1]:
        for decode in decode_backends() if device.startswith("cuda") else ["cpu"]:
            if compile and decode == "cpu":
                continue  # one compile per backend on the GPU is enough to show its effect; keeps the check short
            record, _ = run(root, device, images, batch, workers, decode, precision, channels_last, compile, model)
            t = record["timing"]
            size = int(record["model"]["data_config"]["input_size"][-1])
            bare = bare_forward(device, batch, precision, channels_last, compile, iters, model, size)
            config = f"{model} {precision}" + (" ch_last" if channels_last else "") + (" compile" if compile else "")
            rows.append({"task": "imagenet", "config": f"{config} {size}px", "decode": decode, "unit": "img/s",
                         "harness": t["throughput"], "bare": bare, "ratio": t["throughput"] / bare,
                         "data_wait": t["data_wait_fraction"], "target": target})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def other_row(task: str, config: str, unit: str, count: float, harness_s: float, bare_s: float) -> dict[str, Any]:
    row = {"task": task, "config": config, "decode": "-", "unit": unit, "harness": count / harness_s,
           "bare": count / bare_s, "ratio": bare_s / harness_s, "data_wait": None, "target": None}
    print(json.dumps(row), flush=True)
    return row


def maskrcnn_row(device: str, smoke: bool) -> dict[str, Any]:
    """Mask R-CNN: the adapter (forward, mask pasting, RLE encoding) vs the bare model on the same images."""
    import torch
    from torchvision.models.detection import maskrcnn_resnet50_fpn

    from evalkit.models.torchvision_detection import TorchDetection
    from evalkit.types import Batch, ImagesWithSizes

    count, per_batch, (h, w) = (4, 2, (96, 128)) if smoke else (64, 8, (480, 640))
    factory = lambda: maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, box_score_thresh=0.0,  # noqa: E731
                                            **({"min_size": 96, "max_size": 128} if smoke else {}))
    torch.manual_seed(0)
    adapter = TorchDetection(factory=factory)
    adapter.load(device)
    images = [torch.rand(3, h, w) for _ in range(per_batch)]
    batch = Batch([str(i) for i in range(per_batch)], ImagesWithSizes(images, [(h, w)] * per_batch),
                  list(range(per_batch)))
    on_device = [image.to(device) for image in images]
    iters = count // per_batch
    harness = timed(lambda: adapter.predict(batch), iters, device)
    with torch.inference_mode():
        bare = timed(lambda: adapter.module(on_device), iters, device)
    return other_row("maskrcnn", f"maskrcnn_resnet50_fpn fp32 {h}x{w} b{per_batch}", "img/s", count, harness, bare)


def word_tokenizer(words: list[str], folder: Path) -> Any:
    """A word-level Hugging Face tokenizer over ``words``, saved in ``folder`` (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([" ".join(words)], trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"]))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                        bos_token="</s>")
    tokenizer.save_pretrained(folder)
    return tokenizer


def sentences(count: int, length: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(2000)]
    return vocab, [" ".join(rng.choice(vocab, int(rng.integers(length // 2, length)))) for _ in range(count)]


def seq2seq_row(device: str, folder: Path, smoke: bool) -> dict[str, Any]:
    """Generation: the hf-seq2seq adapter vs a bare ``generate`` loop on the same tokenised batches."""
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    from evalkit.models.hf_seq2seq import HFSeq2SeqAdapter
    from evalkit.types import Batch

    count, per_batch, new_tokens, layers, width = (8, 4, 4, 1, 16) if smoke else (512, 64, 32, 6, 512)
    vocab, texts = sentences(count, 8 if smoke else 40)
    tokenizer = word_tokenizer(vocab, folder)
    config = MarianConfig(vocab_size=len(tokenizer), d_model=width, encoder_layers=layers, decoder_layers=layers,
                          encoder_attention_heads=8 if not smoke else 2, decoder_attention_heads=8 if not smoke else 2,
                          encoder_ffn_dim=4 * width, decoder_ffn_dim=4 * width, max_position_embeddings=512,
                          pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    torch.manual_seed(0)
    model = MarianMTModel(config)
    # every sentence gets exactly new_tokens tokens, so tokens/s is the same count for both loops
    model.generation_config = GenerationConfig(decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
                                               min_new_tokens=new_tokens, max_new_tokens=new_tokens, num_beams=1)
    model.save_pretrained(folder)
    adapter = HFSeq2SeqAdapter(path=str(folder), random_weights=True)
    adapter.load(device)
    batches = [Batch([str(i) for i in range(k, k + per_batch)], texts[k:k + per_batch], [None] * per_batch)
               for k in range(0, count, per_batch)]
    encoded = [{k: v.to(device) for k, v in tokenizer(b.inputs, return_tensors="pt", padding=True).items()
                if k in ("input_ids", "attention_mask")} for b in batches]

    def harness_pass() -> None:
        for b in batches:
            adapter.predict(b)

    def bare_pass() -> None:
        for e in encoded:
            adapter.model.generate(**e)

    harness = timed(harness_pass, 1, device)
    with torch.inference_mode():
        bare = timed(bare_pass, 1, device)
    return other_row("seq2seq", f"marian {layers}+{layers}L d{width} fp32 b{per_batch} greedy", "tok/s",
                     count * new_tokens, harness, bare)


def fid_row(root: Path, device: str, count: int, workers: int, smoke: bool) -> dict[str, Any]:
    """FID features: ``extract_image_set`` (decode, resize in workers, forward) vs the bare Inception forward."""
    import torch

    from evalkit.features.extract import Extractor, extract_image_set
    from evalkit.features.images import ImageSet

    per_batch = 4 if smoke else 128
    extractor = Extractor(device=device, random_seed=0)
    images = ImageSet(root)
    indices = list(range(min(count, len(images))))
    network = extractor.network().eval()
    x = torch.rand(per_batch, 3, 299, 299, device=device)
    extract_image_set(images, extractor, per_batch, workers, indices=indices[:per_batch])  # warm-up
    harness = timed(lambda: extract_image_set(images, extractor, per_batch, workers, indices=indices), 1, device)
    with torch.inference_mode():
        bare = timed(lambda: network(x, ("2048",)), len(indices) // per_batch, device) * len(indices) / (
            len(indices) // per_batch * per_batch)
    return other_row("fid", f"fid-inception pytorch-fid fp32 b{per_batch}", "img/s", len(indices), harness, bare)


def perplexity_row(device: str, folder: Path, smoke: bool) -> dict[str, Any]:
    """LM perplexity: ``LMScorer.score_rolling`` vs the bare forward on the same windows."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from evalkit.models.causal_lm import LMScorer

    docs, length, window, per_batch = (2, 64, 32, 2) if smoke else (64, 4096, 1024, 8)
    layers, width = (1, 16) if smoke else (12, 768)
    vocab, _ = sentences(1, 4)
    tokenizer = word_tokenizer(vocab, folder)
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(vocab, length)) for _ in range(docs)]
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=window, n_embd=width, n_layer=layers,
                                       n_head=12 if not smoke else 2, bos_token_id=1, eos_token_id=1)).eval().to(device)
    forward = lambda ids: model(ids).logits  # noqa: E731
    scorer = LMScorer(forward, tokenizer, window, device, window_batch_size=per_batch)
    tokens = docs * length
    ids = torch.randint(0, len(tokenizer), (per_batch, window), device=device)
    windows = -(-tokens // window)  # at least this many windows; the scorer's last windows are shorter
    harness = timed(lambda: scorer.score_rolling(texts), 1, device)
    with torch.inference_mode():
        bare = timed(lambda: forward(ids), -(-windows // per_batch), device)
    return other_row("perplexity", f"gpt2-{layers}L d{width} fp32 {window}-token windows b{per_batch}", "tok/s",
                     tokens, harness, bare)


def print_table(device_name: str, rows: list[dict[str, Any]], agreements: list[dict[str, Any]]) -> bool:
    """The one table; True when every target is met."""
    ok = True
    print(f"\ndevice: {device_name}")
    print(f"{'task':10} {'config':46} {'decode':6} {'harness':>10} {'bare':>10} {'unit':6} {'ratio':>6} {'wait':>5} "
          f"{'target':>6}")
    for r in rows:
        met = r["target"] is None or (r["ratio"] >= r["target"] and (r["data_wait"] or 0) < 0.05)
        ok = ok and met
        wait = f"{r['data_wait']:5.2f}" if r["data_wait"] is not None else "    -"
        target = f"{r['target']:.1f}{'' if met else '!'}" if r["target"] is not None else "-"
        print(f"{r['task']:10} {r['config']:46} {r['decode']:6} {r['harness']:10.4g} {r['bare']:10.4g} "
              f"{r['unit']:6} {r['ratio']:6.2f} {wait} {target:>6}")
    for a in agreements:
        ok = ok and a["pass"]
        print(f"agreement {a['decode']:5} vs cpu PIL on {a['samples']} images ({a['distinct_top1']} distinct top-1): "
              f"same top-1 {a['same_top1']:.4f}, same top-5 set {a['same_top5_set']:.4f} -> "
              f"{'PASS' if a['pass'] else 'FAIL'}" + (f"; differing: {', '.join(a['differing_files'])}"
                                                       if a["differing_files"] else ""))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU, to test the script")
    parser.add_argument("--images", type=int, default=5120)
    parser.add_argument("--parity-images", type=int, default=512)
    parser.add_argument("--real-jpegs", type=Path, help="a folder of real JPEGs for the agreement check")
    parser.add_argument("--workers", type=int, default=min(12, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    import torch

    gpu = "cuda" if torch.cuda.is_available() else None
    if gpu is None and not args.smoke:
        print("no CUDA device: run with --smoke to check the script on the CPU")
        return 2
    device = gpu or "cpu"
    smoke = args.smoke
    images, parity_images, batch, iters = (8, 8, 4, 2) if smoke else (args.images, args.parity_images, 256, 30)
    workers = min(args.workers, 2) if smoke else args.workers
    device_name = torch.cuda.get_device_name() if gpu else "cpu (smoke)"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        root = make_jpegs(tmp_path / "val", images)
        names: dict[str, str] = {}
        parity_root = root
        if args.real_jpegs:
            parity_root = tmp_path / "real"
            names = link_real_jpegs(args.real_jpegs, parity_root, parity_images)
        checkpoint = calibrated_checkpoint(parity_root, tmp_path / "resnet50-bn-calibrated.pth")
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        _, reference = run(parity_root, "cpu", parity_images, 64 if not smoke else batch, workers,
                           checkpoint=checkpoint)
        agreements = [agreement(parity_root, device, decode, parity_images, 64 if not smoke else batch, workers,
                                checkpoint, reference, names)
                      for decode in (decode_backends() if gpu else ["cpu"])]  # cpu on CUDA: PIL, model on the GPU
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        rows = imagenet_rows(root, device, images, batch, workers, iters, smoke)
        rows.append(maskrcnn_row(device, smoke))
        rows.append(seq2seq_row(device, tmp_path / "marian", smoke))
        rows.append(fid_row(root, device, 1024 if not smoke else images, workers, smoke))
        rows.append(perplexity_row(device, tmp_path / "lm", smoke))
    ok = print_table(device_name, rows, agreements)
    if args.out:
        args.out.write_text(json.dumps({"device": device_name, "torch": torch.__version__, "rows": rows,
                                        "agreement": agreements}, indent=1))
    return 0 if ok or smoke else 1


if __name__ == "__main__":
    sys.exit(main())
