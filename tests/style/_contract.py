"""Examples of the style-transfer metrics for tests/metrics/test_metric_contract.py (random local backbones)."""
from __future__ import annotations

from typing import Any, Callable

from tests.style._images import perturbed, smooth_image
from tests.style._weights import art_inception_file, weights_file


def _samples(n: int, size: tuple[int, int]) -> list[tuple[Any, Any, str]]:
    out = []
    for i in range(n):
        content = smooth_image(i, *size)
        out.append((perturbed(content, 40 + i, 10 + 3 * i), (content, smooth_image(200 + i % 3, *size)), f"c{i}__s{i % 3}"))
    return out


def style_examples(example: Callable[..., Any]) -> dict[str, Callable[[], Any]]:
    def ssim():
        return example(_samples(12, (24, 28)), changed={"sigma": 1.0})

    def lpips():
        return example(_samples(8, (48, 52)), options={"weights_file": weights_file("alexnet")},
                       changed={"weights_file": weights_file("alexnet", seed=1)})

    def loss():
        return example(_samples(8, (24, 24)), options={"weights_file": weights_file("vgg19")},
                       changed={"variant": "tutorial"})

    def artfid():
        samples = [(perturbed(content, 60 + i, 12), (content, style), f"c{i}__s{i % 3}")
                   for i, (_, (content, style), _) in enumerate(_samples(6, (76, 76)))]
        return example(samples, options={"weights_file": art_inception_file(), "lpips_weights_file":
                                         weights_file("alexnet")}, changed={"style_set": "per_pair"})

    return {"ssim": ssim, "lpips": lpips, "content-loss": loss, "style-loss": loss, "artfid": artfid}
