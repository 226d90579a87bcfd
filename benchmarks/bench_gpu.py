"""GPU benchmarks, skipped without CUDA: the throughput of gpu_check.py and the analogy GEMM of gpu_analogy_check.py.

``ResNet50Throughput`` is ``benchmarks/gpu_check.py``'s speed part as asv numbers: the full harness
(JPEG decode + preprocessing + model + metric, through evalkit's runner) on synthetic ImageNet-like JPEGs,
and the same model's bare forward on a tensor already on the GPU. ``Analogy300k`` is
``benchmarks/gpu_analogy_check.py``'s search and the GEMM that bounds it (every question's query times the
300k unit vocabulary, issue 6's floor), both on CUDA. Every number is lower-is-better: seconds per 1,000
images, seconds, and time ratios (harness ÷ bare forward, search ÷ GEMM).

Without a CUDA device ``setup`` raises NotImplementedError, which asv records as skipped (nightly.py
ignores skipped values). Thresholds are defaults: no GPU machine was available to measure their noise.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

#: harness configurations (precision, channels_last) × JPEG decoding (DataLoader workers, nvjpeg, DALI if installed)
CONFIGS = ["fp32", "bf16-channels_last"]
DECODES = ["cpu", "gpu", "dali"]
IMAGES, BATCH = 2048, 256


def require_cuda() -> None:
    try:
        import torch
    except ImportError as exc:
        raise NotImplementedError("torch is not installed") from exc
    if not torch.cuda.is_available():
        raise NotImplementedError("no CUDA device")


def _config(name: str) -> tuple[str, bool]:
    precision, _, layout = name.partition("-")
    return precision, layout == "channels_last"


class ResNet50Throughput:
    """resnet50 (random weights) images/s: evalkit's runner end to end vs the bare forward pass."""

    params = (CONFIGS, DECODES)
    param_names = ["config", "decode"]
    timeout = 900
    number = 1
    repeat = 3
    warmup_time = 0
    #: default (not measured): a shared GPU machine's throughput swings more than a CPU timing's
    threshold = 1.25

    def setup_cache(self):
        try:
            require_cuda()
        except NotImplementedError:
            return None  # setup skips (asv treats an exception here as a failure, not a skip)
        import gpu_check

        root = Path("gpu_jpegs").resolve() / "val"  # in asv's cache folder for this class
        gpu_check.make_jpegs(root, IMAGES)
        return str(root)

    def setup(self, root, config, decode):
        require_cuda()
        import gpu_check

        if decode not in gpu_check.decode_backends():
            raise NotImplementedError(f"decode: {decode} is not installed")
        self.root = Path(root)
        self.workers = min(12, os.cpu_count() or 1)

    def _harness_images_per_s(self, config, decode) -> float:
        import gpu_check

        precision, channels_last = _config(config)
        record, _ = gpu_check.run(self.root, "cuda", IMAGES, BATCH, self.workers, decode, precision, channels_last)
        return record["timing"]["throughput"]

    def _bare_images_per_s(self, config) -> float:
        import gpu_check

        precision, channels_last = _config(config)
        return gpu_check.bare_forward("cuda", BATCH, precision, channels_last, False, 20)

    def track_seconds_per_1k_images(self, root, config, decode):
        """The harness: 1,000 / images per second."""
        return 1000 / self._harness_images_per_s(config, decode)

    track_seconds_per_1k_images.unit = "s"

    def track_time_ratio_vs_bare_forward(self, root, config, decode):
        """Harness time ÷ bare forward time for the same images (bare images/s ÷ harness images/s; 1.0 = no overhead)."""
        return self._bare_images_per_s(config) / self._harness_images_per_s(config, decode)

    track_time_ratio_vs_bare_forward.unit = "ratio"


class ResNet50BareForward:
    """The bare forward pass alone, seconds per 1,000 images (no data loading)."""

    params = CONFIGS
    param_names = ["config"]
    timeout = 600
    number = 1
    repeat = 3
    warmup_time = 0
    threshold = 1.2  # default, not measured

    def setup(self, config):
        require_cuda()

    def track_seconds_per_1k_images(self, config):
        import gpu_check

        precision, channels_last = _config(config)
        return 1000 / gpu_check.bare_forward("cuda", BATCH, precision, channels_last, False, 20)

    track_seconds_per_1k_images.unit = "s"


class Analogy300k:
    """Google analogies over 300k words on CUDA: evalkit's search, and the GEMM every batched 3CosAdd needs."""

    timeout = 900
    number = 1
    repeat = 5
    warmup_time = 0
    threshold = 1.2  # default, not measured

    def setup(self):
        require_cuda()
        import numpy as np
        import torch
        from gen_analogy import google_questions_file, make_vectors

        from evalkit.datasets.analogy import AnalogyQuestions
        from evalkit.vectors import WordVectors, exact
        from evalkit.vectors.engine import AnalogySolver

        words, matrix = make_vectors()
        self.questions = [q.words for q in AnalogyQuestions(google_questions_file()).questions]
        self.solver = AnalogySolver(WordVectors(words, matrix), 300_000, device="cuda", block_bytes=2 << 30)
        self.unit = self.solver._unit_matrix()
        self.solver.answer(self.questions[:512])  # warm-up: kernels, allocator
        rows = np.array([r[:3] for r in (self.solver.rows(q) for q in self.questions) if r is not None])
        a, b, c = rows.T
        self.queries = torch.from_numpy(exact.cosadd_queries(self.solver.matrix, self.solver.norms, a, b, c)).cuda()
        self.gemm()
        torch.cuda.synchronize()

    def search(self):
        import torch

        self.solver.answer(self.questions)
        torch.cuda.synchronize()

    def gemm(self):
        """Every question's query times the unit vocabulary (≈3.5 TFLOP), in the solver's blocks."""
        import torch

        for start in range(0, len(self.queries), self.solver.block):
            self.queries[start:start + self.solver.block] @ self.unit.T
        torch.cuda.synchronize()

    def time_search_300k(self):
        self.search()

    def time_gemm_300k(self):
        self.gemm()

    def track_time_ratio_vs_gemm_300k(self):
        """Search time ÷ GEMM time, measured one after the other (1.0 = the search costs only its GEMM)."""
        start = time.perf_counter()
        self.search()
        middle = time.perf_counter()
        self.gemm()
        return (middle - start) / (time.perf_counter() - middle)

    track_time_ratio_vs_gemm_300k.unit = "ratio"
